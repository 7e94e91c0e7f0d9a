"""/迁移: move a ledger record to another unit, the one way a record changes hands between villages.

A town's reviewer moves records between the units of her town, an issuer of the ledger's owning department
within the department's units, an admin anywhere. The move is written through `write_values` (a history row of
the unit change), audited with the key masked, and the new unit's filler is told through the outbox.
"""

from __future__ import annotations

import difflib

from sqlalchemy import func, select

from handlers.commands.scope import Scope, data_scope, unknown_unit
from handlers.core.context import Context
from handlers.core.masking import mask_id_number, mask_sensitive
from handlers.core.words import fold
from handlers.ledgers.catalog import find_ledger
from handlers.ledgers.links import all_ledgers
from handlers.texts import record_scope as t
from handlers.texts.validation import NUMBER_PROBLEMS
from ledger_store import audit
from ledger_store.ledgers import (
    UNIT,
    field_map,
    get_record,
    is_unit_ledger,
    masked_value,
    normalize_key,
    rejoin,
    write_values,
)
from ledger_store.models import Department, Ledger, LedgerChange, LedgerRecord, OrgUnit, Person, PersonRole, Role
from ledger_store.org import all_units, subtree_ids
from ledger_store.outbox import enqueue
from ledger_store.values.personal import id_number_problem

INTO = ("到", "至", "迁到", "迁往", "迁入")
EVERYWHERE = None  # a reach with no limit: an admin, or the owning department of the whole district


def run(ctx: Context, person: Person, args: str) -> list[str]:
    """/迁移 台账 身份证号 到 单位 [原因]; `args` as typed: words are folded to be read, the reason kept as typed."""
    typed = args.split()
    words = [fold(word) for word in typed]
    ledger = find_ledger(ctx.session, words[0]) if words else None
    if ledger is None:
        titles = [item.title for item in all_ledgers(ctx.session)]
        if not words:
            return [t.usage(titles)]
        close = difflib.get_close_matches(words[0], titles, n=3, cutoff=0.3)
        return [t.unknown_ledger(words[0], close, titles)]
    if is_unit_ledger(ledger):
        return [t.UNIT_LEDGER]
    rest, typed_rest = words[1:], typed[1:]
    if rest and rest[0] in INTO:  # the key left out: "/迁移 台账 到 松林村"
        return [t.usage([ledger.title])]
    if rest[1:2] and rest[1] in INTO:
        rest, typed_rest = [rest[0], *rest[2:]], [typed_rest[0], *typed_rest[2:]]
    if len(rest) < 2:
        return [t.usage([ledger.title])]
    return move(ctx, person, ledger, rest[0], rest[1], " ".join(typed_rest[2:]))


def move(ctx: Context, person: Person, ledger: Ledger, key: str, unit_word: str, reason: str) -> list[str]:
    """Check the key, the target and the person's reach, then move the record and tell the new unit."""
    key_field = field_map(ledger)[ledger.key_field]
    label, stored = key_field["label"], normalize_key(ledger, key)
    problem = id_number_problem(stored, ctx.local_now().date()) if key_field["type"] == "id_number" else None
    if problem:
        return [t.bad_key(label, NUMBER_PROBLEMS[problem])]
    shown = mask_id_number(stored) if key_field["type"] == "id_number" else mask_sensitive(stored)
    reason = mask_sensitive(reason.strip())  # kept in the history and the audit log
    if len(reason) > t.MAX_REASON:
        return [t.reason_too_long(t.MAX_REASON)]
    target = find_unit(ctx, unit_word)
    if isinstance(target, str):
        return [target]
    reach = reach_of(ctx, person, ledger)
    if isinstance(reach, str):
        return [reach]
    record = get_record(ctx.session, ledger, stored, for_update=True)  # a second move waits and sees this one
    if record is None or not within(reach, record.org_unit_id):
        return [t.not_in_reach(ledger.title, label, shown)]  # the same words whether it exists or not
    if not within(reach, target.id):
        return [t.target_out_of_reach(target.name)]
    if record.org_unit_id == target.id:
        return [t.already_there(shown, target.name)]
    source = t.NO_UNIT if record.org_unit_id is None else ctx.session.get(OrgUnit, record.org_unit_id).name
    why = reason or None
    history_source = t.transfer_source(source, target.name)[:200]
    write_values(ctx.session, ledger, stored, target.id, {}, person.id, history_source, ctx.now())
    rejoin(ctx.session, ledger, record, person.id, history_source, ctx.now())  # one that had left is back on a roster
    audit.record(ctx.session, at=ctx.now(), actor_id=person.id, action="ledger_transfer", entity="ledger_record",
                 entity_id=record.id, old={"unit": source},
                 new={"unit": target.name, "ledger": ledger.code, "key": shown, "reason": why})  # fmt: skip
    who = record_name(ledger, record)
    told = tell_fillers(ctx, record, target, t.transferred_in(ledger.title, who, shown, target.name, person.name, why))
    return [t.transferred(ledger.title, who, shown, source, target.name, why, told)]


