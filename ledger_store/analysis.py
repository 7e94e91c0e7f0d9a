"""High-frequency matters of event ledgers and values that jump against a unit's own history, as SQL aggregates.

Rows are counted and summed in the database (GROUP BY over `ledger_records` and report answers); only the small
per-unit series (one value a month or a period) come back, and the robust rule runs over them in Python:
z = 0.6745 × (x − median) / MAD over the unit's earlier periods (at least MIN_HISTORY of them), flagged at
|z| > Z_LIMIT. When MAD is 0 the mean absolute deviation stands in (z = (x − median) / (1.2533 × MeanAD)); the
spread (MAD / 0.6745 or 1.2533 × MeanAD) is taken as at least √|median|, the chance wobble of a count, so that a
few periods of small integers do not flag ordinary ups and downs. When every earlier value was the same, a change
of more than half (and at least 1) is flagged.

Unit ids None means every unit; a set narrows to those units (the caller's data scope).
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import median
from typing import Any

from sqlalchemy import BigInteger, String, cast, func, literal_column, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ledger_store.ledger_query import _NUMBER
from ledger_store.ledgers import is_sensitive
from ledger_store.masking import mask_sensitive
from ledger_store.models import (
    Answer,
    Assignment,
    AssignmentStatus,
    Ledger,
    LedgerRecord,
    Level,
    OrgUnit,
    ReportTask,
    Submission,
)

MIN_HISTORY = 3
Z_LIMIT = 3.5
WINDOW_MONTHS = 12  # the months a ledger's series looks back over, the latest included
NUMERIC = ("integer", "decimal")
COUNT_MEASURE = "记录数"
UNPLACED = "未归属单位"
_PLAIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Count:
    """One bar: a label and how many."""

    label: str
    count: int


@dataclass(frozen=True)
class Matter:
    """One matter category: records in all, in the latest month, and the monthly average of the months before."""

    label: str
    count: int
    this_month: int
    before: float  # average a month over the earlier months of the window

    @property
    def trend(self) -> str:
        """上升 / 下降 / 持平 of the latest month against the earlier months' average."""
        if self.this_month > self.before * 1.2 and self.this_month - self.before >= 1:
            return "上升"
        if self.this_month < self.before * 0.8 and self.before - self.this_month >= 1:
            return "下降"
        return "持平"


@dataclass(frozen=True)
class MatterReport:
    """A ledger's records counted by matter category, month, town and village."""

    ledger: Ledger
    category: str | None  # the label of the field the matters are read from; None when the ledger has none
    month_source: str  # the label of the date field months come from, or 创建时间
    total: int
    this_month: str
    matters: list[Matter]
    months: list[Count]
    towns: list[Count]
    villages: list[Count]


@dataclass(frozen=True)
class Anomaly:
    """A unit whose latest value jumps against its own earlier periods."""

    source: str  # the ledger or recurring report's title
    measure: str  # 记录数 or a field's label
    unit: str
    period: str
    value: Decimal
    median: Decimal
    z: float | None  # None: every earlier value was the same
    ratio: float | None  # the latest value over the period before it (None when that was 0)


@dataclass
class Series:
    """One measure of one unit: value by period."""

    source: str
    measure: str
    unit_id: int | None
    values: dict[str, Decimal] = field(default_factory=dict)


def category_field(ledger: Ledger, name: str | None = None) -> dict[str, Any] | None:
    """The field matters are read from: the one named, else the ledger's first non-sensitive select_one."""
    choices = [f for f in ledger.fields if f["type"] == "select_one" and not is_sensitive(f)]
    return next((f for f in choices if name in (None, f["name"], f["label"])), None)


def date_field(ledger: Ledger) -> dict[str, Any] | None:
    """The ledger's first date field, which months are read from."""
    return next((f for f in ledger.fields if f["type"] == "date"), None)


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
    """A numeric field's value cast so that SQL adds it up (integers exactly, decimals with their fractions)."""
    return cast(json_text(session, field["name"]), BigInteger if field["type"] == "integer" else _NUMBER)


