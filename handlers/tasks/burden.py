"""Burden figures (填报负担): how much each report asked of the grassroots, and what the ledgers spared them.

Per submission: the questions put to the filler, the values a ledger offered (fresh ones for confirmation,
stale ones as the answer to keep) and how many of those were kept unchanged, and the minutes from opening
the form to submitting it. `/统计` adds them up per task and over the last 30 days.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from handlers.core.context import Context
from handlers.texts import burden as t
from ledger_store.models import Assignment, Person, ReportTask, Role, Submission

RECENT_DAYS = 30
RECENT_TASKS = 5


@dataclass(frozen=True)
class Totals:
    """Burden figures added up over some submissions (those from before the figures existed are left out)."""

    submissions: int
    asked: int
    prefilled: int
    confirmed: int
    median_minutes: float | None


def minutes(submission: Submission) -> float | None:
    """Minutes from opening the form to submitting it, if known."""
    if submission.started_at is None:
        return None
    return max((submission.submitted_at - submission.started_at).total_seconds() / 60, 0)


def add_up(submissions: Iterable[Submission]) -> Totals:
    """The totals of the submissions that carry burden figures."""
    counted = [s for s in submissions if s.asked_count is not None]
    durations = [m for m in (minutes(s) for s in counted) if m is not None]
    return Totals(
        submissions=len(counted),
        asked=sum(s.asked_count or 0 for s in counted),
        prefilled=sum(s.prefilled_count or 0 for s in counted),
        confirmed=sum(s.confirmed_count or 0 for s in counted),
        median_minutes=statistics.median(durations) if durations else None,
    )


def task_submissions(ctx: Context, task_ids: list[int]) -> dict[int, list[Submission]]:
    """Task id -> its submissions."""
    rows = ctx.session.execute(
        select(Assignment.task_id, Submission)
        .join(Submission, Submission.assignment_id == Assignment.id)
        .where(Assignment.task_id.in_(task_ids))
    )
    found: dict[int, list[Submission]] = {task_id: [] for task_id in task_ids}
    for task_id, submission in rows.tuples():
        found[task_id].append(submission)
    return found


def describe(totals: Totals) -> str:
    """The figures as one sentence."""
    if not totals.submissions:
        return t.NO_FIGURES
    return t.figures(totals.submissions, totals.asked, totals.prefilled, totals.confirmed, totals.median_minutes)


def show_task(ctx: Context, task: ReportTask) -> list[str]:
    """/统计 任务: the burden figures of one task."""
    totals = add_up(task_submissions(ctx, [task.id])[task.id])
    return [t.task_line(task.id, task.title, describe(totals))]


def show_recent(ctx: Context, person: Person) -> list[str]:
    """/统计: the department's last 30 days (every department's for an admin), and its latest tasks one by one."""
    query = select(ReportTask).where(ReportTask.issued_at >= ctx.now() - timedelta(days=RECENT_DAYS))
    if not person.has_role(Role.ADMIN):
        query = query.where(ReportTask.department_id == person.department_id)
    tasks = list(ctx.session.scalars(query.order_by(ReportTask.id.desc())))
    if not tasks:
        return [t.NO_RECENT_TASKS_ANYWHERE if person.has_role(Role.ADMIN) else t.NO_RECENT_TASKS]
    by_task = task_submissions(ctx, [task.id for task in tasks])
    overall = add_up(submission for submissions in by_task.values() for submission in submissions)
    lines = [t.recent_header(RECENT_DAYS, len(tasks), describe(overall))]
    lines += [t.task_line(task.id, task.title, describe(add_up(by_task[task.id]))) for task in tasks[:RECENT_TASKS]]
    if len(tasks) > RECENT_TASKS:
        lines.append(t.more_tasks(len(tasks) - RECENT_TASKS))
    return ["\n".join(lines)]
