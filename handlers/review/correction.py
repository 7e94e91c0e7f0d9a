"""A department's correction of an approved submission: the answer changes, and the change is signed and audited.

The signed round is claimed with one conditional UPDATE (`superseded_at IS NULL`), so of two corrections at once
exactly one goes through. Every step of that round is marked superseded; a new round, approved at once by the
corrector, signs the corrected content. Linked ledger fields follow, unless a later report or edit changed the
ledger since (it then keeps the newer value). The filler is told by push.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from handlers.core.context import Context
from handlers.forms.answers import format_answer, from_json, to_json
from handlers.forms.fields import Field
from handlers.forms.form_state import FormState, refresh
from handlers.forms.registry import fields_of
from handlers.ledgers import record_scope
from handlers.ledgers.links import links_of
from handlers.ledgers.prefill import storable
from handlers.review.content import canonical, digest
from handlers.tasks.signoff import shown
from handlers.tasks.submissions import answer_value, typed_answer
from handlers.texts import review as review_texts
from handlers.texts import signoff as t
from handlers.texts.reporting import task_name
from ledger_store import audit
from ledger_store.ledgers import get_record, is_unit_ledger, write_values
from ledger_store.ledgers import to_json as ledger_json
from ledger_store.models import Assignment, Person, ReviewDecision, ReviewStep, Submission
from ledger_store.org import unit_path
from ledger_store.outbox import enqueue

VALUE_COLUMNS = ("number_value", "text_value", "date_value", "bool_value", "choices_value")


@dataclass(frozen=True)
class Correction:
    """What the corrector asked for: one question of one approved submission, its new typed value, and why."""

    assignment: Assignment
    step: ReviewStep  # the final step of the signed round being corrected
    field: Field
    number: int  # the question's N of 第N题
    value: object
    reason: str | None


def stored_answers(fields: list[Field], submission: Submission) -> dict[str, Any]:
    """The submission's answers as a conversation stores them (to_json), by field name."""
    by_name = {field.name: field for field in fields}
    return {
        row.field_name: to_json(by_name[row.field_name], answer_value(by_name[row.field_name], row))
        for row in submission.answers
        if row.field_name in by_name and answer_value(by_name[row.field_name], row) is not None
    }


def submission_of(ctx: Context, assignment: Assignment) -> Submission:
    """The assignment's stored submission (an approved one always has it)."""
    return ctx.session.scalars(select(Submission).where(Submission.assignment_id == assignment.id)).one()


def check(ctx: Context, correction: Correction) -> tuple[FormState, FormState] | str:
    """The answers before and after the correction (skip logic and calculations applied), or why it is refused."""
    fields = fields_of(correction.assignment.task.form_version)
    field, number = correction.field, correction.number
    today = ctx.local_now().date()
    before = refresh(fields, stored_answers(fields, submission_of(ctx, correction.assignment)), [], today)
    if field.name in before.irrelevant:
        return t.correction_not_asked(number, field.label)
    after = refresh(fields, {**before.answers, field.name: to_json(field, correction.value)}, [], today)
    if after.irrelevant != before.irrelevant:
        return t.correction_changes_questions(number)
    refusal = after.refusal(field, correction.value)
    if refusal is not None:
        return t.correction_refused(number, refusal)
    if before.answers.get(field.name) == after.answers.get(field.name):
        return t.correction_unchanged(number, format_answer(field, correction.value))
    return before, after


def correct(ctx: Context, person: Person, correction: Correction) -> str:
    """Apply a checked correction; the corrector's reply."""
    checked = check(ctx, correction)
    if isinstance(checked, str):
        return checked
    before, after = checked
    assignment, old_step, field = correction.assignment, correction.step, correction.field
    task = assignment.task
    name = task_name(task.title, task.id)
    if not claim(ctx, old_step):
        return t.correction_taken(unit_path(assignment.org_unit), name)
    changed = [n for n in sorted({*before.answers, *after.answers}) if before.answers.get(n) != after.answers.get(n)]
    submission = submission_of(ctx, assignment)
    replace_answers(ctx, submission, list(before.fields), after.answers, changed)
    content = canonical(assignment, submission)
    step = ReviewStep(
        assignment_id=assignment.id, submission_id=submission.id, round=old_step.round + 1, stage=0,
        reviewer_unit_id=None, submitted_by_id=old_step.submitted_by_id, submitted_at=ctx.now(), content=content,
        digest=digest(content), changed=changed, decision=ReviewDecision.APPROVED.value, decided_by_id=person.id,
        decided_at=ctx.now(), reason=correction.reason,
    )  # fmt: skip
    ctx.session.add(step)
    ctx.session.flush()
    source = t.correction_source(task.id, task.title)[:200]
    written, kept = write_ledgers(ctx, person, assignment, list(before.fields), changed, before, after, source)
    old_value, new_value = before.answers.get(field.name), after.answers.get(field.name)
    audit.record(ctx.session, at=ctx.now(), actor_id=person.id, action="correct", entity="assignment",
                 entity_id=assignment.id,
                 old={"field": field.name, "value": old_value, "round": old_step.round, "digest": old_step.digest},
                 new={"field": field.name, "value": new_value, "round": step.round, "digest": step.digest,
                      "changed": changed, "reason": correction.reason})  # fmt: skip
    change = t.change_line(review_texts.question_label(correction.number, field.label), shown(field, old_value),
                           shown(field, new_value))  # fmt: skip
    notice = t.corrected_notice(name, person.name, task.department.name, change, correction.reason)
    enqueue(ctx.session, person_id=old_step.submitted_by_id, dedupe_key=f"corrected:{step.id}", now=ctx.now(),
            text=notice)  # fmt: skip
    return t.corrected_reply(unit_path(assignment.org_unit), name, change, old_step.digest, step.digest, written, kept)


