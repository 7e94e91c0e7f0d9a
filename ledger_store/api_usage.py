"""Each platform's API calls per month, counted by every process with one atomic UPDATE, and warned about once.

A platform that meters its API (DingTalk gives an organisation so many calls a month) counts each call here.
The row of a month is created once, on its own (see db.ensure_row); counting is then `calls = calls + n`, which
every database applies one transaction after another, so two processes counting at once lose nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from ledger_store.db import ensure_row, transaction
from ledger_store.models import ApiUsage


@dataclass(frozen=True)
class Usage:
    """One platform's month: metered calls, calls not metered, the allowance (0: none) and when admins were warned."""

    platform: str
    period: str
    calls: int
    free_calls: int
    allowance: int
    warned_at: datetime | None


def count_calls(
    factory: sessionmaker[Session],
    platform: str,
    period: str,
    allowance: int,
    metered: int = 1,
    free: int = 0,
    wait_ms: int | None = None,
) -> Usage:
    """Add `metered` and `free` calls to the platform's month; the month as it stands after this count.

    With `wait_ms`, SQLite's write lock is waited for at most that long (OperationalError after it)."""
    with transaction(factory, wait_ms) as session:
        if _add(session, platform, period, allowance, metered, free):
            return _read(session, platform, period)
    ensure_row(factory, ApiUsage, (platform, period), lambda: ApiUsage(
        platform=platform, period=period, calls=0, free_calls=0, allowance=allowance), wait_ms)  # fmt: skip
    with transaction(factory, wait_ms) as session:
        _add(session, platform, period, allowance, metered, free)
        return _read(session, platform, period)


def claim_warning(session: Session, platform: str, period: str, threshold: int, now: datetime) -> bool:
    """Mark the month warned if it reached `threshold` calls and nobody warned yet; True for the one caller who did.

    The guarded UPDATE decides: of several processes crossing the threshold at once, exactly one gets a row.
    """
    claimed = session.execute(
        update(ApiUsage)
        .where(
            ApiUsage.platform == platform,
            ApiUsage.period == period,
            ApiUsage.warned_at.is_(None),
            ApiUsage.calls >= threshold,
        )
        .values(warned_at=now)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1


def usage_in(session: Session, period: str) -> list[Usage]:
    """Every platform's use in one month, by platform name."""
    rows = session.scalars(select(ApiUsage).where(ApiUsage.period == period).order_by(ApiUsage.platform))
    return [_usage(row) for row in rows]


def latest_usage(session: Session) -> list[Usage]:
    """Each platform's most recent month on record, by platform name."""
    latest = select(ApiUsage.platform, func.max(ApiUsage.period).label("period")).group_by(ApiUsage.platform).subquery()
    rows = session.scalars(
        select(ApiUsage)
        .join(latest, (ApiUsage.platform == latest.c.platform) & (ApiUsage.period == latest.c.period))
        .order_by(ApiUsage.platform)
    )
    return [_usage(row) for row in rows]


def _add(session: Session, platform: str, period: str, allowance: int, metered: int, free: int) -> bool:
    """The atomic increment; False when the month has no row yet."""
    added = session.execute(
        update(ApiUsage)
        .where(ApiUsage.platform == platform, ApiUsage.period == period)
        .values(calls=ApiUsage.calls + metered, free_calls=ApiUsage.free_calls + free, allowance=allowance)
        .execution_options(synchronize_session=False)
    )
    return added.rowcount > 0


def _read(session: Session, platform: str, period: str) -> Usage:
    row = session.scalars(
        select(ApiUsage)
        .where(ApiUsage.platform == platform, ApiUsage.period == period)
        .execution_options(populate_existing=True)
    ).one()
    return _usage(row)


def _usage(row: ApiUsage) -> Usage:
    return Usage(row.platform, row.period, row.calls, row.free_calls, row.allowance, row.warned_at)