def month_of(session: Session, ledger: Ledger) -> ColumnElement[str]:
    """The record's month as YYYY-MM: from the first date field (ISO text), else from when it was created."""
    dated = date_field(ledger)
    if dated is not None:
        return func.substr(json_text(session, dated["name"]), 1, 7)
    return func.substr(cast(LedgerRecord.created_at, String), 1, 7)


def _current(ledger: Ledger, unit_ids: Collection[int] | None) -> list[ColumnElement[bool]]:
    """The filters of a ledger's current records in the units."""
    where = [LedgerRecord.ledger_id == ledger.id, LedgerRecord.left_at.is_(None)]
    if unit_ids is not None:
        where.append(LedgerRecord.org_unit_id.in_(sorted(unit_ids)))
    return where


def months_before(month: str, count: int) -> list[str]:
    """The `count` months ending with `month` (YYYY-MM), oldest first."""
    year, number = int(month[:4]), int(month[5:7])
    found = []
    for _ in range(count):
        found.append(f"{year:04d}-{number:02d}")
        year, number = (year - 1, 12) if number == 1 else (year, number - 1)
    return found[::-1]


def unit_rollup(session: Session) -> dict[int, tuple[str | None, str | None]]:
    """Unit id -> (its town's name, its village's name), each None above that level."""
    rows = session.execute(select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.level, OrgUnit.name)).all()
    by_id = {row.id: row for row in rows}
    rolled: dict[int, tuple[str | None, str | None]] = {}
    for row in rows:
        town = village = None
        node = row
        while node is not None:
            if node.level == Level.TOWN:
                town = node.name
            elif node.level == Level.VILLAGE:
                village = node.name
            node = by_id.get(node.parent_id) if node.parent_id is not None else None
        rolled[row.id] = (town, village)
    return rolled


def unit_month_rows(
    session: Session, ledger: Ledger, unit_ids: Collection[int] | None
) -> list[tuple[int | None, str | None, int, dict[str, Decimal]]]:
    """(unit id, month, records, {numeric field: sum}) for each unit and month: one GROUP BY over the ledger."""
    month = month_of(session, ledger).label("month")
    # Sensitive numbers (a household's income) are never summed: one record's sum would be that person's value.
    numeric = [f for f in ledger.fields
               if f["type"] in NUMERIC and f["name"] != ledger.key_field and not is_sensitive(f)]  # fmt: skip
    sums = [func.sum(number_of(session, f)).label(f"s{i}") for i, f in enumerate(numeric)]
    query = (
        select(LedgerRecord.org_unit_id, month, func.count().label("n"), *sums)
        .where(*_current(ledger, unit_ids))
        .group_by(LedgerRecord.org_unit_id, month)
    )
    found = []
    for row in session.execute(query):
        totals = {f["name"]: Decimal(str(row[3 + i])) for i, f in enumerate(numeric) if row[3 + i] is not None}
        found.append((row.org_unit_id, row.month, row.n, totals))
    return found


def top_matters(
    session: Session,
    ledger: Ledger,
    unit_ids: Collection[int] | None,
    this_month: str,
    *,
    category: str | None = None,
    by_unit: list[tuple[int | None, str | None, int, dict[str, Decimal]]] | None = None,
    limit: int = 10,
) -> MatterReport:
    """The ledger's records counted by matter category (with this month against the window's earlier months),
    by month over the window, and by town and village; `by_unit` reuses rows `unit_month_rows` already read."""
    chosen = category_field(ledger, category)
    window = months_before(this_month, WINDOW_MONTHS)
    month = month_of(session, ledger).label("month")
    query = select(month, func.count().label("n")).where(*_current(ledger, unit_ids)).group_by(month)
    if chosen is not None:
        kind = json_text(session, chosen["name"]).label("kind")
        query = query.add_columns(kind).group_by(kind)
    labels = {c["value"]: c["label"] for c in chosen.get("choices", [])} if chosen else {}
    totals: dict[str, int] = defaultdict(int)
    latest: dict[str, int] = defaultdict(int)
    earlier: dict[str, int] = defaultdict(int)
    per_month: dict[str, int] = defaultdict(int)
    for row in session.execute(query):
        stored = row.kind if chosen is not None else None
        name = mask_sensitive(labels.get(stored, stored or "未填写")) if chosen else ledger.title
        totals[name] += row.n
        if row.month == this_month:
            latest[name] += row.n
        elif row.month in window:
            earlier[name] += row.n
        if row.month in window:
            per_month[row.month] += row.n
    spread = max(WINDOW_MONTHS - 1, 1)
    matters = [Matter(name, n, latest[name], earlier[name] / spread) for name, n in totals.items()]
    matters.sort(key=lambda matter: (-matter.count, matter.label))
    rows = by_unit if by_unit is not None else unit_month_rows(session, ledger, unit_ids)
    towns, villages = _rolled_up(session, rows)
    dated = date_field(ledger)
    return MatterReport(
        ledger=ledger,
        category=chosen["label"] if chosen else None,
        month_source=dated["label"] if dated else "创建时间",
        total=sum(totals.values()),
        this_month=this_month,
        matters=matters[:limit],
        months=[Count(m, per_month.get(m, 0)) for m in window],
        towns=towns[:limit],
        villages=villages[:limit],
    )


