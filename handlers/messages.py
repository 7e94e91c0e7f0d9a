"""What handlers receive from and give back to the platform layer, free of any platform type."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ButtonClick:
    """A click on a button the bot offered: the token of the question it belonged to and the chosen value."""

    token: str
    value: str


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


@dataclass(frozen=True)
class Option:
    """One answer a platform may offer as a button: the text it stands for and the label shown."""

    value: str
    label: str


@dataclass(frozen=True)
class Reply:
    """A reply to the sender; `options` (with the question `token`) may be rendered as buttons."""

    text: str
    options: tuple[Option, ...] = field(default_factory=tuple)
    multiple: bool = False
    token: str | None = None
