"""A task's progress as the dashboard shows it, within what the person may see in chat (/进度's rules).

The web pages call these plain functions; who may see what is decided here, with the chat's own rules: the
dashboard is for those who may use /进度 (issuers, admins), and shows the tasks /进度 reaches (their department's;
every task for an admin).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, Select, case, func, select

from handlers.commands.table import may_use
from handlers.commands.task_status import remind_task, tasks_in_sight
from handlers.core.context import Context
from handlers.tasks.submissions import answers_by_assignment
from handlers.tasks.summary import build_summary
from handlers.tasks.summary_push import gets_workbook
from handlers.tasks.towns import town_labels, town_order
from handlers.texts import review as review_texts
from ledger_store.models import Assignment, AssignmentStatus, Person, ReportTask
from ledger_store.org_towns import NO_TOWN, unit_towns

# The five states the dashboard counts, and the assignment statuses each gathers (待验收 counts as 待审核).
STATES = ("未开始", "填写中", "待审核", "已退回", "已通过")
STATE_OF = {
    AssignmentStatus.PENDING: 0,
    AssignmentStatus.IN_PROGRESS: 1,
    AssignmentStatus.REVIEWING: 2,
    AssignmentStatus.ACCEPTING: 2,
    AssignmentStatus.RETURNED: 3,
    AssignmentStatus.SUBMITTED: 4,
}
LISTED_TASKS = 200
_UNITS = unit_towns()  # a SQL expression (each unit's town and path), built once


@dataclass(frozen=True)
class TaskCounts:
    """A task and how many of its units are in each of STATES."""

    task: ReportTask
    counts: tuple[int, ...]


@dataclass(frozen=True)
class UnitRow:
    """One target unit of a task: where it sits, who fills it, its state, and how long it has waited (None: done)."""

    town_id: int
    town: str
    path: str
    filler: str
    state: str
    waited: str | None


@dataclass(frozen=True)
class TownCounts:
    """A town (or street) with its units' counts in each of STATES."""

    unit_id: int
    name: str
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        """Units of the task in this town."""
        return sum(self.counts)


def may_view(person: Person) -> bool:
    """Does the dashboard show this person anything? The same as may they use /进度."""
    return may_use(person, "进度")


def tasks_seen(person: Person) -> Select[tuple[ReportTask]] | None:
    """The query of the tasks the dashboard shows this person (as /进度 reaches them); None: the dashboard is not
    theirs."""
    return tasks_in_sight(person) if may_view(person) else None


def task_list(ctx: Context, person: Person) -> list[TaskCounts]:
    """The tasks the person may follow, newest first, each with its units counted by state (one grouped query)."""
    if not may_view(person):
        return []
    tasks = list(ctx.session.scalars(tasks_in_sight(person).limit(LISTED_TASKS)))
    grouped = ctx.session.execute(
        select(Assignment.task_id, Assignment.status, func.count())
        .where(Assignment.task_id.in_([task.id for task in tasks]))
        .group_by(Assignment.task_id, Assignment.status)
    )
    counts: dict[int, list[int]] = {task.id: [0] * len(STATES) for task in tasks}
    for task_id, status, number in grouped:
        counts[task_id][STATE_OF[AssignmentStatus(status)]] += number
    return [TaskCounts(task, tuple(counts[task.id])) for task in tasks]


def visible_task(ctx: Context, person: Person, task_id: int) -> ReportTask | None:
    """The task if the person may see it, else None (to the web: not found, whether it exists or not)."""
    if not may_view(person):
        return None
    return ctx.session.scalar(tasks_in_sight(person).where(ReportTask.id == task_id))


def unit_rows(ctx: Context, task: ReportTask) -> list[UnitRow]:
    """Every target unit of the task, town by town (in town_order), each town's in tree order, with its state and
    waiting time (one query however many units the task has).

    A unit waits from the task's issue until it submits; from its latest submission while a reviewer holds it or
    after it was returned.
    """
    town = _UNITS.c.town_id
    query = _units_query(task).order_by(case((town == NO_TOWN, 1), else_=0), town, _UNITS.c.path, Assignment.id)
    found = ctx.session.execute(query).all()
    labels, now = town_labels(ctx.session, {row.town_id for row in found}), ctx.now()
    return [_unit_row(task, row, labels[row.town_id], now) for row in found]