def _rolled_up(
    session: Session, rows: list[tuple[int | None, str | None, int, dict[str, Decimal]]]
) -> tuple[list[Count], list[Count]]:
    """Records by town and by village, most first, from the per-unit rows."""
    rollup = unit_rollup(session)
    towns: dict[str, int] = defaultdict(int)
    villages: dict[str, int] = defaultdict(int)
    for unit_id, _month, count, _sums in rows:
        town, village = rollup.get(unit_id, (None, None)) if unit_id is not None else (None, None)
        towns[town or UNPLACED] += count
        if village is not None:
            villages[village] += count

    def ranked(counts: dict[str, int]) -> list[Count]:
        return [Count(name, n) for name, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]

    return ranked(towns), ranked(villages)


def ledger_anomalies(
    session: Session,
    ledger: Ledger,
    this_month: str,
    unit_ids: Collection[int] | None = None,
    by_unit: list[tuple[int | None, str | None, int, dict[str, Decimal]]] | None = None,
) -> list[Anomaly]:
    """Units whose records this month (and sums of numeric fields) jump against their own earlier months."""
    window = months_before(this_month, WINDOW_MONTHS)
    rows = by_unit if by_unit is not None else unit_month_rows(session, ledger, unit_ids)
    labels = {f["name"]: f["label"] for f in ledger.fields}
    series: dict[tuple[str, int | None], Series] = {}
    for unit_id, month, count, sums in rows:
        if month not in window:
            continue
        for measure, value in ((COUNT_MEASURE, Decimal(count)), *((labels[n], v) for n, v in sums.items())):
            found = series.setdefault((measure, unit_id), Series(ledger.title, measure, unit_id))
            found.values[month] = value
    names = dict(session.execute(select(OrgUnit.id, OrgUnit.name)).all())
    flagged = []
    for one in series.values():
        # A month without records is a month of 0, from the unit's first month with any.
        first = min(one.values)
        periods = [m for m in window if m >= first]
        values = [one.values.get(m, Decimal(0)) for m in periods]
        anomaly = judge(values)
        if anomaly is not None:
            z, ratio = anomaly
            unit = names.get(one.unit_id, UNPLACED) if one.unit_id is not None else UNPLACED
            flagged.append(
                Anomaly(one.source, one.measure, unit, periods[-1], values[-1], median(values[:-1]), z, ratio)
            )
    return ranked_anomalies(flagged)


