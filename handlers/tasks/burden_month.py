"""Burden by month and by unit (the dashboard's 填报负担 page), added up in SQL over the tasks a person may see.

A task's reports count in the local month it was issued. Per month, town or unit: the reports units received (one
per target unit), the submissions that carry burden figures, the questions put to fillers, the values taken from
the ledgers (offered and kept unchanged, and every value of a report generated with nobody asked), the reports
generated with nobody asked, the median minutes from opening a form to its first 提交 (generated ones left out),
and per month the median days from a task's issue to its latest summary push (`ReportTask.summary_sent_at`: only
the latest push is recorded).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, false, func, select, true

from handlers.core.context import Context
from handlers.tasks.towns import town_labels, town_order
from ledger_store.models import Assignment, OrgUnit, ReportTask, ReviewStep, Submission
from ledger_store.org_towns import unit_towns


@dataclass(frozen=True)
class Figures:
    """The burden of some reports (see the module docstring); days only for whole months."""

    reports: int
    counted: int
    asked: int
    taken: int
    generated: int
    median_minutes: float | None
    median_days: float | None = None

    def per_report(self, value: int) -> float | None:
        """A total per submission with figures (None when none has them)."""
        return value / self.counted if self.counted else None


@dataclass(frozen=True)
class MonthFigures:
    """One local month (YYYY-MM) of issued tasks and their figures."""

    month: str
    tasks: int
    figures: Figures


@dataclass(frozen=True)
class UnitFigures:
    """A town, or a unit inside one, with the figures of its reports."""

    unit_id: int
    name: str
    figures: Figures


@dataclass
class _Sums:
    """Running totals while a grouped query's rows are folded into months."""

    reports: int = 0
    counted: int = 0
    asked: int = 0
    taken: int = 0
    generated: int = 0

    def add(self, row: Any) -> None:
        """Add one grouped row (key, reports, counted, asked, taken, generated)."""
        self.reports += int(row[1])
        self.counted += int(row[2])
        self.asked += int(row[3] or 0)
        self.taken += int(row[4] or 0)
        self.generated += int(row[5] or 0)

    def figures(self, minutes: list[float], days: list[float] | None = None) -> Figures:
        """The totals with the medians of these durations."""
        return Figures(self.reports, self.counted, self.asked, self.taken, self.generated, _median(minutes),
                       _median(days or []))  # fmt: skip


def months(ctx: Context, scope: Select[tuple[ReportTask]]) -> list[MonthFigures]:
    """Every month the person's tasks (`scope`) were issued in, oldest first, with its figures."""
    issued = ctx.session.execute(
        scope.with_only_columns(ReportTask.id, ReportTask.issued_at, ReportTask.summary_sent_at).order_by(None)
    )
    month_of: dict[int, str] = {}
    days: dict[str, list[float]] = defaultdict(list)
    tasks: dict[str, int] = defaultdict(int)
    for task_id, issued_at, summary_at in issued:
        month = ctx.to_local(issued_at).strftime("%Y-%m")
        month_of[task_id], tasks[month] = month, tasks[month] + 1
        if summary_at is not None:
            days[month].append(max((summary_at - issued_at).total_seconds() / 86400, 0))
    ids = _ids(scope)
    sums: dict[str, _Sums] = defaultdict(_Sums)
    for row in _aggregate(ctx, ids, Assignment.task_id):
        sums[month_of[row[0]]].add(row)
    minutes: dict[str, list[float]] = defaultdict(list)
    for task_id, taken in _durations(ctx, ids, Assignment.task_id):
        minutes[month_of[task_id]].append(taken)
    return [
        MonthFigures(month, tasks[month], sums[month].figures(minutes[month], days[month])) for month in sorted(tasks)
    ]


