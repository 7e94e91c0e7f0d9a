"""The local chat simulator: a platform whose 'phones' are in-memory inboxes and a folder of files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from bot.platforms.base import DeliveryError, Outgoing

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
    inboxes: dict[str, list[Received]] = field(default_factory=dict)
    seen_keys: set[str] = field(default_factory=set)

    def send(self, user_id: str, message: Outgoing) -> None:
        """Put the message in the person's inbox, once per dedupe key, like WeCom's duplicate check."""
        if message.dedupe_key in self.seen_keys:
            return
        received = Received(text=message.text, file_name=message.file_name, file_bytes=message.file_bytes)
        if message.file_bytes is not None and self.files_dir is not None:
            folder = self.files_dir / user_id
            received.file_path = folder / UNSAFE_FILE_CHARS.sub("_", message.file_name or "file")
            try:
                folder.mkdir(parents=True, exist_ok=True)
                received.file_path.write_bytes(message.file_bytes)
            except OSError as error:
                raise DeliveryError(f"cannot save {received.file_path}: {error}") from error
        # Only a delivered key counts as seen, so a retry after a failed save still arrives.
        self.seen_keys.add(message.dedupe_key)
        self.inboxes.setdefault(user_id, []).append(received)

    def take(self, user_id: str) -> list[Received]:
        """Everything `user_id` received since the last take."""
        return self.inboxes.pop(user_id, [])

    def take_all(self) -> dict[str, list[Received]]:
        """Everything everybody received since the last take."""
        taken, self.inboxes = self.inboxes, {}
        return taken