def claim(ctx: Context, step: ReviewStep) -> bool:
    """Mark the signed round superseded unless another correction did first; True when this one won."""
    ctx.session.flush()
    won = ctx.session.execute(
        update(ReviewStep)
        .where(ReviewStep.id == step.id, ReviewStep.superseded_at.is_(None))
        .values(superseded_at=ctx.now())
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:
        return False
    ctx.session.execute(
        update(ReviewStep)
        .where(ReviewStep.assignment_id == step.assignment_id, ReviewStep.round == step.round)
        .values(superseded_at=ctx.now())
        .execution_options(synchronize_session=False)
    )
    ctx.session.refresh(step)
    return True


def replace_answers(
    ctx: Context, submission: Submission, fields: list[Field], answers: dict[str, Any], changed: list[str]
) -> None:
    """Bring the submission's Answer rows of the changed fields to the corrected answers (as stored)."""
    by_name = {field.name: field for field in fields}
    rows = {row.field_name: row for row in submission.answers}
    for name in changed:
        row = rows.get(name)
        if name not in answers:
            if row is not None:
                submission.answers.remove(row)
            continue
        fresh = typed_answer(by_name[name], answers[name])
        if row is None:
            submission.answers.append(fresh)
            continue
        for column in VALUE_COLUMNS:
            setattr(row, column, getattr(fresh, column))
    ctx.session.flush()


def write_ledgers(
    ctx: Context,
    person: Person,
    assignment: Assignment,
    fields: list[Field],
    changed: list[str],
    before: FormState,
    after: FormState,
    source: str,
) -> tuple[list[str], list[str]]:
    """Write the changed linked answers (not a record key, not a roster) to their ledgers; the labels written, and
    those left alone because the ledger no longer holds the value this submission gave it."""
    written: list[str] = []
    kept: list[str] = []
    targets = []
    for link in links_of(ctx.session, fields):
        if link.field.repeat or link.is_key or link.field.name not in changed:
            continue
        key = assignment.org_unit.name if link.key_source is None else after.answers.get(link.key_source)
        if key is not None:
            targets.append((link, key))
    # Records are locked in one order (ledger, key), as write-backs lock them: two writers cannot deadlock.
    for link, key in sorted(targets, key=lambda target: (target[0].ledger.id, str(target[1]))):
        name = link.field.name
        target = link.ledger_field["name"]
        record = get_record(ctx.session, link.ledger, key, for_update=True)  # checked and written under one lock
        old = before.answers.get(name)
        if record is not None and record.values.get(target) != ledger_value(link.ledger_field, link.field, old):
            kept.append(link.ledger_field["label"])
            continue
        new = after.answers.get(name)
        values = storable(link.ledger, {target: None if new is None else from_json(link.field, new)})
        if not values:
            kept.append(link.ledger_field["label"])
            continue
        unit_id = assignment.org_unit_id if is_unit_ledger(link.ledger) else None
        write_values(ctx.session, link.ledger, key, unit_id, values, person.id, source, ctx.now(),
                     unit_if_new=assignment.org_unit_id, units=record_scope.units_of(ctx, assignment))  # fmt: skip
        written.append(link.ledger_field["label"])
    return written, kept


def ledger_value(ledger_field: dict[str, Any], field: Field, stored: object) -> object:
    """An answer (as stored) as the ledger would hold it; None when there is none or the ledger cannot take it."""
    if stored is None:
        return None
    try:
        return ledger_json(ledger_field, from_json(field, stored))
    except ValueError:
        return None
