"""A DingTalk robot callback body (JSON) as the bot's Incoming, and the sessionWebhook a reply to it may use."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from handlers.core.messages import Incoming

PLATFORM = "dingtalk"
# DingTalk's conversationType for a one-to-one chat with the robot ("2" is a group).
ONE_TO_ONE = "1"
# The name a file gets when the message names none.
DEFAULT_FILE_NAME = "附件"
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
    elif msgtype == "file" and body.get("conversationType") == ONE_TO_ONE and (file := file_reference(body)):
        # Robots get files only one-to-one; the file is fetched by the adapter's download() before handling.
        incoming = Incoming(PLATFORM, user_id, "", message_id=msg_id, file_name=file.file_name, media_id=file.encoded)
    else:
        incoming = Incoming(PLATFORM, user_id, "", message_id=msg_id, unsupported=msgtype)
    return Inbound(incoming, session_webhook(body, user_id, webhook_base_url, now))


@dataclass(frozen=True)
class FileReference:
    """A file a person sent the robot, as DingTalk names it: the downloadCode to resolve and the file's name."""

    download_code: str
    file_name: str

    @property
    def encoded(self) -> str:
        """The reference as the Incoming's media_id (opaque outside this adapter), read back by read_file_reference."""
        return json.dumps({"downloadCode": self.download_code, "fileName": self.file_name}, ensure_ascii=False)


def file_reference(body: dict[str, Any]) -> FileReference | None:
    """content.downloadCode and content.fileName of a file message; None when it carries no downloadCode."""
    content = body.get("content")
    if not isinstance(content, dict):
        return None
    code, name = content.get("downloadCode"), content.get("fileName")
    if not isinstance(code, str) or not code.strip():
        return None
    return FileReference(code.strip(), name.strip() if isinstance(name, str) and name.strip() else DEFAULT_FILE_NAME)


def read_file_reference(media_id: str) -> FileReference:
    """The FileReference an Incoming's media_id holds; ValueError when it holds none."""
    try:
        data = json.loads(media_id)
        return FileReference(str(data["downloadCode"]), str(data["fileName"]))
    except (ValueError, TypeError, KeyError):
        raise ValueError("not a DingTalk file reference") from None


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
