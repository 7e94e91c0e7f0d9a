"""预警 rules: a department's conditions on a ledger, read like /查询's, whose new matches are pushed to its issuers.

A rule keeps its conditions as typed and reads them again at every evaluation, with the department's access to the
ledger and its data scope as they are then (the same as /查询 for its issuers). One that no longer reads (a field
renamed, a share withdrawn) is skipped, shown as broken in the lists and told to the department once per ledger
version. New matches are claimed in warning_hits, pushed and audited in the same transaction, once per record.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from sqlalchemy import select

from handlers.commands.ledgers import masked_row, readable_titles, units_within, values_of
from handlers.commands.scope import data_scope, department_scope
from handlers.core.context import Context
from handlers.ledgers.access import department_access, ledger_access
from handlers.ledgers.conditions import parse_conditions
from handlers.texts import ledger_access as access_texts
from handlers.texts import ledgers as ledger_texts
from handlers.texts import warnings as t
from ledger_store import audit
from ledger_store import warnings as store
from ledger_store.ledger_query import Condition, count_matching, matching_ids
from ledger_store.models import Department, Ledger, LedgerRecord, OrgUnit, Person, Role, WarningRule
from ledger_store.org import issuers_of_department
from ledger_store.outbox import Push, enqueue_many

AUDITED_RECORDS = 50  # record ids written into one run's audit entry; the entry also says how many in all


@dataclass(frozen=True)
class Checked:
    """A rule's conditions read for its department: field conditions and the units it looks at (None: all)."""

    conditions: list[Condition]
    unit_ids: set[int] | None


@dataclass(frozen=True)
class HitRow:
    """A record a rule found, as the dashboard lists it: its values masked, its unit, when it was found (local)."""

    record: str
    unit: str
    found_at: str


@dataclass(frozen=True)
class RuleView:
    """A rule as listed: how many records it found, and why it cannot run (None when it can)."""

    rule: WarningRule
    hits: int
    problem: str | None


def may_manage(person: Person) -> bool:
    """Issuers and admins define, see and remove rules (their department's; an admin sees every department's)."""
    return person.has_role(Role.ISSUER) or person.has_role(Role.ADMIN)


def check(ctx: Context, department: Department, ledger: Ledger, words: list[str]) -> Checked | str:
    """The conditions read as /查询 reads them for the department's issuers, or the sentence saying what is wrong."""
    access = department_access(ctx.session, department, ledger)
    if access is None:
        if ledger.owner is None:
            return access_texts.no_owner(ledger.title)
        return access_texts.not_shared(ledger.title, ledger.owner.name, department.name)
    scope = department_scope(ctx, department)
    if isinstance(scope, str):
        return scope
    parsed = parse_conditions(ledger, words, ctx.local_now().date(), masked=not access.full)
    if isinstance(parsed, str):
        return parsed
    unit_ids = units_within(ctx, scope, parsed.units)
    if isinstance(unit_ids, str):
        return unit_ids
    return Checked(parsed.fields, unit_ids)


def define(ctx: Context, person: Person, args: str) -> tuple[WarningRule | None, str]:
    """/预警 台账 条件 …: store the rule and push what matches now; the rule and the reply, or None and why not."""
    department = person.department
    if department is None:
        return None, t.NO_DEPARTMENT
    words = args.split()
    ledgers = list(ctx.session.scalars(select(Ledger).order_by(Ledger.id)))
    ledger = next((item for item in ledgers if words and words[0] in (item.title, item.code)), None)
    if ledger is None:
        titles = readable_titles(ctx, person, ledgers)
        if not words:
            return None, t.usage(titles)
        close = difflib.get_close_matches(words[0], [item.title for item in ledgers], n=3, cutoff=0.3)
        return None, ledger_texts.unknown_ledger(words[0], close, titles)
    if len(words) < 2:
        return None, t.need_condition(ledger.title)
    checked = check(ctx, department, ledger, words[1:])
    if isinstance(checked, str):
        return None, checked
    conditions = " ".join(words[1:])
    count = count_matching(ctx.session, ledger, checked.conditions, checked.unit_ids)
    rule = store.add_rule(ctx.session, ledger=ledger, department_id=department.id, conditions=conditions,
                          actor_id=person.id, now=ctx.now())  # fmt: skip
    rule.checked_at = ctx.now()
    push_new_matches(ctx, rule, checked)
    return rule, t.defined(rule.id, ledger.title, conditions, count)


def evaluate(ctx: Context, rule_id: int) -> int:
    """Push the rule's new matches (the scheduler calls it for each rule, in a transaction of its own); how many."""
    rule = ctx.session.get(WarningRule, rule_id)
    if rule is None or rule.removed_at is not None:
        return 0
    # First, and written at once: a second evaluation of the rule waits here for this one's commit, instead of
    # taking the rule row's lock in another order (MariaDB's key checks lock it too) and deadlocking.
    rule.checked_at = ctx.now()
    ctx.session.flush()
    checked = check(ctx, rule.department, rule.ledger, rule.conditions.split())
    if isinstance(checked, str):
        report_broken(ctx, rule, checked)
        return 0
    return push_new_matches(ctx, rule, checked)


