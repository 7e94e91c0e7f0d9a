"""Each ledger's current records counted by unit and month (with sums) and by unit, month and matter category,
kept beside the records so that analysis reads thousands of rows instead of a million.

Every flush that adds, changes or removes a ledger record leaves a RollupMark of its (ledger, unit) (the
before_flush listener in models), and a bulk import marks the units it wrote (`mark_units`). `refresh` counts the
marked units of a ledger again from their records (one GROUP BY over those units) and replaces their rollup rows,
so a reader that refreshes first reads exact figures (the scheduler refreshes every ledger behind at each tick; the
analysis page and `/分析` refresh the ledgers they show first). A ledger never counted, or whose shape changed (another
category, date or numeric field, a number now sensitive), is counted whole; so is one with very many units marked
(after a big import). Refreshers of one ledger take turns on its row's lock.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import String, cast, delete, false, func, insert, literal_column, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ledger_store.ledger_query import as_number
from ledger_store.ledgers import is_sensitive
from ledger_store.models import Ledger, LedgerRecord, LedgerRollup, LedgerUnitMonth, RollupMark, RollupState

NUMERIC = ("integer", "decimal")
EVENT = "event"  # the entity kind of ledgers that are analysed (one record an event: a case, a hazard)
WHOLE_RECOUNT_UNITS = 2000  # more units marked than this: count the whole ledger (one scan beats long IN lists)
CHUNK = 500  # ids per IN list, rows per INSERT
_PLAIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")

Row = tuple[int | None, str | None, int, dict[str, Decimal]]


def category_field(ledger: Ledger, name: str | None = None) -> dict[str, Any] | None:
    """The field matters are read from: the one named, else the ledger's first non-sensitive select_one."""
    choices = [f for f in ledger.fields if f["type"] == "select_one" and not is_sensitive(f)]
    return next((f for f in choices if name in (None, f["name"], f["label"])), None)


def date_field(ledger: Ledger) -> dict[str, Any] | None:
    """The ledger's first date field, which months are read from."""
    return next((f for f in ledger.fields if f["type"] == "date"), None)


def summed_fields(ledger: Ledger) -> list[dict[str, Any]]:
    """The numeric fields that are summed: not the key, and never a sensitive one (a household's income), whose
    one record's sum would be that person's value."""
    return [f for f in ledger.fields if f["type"] in NUMERIC and f["name"] != ledger.key_field and not is_sensitive(f)]


def json_text(session: Session, name: str) -> ColumnElement[Any]:
    """A field's stored value as SQL text (numbers as numbers on SQLite), read the fastest way the database has.

    SQLite's `->>` (3.38 and later) reads a value about twice as fast as JSON_EXTRACT with a quoted path, which is
    what `.as_string()` compiles to there; elsewhere `.as_string()` is the way. Only a plain name (letters, digits,
    _) is written into the SQL: `->>` would read a dot as a path."""
    plain = _PLAIN_NAME.fullmatch(name) is not None
    if plain and session.get_bind().dialect.name == "sqlite" and sqlite3.sqlite_version_info >= (3, 38):
        return literal_column(f"({LedgerRecord.__tablename__}.\"values\" ->> '{name}')", String())
    return LedgerRecord.values[name].as_string()


def number_of(session: Session, field: dict[str, Any]) -> ColumnElement[Any]:
    """A numeric field's value cast so that SQL adds it up (integers exactly, decimals with their fractions); a
    stored value that is not a number (written when the field was text) counts as empty, as in /查询."""
    return as_number(json_text(session, field["name"]), field["type"])


def month_of(session: Session, ledger: Ledger) -> ColumnElement[str]:
    """The record's month as YYYY-MM: from the first date field (ISO text), else from when it was created."""
    dated = date_field(ledger)
    if dated is not None:
        return func.substr(json_text(session, dated["name"]), 1, 7)
    return func.substr(cast(LedgerRecord.created_at, String), 1, 7)


def shape_of(ledger: Ledger) -> str:
    """What the ledger's rollup rows are counted by; rows counted by another shape are counted again."""
    chosen, dated = category_field(ledger), date_field(ledger)
    shape = {
        "category": chosen["name"] if chosen else None,
        "date": dated["name"] if dated else None,
        "sums": [[f["name"], f["type"]] for f in summed_fields(ledger)],
    }
    return json.dumps(shape, sort_keys=True)


def mark_units(session: Session, ledger_id: int, unit_ids: Iterable[int | None]) -> None:
    """Mark units whose records a bulk statement wrote (ORM flushes mark theirs themselves)."""
    rows = [{"ledger_id": ledger_id, "org_unit_id": unit} for unit in sorted(set(unit_ids), key=str)]
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(RollupMark), rows[start : start + CHUNK])


