"""What an operator watches, counted in the database so that every process reports the same: backlogs and statuses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger_store.models import InboundMessage, InboundStatus, OutboxMessage, OutboxStatus


@dataclass(frozen=True)
class Backlog:
    """Rows still waiting, and when the longest-waiting of them was stored (None when none waits)."""

    pending: int
    oldest: datetime | None

    def oldest_seconds(self, now: datetime) -> float | None:
        """How long the longest-waiting row has waited at `now`, in seconds; None when none waits."""
        if self.oldest is None:
            return None
        return max(0.0, (now - self.oldest).total_seconds())


def inbound_backlog(session: Session) -> Backlog:
    """Platform messages accepted and not handled yet, and when the oldest of them came."""
    pending, oldest = session.execute(
        select(func.count(), func.min(InboundMessage.received_at)).where(InboundMessage.status == InboundStatus.PENDING)
    ).one()
    return Backlog(pending, oldest)


def outbox_backlog(session: Session) -> Backlog:
    """Pushes not sent yet (first tries and retries), and when the oldest of them was queued."""
    pending, oldest = session.execute(
        select(func.count(), func.min(OutboxMessage.created_at)).where(OutboxMessage.status == OutboxStatus.PENDING)
    ).one()
    return Backlog(pending, oldest)


def inbound_by_status(session: Session) -> dict[str, int]:
    """Stored platform messages by status (pending, done, failed), every status present, zero or not."""
    counts = dict.fromkeys(InboundStatus, 0)
    rows = session.execute(select(InboundMessage.status, func.count()).group_by(InboundMessage.status))
    counts.update({InboundStatus(status): count for status, count in rows})
    return {str(status): count for status, count in counts.items()}


def outbox_by_status(session: Session) -> dict[str, int]:
    """Outbox rows by status (pending, sent, dead), every status present, zero or not."""
    counts = dict.fromkeys(OutboxStatus, 0)
    rows = session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
    counts.update({OutboxStatus(status): count for status, count in rows})
    return {str(status): count for status, count in counts.items()}
