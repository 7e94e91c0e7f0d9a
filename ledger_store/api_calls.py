"""Every platform's API calls and failed calls since the table was made, added to by every process at once.

These are the operator's counters (/metrics), apart from api_usage, which is a platform's metered month against
its allowance: here every call counts, of every platform, answered or not, and nothing starts again each month.
The row of a platform is created once, on its own (see db.ensure_row); counting is then `calls = calls + n`, which
every database applies one transaction after another, so processes counting at once lose nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from ledger_store.db import ensure_row, transaction
from ledger_store.models import ApiCallTotal


@dataclass(frozen=True)
class CallTotal:
    """One platform's calls so far and how many of them failed."""

    platform: str
    calls: int
    errors: int


def add_calls(
    factory: sessionmaker[Session], platform: str, calls: int, errors: int, wait_ms: int | None = None
) -> None:
    """Add `calls` calls, `errors` of them failed, to the platform's totals.

    With `wait_ms`, SQLite's write lock is waited for at most that long (OperationalError after it)."""
    with transaction(factory, wait_ms) as session:
        if _add(session, platform, calls, errors):
            return
    ensure_row(factory, ApiCallTotal, platform, lambda: ApiCallTotal(platform=platform, calls=0, errors=0), wait_ms)
    with transaction(factory, wait_ms) as session:
        _add(session, platform, calls, errors)


def call_totals(session: Session) -> list[CallTotal]:
    """Every platform's totals, by platform name."""
    rows = session.scalars(select(ApiCallTotal).order_by(ApiCallTotal.platform))
    return [CallTotal(row.platform, row.calls, row.errors) for row in rows]


def _add(session: Session, platform: str, calls: int, errors: int) -> bool:
    """The atomic increment; False when the platform has no row yet."""
    added = session.execute(
        update(ApiCallTotal)
        .where(ApiCallTotal.platform == platform)
        .values(calls=ApiCallTotal.calls + calls, errors=ApiCallTotal.errors + errors)
        .execution_options(synchronize_session=False)
    )
    return added.rowcount > 0
