"""/核实: the speaker's units' values past their validity, one at a time: 不变 renews one (written again, so its
time is refreshed), a new value replaces it, 跳过 passes it over, 结束 stops. What is left is found again at every
step, so a value someone else renewed meanwhile is not asked, and a record that left the units is never shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handlers.conversation.upkeep_state import (
    as_question,
    close,
    confirmed_day,
    record_name,
    save,
    shown,
    start,
)
from handlers.core.context import Context
from handlers.core.words import SKIP
from handlers.forms.answers import Invalid, parse_answer
from handlers.forms.form_state import UNCHANGED
from handlers.ledgers.freshness import is_stale
from handlers.ledgers.links import all_ledgers
from handlers.texts import upkeep as t
from ledger_store.ledgers import from_json, records_in_units, write_values
from ledger_store.models import Ledger, LedgerRecord, LedgerSession, Person

KIND = "verify"


@dataclass(frozen=True)
class Stale:
    """One value past its validity."""

    ledger: Ledger
    record: LedgerRecord
    field: dict[str, Any]

    @property
    def ref(self) -> list[str]:
        """How the state names it: ledger code, record key, field name."""
        return [self.ledger.code, self.record.key, self.field["name"]]


def stale_values(ctx: Context, units: frozenset[int], passed: list[list[str]]) -> list[Stale]:
    """Every stale value of the units' records still on their rosters, ledger by ledger, less those passed over."""
    now, found = ctx.now(), []
    for ledger in all_ledgers(ctx.session):
        timed = [field for field in ledger.fields if field["validity_days"] and field["name"] != ledger.key_field]
        if not timed:
            continue
        for record in records_in_units(ctx.session, ledger, units):
            found += [Stale(ledger, record, field) for field in timed if is_stale(field, record, now)]
    return [item for item in found if item.ref not in passed]


def begin(ctx: Context, person: Person, units: frozenset[int]) -> list[str]:
    """Open the verification at the first stale value, or say there is none."""
    left = stale_values(ctx, units, [])
    if not left:
        return [t.NOTHING_STALE]
    state = {"current": left[0].ref, "passed": [], "renewed": 0, "changed": 0}
    replaced = start(ctx, person, KIND, state)
    return [(t.ABANDONED_BEFORE + "\n" if replaced else "") + ask(ctx, left[0], len(left))]


def ask(ctx: Context, item: Stale, count: int) -> str:
    """The question about one stale value."""
    field, record = item.field, item.record
    value = shown(field, record.values.get(field["name"])) or t.NOT_GIVEN
    when = confirmed_day(ctx, record, field["name"]) or ""
    return t.stale_question(record_name(item.ledger, record), field["label"], value, when, count - 1)


def answer(
    ctx: Context, person: Person, found: LedgerSession, units: frozenset[int], word: str, typed: str
) -> list[str]:
    """不变, 跳过 or a new value for the value asked; then the next one."""
    state = dict(found.state)
    current = state["current"]
    item = next((item for item in stale_values(ctx, units, state["passed"]) if item.ref == current), None)
    done = ""
    if item is None:
        pass  # renewed by someone else or gone from the units meanwhile: on to the next one
    elif word in SKIP:
        state["passed"] = [*state["passed"], current]
    elif word in UNCHANGED:
        value = from_json(item.field, item.record.values[item.field["name"]])
        write(ctx, person, item, value, units)
        state["renewed"], done = state["renewed"] + 1, t.RENEWED
    else:
        parsed = parse_answer(as_question(item.field), typed, ctx.local_now().date())
        if isinstance(parsed, Invalid):
            return [parsed.reason + "\n\n" + ask(ctx, item, len(stale_values(ctx, units, state["passed"])))]
        write(ctx, person, item, parsed, units)
        state["changed"], done = state["changed"] + 1, t.CHANGED
    left = stale_values(ctx, units, state["passed"])
    if not left:
        close(ctx, found)
        return [done + t.verify_done(state["renewed"], state["changed"], len(state["passed"]))]
    state["current"] = left[0].ref
    save(ctx, found, state)
    return [done + ask(ctx, left[0], len(left))]


def write(ctx: Context, person: Person, item: Stale, value: object, units: frozenset[int]) -> None:
    """Write a value of the stale field (the same value only refreshes its time)."""
    values = {item.field["name"]: value}
    write_values(ctx.session, item.ledger, item.record.key, None, values, person.id, t.VERIFY_SOURCE, ctx.now(),
                 units=units)  # fmt: skip


def stopped(found: LedgerSession) -> str:
    """What 结束 says of a verification."""
    return t.verify_stopped(found.state["renewed"], found.state["changed"])
