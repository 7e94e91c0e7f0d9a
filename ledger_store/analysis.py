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

import calendar
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from statistics import median

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from ledger_store import rollups
from ledger_store.masking import mask_sensitive
from ledger_store.models import (
    Answer,
    Assignment,
    AssignmentStatus,
    Ledger,
    LedgerFlag,
    Level,
    OrgUnit,
    ReportTask,
    Submission,
)
from ledger_store.org_towns import NO_TOWN, unit_towns

MIN_HISTORY = 3
Z_LIMIT = 3.5
WINDOW_MONTHS = 12  # the months a ledger's series looks back over, the latest included
COUNT_MEASURE = "记录数"
UNPLACED = "未归属单位"


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
    before: float  # average a month over the earlier months of the window (from the ledger's first month in it)
    elapsed: float = 1.0  # the share of the latest month gone by (less than 1 while it is the current month)

    @property
    def trend(self) -> str:
        """上升 / 下降 / 持平 of the latest month against what the earlier average expects by now: a change of a
        fifth, and at least 1 and √expected (a count of about m wobbles by about √m by chance alone)."""
        expected = self.before * self.elapsed
        enough = max(1.0, math.sqrt(expected))
        if self.this_month > expected * 1.2 and self.this_month - expected >= enough:
            return "上升"
        if self.this_month < expected * 0.8 and expected - self.this_month >= enough:
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


def months_before(month: str, count: int) -> list[str]:
    """The `count` months ending with `month` (YYYY-MM), oldest first."""
    year, number = int(month[:4]), int(month[5:7])
    found = []
    for _ in range(count):
        found.append(f"{year:04d}-{number:02d}")
        year, number = (year - 1, 12) if number == 1 else (year, number - 1)
    return found[::-1]


def village_of(session: Session) -> dict[int, int]:
    """Unit id -> its village's (社区's) id: the nearest unit at or above it at the village level; units above
    that level are left out."""
    rows = session.execute(select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.level)).all()
    by_id = {row.id: row for row in rows}
    found: dict[int, int] = {}
    for row in rows:
        node, seen = row, set()
        while node is not None and node.id not in seen:
            seen.add(node.id)
            if node.level == Level.VILLAGE:
                found[row.id] = node.id
                break
            node = by_id.get(node.parent_id) if node.parent_id is not None else None
    return found


def unit_month_rows(session: Session, ledger: Ledger, unit_ids: Collection[int] | None) -> list[rollups.Row]:
    """(unit id, month, records, {numeric field: sum}) for each unit and month, read from the ledger's rollup."""
    return rollups.unit_months(session, ledger, unit_ids)


def elapsed_share(this_month: str, today: date | None) -> float:
    """How much of the month has gone by on `today` (its days so far, today included); 1 for a month already over
    or when no day is given."""
    if today is None or f"{today:%Y-%m}" != this_month:
        return 1.0
    return today.day / calendar.monthrange(today.year, today.month)[1]


def top_matters(
    session: Session,
    ledger: Ledger,
    unit_ids: Collection[int] | None,
    this_month: str,
    *,
    town_labels: TownLabels,
    today: date | None = None,
    limit: int = 10,
) -> MatterReport:
    """The ledger's records counted by matter category (with this month against the window's earlier months),
    by month over the window, and by town and village, all read from the ledger's rollup.

    The earlier months are those of the window from the ledger's first month with records in it (a ledger begun
    in May is not averaged over the year before); while `today` is in `this_month`, the average is scaled to the
    share of the month gone by."""
    chosen = rollups.category_field(ledger)
    window = months_before(this_month, WINDOW_MONTHS)
    stored = rollups.matter_months(session, ledger, unit_ids)
    labels = {c["value"]: c["label"] for c in chosen.get("choices", [])} if chosen else {}
    totals: dict[str, int] = defaultdict(int)
    latest: dict[str, int] = defaultdict(int)
    earlier: dict[str, int] = defaultdict(int)
    per_month: dict[str, int] = defaultdict(int)
    for month, kind, count in stored:
        name = mask_sensitive(labels.get(kind, kind or "未填写")) if chosen else ledger.title
        totals[name] += count
        if month == this_month:
            latest[name] += count
        elif month in window:
            earlier[name] += count
        if month in window:
            per_month[month] += count
    first = min((m for m in window[:-1] if per_month.get(m)), default=this_month)
    spread = max(len([m for m in window[:-1] if m >= first]), 1)
    share = elapsed_share(this_month, today)
    matters = [Matter(name, n, latest[name], earlier[name] / spread, share) for name, n in totals.items()]
    matters.sort(key=lambda matter: (-matter.count, matter.label))
    towns, villages = _rolled_up(session, rollups.unit_totals(session, ledger, unit_ids), town_labels)
    dated = rollups.date_field(ledger)
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


