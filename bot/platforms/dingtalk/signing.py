"""DingTalk's callback signature: base64(HMAC-SHA256(app secret, timestamp + "\n" + app secret)), and its checks.

The signature covers the timestamp alone, not the body, so a captured pair stays usable for the replay window:
the callback therefore also trusts nothing in the body that could send data elsewhere (see inbound.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime

# Milliseconds since the epoch: 13 digits now, bounded so no number overflows.
TIMESTAMP = re.compile(r"[0-9]{1,15}")


def callback_sign(timestamp: str, secret: str) -> str:
    """The sign DingTalk puts beside `timestamp` (milliseconds, as sent) for an app with this secret."""
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def refusal(timestamp: str | None, sign: str | None, secret: str, window_seconds: int, now: datetime) -> str | None:
    """Why a callback with these headers is refused (a 403), or None when it is DingTalk's own and recent."""
    if not timestamp or not sign:
        return "missing timestamp or sign"
    if not TIMESTAMP.fullmatch(timestamp):
        return "bad timestamp"
    if abs(now.timestamp() * 1000 - int(timestamp)) > window_seconds * 1000:
        return "timestamp outside the replay window"
    if not hmac.compare_digest(callback_sign(timestamp, secret).encode(), sign.encode()):
        return "sign does not match"
    return None
