"""The outbox: pushes queued in the caller's transaction once per dedupe key, what delivery counts, dead letters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, case, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from ledger_store.characters import without_unstorable
from ledger_store.db import ensure_row
from ledger_store.masking import mask_sensitive
from ledger_store.models import CachedValue, OutboxMessage, OutboxStatus, Person, StoredFile

# Replies to what a person just said start their dedupe keys with this; they may repeat word for word.
REPLY_PREFIX = "reply:"
# The row every delivery pass updates first, so passes in different processes claim one after another.
CLAIM_LOCK_KEY = "outbox:claim-lock"
# Rows changed per statement when many dead letters are put back at once.
CHUNK = 500


class Option(NamedTuple):
    """One answer a question offers as a button: the text it stands for (what a press types back) and its label."""

    value: str
    label: str


@dataclass(frozen=True)
class Buttons:
    """The answers a question offers as buttons: one value from a handler's Reply, through the outbox, to the
    platform's adapter (which draws them its own way, or leaves them out). `token` names the question, so a press
    on an old one is told apart; `multiple` lets several be ticked."""

    token: str
    options: tuple[Option, ...]
    multiple: bool = False

    def masked(self) -> Buttons:
        """The buttons with ID numbers and mobiles masked in their labels; the values are kept as they are."""
        return Buttons(self.token, tuple(Option(o.value, mask_sensitive(o.label)) for o in self.options), self.multiple)

    def to_json(self) -> dict[str, Any]:
        """As the outbox keeps them."""
        return {"token": self.token, "multiple": self.multiple, "options": [[o.value, o.label] for o in self.options]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Buttons:
        """As the outbox kept them."""
        options = tuple(Option(value, label) for value, label in data["options"])
        return cls(data["token"], options, bool(data.get("multiple")))


def enqueue(
    session: Session,
    *,
    person_id: int | None,
    dedupe_key: str,
    now: datetime,
    text: str | None = None,
    file: StoredFile | None = None,
    platform: str | None = None,
    buttons: Buttons | None = None,
    user_id: str | None = None,
) -> OutboxMessage | None:
    """Queue a push to a person (or, with platform and user_id, to an unregistered sender); None on a repeat key.

    Every push leaves through here or enqueue_many: ID numbers and mobiles in its text and button labels are masked.
    """
    existing = session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
    if existing is not None:
        return None
    message = OutboxMessage(
        dedupe_key=dedupe_key,
        person_id=person_id,
        user_id=user_id,
        platform=platform,
        text=None if text is None else mask_sensitive(text),
        card=None if buttons is None else buttons.masked().to_json(),
        file=file,
        created_at=now,
        attempts=0,
    )
    session.add(message)
    session.flush()
    return message


@dataclass(frozen=True)
class Push:
    """One text push to a person, for `enqueue_many`."""

    person_id: int
    dedupe_key: str
    text: str


def taken_keys(session: Session, keys: list[str]) -> set[str]:
    """The dedupe keys among `keys` that the outbox already holds (one query per CHUNK keys)."""
    taken: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        taken.update(session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(chunk))))
    return taken


def enqueue_many(session: Session, pushes: list[Push], now: datetime) -> list[Push]:
    """Queue many text pushes at once (one key lookup per chunk, one flush); returns those that were new."""
    taken = taken_keys(session, [push.dedupe_key for push in pushes])
    new = {push.dedupe_key: push for push in pushes if push.dedupe_key not in taken}
    if new:
        rows = [
            {
                "dedupe_key": key,
                "person_id": push.person_id,
                "text": mask_sensitive(push.text),
                "created_at": now,
                "attempts": 0,
            }
            for key, push in new.items()
        ]
        session.execute(insert(OutboxMessage), rows)  # one executemany, no objects to track
    return list(new.values())


def store_file(session: Session, name: str, content: bytes, now: datetime) -> StoredFile:
    """Keep a file (one the bot made, or one a person sent) so the outbox can deliver it or a handler read it."""
    stored = StoredFile(name=storable_name(name), content=content, created_at=now)
    session.add(stored)
    session.flush()
    return stored


def storable_name(name: str) -> str:
    """A file name the name column holds: no control characters or line breaks, cut to the column's length with
    its extension kept (a person's file may be called anything, at any length)."""
    limit = StoredFile.__table__.c.name.type.length
    name = " ".join(without_unstorable(name).split()) or "file"
    if len(name) <= limit:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot or len(suffix) > 10:
        return name[:limit]
    return stem[: limit - len(suffix) - 1] + "." + suffix


def is_reply(message: OutboxMessage) -> bool:
    """True for a reply to a person's message, as opposed to a push the bot starts (task, reminder, summary)."""
    return message.dedupe_key.startswith(REPLY_PREFIX)


def reply_rows() -> ColumnElement[bool]:
    """SQL for "this row is a reply", the counterpart of is_reply."""
    return OutboxMessage.dedupe_key.startswith(REPLY_PREFIX)


def platform_of(default_platform: str) -> ColumnElement[str]:
    """SQL for the platform a row goes to: its own, or the default one."""
    return func.coalesce(OutboxMessage.platform, default_platform)


class MissingClaimLock(LookupError):
    """The row lock_claims locks does not exist yet (a new database): create it and claim again."""


def create_claim_lock(factory: sessionmaker[Session], now: datetime) -> None:
    """Make sure the row lock_claims locks exists (in its own transaction, see ensure_row)."""
    ensure_row(factory, CachedValue, CLAIM_LOCK_KEY, lambda: CachedValue(key=CLAIM_LOCK_KEY, value=now.isoformat()))


def lock_claims(session: Session, now: datetime) -> None:
    """Hold the outbox's claim lock until the transaction ends (an UPDATE locks the row on every database).

    A pass counts what went out in the last minute and then leases rows; with the lock, a pass in another
    process counts only after this one has committed its leases, so together they keep the per-minute limits.
    The row must exist: MissingClaimLock says to create it (create_claim_lock) and begin the claim again.
    """
    lock = update(CachedValue).where(CachedValue.key == CLAIM_LOCK_KEY).values(value=now.isoformat())
    if not session.execute(lock).rowcount:
        raise MissingClaimLock("the outbox claim lock row is missing: call create_claim_lock first")


def sent_since(session: Session, since: datetime, platform: str, default_platform: str) -> int:
    """Rows handed to `platform` after `since`, whether still in flight or sent (failed tries clear sent_at)."""
    return session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.sent_at > since, platform_of(default_platform) == platform)
    )


