"""Drains the outbox to the platforms: identical pushes batched, per-member and per-platform limits, failures retried.

Each pass claims due rows in a short transaction (a lease: attempts + 1, next try pushed out, sent_at stamped),
calls the platforms with no transaction open, then records the outcome in a second short transaction. So a
callback never waits behind a slow platform call, several workers share the work (SKIP LOCKED; the limits are
counted under one lock, see bot.delivery_claim), and a crash between send and record only means the row is sent
again when its lease ends: at least once. Platforms that can drop a repeated request (WeCom's duplicate check,
the simulator's dedupe keys) keep that from showing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bot.delivery_claim import Claim, anything_due, claim, fail
from bot.platforms.base import DeliveryError, Platform, Recipient
from handlers.core.masking import mask_sensitive
from handlers.texts import delivery as texts
from ledger_store.db import transaction
from ledger_store.models import OutboxMessage, OutboxStatus, Role
from ledger_store.org import people_with_role
from ledger_store.outbox import MissingClaimLock, create_claim_lock, enqueue

log = logging.getLogger(__name__)
# Rows marked sent per statement.
CHUNK = 1000


def deliver_pending(
    factory: sessionmaker[Session],
    platforms: dict[str, Platform],
    default_platform: str,
    now: Callable[[], datetime],
    max_attempts: int = 5,
    batch_size: int = 100,
    max_batches: int = 1000,
    per_platform_per_minute: int = 0,
) -> int:
    """Send what is due and allowed, `batch_size` rows a pass (more of one text); returns how many rows were sent."""
    sent = 0
    for _ in range(max_batches):
        moment = now()
        # Its own transaction: on MariaDB a read before the claim lock would fix the claim's snapshot too early.
        with transaction(factory) as session:
            if not anything_due(session, moment):
                break
        try:
            with transaction(factory) as session:
                claims = claim(
                    session, platforms, default_platform, moment, max_attempts, batch_size, per_platform_per_minute
                )
        except MissingClaimLock:  # only on a database that never delivered before: make the row, then claim
            create_claim_lock(factory, moment)
            continue
        if claims is None:
            break
        for item in claims:
            send(platforms[item.platform], item)
        with transaction(factory) as session:
            sent += record(session, claims, moment, max_attempts)
    return sent


def send(platform: Platform, item: Claim) -> None:
    """Call the platform in chunks it accepts and note each row's outcome; never raises."""
    for start in range(0, len(item.rows), platform.max_recipients):
        chunk = item.rows[start : start + platform.max_recipients]
        try:
            result = platform.send([Recipient(entry.user_id, entry.dedupe_key) for entry in chunk], item.message)
        except Exception as error:
            # Even an adapter bug is recorded on the rows and retried, so one bad message cannot stall the rest.
            known = isinstance(error, DeliveryError)
            failure = error if known else DeliveryError(repr(error), texts.UNKNOWN_ERROR, code="adapter")
            for entry in chunk:
                item.failed[entry.row_id] = failure
            log.warning("push to %d recipients on %s failed: %s", len(chunk), platform.name,
                        mask_sensitive(str(error)), exc_info=not known)  # fmt: skip
            continue
        unknown = {user_id.lower() for user_id in result.invalid}
        refused = {user_id.lower(): error for user_id, error in result.failed.items()}
        for entry in chunk:
            if entry.user_id.lower() in unknown:
                item.invalid.append(entry)
            elif entry.user_id.lower() in refused:
                item.failed[entry.row_id] = refused[entry.user_id.lower()]
            else:
                item.sent.append(entry.row_id)


def record(session: Session, claims: list[Claim], now: datetime, max_attempts: int) -> int:
    """Write each row's outcome; report unknown users to the admins."""
    sent = [row_id for item in claims for row_id in item.sent]
    for start in range(0, len(sent), CHUNK):
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(sent[start : start + CHUNK]))
            .values(status=OutboxStatus.SENT, sent_at=now, next_attempt_at=None)
        )
    for item in claims:
        for row_id, error in item.failed.items():
            fail(session.get(OutboxMessage, row_id), error, now, max_attempts, counted=True)
        for entry in item.invalid:
            unknown = DeliveryError(f"{item.platform} does not know user {entry.user_id}",
                                    texts.unknown_user(item.platform), retry=False, code="unknown_user")  # fmt: skip
            fail(session.get(OutboxMessage, entry.row_id), unknown, now, max_attempts, counted=True)
            report_invalid_user(session, entry.who, entry.user_id, item.platform, now)
    return len(sent)


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