def town_counts(ctx: Context, task: ReportTask) -> list[TownCounts]:
    """The towns of the task's units (see handlers.tasks.towns), each with its units counted by state, in
    town_order (one grouped query)."""
    grouped = ctx.session.execute(
        select(_UNITS.c.town_id, Assignment.status, func.count())
        .select_from(Assignment)
        .join(_UNITS, _UNITS.c.unit_id == Assignment.org_unit_id)
        .where(Assignment.task_id == task.id)
        .group_by(_UNITS.c.town_id, Assignment.status)
    )
    counts: dict[int, list[int]] = {}
    for town_id, status, number in grouped:
        counts.setdefault(town_id, [0] * len(STATES))[STATE_OF[AssignmentStatus(status)]] += number
    labels = town_labels(ctx.session, counts)
    return [TownCounts(key, labels[key], tuple(counts[key])) for key in sorted(counts, key=town_order)]


def unit_page(ctx: Context, task: ReportTask, town: TownCounts, offset: int, limit: int) -> list[UnitRow]:
    """`limit` units of the task in one town from `offset`, in tree order, read by one query with LIMIT/OFFSET
    however many units the task has; waits as in unit_rows."""
    query = (
        _units_query(task)
        .where(_UNITS.c.town_id == town.unit_id)
        .order_by(_UNITS.c.path, Assignment.id)
        .offset(offset)
        .limit(limit)
    )
    now = ctx.now()
    return [_unit_row(task, row, town.name, now) for row in ctx.session.execute(query)]


def may_get_workbook(person: Person, task: ReportTask) -> bool:
    """Is the summary workbook (whole answers) offered to this person? Only inside the task's department."""
    return gets_workbook(task, person)


def summary_file(ctx: Context, person: Person, task: ReportTask) -> tuple[str, bytes] | None:
    """The task's summary workbook built now, for its own department only (as /汇总 sends it); None for others."""
    if not may_get_workbook(person, task):
        return None
    summary = build_summary(ctx, task, answers_by_assignment(ctx, task))
    return summary.file_name, summary.content


def remind(ctx: Context, person: Person, task: ReportTask) -> str:
    """The dashboard's 催报 button: exactly the chat's /催报 on this task (same once-a-minute rule, audited)."""
    return remind_task(ctx, person, task)


def _state_and_wait(
    task: ReportTask, status: str, submitted_at: datetime | None, now: datetime
) -> tuple[str, str | None]:
    """A unit's state, and how long it has waited: since the issue until it submits; since its latest submission
    while a reviewer holds it or after a return; None once done."""
    status = AssignmentStatus(status)
    since = submitted_at if status != AssignmentStatus.PENDING and submitted_at else None
    waited = None if status == AssignmentStatus.SUBMITTED else _minutes(now - (since or task.issued_at))
    return STATES[STATE_OF[status]], waited


def _units_query(task: ReportTask) -> Select:
    """The task's units with their town, path (see ledger_store.org_towns), filler and state, in no order."""
    return (
        select(_UNITS.c.town_id, _UNITS.c.path, Person.name.label("filler"), Assignment.status, Assignment.submitted_at)
        .select_from(Assignment)
        .join(_UNITS, _UNITS.c.unit_id == Assignment.org_unit_id)
        .join(Person, Person.id == Assignment.filler_id)
        .where(Assignment.task_id == task.id)
    )


def _unit_row(task: ReportTask, row: Row, town: str, now: datetime) -> UnitRow:
    """A row of _units_query as the dashboard shows it."""
    return UnitRow(row.town_id, town, row.path, row.filler, *_state_and_wait(task, row.status, row.submitted_at, now))


def _minutes(span: timedelta) -> str:
    """A waiting time as people read it (35分钟, 5小时, 2天)."""
    return review_texts.waited(max(int(span.total_seconds() // 60), 0))