def report_anomalies(
    session: Session, department_id: int | None, unit_ids: Collection[int] | None = None
) -> list[Anomaly]:
    """Units whose answer to a recurring report's numeric question jumps against their own earlier periods.

    Only answers that count (SUBMITTED); the department's own recurring reports (every one when None)."""
    task_filter = [ReportTask.recurrence_id.is_not(None)]
    if department_id is not None:
        task_filter.append(ReportTask.department_id == department_id)
    unit_filter = [] if unit_ids is None else [Assignment.org_unit_id.in_(sorted(unit_ids))]
    query = (
        select(
            ReportTask.recurrence_id,
            ReportTask.period,
            Answer.field_name,
            Assignment.org_unit_id,
            func.sum(Answer.number_value).label("total"),
        )
        .join(Assignment, Assignment.task_id == ReportTask.id)
        .join(Submission, Submission.assignment_id == Assignment.id)
        .join(Answer, Answer.submission_id == Submission.id)
        .where(*task_filter, *unit_filter, Assignment.status == AssignmentStatus.SUBMITTED)
        .where(Answer.number_value.is_not(None), Answer.ledger_code.is_(None))
        .group_by(ReportTask.recurrence_id, ReportTask.period, Answer.field_name, Assignment.org_unit_id)
    )
    series: dict[tuple[int, str, int], Series] = {}
    for row in session.execute(query):
        key = (row.recurrence_id, row.field_name, row.org_unit_id)
        series.setdefault(key, Series("", row.field_name, row.org_unit_id)).values[row.period] = Decimal(str(row.total))
    if not series:
        return []
    periods, titles, labels = _recurring_periods(session, {key[0] for key in series})
    names = dict(session.execute(select(OrgUnit.id, OrgUnit.name)).all())
    flagged = []
    for (recurrence_id, field_name, unit_id), one in series.items():
        ordered = [p for p in periods[recurrence_id] if p in one.values]
        # Only a unit that answered the recurrence's latest period has a latest value to judge.
        if not ordered or ordered[-1] != periods[recurrence_id][-1]:
            continue
        values = [one.values[p] for p in ordered]
        anomaly = judge(values)
        if anomaly is not None:
            z, ratio = anomaly
            measure = labels[recurrence_id].get(field_name, field_name)
            unit = names.get(unit_id, UNPLACED)
            title = titles[recurrence_id]
            flagged.append(Anomaly(title, measure, unit, ordered[-1], values[-1], median(values[:-1]), z, ratio))
    return ranked_anomalies(flagged)


def _recurring_periods(
    session: Session, recurrence_ids: set[int]
) -> tuple[dict[int, list[str]], dict[int, str], dict[int, dict[str, str]]]:
    """Each recurrence's periods in the order issued, its latest task's title and its fields' labels."""
    tasks = session.scalars(
        select(ReportTask).where(ReportTask.recurrence_id.in_(sorted(recurrence_ids))).order_by(ReportTask.issued_at)
    )
    periods: dict[int, list[str]] = defaultdict(list)
    titles: dict[int, str] = {}
    labels: dict[int, dict[str, str]] = {}
    for task in tasks:
        periods[task.recurrence_id].append(task.period or "")
        titles[task.recurrence_id] = task.title
        labels[task.recurrence_id] = {f["name"]: f.get("label", f["name"]) for f in task.form_version.fields}
    return periods, titles, labels


def judge(values: list[Decimal]) -> tuple[float | None, float | None] | None:
    """(z, ratio to the period before) when the last value jumps against the earlier ones, else None."""
    *history, latest = values
    if len(history) < MIN_HISTORY:
        return None
    middle = median(history)
    deviations = [abs(value - middle) for value in history]
    mad = median(deviations)
    previous = history[-1]
    ratio = float(latest / previous) if previous else None
    if mad > 0:
        spread = float(mad) / 0.6745
    else:
        mean_deviation = sum(deviations) / len(deviations)
        if mean_deviation == 0:
            change = abs(latest - middle)
            return (None, ratio) if change >= 1 and change > abs(middle) / 2 else None
        spread = 1.253314 * float(mean_deviation)
    # A count of about m wobbles by about √m by chance alone; a few periods of integers can show less than that.
    z = float(latest - middle) / max(spread, math.sqrt(abs(float(middle))))
    return (z, ratio) if abs(z) > Z_LIMIT else None


def ranked_anomalies(found: list[Anomaly]) -> list[Anomaly]:
    """The biggest jumps first (a jump off a flat history counts as biggest)."""
    return sorted(found, key=lambda a: (-(abs(a.z) if a.z is not None else float("inf")), a.source, a.unit))
