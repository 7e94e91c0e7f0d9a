"""Drains the outbox to the platforms: identical pushes batched, per-member limits kept, failures retried.

Each pass claims due rows in a short transaction (a lease: attempts + 1, next try pushed out), calls the
platforms with no transaction open, then records the outcome in a second short transaction. So a callback
never waits behind a slow platform call, several workers share the work (SKIP LOCKED), and a crash between
send and record only means the row is sent again when its lease ends: at least once. Platforms that can
drop a repeated request (WeCom's duplicate check, the simulator's dedupe keys) keep that from showing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from bot.platforms.base import Card, DeliveryError, Outgoing, Platform, Recipient
from handlers.masking import mask_sensitive
from handlers.texts import delivery as texts
from ledger_store.db import transaction
from ledger_store.models import OutboxMessage, OutboxStatus, Role
from ledger_store.org import people_with_role, platform_user_id
from ledger_store.outbox import enqueue, is_reply

log = logging.getLogger(__name__)
RETRY_BASE = timedelta(seconds=30)
MINUTE = timedelta(minutes=1)
# How long a claimed row is left alone before another pass may send it again.
LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class Addressee:
    """One claimed row: who it goes to, and its dedupe key for platforms that drop repeats."""

    row_id: int
    user_id: str
    who: str
    dedupe_key: str


@dataclass
class Claim:
    """One content to send on one platform to the rows' recipients, and what became of each row."""

    platform: str
    message: Outgoing
    rows: list[Addressee] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)
    invalid: list[Addressee] = field(default_factory=list)
    failed: dict[int, tuple[str, bool]] = field(default_factory=dict)  # row id -> (error, retry)


def deliver_pending(
    factory: sessionmaker[Session],
    platforms: dict[str, Platform],
    default_platform: str,
    now: Callable[[], datetime],
    max_attempts: int = 5,
    batch_size: int = 100,
    max_batches: int = 1000,
) -> int:
    """Send what is due, `batch_size` rows per pass; returns how many rows were sent."""
    sent = 0
    for _ in range(max_batches):
        moment = now()
        with transaction(factory) as session:
            claims = claim(session, platforms, default_platform, moment, max_attempts, batch_size)
        if claims is None:
            break
        for item in claims:
            send(platforms[item.platform], item)
        with transaction(factory) as session:
            sent += record(session, claims, moment, max_attempts)
    return sent


def claim(
    session: Session,
    platforms: dict[str, Platform],
    default_platform: str,
    now: datetime,
    max_attempts: int,
    batch_size: int,
) -> list[Claim] | None:
    """Lease the due rows and group them by platform and identical content; None when nothing is due."""
    rows = list(
        session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING,
                or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
            )
            .order_by(OutboxMessage.id)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        )
    )
    if not rows:
        return None
    claims: dict[tuple, Claim] = {}
    for row in rows:
        name = row.platform or default_platform
        platform = platforms.get(name)
        if platform is None:
            fail(row, f"platform {name} is not configured", now, max_attempts, retry=False)
            continue
        user_id = row.user_id or (platform_user_id(session, row.person, name) if row.person else None)
        if user_id is None:
            fail(row, f"{row.person.account if row.person else '?'} has no {name} id", now, max_attempts, retry=False)
            continue
        row.attempts += 1
        row.next_attempt_at = now + LEASE
        key = (name, row.text, row.file_id, repr(sorted(row.card.items())) if row.card else None, is_reply(row))
        if key not in claims:
            claims[key] = Claim(name, outgoing(row))
        who = f"{row.person.name}({row.person.account})" if row.person else user_id
        claims[key].rows.append(Addressee(row.id, user_id, who, row.dedupe_key))
    held_back: set[int] = set()
    for name in {item.platform for item in claims.values()}:
        entries = [entry for item in claims.values() if item.platform == name for entry in item.rows]
        held_back |= over_member_limit(session, platforms[name], entries, now)
    for item in claims.values():
        item.rows = [entry for entry in item.rows if entry.row_id not in held_back]
    return [item for item in claims.values() if item.rows]


def outgoing(row: OutboxMessage) -> Outgoing:
    """The platform-neutral message a row holds."""
    card = None
    if row.card:
        card = Card(row.card["token"], tuple(map(tuple, row.card["options"])), row.card["multiple"])
    return Outgoing(
        text=row.text,
        file_name=row.file.name if row.file else None,
        file_bytes=row.file.content if row.file else None,
        card=card,
        repeatable=is_reply(row),
    )


