"""What handlers receive from and give back to the platform layer, free of any platform type."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Incoming:
    """A message a person sent to the bot, already verified and parsed by a platform adapter."""

    platform: str
    user_id: str
    text: str
    message_id: str | None = None
    file_name: str | None = None
    file_bytes: bytes | None = None
