"""Drains the outbox to a platform: one row per transaction, retried, parked as dead after too many tries."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from bot.platforms.base import DeliveryError, Outgoing, Platform
from handlers.masking import mask_sensitive
from ledger_store.db import transaction
from ledger_store.models import OutboxMessage, OutboxStatus
from ledger_store.org import platform_user_id

log = logging.getLogger(__name__)
RETRY_BASE = timedelta(seconds=30)


def deliver_pending(
    factory: sessionmaker[Session],
    platform: Platform,
    now: Callable[[], datetime],
    max_attempts: int = 5,
    limit: int = 100,
) -> int:
    """Send up to `limit` pending messages; returns how many were sent."""
    sent = 0
    for _ in range(limit):
        moment = now()
        with transaction(factory) as session:
            message = session.scalar(
                select(OutboxMessage)
                .where(
                    OutboxMessage.status == OutboxStatus.PENDING,
                    or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= moment),
                )
                .order_by(OutboxMessage.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if message is None:
                break
            sent += deliver_one(session, message, platform, moment, max_attempts)
    return sent


def deliver_one(session: Session, message: OutboxMessage, platform: Platform, now: datetime, max_attempts: int) -> int:
    """Try one message; the row's new state commits with the caller's transaction."""
    message.attempts += 1
    user_id = platform_user_id(session, message.person, platform.name)
    if user_id is None:
        message.status = OutboxStatus.DEAD
        message.last_error = f"{message.person.account} has no {platform.name} id"
        log.warning("outbox %s: %s", message.id, message.last_error)
        return 0
    outgoing = Outgoing(
        dedupe_key=message.dedupe_key,
        text=message.text,
        file_name=message.file.name if message.file else None,
        file_bytes=message.file.content if message.file else None,
    )
    try:
        platform.send(user_id, outgoing)
    except Exception as error:
        # Even an adapter bug is recorded on the row and retried, so one bad message cannot stall the rest.
        retry = error.retry if isinstance(error, DeliveryError) else True
        message.last_error = str(error) if isinstance(error, DeliveryError) else repr(error)
        if not retry or message.attempts >= max_attempts:
            message.status = OutboxStatus.DEAD
        else:
            message.next_attempt_at = now + RETRY_BASE * 2 ** (message.attempts - 1)
        log.warning(
            "outbox %s to %s failed: %s",
            message.id,
            mask_sensitive(user_id),
            message.last_error,
            exc_info=not isinstance(error, DeliveryError),
        )
        return 0
    message.status = OutboxStatus.SENT
    message.sent_at = now
    return 1
