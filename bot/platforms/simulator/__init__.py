"""The local chat simulator: a platform whose 'phones' are in-memory inboxes and a folder of files."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.platforms.base import DeliveryError, Outgoing, Recipient, SendResult
from bot.platforms.simulator.routes import simulator_blueprint
from handlers.texts.delivery import UNKNOWN_ERROR

if TYPE_CHECKING:
    from flask import Blueprint

    from bot.runtime import Runtime

# Why a push to the simulator failed, for /投递.
FILE_NOT_SAVED = "模拟器保存不了这个文件（文件夹不可写）"

UNSAFE_FILE_CHARS = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


@dataclass
class Received:
    """One message as the person would see it on their phone."""

    text: str | None = None
    file_name: str | None = None
    file_path: Path | None = None
    file_bytes: bytes | None = None


@dataclass
class SimulatorPlatform:
    """Delivers pushes into per-account inboxes; files are also saved under `files_dir` when given."""

    files_dir: Path | None = None
    name: str = "simulator"
    max_recipients: int = 1000
    per_member_per_minute: int = 0
    inboxes: dict[str, list[Received]] = field(default_factory=dict)
    seen_keys: set[str] = field(default_factory=set)

    def send(self, recipients: list[Recipient], message: Outgoing) -> SendResult:
        """Put the message in each person's inbox, once per dedupe key, like WeCom's duplicate check."""
        for recipient in recipients:
            if recipient.dedupe_key not in self.seen_keys:
                self._deliver(recipient, message)
        return SendResult()

    def _deliver(self, recipient: Recipient, message: Outgoing) -> None:
        user_id = recipient.user_id
        received = Received(text=message.text, file_name=message.file_name, file_bytes=message.file_bytes)
        if message.file_bytes is not None and self.files_dir is not None:
            folder = self.files_dir / user_id
            received.file_path = folder / UNSAFE_FILE_CHARS.sub("_", message.file_name or "file")
            try:
                folder.mkdir(parents=True, exist_ok=True)
                received.file_path.write_bytes(message.file_bytes)
            except OSError as error:
                raise DeliveryError(
                    f"cannot save {received.file_path}: {error}", FILE_NOT_SAVED, code="simulator:file"
                ) from error
        # Only a delivered key counts as seen, so a retry after a failed save still arrives.
        self.seen_keys.add(recipient.dedupe_key)
        self.inboxes.setdefault(user_id, []).append(received)

    def download(self, media_id: str) -> tuple[str, bytes]:
        """Never needed: a simulated message carries its file itself."""
        raise DeliveryError(f"the simulator holds no media {media_id!r}", UNKNOWN_ERROR, retry=False)

    def directory(self) -> None:
        """The simulator keeps no contacts: its people come from the organisation import."""
        return None

    def routes(self, runtime: Runtime, stored: Callable[[], None]) -> Blueprint | None:
        """POST /simulator/messages, only while the simulator is where pushes go (anyone who can use it can speak
        as any account); it handles each message at once and answers with the replies."""
        if runtime.config.delivery.platform != self.name:
            return None
        return simulator_blueprint(runtime.config.simulator, runtime.engine, runtime.deliver)

    def take(self, user_id: str) -> list[Received]:
        """Everything `user_id` received since the last take."""
        return self.inboxes.pop(user_id, [])

    def take_all(self) -> dict[str, list[Received]]:
        """Everything everybody received since the last take."""
        taken, self.inboxes = self.inboxes, {}
        return taken
