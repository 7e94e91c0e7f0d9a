"""Burden figures (填报负担): how much each report asked of the grassroots, and what the ledgers spared them.

Per submission: the questions put to the filler, the values a ledger offered (fresh ones for confirmation,
stale ones as the answer to keep) and how many of those were kept unchanged, and the minutes from opening
the form to submitting it (the first 提交, when a reviewer returned it). With review, from the review steps: how
often it was returned, how many questions the returns reopened (a return of the whole form reopens them all), and
the time from the first 提交 to the final 通过. `/统计` adds them up per task and over the last 30 days.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from handlers.core.context import Context
from handlers.tasks.progress import question_total
from handlers.texts import burden as t
from ledger_store.models import (
    Assignment,
    AssignmentStatus,
    Person,
    ReportTask,
    ReviewDecision,
    ReviewStep,
    Role,
    Submission,
)

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
    generated: int = 0  # submissions taken whole from the ledgers (取数), nobody asked


@dataclass(frozen=True)
class Review:
    """The review of one unit's submission: returns, questions they reopened, first 提交 and final 通过."""

    returns: int
    reopened: int
    first_submitted_at: datetime
    approved_at: datetime | None

    @property
    def minutes_to_approval(self) -> float | None:
        """Minutes from the first 提交 to the final 通过, once approved."""
        if self.approved_at is None:
            return None
        return max((self.approved_at - self.first_submitted_at).total_seconds() / 60, 0)


@dataclass(frozen=True)
class ReviewTotals:
    """Review figures added up: submissions that went to review, returns, questions reopened, the median time
    from first 提交 to final 通过 over the approved ones."""

    reviewed: int
    returns: int
    reopened: int
    median_minutes: float | None


def minutes(submission: Submission, review: Review | None = None) -> float | None:
    """Minutes from opening the form to submitting it (the first time, when it was returned), if known."""
    if submission.started_at is None:
        return None
    submitted_at = submission.submitted_at if review is None else review.first_submitted_at
    return max((submitted_at - submission.started_at).total_seconds() / 60, 0)


def reviews(ctx: Context, tasks: list[ReportTask]) -> dict[int, Review]:
    """Assignment id -> the review figures of its submission, for the units of these tasks that went to review."""
    questions = {task.id: question_total(task.form_version) for task in tasks}
    query = (
        select(
            ReviewStep.assignment_id,
            ReviewStep.submitted_at,
            ReviewStep.decision,
            ReviewStep.reopened,
            Assignment.task_id,
            Assignment.status,
            Assignment.accepted_at,
        )
        .join(Assignment, Assignment.id == ReviewStep.assignment_id)
        .where(Assignment.task_id.in_(list(questions)))
        .order_by(ReviewStep.assignment_id, ReviewStep.submitted_at)
    )
    found: dict[int, Review] = {}
    for assignment_id, submitted_at, decision, reopened, task_id, status, accepted_at in ctx.session.execute(query):
        returned = decision == ReviewDecision.RETURNED
        opened = (len(reopened) if reopened else questions[task_id]) if returned else 0
        before = found.get(assignment_id)
        found[assignment_id] = Review(
            returns=(before.returns if before else 0) + returned,
            reopened=(before.reopened if before else 0) + opened,
            first_submitted_at=before.first_submitted_at if before else submitted_at,
            approved_at=accepted_at if status == AssignmentStatus.SUBMITTED else None,
        )
    return found


def add_up_reviews(found: Iterable[Review]) -> ReviewTotals:
    """The review figures of some submissions added up."""
    found = list(found)
    durations = [m for m in (review.minutes_to_approval for review in found) if m is not None]
    return ReviewTotals(
        reviewed=len(found),
        returns=sum(review.returns for review in found),
        reopened=sum(review.reopened for review in found),
        median_minutes=statistics.median(durations) if durations else None,
    )


def add_up(submissions: Iterable[Submission], reviewed: dict[int, Review] | None = None) -> Totals:
    """The totals of the submissions that carry burden figures (`reviewed`: their reviews, by assignment id)."""
    reviewed = reviewed or {}
    counted = [s for s in submissions if s.asked_count is not None]
    durations = [m for m in (minutes(s, reviewed.get(s.assignment_id)) for s in counted) if m is not None]
    return Totals(
        submissions=len(counted),
        asked=sum(s.asked_count or 0 for s in counted),
        prefilled=sum(s.prefilled_count or 0 for s in counted),
        confirmed=sum(s.confirmed_count or 0 for s in counted),
        median_minutes=statistics.median(durations) if durations else None,
        generated=sum(s.generated for s in counted),
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


def describe(totals: Totals, review: ReviewTotals | None = None) -> str:
    """The figures as one sentence, and the review's as another when some submissions went to review."""
    if not totals.submissions:
        return t.NO_FIGURES
    line = t.figures(totals.submissions, totals.asked, totals.prefilled, totals.confirmed, totals.median_minutes)
    if totals.generated:
        line += t.generated_part(totals.generated)
    if review is not None and review.reviewed:
        line += t.review_figures(review.reviewed, review.returns, review.reopened, review.median_minutes)
    return line


def show_task(ctx: Context, task: ReportTask) -> list[str]:
    """/统计 任务: the burden figures of one task (and its review figures)."""
    reviewed = reviews(ctx, [task])
    totals = add_up(task_submissions(ctx, [task.id])[task.id], reviewed)
    return [t.task_line(task.id, task.title, describe(totals, add_up_reviews(reviewed.values())))]


def show_recent(ctx: Context, person: Person) -> list[str]:
    """/统计: the department's last 30 days (every department's for an admin), and its latest tasks one by one."""
    query = select(ReportTask).where(ReportTask.issued_at >= ctx.now() - timedelta(days=RECENT_DAYS))
    if not person.has_role(Role.ADMIN):
        query = query.where(ReportTask.department_id == person.department_id)
    tasks = list(ctx.session.scalars(query.order_by(ReportTask.id.desc())))
    if not tasks:
        return [t.NO_RECENT_TASKS_ANYWHERE if person.has_role(Role.ADMIN) else t.NO_RECENT_TASKS]
    by_task = task_submissions(ctx, [task.id for task in tasks])
    reviewed = reviews(ctx, tasks)
    overall = add_up((submission for submissions in by_task.values() for submission in submissions), reviewed)
    lines = [t.recent_header(RECENT_DAYS, len(tasks), describe(overall, add_up_reviews(reviewed.values())))]
    for task in tasks[:RECENT_TASKS]:
        own = {s.assignment_id: reviewed[s.assignment_id] for s in by_task[task.id] if s.assignment_id in reviewed}
        figures = describe(add_up(by_task[task.id], own), add_up_reviews(own.values()))
        lines.append(t.task_line(task.id, task.title, figures))
    if len(tasks) > RECENT_TASKS:
        lines.append(t.more_tasks(len(tasks) - RECENT_TASKS))
    return ["\n".join(lines)]
