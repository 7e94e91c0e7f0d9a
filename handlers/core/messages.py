"""What handlers receive from and give back to the platform layer, free of any platform type."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.core.masking import mask_sensitive
from handlers.core.words import storable
from ledger_store.outbox import Buttons


@dataclass(frozen=True)
class ButtonClick:
    """A click on a button the bot offered: the token of the question it belonged to and the chosen value."""

    token: str
    value: str

    def __post_init__(self) -> None:
        # The value is typed back into the conversation: it must be storable like any text.
        object.__setattr__(self, "value", storable(self.value))


@dataclass(frozen=True)
class Incoming:
    """A message a person sent to the bot, already verified and parsed by a platform adapter."""

    platform: str
    user_id: str
    text: str
    message_id: str | None = None
    file_name: str | None = None
    file_bytes: bytes | None = None
    button: ButtonClick | None = None
    # The platform's name for a message kind the bot cannot read (image, voice, location ...).
    unsupported: str | None = None
    # A file the platform holds for us; the edge downloads it before the handlers see the message.
    media_id: str | None = None
    # Set instead of file_bytes when the file was over this many bytes: the edge did not take it.
    file_too_large: int | None = None

    def __post_init__(self) -> None:
        # Cleaned here, where every platform's message takes shape, so that nothing (the stored inbound row, a
        # command, an answer, a workbook cell) ever sees a NUL or another character it cannot hold.
        object.__setattr__(self, "text", storable(self.text or ""))
        if self.file_name is not None:
            object.__setattr__(self, "file_name", storable(self.file_name))


@dataclass(frozen=True)
class Reply:
    """A reply to the sender; `buttons` offers the question's answers, drawn as the platform can."""

    text: str
    buttons: Buttons | None = None


def masked(reply: Reply) -> Reply:
    """The reply as it may leave: ID numbers and mobiles masked in its text and button labels (see router)."""
    return Reply(mask_sensitive(reply.text), None if reply.buttons is None else reply.buttons.masked())
