"""Daily ledger upkeep without a task, for a filler in her unit and the units below it: /登记, /更新, /我的台账,
/核实. Reviewers and issuers keep to /审核, /迁移, /查询 and /导出: the village keeps its own records."""

from __future__ import annotations

from handlers.conversation import upkeep, upkeep_update, upkeep_verify
from handlers.conversation.upkeep_state import is_event, ledger_named, units_of
from handlers.core.context import Context
from handlers.ledgers.freshness import scope_counts
from handlers.ledgers.links import all_ledgers
from handlers.texts import upkeep as t
from ledger_store.ledgers import field_map, is_unit_ledger
from ledger_store.models import Ledger, OrgUnit, Person

# What one record of a ledger counts as, by entity kind: 残疾人台账 3 人.
COUNTERS = {"person": "人", "household": "户", "house": "处", "parcel": "块", "event": "件", "organisation": "个"}


def register(ctx: Context, person: Person, args: str) -> list[str]:
    """/登记 台账名: open a registration of a new record of the speaker's unit."""
    units = units_of(ctx, person)
    if isinstance(units, str):
        return [units]
    ledger = ledger_named(ctx.session, args.split()[0] if args.split() else "", "登记")
    if isinstance(ledger, str):
        return [ledger]
    if is_unit_ledger(ledger):
        return [t.unit_ledger(ledger.title)]
    return upkeep.begin_register(ctx, person, ledger)


def update(ctx: Context, person: Person, args: str) -> list[str]:
    """/更新 台账名 键: open the update of one record of the speaker's units."""
    units = units_of(ctx, person)
    if isinstance(units, str):
        return [units]
    name, _, key = args.strip().partition(" ")
    ledger = ledger_named(ctx.session, name, "更新")
    if isinstance(ledger, str):
        return [ledger]
    if not key.strip() and not is_unit_ledger(ledger):
        return [t.usage("更新", [ledger.title])]
    return upkeep_update.begin(ctx, person, ledger, key.strip(), units)


def verify(ctx: Context, person: Person, args: str) -> list[str]:
    """/核实: walk through the stale values of the speaker's units."""
    units = units_of(ctx, person)
    if isinstance(units, str):
        return [units]
    return upkeep_verify.begin(ctx, person, units)


def my_ledgers(ctx: Context, person: Person, args: str) -> list[str]:
    """/我的台账: each ledger with records in the speaker's units, their count and stale values; event ledgers."""
    units = units_of(ctx, person)
    if isinstance(units, str):
        return [units]
    now, lines = ctx.now(), []
    for ledger in all_ledgers(ctx.session):
        count, stale = scope_counts(ctx.session, ledger, units, now)
        if count:
            lines.append(t.ledger_line(ledger.title, count, counter(ledger), stale))
        elif is_event(ledger):
            lines.append(t.event_line(ledger.title))
    return [t.my_ledgers(ctx.session.get(OrgUnit, person.org_unit_id).name, lines)]


def counter(ledger: Ledger) -> str:
    """The counting word of one record: 人 for a person ledger (or one keyed by ID number), else its kind's."""
    if ledger.entity_kind in COUNTERS:
        return COUNTERS[ledger.entity_kind]
    return "人" if field_map(ledger)[ledger.key_field]["type"] == "id_number" else "条"
