"""/更新: one record of the speaker's units, field by field: the current value shown, 不变 or 跳过 keeps it, a new
value is validated like a form's answer and written at once (history and audit through ledger_store.ledgers).

A key that is not in the speaker's units, or not in the ledger at all, gets the same sentence.
"""

from __future__ import annotations

from typing import Any

from handlers.conversation.upkeep_state import (
    KEY_LIMIT,
    as_question,
    close,
    confirmed_day,
    question_lines,
    record_name,
    save,
    shown,
    start,
)
from handlers.core.context import Context
from handlers.core.words import SKIP
from handlers.forms.answers import Invalid, parse_answer
from handlers.forms.form_state import UNCHANGED
from handlers.ledgers.record_scope import Standing, standing_of
from handlers.texts import upkeep as t
from handlers.texts.validation import NUMBER_PROBLEMS
from ledger_store.ledgers import field_map, get_record, is_unit_ledger, normalize_key, write_values
from ledger_store.models import Ledger, LedgerRecord, LedgerSession, OrgUnit, Person
from ledger_store.values.personal import id_number_problem

KIND = "update"
KEEP = UNCHANGED | SKIP
MINE = (Standing.OWN, Standing.LEFT)


def fields_asked(ledger: Ledger) -> list[dict[str, Any]]:
    """Every field but the key, in definition order."""
    return [field for field in ledger.fields if field["name"] != ledger.key_field]


def begin(ctx: Context, person: Person, ledger: Ledger, key: str, units: frozenset[int]) -> list[str]:
    """Open the update of the record with this key, if it is one of the speaker's units'."""
    if is_unit_ledger(ledger) and not key:
        key = ctx.session.get(OrgUnit, person.org_unit_id).name
    key_field = field_map(ledger)[ledger.key_field]
    if key_field["type"] == "id_number":
        problem = id_number_problem(normalize_key(ledger, key), ctx.local_now().date())
        if problem:
            return [t.bad_key(key_field["label"], NUMBER_PROBLEMS[problem])]
    record = None if len(key) > KEY_LIMIT else get_record(ctx.session, ledger, key)
    if standing_of(record, units) not in MINE:
        return [t.not_in_reach(ledger.title, key_field["label"])]  # the same whether elsewhere or unknown
    replaced = start(ctx, person, KIND, {"ledger": ledger.code, "key": record.key, "position": 0, "changed": []})
    opening = t.update_started(ledger.title, record_name(ledger, record), len(fields_asked(ledger)))
    return [(t.ABANDONED_BEFORE + "\n" if replaced else "") + opening + "\n\n" + prompt(ctx, ledger, record, 0)]


def prompt(ctx: Context, ledger: Ledger, record: LedgerRecord, position: int) -> str:
    """One field with its current value and when it was last confirmed."""
    asked = fields_asked(ledger)
    field = asked[position]
    current = shown(field, record.values.get(field["name"]))
    lines = question_lines(field, position + 1, len(asked))
    return "\n".join([*lines, t.current_value(current, confirmed_day(ctx, record, field["name"])), t.KEEP_HINT])


def answer(
    ctx: Context, person: Person, found: LedgerSession, ledger: Ledger, units: frozenset[int], word: str, typed: str
) -> list[str]:
    """不变 / 跳过 keeps the value; anything else is a new value, written once it is valid."""
    state = dict(found.state)
    record = get_record(ctx.session, ledger, state["key"], for_update=True)
    if standing_of(record, units) not in MINE:
        close(ctx, found)
        return [t.moved_away(ledger.title)]
    asked = fields_asked(ledger)
    field = asked[min(state["position"], len(asked) - 1)]
    if word not in KEEP:
        parsed = parse_answer(as_question(field), typed, ctx.local_now().date())
        if isinstance(parsed, Invalid):
            return [parsed.reason + "\n\n" + prompt(ctx, ledger, record, state["position"])]
        values = {field["name"]: parsed}
        written = write_values(ctx.session, ledger, record.key, None, values, person.id, t.UPDATE_SOURCE, ctx.now(),
                               units=units)  # fmt: skip
        if written:
            state["changed"] = [*state["changed"], field["label"]]
    state["position"] += 1
    if state["position"] >= len(asked):
        close(ctx, found)
        return [t.updated(ledger.title, record_name(ledger, record), state["changed"])]
    save(ctx, found, state)
    return [prompt(ctx, ledger, record, state["position"])]