def due(session: Session) -> list[int]:
    """The ledgers whose rollup is behind: units marked, or an event ledger never counted."""
    marked = select(RollupMark.ledger_id)
    uncounted = select(Ledger.id).where(Ledger.entity_kind == EVENT, Ledger.id.not_in(select(RollupState.ledger_id)))
    return sorted(set(session.scalars(marked.distinct())) | set(session.scalars(uncounted)))


def kept_up(session: Session, ledger_id: int) -> Ledger | None:
    """The ledger if its rollup is kept up to date: an event ledger, or any ledger analysed once. Another ledger's
    marks are dropped here: if it is ever analysed, it is counted whole."""
    ledger = session.get(Ledger, ledger_id)
    if ledger is None:
        return None
    if ledger.entity_kind == EVENT or session.get(RollupState, ledger_id) is not None:
        return ledger
    session.execute(delete(RollupMark).where(RollupMark.ledger_id == ledger_id))
    return None


@dataclass(frozen=True)
class Refreshed:
    """What a refresh counted again: the whole ledger, or these units (none: nothing had changed)."""

    whole: bool
    units: frozenset[int | None] = frozenset()
    behind: bool = False  # this transaction's snapshot was older than another refresh: it counted nothing

    @property
    def changed(self) -> bool:
        return self.whole or bool(self.units)


