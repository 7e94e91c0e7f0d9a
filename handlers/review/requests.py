"""The review request: one readable message with the unit, the filler, every answer, and what changed against
the ledger, the previous period and the round before, large changes flagged."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from handlers.core.context import Context
from handlers.forms.answers import format_answer, from_json, to_json
from handlers.forms.fields import NUMERIC_TYPES, Field, FieldType
from handlers.forms.form_state import question_numbers
from handlers.forms.registry import fields_of
from handlers.ledgers.links import links_of, to_form_value
from handlers.tasks.recurrence import previous_answers
from handlers.texts import review as t
from handlers.texts.reporting import task_name
from ledger_store.ledgers import known_values
from ledger_store.models import ReviewStep
from ledger_store.org import unit_path

# A number that moves by at least this share of its previous value (or away from zero) is flagged.
LARGE_CHANGE = Decimal("0.5")


def request_text(ctx: Context, step: ReviewStep, previous: ReviewStep | None, footer: str = t.REQUEST_FOOTER) -> str:
    """The whole request for one step; `previous` is the step of the round before (for the ★ marks)."""
    assignment = step.assignment
    task = assignment.task
    fields = fields_of(task.form_version)
    kind = t.STATE_REVIEWING if step.stage == 0 else t.STATE_ACCEPTING
    town = None
    if step.stage > 0:
        approved_by = step_before_in_round(ctx, step)
        town = None if approved_by is None or approved_by.reviewer_unit is None else approved_by.reviewer_unit.name
    changed = set(step.changed or [])
    header = t.request_header(kind, unit_path(assignment.org_unit), step.submitted_by.name,
                              task_name(task.title, task.id), step.round, len(changed), town)  # fmt: skip
    answers = step.content.get("answers", {})
    before = previous.content.get("answers", {}) if previous is not None else {}
    ledger = ledger_answers(ctx, step, fields, answers)
    last_period = previous_answers(ctx, assignment)
    numbers = question_numbers(fields)
    lines = [header]
    for field in fields:
        if field.repeat or field.type == FieldType.NOTE or (field.name not in numbers and field.name not in answers):
            continue
        shown = shown_answer(field, answers.get(field.name))
        marks, large = [], False
        if field.name in changed and field.name in before:
            marks.append(t.was_mark(shown_answer(field, before[field.name])))
        old = last_period.get(field.name)
        if old is not None:
            change, large = compare(field, old, answers.get(field.name))
            marks.append(t.previous_mark(format_answer(field, old), change))
        known = ledger.get(field.name)
        if known is not None and known != answers.get(field.name):
            marks.append(t.ledger_mark(shown_answer(field, known)))
        label = field.label or field.name
        lines.append(t.answer_line(numbers.get(field.name), label, shown, marks, field.name in changed, large))
    for repeat, rows in step.content.get("rosters", {}).items():
        label = next((f.repeat_label for f in fields if f.repeat == repeat), repeat)
        counts = {status: sum(row["status"] == status for row in rows) for status in ("added", "removed", "changed")}
        kept = sum(row["status"] != "removed" for row in rows)
        line = t.roster_line(label, kept, counts["added"], counts["removed"], counts["changed"])
        lines.append(("★" if repeat in changed else "") + line)
    lines.append(footer)
    return "\n".join(lines)


def shown_answer(field: Field, stored: object) -> str:
    """An answer as stored, shown as in chat; an empty one says so."""
    if stored is None:
        return t.EMPTY_ANSWER
    try:
        return format_answer(field, from_json(field, stored))
    except (TypeError, ValueError):
        return str(stored)


def compare(field: Field, old: object, stored: object) -> tuple[str | None, bool]:
    """(+150%, large?) for a numeric answer against its previous value; (None, False) when not comparable."""
    if field.type not in NUMERIC_TYPES or stored is None or old is None:
        return None, False
    new, before = Decimal(str(from_json(field, stored))), Decimal(str(old))
    if before == 0:
        return (None, new != 0)
    share = (new - before) / abs(before)
    percent = (share * 100).quantize(Decimal(1))
    sign = "+" if percent > 0 else ""
    return f"{sign}{percent}%", abs(share) >= LARGE_CHANGE


def ledger_answers(ctx: Context, step: ReviewStep, fields: list[Field], answers: dict[str, Any]) -> dict[str, Any]:
    """Field name -> the ledger's current (approved) value, as stored, for the linked questions outside rosters."""
    found: dict[str, Any] = {}
    assignment = step.assignment
    for link in links_of(ctx.session, fields):
        if link.field.repeat or link.is_key:
            continue
        key = assignment.org_unit.name if link.key_source is None else answers.get(link.key_source)
        if key is None:
            continue
        known = known_values(ctx.session, link.ledger, key, ctx.now()).get(link.ledger_field["name"])
        value = None if known is None else to_form_value(link, known.value)
        if value is not None:
            found[link.field.name] = to_json(link.field, value)
    return found


def step_before_in_round(ctx: Context, step: ReviewStep) -> ReviewStep | None:
    """The step of the same round one stage before (the town's, before the department's)."""
    query = select(ReviewStep).where(
        ReviewStep.assignment_id == step.assignment_id,
        ReviewStep.round == step.round,
        ReviewStep.stage == step.stage - 1,
    )
    return ctx.session.scalar(query)
