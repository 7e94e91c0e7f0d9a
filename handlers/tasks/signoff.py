"""Who signed what: a reviewed task's approvals read from its review steps, and the summary's 审核签字 sheet.

A round is signed when its last stage is approved (a stage still waiting, or a return, leaves it unsigned). A signed
round that follows another signed round is a department's correction (/更正): ordinary rounds follow returns only.
A correction marks every step of the round it replaces superseded, so the sheet lists the old digest as replaced.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from handlers.core.context import Context
from handlers.forms.answers import format_answer, from_json
from handlers.forms.fields import Field
from handlers.forms.registry import fields_of
from handlers.tasks.progress import state_name
from handlers.texts import review as review_texts
from handlers.texts import signoff as t
from handlers.texts import summary as s
from ledger_store.models import Assignment, ReportTask, ReviewDecision, ReviewStep
from ledger_store.org import unit_path

HEADER = [
    s.NUMBER,
    s.UNIT,
    s.FILLER,
    s.SUBMITTED_AT,
    t.SIGNOFF_REVIEWERS,
    t.SIGNOFF_APPROVED_AT,
    t.SIGNOFF_ROUNDS,
    t.SIGNOFF_DIGEST,
    s.STATUS,
    t.SIGNOFF_NOTE,
]
DATE_FORMATS = {3: "yyyy-mm-dd hh:mm", 5: "yyyy-mm-dd hh:mm"}  # 0-based columns: 提交时间, 通过时间


@dataclass(frozen=True)
class SignedRound:
    """One signed round of a submission: its steps in stage order (the last is the final approval)."""

    steps: list[ReviewStep]
    correction: bool  # a department's /更正 after an earlier signed round
    before: ReviewStep | None  # the final step of the round this one corrects

    @property
    def final(self) -> ReviewStep:
        """The last approval, whose digest is the round's signature."""
        return self.steps[-1]

    @property
    def superseded(self) -> bool:
        """Has a later correction replaced what this round signed?"""
        return self.final.superseded_at is not None


def steps_of_task(session: Session, task_id: int) -> dict[int, list[ReviewStep]]:
    """Every review step of a task by assignment id, in round and stage order: one query for the whole task."""
    query = (
        select(ReviewStep)
        .join(Assignment, Assignment.id == ReviewStep.assignment_id)
        .where(Assignment.task_id == task_id)
        .options(
            joinedload(ReviewStep.submitted_by), joinedload(ReviewStep.decided_by), joinedload(ReviewStep.reviewer_unit)
        )
        .order_by(ReviewStep.assignment_id, ReviewStep.round, ReviewStep.stage)
    )
    by_assignment: dict[int, list[ReviewStep]] = defaultdict(list)
    for step in session.scalars(query):
        by_assignment[step.assignment_id].append(step)
    return by_assignment


def signed_rounds(steps: list[ReviewStep]) -> list[SignedRound]:
    """The signed rounds among one assignment's steps (given in round and stage order), oldest first."""
    rounds: dict[int, list[ReviewStep]] = defaultdict(list)
    for step in steps:
        rounds[step.round].append(step)
    signed: list[SignedRound] = []
    previous: SignedRound | None = None
    for number in sorted(rounds):
        final = rounds[number][-1]
        if final.decision != ReviewDecision.APPROVED:
            previous = None
            continue
        follows = previous is not None and previous.final.round == number - 1
        current = SignedRound(rounds[number], follows, previous.final if follows and previous else None)
        signed.append(current)
        previous = current
    return signed


def valid_round(steps: list[ReviewStep]) -> SignedRound | None:
    """The signed round that stands (no correction has replaced it), if any."""
    return next((signed for signed in reversed(signed_rounds(steps)) if not signed.superseded), None)


def signoff_rows(ctx: Context, task: ReportTask) -> list[list[object]]:
    """The 审核签字 rows: per unit, every signed round (replaced ones marked), or one row with the unit's state."""
    steps = steps_of_task(ctx.session, task.id)
    fields = {field.name: field for field in fields_of(task.form_version)}
    rows: list[list[object]] = []
    for number, assignment in enumerate(task.assignments, start=1):
        mine = steps.get(assignment.id, [])
        signed = signed_rounds(mine)
        path = unit_path(assignment.org_unit)
        if not signed:
            latest = mine[-1] if mine else None
            when = local(ctx, latest.submitted_at) if latest is not None else None
            rounds = latest.round if latest is not None else None
            rows.append([number, path, assignment.filler.name, when, None, None, rounds, None,
                         state_name(task, assignment), None])  # fmt: skip
            continue
        for one in signed:
            rows.append(signed_row(ctx, task, number, path, one, fields))
    return rows


def signed_row(
    ctx: Context, task: ReportTask, number: int, path: str, signed: SignedRound, fields: dict[str, Field]
) -> list[object]:
    """One signed round: who submitted it and when, every stage's approver, the final approval and its digest."""
    first, final = signed.steps[0], signed.final
    department = task.department.name
    reviewers = [
        t.signoff_reviewer(
            review_texts.reviewer_name(step.reviewer_unit.name if step.reviewer_unit else None, department),
            step.decided_by.name if step.decided_by else "",
            signed.correction,
        )
        for step in signed.steps
    ]
    state = t.DIGEST_SUPERSEDED if signed.superseded else t.DIGEST_VALID
    note = correction_note(signed, fields) if signed.correction else None
    return [number, path, first.submitted_by.name, local(ctx, first.submitted_at), t.signoff_reviewers(reviewers),
            local(ctx, final.decided_at), final.round, final.digest, state, note]  # fmt: skip


def correction_note(signed: SignedRound, fields: dict[str, Field]) -> str:
    """What a correction changed (old → new, as shown in chat, masked) and why."""
    old = signed.before.content.get("answers", {}) if signed.before is not None else {}
    new = signed.final.content.get("answers", {})
    changes = []
    for name in signed.final.changed or []:
        field = fields.get(name)
        if field is None:
            continue
        changes.append(t.change_line(field.label or name, shown(field, old.get(name)), shown(field, new.get(name))))
    return t.correction_note(changes, signed.final.reason)


def shown(field: Field, stored: object) -> str:
    """A stored answer as chat shows it; （未填） for none."""
    return review_texts.EMPTY_ANSWER if stored is None else format_answer(field, from_json(field, stored))


def local(ctx: Context, stored: datetime | None) -> datetime | None:
    """A stored UTC time as local wall-clock time for a cell (None stays None)."""
    return None if stored is None else ctx.to_local(stored).replace(tzinfo=None)