def units(ctx: Context, scope: Select[tuple[ReportTask]], month: str, town_id: int | None = None) -> list[UnitFigures]:
    """The towns of a month's reports (handlers.tasks.towns, in town_order), or given a town its units in name
    order, with their figures."""
    start, end = _month_span(ctx, month)
    ids = _ids(scope.where(ReportTask.issued_at >= start, ReportTask.issued_at < end))
    towns = unit_towns()
    key, where = (towns.c.town_id, ()) if town_id is None else (Assignment.org_unit_id, (towns.c.town_id == town_id,))
    sums: dict[int, _Sums] = defaultdict(_Sums)
    for row in _aggregate(ctx, ids, key, towns, where):
        sums[row[0]].add(row)
    minutes: dict[int, list[float]] = defaultdict(list)
    for unit_id, taken in _durations(ctx, ids, key, towns, where):
        minutes[unit_id].append(taken)
    if town_id is None:
        labels = town_labels(ctx.session, sums)
        return [UnitFigures(key, labels[key], sums[key].figures(minutes[key])) for key in sorted(sums, key=town_order)]
    named = ctx.session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(list(sums))))
    names = {unit_id: name for unit_id, name in named}
    found = [UnitFigures(unit_id, names[unit_id], total.figures(minutes[unit_id])) for unit_id, total in sums.items()]
    return sorted(found, key=lambda unit: unit.name)


def before_now(found: list[MonthFigures]) -> tuple[MonthFigures, MonthFigures] | None:
    """The earliest and the latest month that have submissions with figures, when there are two such months."""
    counted = [month for month in found if month.figures.counted]
    return (counted[0], counted[-1]) if len(counted) > 1 else None


def _ids(scope: Select[tuple[ReportTask]]) -> Select:
    """The ids of the tasks in scope, as a subquery for IN."""
    return scope.with_only_columns(ReportTask.id).order_by(None)


def _aggregate(ctx: Context, ids: Select, key: Any, towns: Any = None, where: tuple = ()) -> list[Any]:
    """Rows (key, reports, counted, asked, taken, generated) of the tasks' assignments grouped by `key`."""
    generated = Submission.generated == true()
    taken = case((generated, Submission.prefilled_count), else_=Submission.confirmed_count)
    query = (
        select(
            key,
            func.count(Assignment.id),
            func.count(Submission.asked_count),
            func.sum(Submission.asked_count),
            func.sum(taken),
            func.sum(case((generated, 1), else_=0)),
        )
        .select_from(Assignment)
        .outerjoin(Submission, Submission.assignment_id == Assignment.id)
        .where(Assignment.task_id.in_(ids), *where)
        .group_by(key)
    )
    if towns is not None:
        query = query.join(towns, towns.c.unit_id == Assignment.org_unit_id)
    return list(ctx.session.execute(query))


def _durations(ctx: Context, ids: Select, key: Any, towns: Any = None, where: tuple = ()) -> list[tuple[Any, float]]:
    """(key, minutes) of each asked submission: from opening the form to its first 提交 (before any return)."""
    first = (
        select(ReviewStep.assignment_id, func.min(ReviewStep.submitted_at).label("first_at"))
        .join(Assignment, Assignment.id == ReviewStep.assignment_id)
        .where(Assignment.task_id.in_(ids))
        .group_by(ReviewStep.assignment_id)
        .subquery()
    )
    query = (
        select(key, Submission.started_at, func.coalesce(first.c.first_at, Submission.submitted_at))
        .select_from(Submission)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .outerjoin(first, first.c.assignment_id == Assignment.id)
        .where(
            Assignment.task_id.in_(ids),
            Submission.started_at.is_not(None),
            Submission.asked_count.is_not(None),
            Submission.generated == false(),
            *where,
        )
    )
    if towns is not None:
        query = query.join(towns, towns.c.unit_id == Assignment.org_unit_id)
    return [
        (row_key, max((ended - started).total_seconds() / 60, 0))
        for row_key, started, ended in ctx.session.execute(query)
    ]


def _month_span(ctx: Context, month: str) -> tuple[datetime, datetime]:
    """A local month (YYYY-MM) as its stored [start, end) bounds; ValueError when it is not one."""
    year, number = (int(part) for part in month.split("-"))
    start = datetime(year, number, 1, tzinfo=ctx.tz)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=ctx.tz)
    return ctx.to_stored(start), ctx.to_stored(end)


def _median(values: list[float]) -> float | None:
    """The median, None of nothing."""
    return statistics.median(values) if values else None
