"""DingTalk (钉钉): the enterprise-internal robot over HTTP callbacks; replies by sessionWebhook, pushes by batch."""
