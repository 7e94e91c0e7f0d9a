"""Platform messages stored to handle after the acknowledgement: the handling lock, the next one, what waits."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from ledger_store.db import ensure_row
from ledger_store.models import CachedValue, InboundMessage, InboundStatus

# The row every handler of stored messages updates first, in every process, so one message is handled at a time:
# never the same one twice, and one person's messages in the order they came.
HANDLING_LOCK_KEY = "inbox:handling-lock"


class MissingHandlingLock(LookupError):
    """The row lock_handling locks does not exist yet (a new database): create it and begin again."""


def create_handling_lock(factory: sessionmaker[Session], now: datetime) -> None:
    """Make sure the row lock_handling locks exists (in its own transaction, see ensure_row)."""
    ensure_row(
        factory, CachedValue, HANDLING_LOCK_KEY, lambda: CachedValue(key=HANDLING_LOCK_KEY, value=now.isoformat())
    )


def lock_handling(session: Session, now: datetime) -> None:
    """Hold the handling lock until the transaction ends; MissingHandlingLock when its row does not exist."""
    lock = update(CachedValue).where(CachedValue.key == HANDLING_LOCK_KEY).values(value=now.isoformat())
    if not session.execute(lock).rowcount:
        raise MissingHandlingLock("the inbox handling lock row is missing: call create_handling_lock first")


def next_pending(session: Session, skip: Collection[int] = ()) -> InboundMessage | None:
    """The oldest message still to handle, leaving out the ids in `skip`."""
    query = select(InboundMessage).where(InboundMessage.status == InboundStatus.PENDING)
    if skip:
        query = query.where(InboundMessage.id.not_in(list(skip)))
    return session.scalar(query.order_by(InboundMessage.id).limit(1))


def fewest_attempts_pending(session: Session) -> int | None:
    """The fewest tries among the messages still to handle: 0 when one is new, None when none waits."""
    return session.scalar(
        select(func.min(InboundMessage.attempts)).where(InboundMessage.status == InboundStatus.PENDING)
    )
