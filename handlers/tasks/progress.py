"""Where a task stands: who submitted, who is missing, and how far each filler got."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from handlers.core.context import Context
from handlers.forms.form_state import number_at, question_numbers
from handlers.forms.registry import fields_of
from handlers.texts import review as rt
from ledger_store.models import (
    FILLER_OWES,
    WAITING_REVIEW,
    Assignment,
    AssignmentStatus,
    Conversation,
    FormVersion,
    ReportTask,
    ReviewPolicy,
)


@dataclass(frozen=True)
class Progress:
    """Where a task stands: done (the answers count), missing (the filler owes an answer: not started, being
    filled, returned) and waiting (submitted, with a reviewer)."""

    submitted: list[Assignment]
    missing: list[Assignment]
    waiting: list[Assignment] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Number of target units."""
        return len(self.submitted) + len(self.missing) + len(self.waiting)

    @property
    def unfinished(self) -> list[Assignment]:
        """Every assignment whose answers do not count yet."""
        return [*self.missing, *self.waiting]


def progress(task: ReportTask) -> Progress:
    """Done, missing and waiting assignments of a task."""
    done = [a for a in task.assignments if a.status == AssignmentStatus.SUBMITTED]
    missing = [a for a in task.assignments if a.status in FILLER_OWES]
    waiting = [a for a in task.assignments if a.status in WAITING_REVIEW]
    return Progress(done, missing, waiting)


def state_name(task: ReportTask, assignment: Assignment) -> str:
    """未开始, 填写中, 待审核, 待验收, 已退回, 已通过 (已提交 for a task without review)."""
    return status_name(task, assignment.status)


def status_name(task: ReportTask, status: str) -> str:
    """The name people read for an assignment status of this task (已通过, or 已提交 without review)."""
    names = {
        AssignmentStatus.PENDING: rt.STATE_NOT_STARTED,
        AssignmentStatus.IN_PROGRESS: rt.STATE_IN_PROGRESS,
        AssignmentStatus.REVIEWING: rt.STATE_REVIEWING,
        AssignmentStatus.ACCEPTING: rt.STATE_ACCEPTING,
        AssignmentStatus.RETURNED: rt.STATE_RETURNED,
        AssignmentStatus.SUBMITTED: rt.STATE_SUBMITTED if task.review == ReviewPolicy.NONE else rt.STATE_APPROVED,
    }
    return names.get(AssignmentStatus(status), status)


def question_total(version: FormVersion) -> int:
    """How many questions a form asks (notes and calculations are not questions)."""
    return len(question_numbers(fields_of(version)))


def reached_questions(ctx: Context, assignments: list[Assignment]) -> dict[int, int]:
    """Assignment id -> N of the 第N题 its filler is on (questions + 1 at the review), once answers began."""
    conversations = ctx.session.scalars(
        select(Conversation).where(Conversation.assignment_id.in_([a.id for a in assignments]))
    )
    return {
        c.assignment_id: number_at(fields_of(c.assignment.task.form_version), c.position)
        for c in conversations
        if c.answers
    }
