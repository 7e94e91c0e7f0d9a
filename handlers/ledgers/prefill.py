"""Prefill from the ledgers and write-back on submit: a cadre is asked only what the ledgers do not know.

When a form opens, every linked question whose value the unit's ledger record holds is filled in: a fresh value
is offered for one confirmation ("以下 5 项已从台账带出……"), a stale one (older than its validity) is asked
with the stored value as the answer to keep. When a form asks for a record key (an ID number), the rest of that
record is filled in as soon as the key is answered. On submit, every linked answer goes back to its ledger with
history and audit, so the next form asking the same field asks nobody.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from handlers.core.context import Context
from handlers.forms.answers import format_answer, from_json, limits_problem, to_json
from handlers.forms.fields import Field, FieldType
from handlers.forms.form_state import FormState, is_askable
from handlers.ledgers import record_scope
from handlers.ledgers.links import Link, links_of, to_form_value
from handlers.texts import prefill as t
from ledger_store.ledgers import field_map, is_unit_ledger, known_values, normalize_key, write_values
from ledger_store.ledgers import to_json as ledger_json
from ledger_store.models import Assignment, Conversation, Ledger, Person

log = logging.getLogger(__name__)
OFFERED, STALE, PREVIOUS, CONFIRMING = "offered", "stale", "previous", "confirming"


@dataclass(frozen=True)
class Burden:
    """How much one submission asked of its filler: questions asked, values the ledger offered, kept unchanged."""

    asked: int
    prefilled: int
    confirmed: int


def offered(conversation: Conversation) -> dict[str, Any]:
    """Field name -> the stored answer the ledger offered (fresh values, filled in for confirmation)."""
    return dict((conversation.prefill or {}).get(OFFERED, {}))


def stale(conversation: Conversation) -> dict[str, Any]:
    """Field name -> the stored answer of a stale ledger value, suggested as the answer to keep."""
    return dict((conversation.prefill or {}).get(STALE, {}))


def previous(conversation: Conversation) -> dict[str, Any]:
    """Field name -> the stored answer of the previous period (a recurring report), suggested to keep."""
    return dict((conversation.prefill or {}).get(PREVIOUS, {}))


def is_confirming(conversation: Conversation) -> bool:
    """Is the form waiting for the person to confirm the values taken from the ledger?"""
    return bool((conversation.prefill or {}).get(CONFIRMING))


def set_confirming(conversation: Conversation, confirming: bool) -> None:
    """Start or end waiting for the confirmation of the ledger's values."""
    conversation.prefill = {**(conversation.prefill or {}), CONFIRMING: confirming}


def fill_from_unit(ctx: Context, conversation: Conversation, fields: list[Field]) -> None:
    """Fill a new conversation with what the ledgers know of the assignment's unit."""
    unit = conversation.assignment.org_unit
    links = [link for link in links_of(ctx.session, fields) if link.key_source is None and not link.field.repeat]
    fresh, old = _known(ctx, links, unit.name, record_scope.units_of(ctx, conversation.assignment))
    if fresh or old:
        conversation.answers = {**conversation.answers, **fresh}
        conversation.prefill = {OFFERED: fresh, STALE: old, CONFIRMING: bool(fresh)}


def fill_from_previous(conversation: Conversation, fields: list[Field], answers: dict[str, object]) -> None:
    """Offer the previous period's answers as the answer to keep, for the questions the ledgers did not fill."""
    taken = {*conversation.answers, *stale(conversation)}
    kept = {
        field.name: to_json(field, answers[field.name])
        for field in fields
        if field.name in answers and answers[field.name] is not None and field.name not in taken
        and is_askable(field) and not field.repeat and limits_problem(field, answers[field.name]) is None
    }  # fmt: skip
    if kept:
        conversation.prefill = {**(conversation.prefill or {}), PREVIOUS: kept}


