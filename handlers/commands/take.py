"""取数: the answer to /发布's "直接生成 or 下发?", and /取数 模板 [范围], generating a report from the ledgers.

Rights are those of issuing a linked form (handlers.tasks.issue_rights): only a department owning every ledger the
form reads, or granted them in full, may generate it; the units are those /发布 may reach (handlers.commands.scope).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from handlers.commands import take_offer
from handlers.commands.issue import CONFIRM_OUTSIDE_FORM, DECLINE, acting_for, find_form, issue_now, still_issuable
from handlers.commands.scope import target_units
from handlers.core.context import Context
from handlers.forms.registry import fields_of, latest_version
from handlers.ledgers.coverage import Coverage
from handlers.tasks.generation import generate_task
from handlers.tasks.issue_rights import issue_refusal
from handlers.tasks.issuing import Terms
from handlers.texts import issuing as it
from handlers.texts import take as t
from ledger_store.models import ChatFocus, Department, FormVersion, Person

GENERATE = frozenset({t.GENERATE, "生成", "直接生成汇总表"})
SEND_DOWN = frozenset({t.SEND_DOWN, "仍然下发", "下发确认", "发布"}) | (CONFIRM_OUTSIDE_FORM - {"发布"})
TAKE_PATTERN = re.compile(r"^(?P<template>\S+)(?:\s*(?:范围\s*[:：]?)?\s*(?P<scope>.*))?$")


def answer_pending(ctx: Context, person: Person, text: str) -> list[str] | None:
    """The answer to "直接生成 or 下发?": generated, issued, dropped, or None when the message is about something else.

    Like /发布's lookalike question it lasts one message: anything else drops it and is handled as if not asked.
    """
    focus = ctx.session.get(ChatFocus, person.id)
    pending = focus.pending if focus is not None else None
    if not pending or pending.get("kind") != take_offer.PENDING_KIND:
        return None
    focus.pending = None
    if text in DECLINE:
        return [it.NOT_ISSUED]
    if text not in GENERATE and text not in SEND_DOWN:
        return None
    found = still_issuable(ctx, pending)
    if isinstance(found, str):
        return [found]
    covered = take_offer.covered_units(ctx, found.version, found.units, found.department)
    if text in SEND_DOWN:
        return issue_now(
            ctx, person, found.department, found.version, found.deadline, found.units, found.terms, covered
        )
    if not covered or not all(unit.full for unit in covered):
        return [t.CHANGED_SINCE]
    return [generated(ctx, person, found.department, found.version, found.deadline, covered, found.terms, False)]


def take(ctx: Context, person: Person, args: str) -> list[str]:
    """/取数 模板 [范围 单位…] [部门 名称]: generate the report from the ledgers for the units they answer whole."""
    args, department, problem = acting_for(ctx, person, args)
    if department is None:
        return [problem]
    parsed = TAKE_PATTERN.match(args.strip())
    if parsed is None:
        return [t.NO_TEMPLATE]
    form, problem = find_form(ctx, parsed.group("template"))
    if form is None:
        return [problem]
    version = latest_version(ctx.session, form)
    if version is None:
        return [problem or t.NO_TEMPLATE]
    refusal = issue_refusal(ctx.session, department, form.title, fields_of(version))
    if refusal is not None:
        return [refusal]
    units, problem = target_units(ctx, department.id, parsed.group("scope"))
    if problem:
        return [problem]
    covered = take_offer.covered_units(ctx, version, units, department)
    whole = [unit for unit in covered if unit.full and unit.questions]
    lacking = [(unit.unit.name, missing_labels(ctx, version, unit)) for unit in covered if unit not in whole]
    if not whole:
        return [t.nothing_covered(form.title) + ("\n" + t.left_out(lacking) if lacking else "")]
    reply = generated(ctx, person, department, version, ctx.now(), whole, Terms(), on_demand=True)
    return [reply + ("\n" + t.left_out(lacking) if lacking else "")]


def generated(
    ctx: Context,
    person: Person,
    department: Department,
    version: FormVersion,
    deadline: datetime,
    covered: list[Coverage],
    terms: Terms,
    on_demand: bool,
) -> str:
    """Generate the task and say so."""
    task = generate_task(ctx, person, department, version, deadline, covered, terms, on_demand=on_demand)
    total = max(len(unit.questions) for unit in covered)
    return t.generated(task.title, task.id, [unit.unit.name for unit in covered], total, on_demand)


def missing_labels(ctx: Context, version: FormVersion, unit: Coverage) -> list[str]:
    """The labels of the questions the ledgers do not answer for the unit."""
    labels: dict[str, Any] = {field.name: field.label for field in fields_of(version)}
    return [labels[name] for name in unit.questions if name not in unit.covered]
