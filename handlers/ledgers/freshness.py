"""Stale values (过期): a value older than its field's validity_days is to be checked again.

One rule for /台账, /我的台账 and /核实: a record's value is stale when the field has a validity and the time the
value was last confirmed (`value_times`) lies further back than it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger_store.models import Ledger, LedgerRecord


def is_stale(field: dict[str, Any], record: LedgerRecord, now: datetime) -> bool:
    """Does the record hold a value of the field older than the field's validity?"""
    days, stamp = field["validity_days"], record.value_times.get(field["name"])
    if days is None or stamp is None or field["name"] not in record.values:
        return False
    return now - datetime.fromisoformat(stamp) > timedelta(days=days)


def scope_counts(session: Session, ledger: Ledger, unit_ids: Collection[int] | None, now: datetime) -> tuple[int, int]:
    """Records on their rosters within the units (None: all), and how many of their values are stale; every
    record is counted (read a thousand at a time), not only the first page."""
    days = {field["name"]: timedelta(days=field["validity_days"]) for field in ledger.fields if field["validity_days"]}
    query = select(LedgerRecord.value_times).where(LedgerRecord.ledger_id == ledger.id, LedgerRecord.left_at.is_(None))
    if unit_ids is not None:
        query = query.where(LedgerRecord.org_unit_id.in_(sorted(unit_ids)))
    records = stale = 0
    for times in session.scalars(query.execution_options(yield_per=1000)):
        records += 1
        stale += sum(1 for name, at in times.items() if name in days and now - datetime.fromisoformat(at) > days[name])
    return records, stale