TownLabels = Callable[[Session, Iterable[int]], dict[int, str]]


def _rolled_up(
    session: Session, totals: dict[int | None, int], town_labels: TownLabels
) -> tuple[list[Count], list[Count]]:
    """Records by town (the town of org_towns, as the task page and the summary group them, labelled by
    `town_labels`) and by village, most first, from each unit's records in all."""
    towns = unit_towns()
    town_of = dict(session.execute(select(towns.c.unit_id, towns.c.town_id)).all())
    village = village_of(session)
    by_town: dict[int, int] = defaultdict(int)
    by_village: dict[int, int] = defaultdict(int)
    for unit_id, count in totals.items():
        by_town[town_of.get(unit_id, NO_TOWN) if unit_id is not None else NO_TOWN] += count
        if unit_id in village:
            by_village[village[unit_id]] += count
    town_names = town_labels(session, by_town)
    names = _unit_names(session, set(by_village))
    repeated = Counter(names.get(unit, "") for unit in by_village)
    village_names = {}
    for unit in by_village:  # a name two villages of the list share is told apart by the town
        name = names.get(unit, "")
        town = town_names.get(town_of.get(unit, NO_TOWN), "")
        village_names[unit] = name if repeated[name] == 1 else f"{name}（{town}）"

    def ranked(counts: dict[int, int], labels: dict[int, str]) -> list[Count]:
        return [
            Count(labels[key], n) for key, n in sorted(counts.items(), key=lambda item: (-item[1], labels[item[0]]))
        ]

    return ranked(by_town, town_names), ranked(by_village, village_names)


@dataclass(frozen=True)
class Flag:
    """A unit's figure that jumps: the measure is a numeric field's name, or "" for the count of records."""

    unit_id: int | None
    measure: str
    period: str
    value: Decimal
    median: Decimal
    z: float | None
    ratio: float | None


def judged_as_of(this_month: str, today: date | None) -> str:
    """What stored flags were judged for: the latest month, and whether it was still going on."""
    return this_month + ("~" if elapsed_share(this_month, today) < 1 else "")


def judge_units(rows: list[rollups.Row], this_month: str, today: date | None) -> list[Flag]:
    """The flags of the units in `rows` (unit, month, records, sums), each unit against its own earlier months.

    While `today` is in `this_month`, that month is not over: it is flagged only for going up (a half month's
    count is no drop), and the last whole month is judged both ways against the months before it."""
    window = months_before(this_month, WINDOW_MONTHS)
    series: dict[tuple[str, int | None], dict[str, Decimal]] = defaultdict(dict)
    for unit_id, month, count, sums in rows:
        if month in window:
            series[("", unit_id)][month] = Decimal(count)
            for name, value in sums.items():
                series[(name, unit_id)][month] = value
    unfinished = elapsed_share(this_month, today) < 1
    judged = [(window[:-1], False), (window, True)] if unfinished else [(window, False)]
    flagged = []
    for (measure, unit_id), by_month in series.items():
        first = min(by_month)
        for months, upward_only in judged:
            # A month without records is a month of 0, from the unit's first month with any.
            values = [by_month.get(m, Decimal(0)) for m in months if m >= first]
            anomaly = judge(values) if len(values) > MIN_HISTORY else None
            if anomaly is None or (upward_only and values[-1] <= median(values[:-1])):
                continue
            period = months[-1]
            flagged.append(Flag(unit_id, measure, period, values[-1], median(values[:-1]), *anomaly))
    return flagged


