"""A DingTalk robot callback body (JSON) as the bot's Incoming, and the sessionWebhook a reply to it may use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from handlers.core.messages import Incoming

PLATFORM = "dingtalk"
# DingTalk's conversationType for a one-to-one chat with the robot ("2" is a group).
ONE_TO_ONE = "1"
# Longer than DingTalk ever grants (about 90 minutes): an expiry further out is not believed.
MAX_WEBHOOK_SECONDS = 3 * 3600


class InboundError(ValueError):
    """A body that is not a robot message DingTalk would send."""


@dataclass(frozen=True)
class SessionWebhook:
    """Where a reply to one person may be posted, and until when (seconds from now)."""

    user_id: str
    url: str
    seconds_left: int


@dataclass(frozen=True)
class Inbound:
    """One parsed callback: the message for the handlers, and the reply webhook when one may be used."""

    incoming: Incoming
    webhook: SessionWebhook | None


def parse_inbound(body: Any, webhook_base_url: str, now: datetime) -> Inbound:
    """The robot message in a callback body; InboundError when it is not one.

    Only a one-to-one chat's sessionWebhook is kept, and only on the configured DingTalk host: a reply may carry a
    person's answers, which belong neither in a group nor at an address the unsigned body chose.
    """
    if not isinstance(body, dict):
        raise InboundError("the body is not a JSON object")
    user_id, msg_id, msgtype = (text_field(body, name) for name in ("senderStaffId", "msgId", "msgtype"))
    if msgtype == "text":
        content = body.get("text")
        if not isinstance(content, dict) or not isinstance(content.get("content"), str):
            raise InboundError("a text message without text.content")
        incoming = Incoming(PLATFORM, user_id, content["content"].strip(), message_id=msg_id)
    else:
        incoming = Incoming(PLATFORM, user_id, "", message_id=msg_id, unsupported=msgtype)
    return Inbound(incoming, session_webhook(body, user_id, webhook_base_url, now))


def session_webhook(body: dict[str, Any], user_id: str, webhook_base_url: str, now: datetime) -> SessionWebhook | None:
    """The body's sessionWebhook when it is a one-to-one chat's, on DingTalk's host, and still valid."""
    url, expires = body.get("sessionWebhook"), body.get("sessionWebhookExpiredTime")
    if body.get("conversationType") != ONE_TO_ONE or not isinstance(url, str) or not isinstance(expires, int):
        return None
    if not url.startswith(webhook_base_url.rstrip("/") + "/robot/sendBySession?"):
        return None
    seconds_left = min(int(expires / 1000 - now.timestamp()), MAX_WEBHOOK_SECONDS)
    return SessionWebhook(user_id, url, seconds_left) if seconds_left > 0 else None


def text_field(body: dict[str, Any], name: str) -> str:
    """A field every robot message carries as a non-empty string."""
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InboundError(f"no {name}")
    return value.strip()
