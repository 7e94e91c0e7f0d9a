"""Deadlines: when one passes, the summary goes to the department with the units that did not report.

A task issued with 不收迟报 closes then: each filler who has not submitted is told so, with whom to contact,
and for a month a late 开始 is answered with the task that closed instead of "nothing to do".

The scheduler lists the passed deadlines, then handles each task in a transaction of its own: a task whose
summary cannot be built stays unhandled (and is tried again at the next tick) without holding up the others.
It also sends the summaries that the last submission of a task could not build (`owed_summaries`).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, not_, or_, select

from handlers.core.context import Context
from handlers.core.deadline_text import format_deadline
from handlers.tasks.progress import progress, question_total, reached_questions
from handlers.tasks.summary_push import push_summary, summary_recipients
from handlers.texts import conversation as ct
from handlers.texts import reminders as t
from ledger_store import audit
from ledger_store.models import FILLER_OWES, Assignment, AssignmentStatus, Person, ReportTask
from ledger_store.outbox import Push, enqueue_many

RECENTLY_CLOSED_DAYS = 30  # a late 开始 hears of tasks closed this recently; older ones are forgotten


def passed(ctx: Context) -> list[int]:
    """Ids of the tasks whose deadline has passed and has not been handled, earliest deadline first."""
    query = (
        select(ReportTask.id)
        .where(ReportTask.closed_at.is_(None), ReportTask.deadline <= ctx.now())
        .order_by(ReportTask.deadline, ReportTask.id)
    )
    return list(ctx.session.scalars(query))


def close(ctx: Context, task_id: int) -> ReportTask | None:
    """Handle one passed deadline; None when it was handled meanwhile.

    A task that takes late answers stays open (reminders go on daily); one that does not stops taking them,
    and its unfinished fillers are told. Either way the summary is built now, unless everyone had already
    reported and it went out then.
    """
    task = ctx.session.get(ReportTask, task_id)
    if task is None or task.closed_at is not None or task.deadline > ctx.now():
        return None
    task.closed_at = ctx.now()
    state = progress(task)
    missing = state.missing
    if state.unfinished:
        push_summary(ctx, task, summary_recipients(ctx, task), "deadline")
        task.summary_sent_at = ctx.now()
    if missing and not task.accepts_late:
        notify_closed(ctx, task, missing)
    audit.record(ctx.session, at=ctx.now(), actor_id=None, action="deadline", entity="report_task",
                 entity_id=task.id, new={"missing": [a.org_unit.name for a in state.unfinished],
                                         "accepts_late": task.accepts_late})  # fmt: skip
    return task


def owed_summaries(ctx: Context) -> list[int]:
    """Ids of the tasks everyone has reported whose summary has not gone out since the last answer came in."""
    last_answer = select(func.max(Assignment.accepted_at)).where(Assignment.task_id == ReportTask.id).scalar_subquery()
    query = (
        select(ReportTask.id)
        .where(
            ReportTask.assignments.any(),
            ~ReportTask.assignments.any(Assignment.status != AssignmentStatus.SUBMITTED),
            or_(ReportTask.summary_sent_at.is_(None), ReportTask.summary_sent_at < last_answer),
        )
        .order_by(ReportTask.id)
    )
    return list(ctx.session.scalars(query))


def send_owed_summary(ctx: Context, task_id: int) -> ReportTask:
    """Build and queue the summary a completed task still owes its department; raises when it still cannot."""
    task = ctx.session.get(ReportTask, task_id)
    if task is None:
        raise LookupError(f"no task {task_id}")
    push_summary(ctx, task, summary_recipients(ctx, task), "complete")
    task.summary_sent_at = ctx.now()
    return task


def notify_closed(ctx: Context, task: ReportTask, missing: list[Assignment]) -> None:
    """Tell each filler who has not submitted that the task closed (how far they got, whom to contact), once."""
    total, reached = question_total(task.form_version), reached_questions(ctx, missing)
    deadline, whom = format_deadline(ctx, task.deadline), contact(task)
    pushes = [
        Push(
            assignment.filler_id,
            f"closed:{task.id}:{assignment.filler_id}",
            t.closed_notice(task.title, task.id, deadline, reached.get(assignment.id), total, whom),
        )
        for assignment in missing
    ]
    enqueue_many(ctx.session, pushes, ctx.now())


def contact(task: ReportTask) -> str:
    """Whom a filler asks about a task: its department and the person who issued it (never a phone number)."""
    return t.contact(task.department.name, task.issued_by.name)


def closed_reply(ctx: Context, task: ReportTask) -> str:
    """The answer to someone who wants to fill a task that closed: when, and whom to contact."""
    return ct.task_closed(task.title, task.id, format_deadline(ctx, task.deadline), contact(task))


def recently_closed(ctx: Context, person: Person) -> list[ReportTask]:
    """The tasks the person did not submit that closed in the last RECENTLY_CLOSED_DAYS, latest first."""
    now = ctx.now()
    query = (
        select(ReportTask)
        .join(Assignment, Assignment.task_id == ReportTask.id)
        .where(
            Assignment.filler_id == person.id,
            Assignment.status.in_(FILLER_OWES),
            not_(ReportTask.accepts_late),
            ReportTask.deadline <= now,
            ReportTask.deadline > now - timedelta(days=RECENTLY_CLOSED_DAYS),
        )
        .order_by(ReportTask.deadline.desc(), ReportTask.id.desc())
    )
    return list(ctx.session.scalars(query))