def refresh(session: Session, ledger: Ledger, today: date) -> rollups.Refreshed:
    """Bring the ledger's rollup up to date and judge again the units counted again (every unit when the whole
    ledger was, or when the month turned since the flags were judged)."""
    counted = rollups.refresh(session, ledger)
    state = rollups.state_of(session, ledger)
    this_month = f"{today:%Y-%m}"
    as_of = judged_as_of(this_month, today)
    if state is None or counted.behind or (not counted.changed and state.judged_as_of == as_of):
        return counted
    every = counted.whole or state.judged_as_of != as_of
    flags = []
    for chunk in [None] if every else rollups.chunks(counted.units):
        where = [] if chunk is None else [rollups.in_units(LedgerFlag.org_unit_id, chunk)]
        session.execute(delete(LedgerFlag).where(LedgerFlag.ledger_id == ledger.id, *where))
        flags += judge_units(rollups.unit_months(session, ledger, chunk), this_month, today)
    rows = [
        {"ledger_id": ledger.id, "org_unit_id": flag.unit_id, "measure": flag.measure, "period": flag.period,
         "value": str(flag.value), "median": str(flag.median), "z": flag.z, "ratio": flag.ratio}
        for flag in flags
    ]  # fmt: skip
    for start in range(0, len(rows), 1000):
        session.execute(insert(LedgerFlag), rows[start : start + 1000])
    state.judged_as_of = as_of
    session.flush()
    return counted


def refresh_one(session: Session, ledger_id: int, today: date) -> bool:
    """The scheduler's refresh of one ledger that is behind (see rollups.due); whether it was kept up."""
    ledger = rollups.kept_up(session, ledger_id)
    if ledger is None:
        return False
    refresh(session, ledger, today)
    return True


def ledger_anomalies(
    session: Session,
    ledger: Ledger,
    this_month: str,
    unit_ids: Collection[int] | None = None,
    today: date | None = None,
) -> list[Anomaly]:
    """Units whose records this month (and sums of numeric fields) jump against their own earlier months (see
    judge_units), within the units: the flags stored at the last refresh when they were judged for this month and
    nothing changed since, else judged now from the rollup."""
    state = rollups.state_of(session, ledger)
    stored = (
        state is not None
        and state.judged_as_of == judged_as_of(this_month, today)
        and not rollups.has_marks(session, ledger)
    )
    if stored:
        query = select(LedgerFlag).where(LedgerFlag.ledger_id == ledger.id)
        if unit_ids is not None:
            query = query.where(LedgerFlag.org_unit_id.in_(sorted(unit_ids)))
        flags = [
            Flag(row.org_unit_id, row.measure, row.period, Decimal(row.value), Decimal(row.median), row.z, row.ratio)
            for row in session.scalars(query)
        ]
    else:
        flags = judge_units(rollups.unit_months(session, ledger, unit_ids), this_month, today)
    labels = {f["name"]: f["label"] for f in ledger.fields}
    names = _unit_names(session, {flag.unit_id for flag in flags})
    return ranked_anomalies(
        [
            Anomaly(
                ledger.title,
                labels.get(flag.measure, flag.measure) if flag.measure else COUNT_MEASURE,
                names.get(flag.unit_id, UNPLACED),
                flag.period,
                flag.value,
                flag.median,
                flag.z,
                flag.ratio,
            )
            for flag in flags
        ]  # fmt: skip
    )


def _unit_names(session: Session, unit_ids: set[int | None]) -> dict[int | None, str]:
    """The names of these units (only these: a district has thousands)."""
    known = sorted(unit for unit in unit_ids if unit is not None)
    return dict(session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(known))).all()) if known else {}


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
            title = titles[recurrence_id]
            flagged.append(
                (unit_id, Anomaly(title, measure, "", ordered[-1], values[-1], median(values[:-1]), z, ratio))
            )
    names = _unit_names(session, {unit for unit, _anomaly in flagged})
    return ranked_anomalies([replace(found, unit=names.get(unit, UNPLACED)) for unit, found in flagged])


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
