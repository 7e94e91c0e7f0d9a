"""A lease in the database: one scheduler process does the timed work, a second one waits to take over.

Taking or renewing the lease is one UPDATE guarded by holder-or-expired (or one INSERT guarded by the primary
key), so two processes asking at the same moment cannot both get it, on any of the databases.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger_store.models import SchedulerLease


def acquire(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease `name` for `holder` until now + ttl; False while another holder's lease runs."""
    renewed = session.execute(
        update(SchedulerLease)
        .where(
            SchedulerLease.name == name,
            or_(SchedulerLease.holder == holder, SchedulerLease.expires_at <= now),
        )
        .values(holder=holder, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    if renewed.rowcount:
        return True
    try:
        with session.begin_nested():
            session.add(SchedulerLease(name=name, holder=holder, expires_at=now + ttl))
    except IntegrityError:
        return False  # another holder has it, or took it a moment ago
    return True


def release(session: Session, name: str, holder: str, now: datetime) -> None:
    """Give the lease up at once (on shutdown), so a standby need not wait for it to run out."""
    session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == name, SchedulerLease.holder == holder)
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
