"""The WeCom (企业微信) platform: everything that knows WeCom stays in this package."""
