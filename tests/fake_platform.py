"""A chat platform that exists only in the tests: what a new platform would be, written against the contract alone.

It brings its own route, sends into memory, serves files people sent, lists its contacts, and fails with its own
Chinese reason for the accounts told to refuse. Nothing in handlers/ or ledger_store/ knows it; registering it is
one line in bot.platforms.registry.PLATFORMS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Blueprint, jsonify, request

from bot.platforms.base import DeliveryError, Directory, Outgoing, Recipient, SendResult
from bot.runtime import Runtime
from handlers.core.messages import ButtonClick, Incoming

NAME = "fake"
REFUSED = "假平台拒收：对方关闭了消息提醒，请让他在手机上打开后重试"
GONE = "假平台上这个文件已经过期"


@dataclass
class FakePlatform:
    """Sent messages by user id, files to download by media id, and the user ids whose pushes fail."""

    name: str = NAME
    max_recipients: int = 50
    per_member_per_minute: int = 0
    sent: dict[str, list[Outgoing]] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    refusing: set[str] = field(default_factory=set)
    contacts: Directory = field(default_factory=lambda: Directory((), ()))

    def send(self, recipients: list[Recipient], message: Outgoing) -> SendResult:
        for recipient in recipients:
            if recipient.user_id in self.refusing:
                raise DeliveryError(f"fake: {recipient.user_id} closed notices", REFUSED, retry=False, code="fake:1")
            self.sent.setdefault(recipient.user_id, []).append(message)
        return SendResult()

    def download(self, media_id: str) -> tuple[str, bytes]:
        if media_id not in self.files:
            raise DeliveryError(f"fake: no file {media_id}", GONE, retry=False, code="fake:2")
        return self.files[media_id]

    def directory(self) -> Directory:
        return self.contacts

    def routes(self, runtime: Runtime, stored: Callable[[], None]) -> Blueprint:
        blueprint = Blueprint(NAME, __name__)

        @blueprint.post("/fake/messages")
        def receive():
            body = request.get_json()
            button = ButtonClick(body["token"], body["value"]) if "token" in body else None
            incoming = Incoming(NAME, body["user"], body.get("text", ""), message_id=body["id"],
                                media_id=body.get("media"), button=button)  # fmt: skip
            runtime.engine.accept(incoming)
            response = jsonify(ok=True)
            response.call_on_close(stored)
            return response

        return blueprint

    def take(self, user_id: str) -> list[Outgoing]:
        """What `user_id` received since the last take."""
        return self.sent.pop(user_id, [])