def push_new_matches(ctx: Context, rule: WarningRule, checked: Checked) -> int:
    """Claim the records matching now that the rule has not found before, and push and audit those this transaction
    got, in one message to each issuer of the department; how many."""
    session, ledger, now = ctx.session, rule.ledger, ctx.now()
    won = store.claim(session, rule.id, matching_ids(ledger, checked.conditions, checked.unit_ids), now)
    if not won:
        return 0
    shown = (
        select(LedgerRecord, OrgUnit.name)
        .outerjoin(OrgUnit, OrgUnit.id == LedgerRecord.org_unit_id)
        .where(LedgerRecord.id.in_(won[: t.SHOWN_IN_PUSH]))
        .order_by(LedgerRecord.key)
    )
    rows = [masked_row(ledger, values_of(ledger, record), unit or "") for record, unit in session.execute(shown)]
    text = t.pushed(rule.id, ledger.title, rule.conditions, rows, len(won))
    issuers = issuers_of_department(session, rule.department_id)
    # (rule, first record) is claimed once ever, so the key is new for every run that found something.
    enqueue_many(session, [Push(p.id, f"warning:{rule.id}:{won[0]}:{p.id}", text) for p in issuers], now)
    audit.record(session, at=now, actor_id=None, action="warning_hits", entity="warning_rule", entity_id=rule.id,
                 new={"ledger": ledger.title, "conditions": rule.conditions, "records": won[:AUDITED_RECORDS],
                      "record_count": len(won), "pushed_to": [p.id for p in issuers]})  # fmt: skip
    return len(won)


def report_broken(ctx: Context, rule: WarningRule, problem: str) -> None:
    """Tell the department's issuers once per ledger version that the rule no longer reads."""
    version = rule.ledger.version
    if rule.broken_version == version:
        return
    rule.broken_version = version
    text = t.broken(rule.id, rule.ledger.title, rule.conditions, problem)
    issuers = issuers_of_department(ctx.session, rule.department_id)
    pushes = [Push(p.id, f"warning-broken:{rule.id}:{version}:{p.id}", text) for p in issuers]
    enqueue_many(ctx.session, pushes, ctx.now())


def rules_seen_by(ctx: Context, person: Person) -> list[RuleView]:
    """The rules a person sees: their department's, every department's for an admin; each with its hits and state."""
    if person.has_role(Role.ADMIN):
        rules = store.active_rules(ctx.session, None)
    elif person.department_id is not None and may_manage(person):
        rules = store.active_rules(ctx.session, person.department_id)
    else:
        rules = []
    # Counted as the hits are listed (hit_rows): records the person may read now, in their data scope as it is now.
    scope = data_scope(ctx, person)
    readable = [rule.id for rule in rules if not isinstance(ledger_access(ctx.session, person, rule.ledger), str)]
    counts = {} if isinstance(scope, str) else store.hit_counts(ctx.session, readable, scope.unit_ids)
    views = []
    for rule in rules:
        checked = check(ctx, rule.department, rule.ledger, rule.conditions.split())
        views.append(RuleView(rule, counts.get(rule.id, 0), checked if isinstance(checked, str) else None))
    return views


def hit_rows(ctx: Context, person: Person, rule: WarningRule, limit: int) -> list[HitRow]:
    """The rule's latest hits (at most `limit`), newest first, with every ID number and mobile masked: only those the
    person may read now (the ledger, and records in their data scope), whatever held when the hits were found."""
    scope = data_scope(ctx, person)
    if isinstance(scope, str) or isinstance(ledger_access(ctx.session, person, rule.ledger), str):
        return []
    return [
        HitRow(masked_row(rule.ledger, values_of(rule.ledger, record), ""), unit or "",
               ctx.to_local(hit.found_at).strftime("%Y-%m-%d %H:%M"))
        for hit, record, unit in store.hits_of(ctx.session, rule.id, limit, scope.unit_ids)
    ]  # fmt: skip


def visible_rule(ctx: Context, person: Person, rule_id: int) -> WarningRule | None:
    """The active rule if the person may see it (their department's; any for an admin), else None."""
    rule = ctx.session.get(WarningRule, rule_id)
    if rule is None or rule.removed_at is not None or not may_manage(person):
        return None
    if person.has_role(Role.ADMIN) or rule.department_id == person.department_id:
        return rule
    return None


def remove(ctx: Context, person: Person, word: str) -> str:
    """/预警 删除 编号 (or the page's button): stop the rule, audited; the sentence to answer."""
    number = word.strip().lstrip("#＃")
    rule = visible_rule(ctx, person, int(number)) if number.isdigit() and len(number) < 10 else None
    if rule is None:
        return t.unknown_rule(word)
    store.remove_rule(ctx.session, rule, person.id, ctx.now())
    return t.removed(rule.id)
