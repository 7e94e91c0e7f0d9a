"""Where a task stands: who submitted, who is missing, and how far each filler got."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from handlers.core.context import Context
from handlers.forms.form_state import number_at, question_numbers
from handlers.forms.registry import fields_of
from ledger_store.models import (
    Assignment,
    AssignmentStatus,
    Conversation,
    FormVersion,
    ReportTask,
)


@dataclass(frozen=True)
class Progress:
    """Where a task stands."""

    submitted: list[Assignment]
    missing: list[Assignment]

    @property
    def total(self) -> int:
        """Number of target units."""
        return len(self.submitted) + len(self.missing)


def progress(task: ReportTask) -> Progress:
    """Submitted and missing assignments of a task."""
    done = [a for a in task.assignments if a.status == AssignmentStatus.SUBMITTED]
    missing = [a for a in task.assignments if a.status != AssignmentStatus.SUBMITTED]
    return Progress(done, missing)


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