def over_member_limit(
    session: Session, platform: Platform, rows: list[tuple[int, str, str]], now: datetime
) -> set[int]:
    """Rows whose recipient already got the platform's per-minute share; they wait for the next minute."""
    limit = platform.per_member_per_minute
    if not limit:
        return set()
    people = {row_id: person for row_id, person in session.execute(
        select(OutboxMessage.id, OutboxMessage.person_id).where(OutboxMessage.id.in_([r.row_id for r in rows]))
    )}  # fmt: skip
    counts = session.execute(
        select(OutboxMessage.person_id, func.count())
        .where(
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.sent_at > now - MINUTE,
            OutboxMessage.person_id.in_({p for p in people.values() if p is not None}),
        )
        .group_by(OutboxMessage.person_id)
    )
    recent = {person_id: count for person_id, count in counts}
    held = set()
    for row_id in (entry.row_id for entry in rows):
        person = people.get(row_id)
        if person is None:
            continue
        if recent.get(person, 0) >= limit:
            held.add(row_id)
            row = session.get(OutboxMessage, row_id)
            row.attempts -= 1  # waiting for the member's minute to pass is not a failed try
            row.next_attempt_at = now + MINUTE
        else:
            recent[person] = recent.get(person, 0) + 1
    return held


def send(platform: Platform, item: Claim) -> None:
    """Call the platform in chunks it accepts and note each row's outcome; never raises."""
    for start in range(0, len(item.rows), platform.max_recipients):
        chunk = item.rows[start : start + platform.max_recipients]
        try:
            result = platform.send([Recipient(entry.user_id, entry.dedupe_key) for entry in chunk], item.message)
        except Exception as error:
            # Even an adapter bug is recorded on the rows and retried, so one bad message cannot stall the rest.
            known = isinstance(error, DeliveryError)
            for entry in chunk:
                item.failed[entry.row_id] = (str(error) if known else repr(error), error.retry if known else True)
            log.warning("push to %d recipients on %s failed: %s", len(chunk), platform.name,
                        mask_sensitive(str(error)), exc_info=not known)  # fmt: skip
            continue
        unknown = {user_id.lower() for user_id in result.invalid}
        for entry in chunk:
            if entry.user_id.lower() in unknown:
                item.invalid.append(entry)
            else:
                item.sent.append(entry.row_id)


def record(session: Session, claims: list[Claim], now: datetime, max_attempts: int) -> int:
    """Write each row's outcome; report unknown users to the admins."""
    sent = 0
    for item in claims:
        for row_id in item.sent:
            row = session.get(OutboxMessage, row_id)
            row.status, row.sent_at, row.next_attempt_at = OutboxStatus.SENT, now, None
            sent += 1
        for row_id, (error, retry) in item.failed.items():
            fail(session.get(OutboxMessage, row_id), error, now, max_attempts, retry, counted=True)
        for entry in item.invalid:
            fail(session.get(OutboxMessage, entry.row_id), f"{item.platform} does not know user {entry.user_id}", now,
                 max_attempts, retry=False, counted=True)  # fmt: skip
            report_invalid_user(session, entry.who, entry.user_id, item.platform, now)
    return sent


def fail(row: OutboxMessage, error: str, now: datetime, max_attempts: int, retry: bool, counted: bool = False) -> None:
    """Record a failure: back off exponentially, or park as dead when retrying cannot help or too many failed."""
    if not counted:
        row.attempts += 1
    row.last_error = error
    if not retry or row.attempts >= max_attempts:
        row.status = OutboxStatus.DEAD
        log.warning("outbox %s is dead: %s", row.id, mask_sensitive(error))
    else:
        row.next_attempt_at = now + RETRY_BASE * 2 ** (row.attempts - 1)


def report_invalid_user(session: Session, who: str, user_id: str, platform: str, now: datetime) -> None:
    """Tell every admin, once a day per user, that a platform does not know someone we push to."""
    for admin in people_with_role(session, Role.ADMIN):
        enqueue(
            session,
            person_id=admin.id,
            dedupe_key=f"invalid-user:{platform}:{user_id}:{now:%Y%m%d}:{admin.id}",
            now=now,
            text=texts.invalid_user(who, platform),
        )
