"""What every platform adapter offers the delivery loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Outgoing:
    """A message to push: text, a file, or both; the dedupe key lets a platform drop a repeat."""

    dedupe_key: str
    text: str | None = None
    file_name: str | None = None
    file_bytes: bytes | None = None


class DeliveryError(Exception):
    """A push failed; `retry` says whether trying again later can help."""

    def __init__(self, message: str, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


class Platform(Protocol):
    """A chat platform the outbox can push to."""

    name: str

    def send(self, user_id: str, message: Outgoing) -> None:
        """Deliver one message to one user, or raise DeliveryError."""