def refresh(session: Session, ledger: Ledger) -> Refreshed:
    """Count the ledger's marked units again (the whole ledger when its shape changed or it was never counted).

    Refreshers of one ledger take turns on its row's lock. Under REPEATABLE READ (MariaDB's default; the bot's own
    engines run READ COMMITTED, see ledger_store.db, but a session opened otherwise may not) a transaction that read
    before the lock was granted sees an older snapshot: when marks it sees were already taken by a refresher that
    went first, it counts nothing (counting its snapshot would put older figures back)."""
    session.execute(select(Ledger.id).where(Ledger.id == ledger.id).with_for_update())
    shape = shape_of(ledger)
    state = session.scalar(
        select(RollupState)
        .where(RollupState.ledger_id == ledger.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    marks = session.execute(select(RollupMark.id, RollupMark.org_unit_id).where(RollupMark.ledger_id == ledger.id))
    mark_ids, units = [], set()
    for mark_id, unit in marks:
        mark_ids.append(mark_id)
        units.add(unit)
    whole = state is None or state.shape != shape or len(units) > WHOLE_RECOUNT_UNITS
    if not whole and not units:
        return Refreshed(False)
    if _taken(session, mark_ids):
        return Refreshed(False, behind=True)
    for chunk in [None] if whole else chunks(units):
        _clear(session, ledger.id, chunk)
        _count(session, ledger, chunk)
    for start in range(0, len(mark_ids), CHUNK):
        session.execute(delete(RollupMark).where(RollupMark.id.in_(mark_ids[start : start + CHUNK])))
    if state is None:
        session.add(RollupState(ledger_id=ledger.id, shape=shape))
    else:
        state.shape = shape
    session.flush()
    return Refreshed(True) if whole else Refreshed(False, frozenset(units))


def state_of(session: Session, ledger: Ledger) -> RollupState | None:
    """The ledger's rollup state (None: never counted)."""
    return session.get(RollupState, ledger.id)


def has_marks(session: Session, ledger: Ledger) -> bool:
    """Whether records of the ledger changed since it was last counted."""
    return session.scalar(select(RollupMark.id).where(RollupMark.ledger_id == ledger.id).limit(1)) is not None


def unit_totals(session: Session, ledger: Ledger, unit_ids: Collection[int] | None) -> dict[int | None, int]:
    """Each unit's current records of the ledger in all (within the units; every unit when None)."""
    query = (
        select(LedgerUnitMonth.org_unit_id, func.sum(LedgerUnitMonth.records))
        .where(LedgerUnitMonth.ledger_id == ledger.id, *_scoped(LedgerUnitMonth.org_unit_id, unit_ids))
        .group_by(LedgerUnitMonth.org_unit_id)
    )
    return {unit: int(count) for unit, count in session.execute(query)}


def _taken(session: Session, mark_ids: list[int]) -> bool:
    """Whether any of these marks is gone already (a locking read sees the latest rows, not the snapshot)."""
    for start in range(0, len(mark_ids), CHUNK):
        chunk = mark_ids[start : start + CHUNK]
        present = session.scalars(select(RollupMark.id).where(RollupMark.id.in_(chunk)).with_for_update()).all()
        if len(present) < len(chunk):
            return True
    return False


def chunks(units: Collection[int | None]) -> list[list[int | None]]:
    """The units in order (no unit first), CHUNK at a time, for IN lists."""
    ordered = sorted(units, key=lambda unit: -1 if unit is None else unit)
    return [ordered[start : start + CHUNK] for start in range(0, len(ordered), CHUNK)]


def in_units(column: Any, units: list[int | None]) -> ColumnElement[bool]:
    """column IN units, NULL matching a None among them."""
    known = [unit for unit in units if unit is not None]
    test = column.in_(known) if known else None
    if None in units:
        return or_(column.is_(None), test) if test is not None else column.is_(None)
    assert test is not None
    return test


def _clear(session: Session, ledger_id: int, units: list[int | None] | None) -> None:
    for table in (LedgerRollup, LedgerUnitMonth):
        where = [table.ledger_id == ledger_id]
        if units is not None:
            where.append(in_units(table.org_unit_id, units))
        session.execute(delete(table).where(*where))


def _count(session: Session, ledger: Ledger, units: list[int | None] | None) -> None:
    """Count the ledger's current records of the units (all when None) into fresh rollup rows."""
    chosen = category_field(ledger)
    summed = summed_fields(ledger)
    month = month_of(session, ledger).label("month")
    kind = json_text(session, chosen["name"]) if chosen else literal_column("NULL", String())
    kind = kind.label("kind")
    sums = [func.sum(number_of(session, f)).label(f"s{i}") for i, f in enumerate(summed)]
    where = [LedgerRecord.ledger_id == ledger.id, LedgerRecord.left_at.is_(None)]
    if units is not None:
        where.append(in_units(LedgerRecord.org_unit_id, units))
    query = (
        select(LedgerRecord.org_unit_id, month, kind, func.count().label("n"), *sums)
        .where(*where)
        .group_by(LedgerRecord.org_unit_id, month, kind)
    )
    matters: list[dict[str, Any]] = []
    months: dict[tuple[int | None, str | None], list[Any]] = {}
    for row in session.execute(query):
        category = None if row.kind is None else str(row.kind)
        matters.append({"ledger_id": ledger.id, "org_unit_id": row.org_unit_id, "month": row.month,
                        "category": category, "records": row.n})  # fmt: skip
        counted = months.setdefault((row.org_unit_id, row.month), [0, defaultdict(Decimal)])
        counted[0] += row.n
        for index, field in enumerate(summed):
            if row[4 + index] is not None:
                counted[1][field["name"]] += Decimal(str(row[4 + index]))
    unit_months = [
        {"ledger_id": ledger.id, "org_unit_id": unit, "month": month, "records": records,
         "sums": {name: str(total) for name, total in totals.items()}}
        for (unit, month), (records, totals) in months.items()
    ]  # fmt: skip
    for table, rows in ((LedgerRollup, matters), (LedgerUnitMonth, unit_months)):
        for start in range(0, len(rows), 10 * CHUNK):
            session.execute(insert(table.__table__), rows[start : start + 10 * CHUNK])


def _scoped(column: Any, unit_ids: Collection[int | None] | None) -> list[ColumnElement[bool]]:
    """column within the units (None among them: no unit), nothing when None; no units match nothing."""
    if unit_ids is None:
        return []
    return [in_units(column, sorted(unit_ids, key=lambda unit: -1 if unit is None else unit)) if unit_ids else false()]


def unit_months(session: Session, ledger: Ledger, unit_ids: Collection[int | None] | None) -> list[Row]:
    """(unit id, month, records, {numeric field: sum}) for each unit and month of the ledger, within the units
    (every unit when None; records of no unit only then), as last refreshed."""
    query = select(LedgerUnitMonth.org_unit_id, LedgerUnitMonth.month, LedgerUnitMonth.records, LedgerUnitMonth.sums)
    query = query.where(LedgerUnitMonth.ledger_id == ledger.id, *_scoped(LedgerUnitMonth.org_unit_id, unit_ids))
    return [
        (unit, month, records, {name: Decimal(total) for name, total in sums.items()})
        for unit, month, records, sums in session.execute(query)
    ]


def matter_months(
    session: Session, ledger: Ledger, unit_ids: Collection[int] | None
) -> list[tuple[str | None, str | None, int]]:
    """(month, stored category, records) of the ledger within the units, summed over units in SQL, as last
    refreshed."""
    total = func.sum(LedgerRollup.records)
    query = (
        select(LedgerRollup.month, LedgerRollup.category, total)
        .where(LedgerRollup.ledger_id == ledger.id, *_scoped(LedgerRollup.org_unit_id, unit_ids))
        .group_by(LedgerRollup.month, LedgerRollup.category)
    )
    return [(month, category, int(count)) for month, category, count in session.execute(query)]
