"""Drains the outbox to the platforms: identical pushes batched, per-member limits kept, failures retried.

Delivery is at least once: rows are locked (SKIP LOCKED, so several workers share the work), sent, then
marked in the same transaction. A crash between the send and the commit sends again; platforms that can
drop a repeated request (WeCom's duplicate check, the simulator's dedupe keys) keep it from showing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from bot.platforms.base import Card, DeliveryError, Outgoing, Platform, Recipient
from handlers.masking import mask_sensitive
from handlers.texts import delivery as texts
from ledger_store.db import transaction
from ledger_store.models import OutboxMessage, OutboxStatus, Role
from ledger_store.org import people_with_role, platform_user_id
from ledger_store.outbox import enqueue

log = logging.getLogger(__name__)
RETRY_BASE = timedelta(seconds=30)
MINUTE = timedelta(minutes=1)


def deliver_pending(
    factory: sessionmaker[Session],
    platforms: dict[str, Platform],
    default_platform: str,
    now: Callable[[], datetime],
    max_attempts: int = 5,
    batch_size: int = 100,
    max_batches: int = 1000,
) -> int:
    """Send what is due, `batch_size` rows per transaction; returns how many rows were sent."""
    sent = 0
    for _ in range(max_batches):
        moment = now()
        with transaction(factory) as session:
            rows = list(
                session.scalars(
                    select(OutboxMessage)
                    .where(
                        OutboxMessage.status == OutboxStatus.PENDING,
                        or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= moment),
                    )
                    .order_by(OutboxMessage.id)
                    .limit(batch_size)
                    .with_for_update(skip_locked=True)
                )
            )
            if not rows:
                break
            for platform_name, group in group_identical(rows, default_platform):
                platform = platforms.get(platform_name)
                if platform is None:
                    fail(group, f"platform {platform_name} is not configured", moment, max_attempts, retry=False)
                    continue
                sent += send_group(session, platform, group, moment, max_attempts)
    return sent


def group_identical(rows: list[OutboxMessage], default_platform: str) -> list[tuple[str, list[OutboxMessage]]]:
    """Rows with the same platform and the same content, in first-seen order, so one call can carry them."""
    groups: dict[tuple, list[OutboxMessage]] = {}
    for row in rows:
        card = repr(sorted(row.card.items())) if row.card else None
        key = (row.platform or default_platform, row.text, row.file_id, card)
        groups.setdefault(key, []).append(row)
    return [(key[0], group) for key, group in groups.items()]


def send_group(
    session: Session, platform: Platform, rows: list[OutboxMessage], now: datetime, max_attempts: int
) -> int:
    """Send one content to every row's recipient, in chunks the platform accepts; update every row."""
    addressed: list[tuple[OutboxMessage, str]] = []
    for row in rows:
        user_id = row.user_id or (platform_user_id(session, row.person, platform.name) if row.person else None)
        if user_id is None:
            owner = row.person.account if row.person else "?"
            fail([row], f"{owner} has no {platform.name} id", now, max_attempts, retry=False)
        else:
            addressed.append((row, user_id))
    addressed = within_member_limit(session, platform, addressed, now)
    first = rows[0]
    message = Outgoing(
        text=first.text,
        file_name=first.file.name if first.file else None,
        file_bytes=first.file.content if first.file else None,
        card=Card(first.card["token"], tuple(map(tuple, first.card["options"])), first.card["multiple"])
        if first.card
        else None,
    )
    sent = 0
    for start in range(0, len(addressed), platform.max_recipients):
        chunk = addressed[start : start + platform.max_recipients]
        for row, _ in chunk:
            row.attempts += 1
        try:
            result = platform.send([Recipient(user_id, row.dedupe_key) for row, user_id in chunk], message)
        except Exception as error:
            # Even an adapter bug is recorded on the rows and retried, so one bad message cannot stall the rest.
            known = isinstance(error, DeliveryError)
            fail([row for row, _ in chunk], str(error) if known else repr(error), now, max_attempts,
                 retry=error.retry if known else True, counted=True)  # fmt: skip
            log.warning("push to %d recipients on %s failed: %s", len(chunk), platform.name,
                        mask_sensitive(str(error)), exc_info=not known)  # fmt: skip
            continue
        invalid = {user_id.lower() for user_id in result.invalid}
        for row, user_id in chunk:
            if user_id.lower() in invalid:
                fail([row], f"{platform.name} does not know user {user_id}", now, max_attempts, retry=False)
                report_invalid_user(session, row, user_id, platform.name, now)
            else:
                row.status = OutboxStatus.SENT
                row.sent_at = now
                sent += 1
    return sent


def within_member_limit(
    session: Session, platform: Platform, addressed: list[tuple[OutboxMessage, str]], now: datetime
) -> list[tuple[OutboxMessage, str]]:
    """Rows whose recipient is still under the platform's per-minute limit; the others wait a minute."""
    limit = platform.per_member_per_minute
    person_ids = {row.person_id for row, _ in addressed if row.person_id is not None}
    if not limit or not person_ids:
        return addressed
    counts = session.execute(
        select(OutboxMessage.person_id, func.count())
        .where(
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.sent_at > now - MINUTE,
            OutboxMessage.person_id.in_(person_ids),
        )
        .group_by(OutboxMessage.person_id)
    )
    recent = {person_id: count for person_id, count in counts}
    allowed = []
    for row, user_id in addressed:
        count = recent.get(row.person_id, 0)
        if row.person_id is not None and count >= limit:
            row.next_attempt_at = now + MINUTE
            continue
        recent[row.person_id] = count + 1
        allowed.append((row, user_id))
    return allowed


def fail(
    rows: list[OutboxMessage], error: str, now: datetime, max_attempts: int, retry: bool, counted: bool = False
) -> None:
    """Record a failure: back off exponentially, or park as dead when retrying cannot help or too many failed."""
    for row in rows:
        if not counted:
            row.attempts += 1
        row.last_error = error
        if not retry or row.attempts >= max_attempts:
            row.status = OutboxStatus.DEAD
            log.warning("outbox %s is dead: %s", row.id, mask_sensitive(error))
        else:
            row.next_attempt_at = now + RETRY_BASE * 2 ** (row.attempts - 1)


def report_invalid_user(session: Session, row: OutboxMessage, user_id: str, platform: str, now: datetime) -> None:
    """Tell every admin, once a day per user, that a platform does not know someone we push to."""
    who = f"{row.person.name}({row.person.account})" if row.person else user_id
    for admin in people_with_role(session, Role.ADMIN):
        enqueue(
            session,
            person_id=admin.id,
            dedupe_key=f"invalid-user:{platform}:{user_id}:{now:%Y%m%d}:{admin.id}",
            now=now,
            text=texts.invalid_user(who, platform),
        )