def fill_from_key(ctx: Context, conversation: Conversation, fields: list[Field], key_field: Field) -> list[str]:
    """After a record key is answered, fill in the rest of that record; returns the labels filled in."""
    links = [link for link in links_of(ctx.session, fields) if link.key_source == key_field.name and not link.is_key]
    if not links or key_field.name not in conversation.answers:
        return []
    key = from_json(key_field, conversation.answers[key_field.name])
    shown, kept = offered(conversation), stale(conversation)
    answers = dict(conversation.answers)
    for link in links:  # values taken from an earlier key and left unchanged belong to that record, not this one
        name = link.field.name
        if name in shown and answers.get(name) == shown.pop(name):
            answers.pop(name, None)
        kept.pop(name, None)
    units = record_scope.units_of(ctx, conversation.assignment)
    fresh, old = _known(ctx, [link for link in links if link.field.name not in answers], key, units)
    conversation.answers = {**answers, **fresh}
    conversation.prefill = {**(conversation.prefill or {}), OFFERED: {**shown, **fresh}, STALE: {**kept, **old}}
    return [link.field.label for link in links if link.field.name in fresh]


def key_refusal(
    ctx: Context, conversation: Conversation, fields: list[Field], field: Field, value: object
) -> str | None:
    """Why an answer to a record key question cannot be taken (another unit's record), or None."""
    link = _key_link(ctx, fields, field)
    if link is None:
        return None
    units = record_scope.units_of(ctx, conversation.assignment)
    return record_scope.refusal(link.ledger, record_scope.key_standing(ctx, link.ledger, value, units))


def moved_key(ctx: Context, conversation: Conversation, fields: list[Field]) -> tuple[Field, str] | None:
    """A key question whose answer now names a record the filler may not use (it moved away), and why."""
    units = None
    for link in links_of(ctx.session, fields):
        if not link.is_key or link.field.repeat or link.field.name not in conversation.answers:
            continue  # a unit ledger's key is never a question (form import refuses the link)
        units = units or record_scope.units_of(ctx, conversation.assignment)
        key = conversation.answers[link.field.name]
        refused = record_scope.refusal(link.ledger, record_scope.key_standing(ctx, link.ledger, key, units))
        if refused is not None:
            return link.field, refused
    return None


def suggestion(conversation: Conversation, field: Field) -> str | None:
    """The line under a question offering the stale ledger value or last period's answer, while it has none."""
    value = suggested_value(conversation, field)
    if value is None or field.name in conversation.answers:
        return None
    shown = format_answer(field, value)
    return t.stale_suggestion(shown) if field.name in stale(conversation) else t.previous_suggestion(shown)


def suggested_value(conversation: Conversation, field: Field) -> object | None:
    """The typed value a question suggests keeping (stale ledger value first, then last period's), if any."""
    stored = stale(conversation).get(field.name, previous(conversation).get(field.name))
    return None if stored is None else from_json(field, stored)


def block(title: str, state: FormState, conversation: Conversation, numbers: dict[str, int]) -> str:
    """The values taken from the ledger, numbered as their questions, and how to confirm or change them."""
    shown = offered(conversation)
    lines = [
        f"{numbers[field.name]}. {field.label}：{format_answer(field, from_json(field, state.answers[field.name]))}"
        for field in state.fields
        if field.name in shown and field.name in state.answers and field.name not in state.irrelevant
    ]
    return "\n".join([t.prefilled_header(title, len(lines)), *lines, t.prefilled_footer(len(state.open_fields()))])


def burden(conversation: Conversation, state: FormState) -> Burden:
    """The burden figures of a finished conversation (see Burden)."""
    asked_now = [f for f in state.fields if is_askable(f) and not f.repeat and f.name not in state.irrelevant]
    shown, old = offered(conversation), {**previous(conversation), **stale(conversation)}
    kept = [f for f in asked_now if f.name in shown and state.answers.get(f.name) == shown[f.name]]
    kept_stale = [f for f in asked_now if f.name in old and state.answers.get(f.name) == old[f.name]]
    prefilled = [f for f in asked_now if f.name in shown or f.name in old]
    return Burden(len(asked_now) - len(kept), len(prefilled), len(kept) + len(kept_stale))


