"""/预警: define a rule on a ledger (/预警 台账 条件 …), list the department's rules, remove one (/预警 删除 3)."""

from __future__ import annotations

from handlers.commands import warning_rules
from handlers.core.context import Context
from handlers.core.masking import mask_sensitive
from handlers.texts import warnings as t
from ledger_store.models import Person


def run(ctx: Context, person: Person, args: str) -> list[str]:
    """/预警 with or without arguments."""
    words = args.split()
    if not words or (len(words) == 1 and words[0] in t.LIST_WORDS):
        return [mask_sensitive(listing(ctx, person))]
    if words[0] in t.DELETE_WORDS:
        return [warning_rules.remove(ctx, person, " ".join(words[1:]))]
    _, reply = warning_rules.define(ctx, person, args)
    return [mask_sensitive(reply)]


def listing(ctx: Context, person: Person) -> str:
    """The rules the person sees, each with its hits so far."""
    views = warning_rules.rules_seen_by(ctx, person)
    if not views:
        return t.NO_RULES if person.department_id is not None else t.NO_RULES_AT_ALL
    admin_view = any(view.rule.department_id != person.department_id for view in views)
    lines = [
        t.rule_line(view.rule.id, view.rule.ledger.title, view.rule.conditions, view.hits,
                    view.rule.department.name if admin_view else None, view.problem)
        for view in views
    ]  # fmt: skip
    return t.rules(lines)