def next_due_at(session: Session) -> datetime | None:
    """When the earliest pending row comes due (a row due now counts from when it was queued); None when none waits."""
    return session.scalar(
        select(func.min(func.coalesce(OutboxMessage.next_attempt_at, OutboxMessage.created_at))).where(
            OutboxMessage.status == OutboxStatus.PENDING
        )
    )


def sent_to_people_since(session: Session, since: datetime, person_ids: set[int]) -> dict[int, int]:
    """Person id -> rows handed to a platform for them after `since`."""
    if not person_ids:
        return {}
    counts = session.execute(
        select(OutboxMessage.person_id, func.count())
        .where(OutboxMessage.sent_at > since, OutboxMessage.person_id.in_(person_ids))
        .group_by(OutboxMessage.person_id)
    )
    return {person_id: count for person_id, count in counts}


@dataclass(frozen=True)
class DeliveryCounts:
    """Where the outbox stands: waiting to go, failed and waiting to be tried again, given up on."""

    pending: int
    retrying: int
    dead: int
    next_retry_at: datetime | None


def delivery_counts(session: Session) -> DeliveryCounts:
    """Count the rows not sent yet: first tries, retries after a failure (with the earliest retry), dead."""
    # CASE rather than FILTER (WHERE ...): MariaDB has no FILTER clause.
    failed_before = OutboxMessage.last_error.is_not(None)
    waiting = OutboxMessage.status == OutboxStatus.PENDING
    pending, retrying, dead, next_retry_at = session.execute(
        select(
            func.count(case((waiting & ~failed_before, 1))),
            func.count(case((waiting & failed_before, 1))),
            func.count(case((OutboxMessage.status == OutboxStatus.DEAD, 1))),
            func.min(case((waiting & failed_before, OutboxMessage.next_attempt_at))),
        ).where(OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.DEAD]))
    ).one()
    return DeliveryCounts(pending, retrying, dead, next_retry_at)


@dataclass(frozen=True)
class DeadLetter:
    """A message delivery gave up on, as an admin needs to see it."""

    id: int
    queued_at: datetime
    person_name: str | None  # None: an unregistered sender, known only by `user_id` on `platform`
    user_id: str | None
    platform: str | None
    text: str | None
    file_name: str | None
    attempts: int
    failure_reason: str | None


def latest_dead(session: Session, limit: int) -> list[DeadLetter]:
    """The most recently queued dead messages, newest first (file names only, never the file)."""
    rows = session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.created_at,
            Person.name,
            OutboxMessage.user_id,
            OutboxMessage.platform,
            OutboxMessage.text,
            StoredFile.name,
            OutboxMessage.attempts,
            OutboxMessage.failure_reason,
        )
        .outerjoin(Person, Person.id == OutboxMessage.person_id)
        .outerjoin(StoredFile, StoredFile.id == OutboxMessage.file_id)
        .where(OutboxMessage.status == OutboxStatus.DEAD)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return [DeadLetter(*row) for row in rows]


def dead_ids(session: Session, ids: list[int] | None = None, queued_since: datetime | None = None) -> list[int]:
    """Ids of dead messages: all, those among `ids`, or those queued since a moment."""
    query = select(OutboxMessage.id).where(OutboxMessage.status == OutboxStatus.DEAD).order_by(OutboxMessage.id)
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    if queued_since is not None:
        query = query.where(OutboxMessage.created_at >= queued_since)
    return list(session.scalars(query))


def retry_dead(session: Session, ids: list[int]) -> int:
    """Put these dead messages back to pending with no attempts, due now; how many were put back."""
    changed = 0
    for start in range(0, len(ids), CHUNK):
        changed += session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids[start : start + CHUNK]), OutboxMessage.status == OutboxStatus.DEAD)
            .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=None, sent_at=None)
            .execution_options(synchronize_session=False)
        ).rowcount
    return changed