def write_back(
    ctx: Context, person: Person, assignment: Assignment, fields: list[Field], answers: dict[str, Any]
) -> None:
    """Store every linked answer (as stored, after skip logic and calculations) in its ledger record, with history
    and audit; `person` is whom the history names as having given the values."""
    task = assignment.task
    source = t.write_back_source(task.id, task.title)
    records: dict[tuple[int, str], dict[str, Any]] = defaultdict(dict)
    ledgers = {}
    for link in links_of(ctx.session, fields):
        if link.field.repeat or link.is_key or link.field.name not in answers:
            continue
        key = _record_key(link, assignment, answers)
        if key is None:
            continue
        ledgers[link.ledger.id] = link.ledger
        value = from_json(link.field, answers[link.field.name])
        records[(link.ledger.id, key)][link.ledger_field["name"]] = value
    units = record_scope.units_of(ctx, assignment)
    # in one order (ledger, stored key) for every submission, so two writing the same records lock them in turn
    for (ledger_id, key), values in sorted(records.items(), key=lambda item: _lock_order(ledgers, *item[0])):
        ledger = ledgers[ledger_id]
        values = storable(ledger, values)
        if not is_unit_ledger(ledger) and record_scope.key_standing(ctx, ledger, key, units) in record_scope.REFUSED:
            # submit refuses such a key first; this keeps any other way from writing into another unit's record
            log.warning("task %s: a %s record outside its unit was not written", task.id, ledger.code)
            continue
        # A record the form names by key stays in its unit; a new one, or a unit's own, belongs to the unit.
        unit_id = assignment.org_unit_id if is_unit_ledger(ledger) else None
        write_values(ctx.session, ledger, key, unit_id, values, person.id, source, ctx.now(),
                     unit_if_new=assignment.org_unit_id, units=units)  # fmt: skip


def _lock_order(ledgers: dict[int, Ledger], ledger_id: int, key: str) -> tuple[int, str]:
    """Where a record comes in the order every write-back locks records in."""
    return ledger_id, normalize_key(ledgers[ledger_id], key)


def storable(ledger: Ledger, values: dict[str, Any]) -> dict[str, Any]:
    """The values the ledger accepts; one it refuses (its choices changed since the form was made) is logged."""
    definitions, kept = field_map(ledger), {}
    for name, value in values.items():
        try:
            ledger_json(definitions[name], value)
        except ValueError:
            log.warning("ledger %s refuses a written-back %s; the answer stays in the submission", ledger.code, name)
            continue
        kept[name] = value
    return kept


def _record_key(link: Link, assignment: Assignment, answers: dict[str, Any]) -> str | None:
    """The key of the record a linked answer belongs to: the unit's name, or the form's answer to the key."""
    if link.key_source is None:
        return assignment.org_unit.name
    stored = answers.get(link.key_source)
    return None if stored is None else str(stored)


def _key_link(ctx: Context, fields: list[Field], field: Field) -> Link | None:
    """The link that makes `field` (outside any roster) the record key of a ledger, if it is one."""
    if not field.save_to or field.repeat:
        return None
    return next((link for link in links_of(ctx.session, fields) if link.field.name == field.name and link.is_key), None)


def _known(
    ctx: Context, links: list[Link], key: object, units: frozenset[int]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(fresh, stale) answers, as stored, for the linked fields the ledger record `key` holds, or a record of the
    same entity in another ledger holds for a shared field (only one in the filler's `units`)."""
    fresh: dict[str, Any] = {}
    old: dict[str, Any] = {}
    by_ledger: dict[int, list[Link]] = defaultdict(list)
    for link in links:
        by_ledger[link.ledger.id].append(link)
    for group in by_ledger.values():
        known = known_values(ctx.session, group[0].ledger, key, ctx.now(), units)
        for link in group:
            found = known.get(link.ledger_field["name"])
            if found is None or link.field.type == FieldType.CALCULATE:
                continue
            value = to_form_value(link, found.value)
            if value is not None and limits_problem(link.field, value) is None:
                (fresh if found.fresh else old)[link.field.name] = to_json(link.field, value)
    return fresh, old