def find_unit(ctx: Context, word: str) -> OrgUnit | str:
    """The unit named (also written run into 到: 到松林村), or the sentence naming the closest ones."""
    units = {unit.name: unit for unit in all_units(ctx.session)}
    into = next((word[len(prefix) :] for prefix in INTO if word.startswith(prefix)), word)
    found = units.get(word) or units.get(into)
    if found is not None:
        return found
    return unknown_unit(into, list(units))


def reach_of(ctx: Context, person: Person, ledger: Ledger) -> frozenset[int] | str | None:
    """The units between which the person may move the ledger's records (None: all), or why they may not."""
    if person.has_role(Role.ADMIN):
        return EVERYWHERE
    reach: set[int] = set()
    if person.has_role(Role.REVIEWER) and person.org_unit_id is not None:
        reach |= subtree_ids(ctx.session, person.org_unit_id)
    owning = person.has_role(Role.ISSUER) and person.department_id is not None
    if owning and person.department_id == ledger.owner_department_id:
        scope = data_scope(ctx, person)  # the owning department moves records within what it sees
        if isinstance(scope, Scope) and scope.unit_ids is None:
            return EVERYWHERE  # the district's own department: records no unit holds yet too
        if isinstance(scope, Scope):
            reach |= scope.unit_ids
    if reach:
        return frozenset(reach)
    if person.has_role(Role.ISSUER):
        owner = ctx.session.get(Department, ledger.owner_department_id) if ledger.owner_department_id else None
        return t.not_owner(ledger.title, owner.name if owner is not None else None)
    return t.NO_REACH


def within(reach: frozenset[int] | None, unit_id: int | None) -> bool:
    """Is the unit inside the reach? A record no unit holds is inside only an unlimited one."""
    return reach is EVERYWHERE or (unit_id is not None and unit_id in reach)


def record_name(ledger: Ledger, record: LedgerRecord) -> str:
    """What names the record in chat: its first text value (姓名; masked if sensitive), or the key's label."""
    for field in ledger.fields:
        if field["type"] == "text" and record.values.get(field["name"]):
            return str(masked_value(field, record.values[field["name"]]))
    return field_map(ledger)[ledger.key_field]["label"]


def tell_fillers(ctx: Context, record: LedgerRecord, unit: OrgUnit, text: str) -> int:
    """Push the news to every filler of the unit; how many were told."""
    fillers = ctx.session.scalars(
        select(Person.id)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(Person.org_unit_id == unit.id, Person.active.is_(True), PersonRole.role == Role.FILLER)
    ).all()
    moves = ctx.session.scalar(
        select(func.count())
        .select_from(LedgerChange)
        .where(LedgerChange.record_id == record.id, LedgerChange.field_name == UNIT)
    )
    for filler_id in fillers:
        enqueue(ctx.session, person_id=filler_id, dedupe_key=f"transfer:{record.id}:{moves}:{filler_id}",
                now=ctx.now(), text=text)  # fmt: skip
    return len(fillers)
