"""What every platform adapter offers the rest of the bot: one contract, and the values that cross it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ledger_store.outbox import Buttons

if TYPE_CHECKING:
    from flask import Blueprint

    from bot.runtime import Runtime

# The largest file a person may send the bot (WeCom's own limit for a file): a download stops past it, so a
# multi-gigabyte file never fills a worker's memory.
MAX_FILE_BYTES = 20 << 20


@dataclass(frozen=True)
class Outgoing:
    """A message to push: text, a file, or both, possibly with buttons."""

    text: str | None = None
    file_name: str | None = None
    file_bytes: bytes | None = None
    buttons: Buttons | None = None
    # A reply may legitimately repeat word for word ("帮助" twice), so no platform-side duplicate check.
    repeatable: bool = False
    # Which push of which stored file this is: a resend of it may reuse an upload; an equal file stored again, or
    # the same stored file pushed again (a roster workbook asked for twice), may not (the platform's duplicate
    # check would then drop it as a resend).
    file_key: str | None = None


@dataclass(frozen=True)
class Recipient:
    """One addressee of a push and the dedupe key of the outbox row it came from."""

    user_id: str
    dedupe_key: str


class DeliveryError(Exception):
    """A push failed, as the platform that failed explains it.

    The message holds the details for the log; `code` names the failure ("wecom:60020", "network") for logs and
    tests; `retry` says whether trying again later can help; `reason` says why in Chinese, with what to do, for an
    admin's /投递. Nothing outside the adapter reads a platform's error codes or parses this message.
    """

    def __init__(self, message: str, reason: str, retry: bool = True, code: str = "unknown") -> None:
        super().__init__(message)
        self.reason, self.retry, self.code = reason, retry, code


@dataclass(frozen=True)
class SendResult:
    """What the platform said: the user ids it did not know (nothing was delivered to them), and those it did not
    deliver to for a reason of its own (DingTalk's flow control), with that reason; everyone else got the message."""

    invalid: frozenset[str] = field(default_factory=frozenset)
    failed: Mapping[str, DeliveryError] = field(default_factory=dict)


class FileTooLarge(Exception):
    """A file a person sent is over `limit` bytes: it was not downloaded, and retrying will not change that."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the file is over {limit} bytes")
        self.limit = limit


@dataclass(frozen=True)
class DirectoryUnit:
    """A unit (department, group) in a platform's contacts; `parent_key` None for one at the top."""

    key: str
    name: str
    parent_key: str | None = None


@dataclass(frozen=True)
class DirectoryMember:
    """A person in a platform's contacts: their id there, the units they sit in (main one first), and whether the
    platform still lets them receive messages."""

    user_id: str
    name: str
    mobile: str | None = None
    unit_keys: tuple[str, ...] = ()
    active: bool = True


@dataclass(frozen=True)
class Directory:
    """One snapshot of a platform's contacts, units parents first; bot.contacts applies it to the organisation."""

    units: tuple[DirectoryUnit, ...]
    members: tuple[DirectoryMember, ...]


class Platform(Protocol):
    """Everything the rest of the bot needs from a chat platform; a platform is a folder under bot/platforms/ with
    a class like this, and one line in bot/platforms/registry.py. Nothing in handlers/ or ledger_store/ knows it.

    Messages come in through its own HTTP routes (stored by the engine, handled after the acknowledgement), go out
    through `send`, files people send are fetched with `download`, and its contacts come as a Directory. A
    failure is a DeliveryError carrying its Chinese reason; a platform's own codes, card formats and API names
    never leave its folder.
    """

    name: str
    # How many recipients one API call may name, and how many pushes one member may get a minute (0: no limit).
    max_recipients: int
    per_member_per_minute: int

    def send(self, recipients: list[Recipient], message: Outgoing) -> SendResult:
        """Deliver one message to every recipient, or raise DeliveryError."""

    def download(self, media_id: str) -> tuple[str, bytes]:
        """The name and content of a file a person sent; FileTooLarge past MAX_FILE_BYTES, else DeliveryError."""

    def directory(self) -> Directory | None:
        """The platform's contacts now, for the organisation's sync; None when it keeps none (the simulator)."""

    def routes(self, runtime: Runtime, stored: Callable[[], None]) -> Blueprint | None:
        """The platform's HTTP routes (its callback), or None. Each acknowledged message is stored with
        `runtime.engine.accept`; after the response the platform does its own follow-up (WeCom updates the clicked
        card) and calls `stored()` so that the worker handles the message."""
