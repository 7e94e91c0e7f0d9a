"""A lease in the database: one scheduler process does the timed work, a second one waits to take over.

The lease row is created once, on its own; taking or renewing it is then one UPDATE guarded by
holder-or-expired, so two processes asking at the same moment cannot both get it, on any of the databases.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from ledger_store.db import ensure_row, transaction
from ledger_store.models import SchedulerLease


def acquire(factory: sessionmaker[Session], name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease `name` for `holder` until now + ttl; False while another holder's lease runs."""
    ensure_row(factory, SchedulerLease, name, lambda: SchedulerLease(name=name, holder="", expires_at=now))
    with transaction(factory) as session:
        taken = session.execute(
            update(SchedulerLease)
            .where(
                SchedulerLease.name == name,
                or_(SchedulerLease.holder == holder, SchedulerLease.expires_at <= now),
            )
            .values(holder=holder, expires_at=now + ttl)
            .execution_options(synchronize_session=False)
        )
        return bool(taken.rowcount)


def release(factory: sessionmaker[Session], name: str, holder: str, now: datetime) -> None:
    """Give the lease up at once (on shutdown), so a standby need not wait for it to run out."""
    with transaction(factory) as session:
        session.execute(
            update(SchedulerLease)
            .where(SchedulerLease.name == name, SchedulerLease.holder == holder)
            .values(expires_at=now)
            .execution_options(synchronize_session=False)
        )


def current_holders(session: Session, now: datetime) -> list[tuple[str, str]]:
    """(lease name, holder) of every lease held at `now`; a released or run-out lease is held by nobody."""
    rows = session.execute(
        select(SchedulerLease.name, SchedulerLease.holder)
        .where(SchedulerLease.holder != "", SchedulerLease.expires_at > now)
        .order_by(SchedulerLease.name)
    )
    return [(name, holder) for name, holder in rows]
