"""/发布: read the command, act for a department (admins), and ask before issuing a task like one already issued.

A likely duplicate is an existing task of the same department and form, sent to at least one of the same units,
whose deadline is less than a day from the new one. It is not issued at once: the parsed command waits in
ChatFocus.pending, and the person's next message decides: 确认发布 issues it, anything else drops it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from handlers.commands import recurrence, take_offer
from handlers.commands.scope import target_units
from handlers.conversation import machine
from handlers.core.context import Context
from handlers.core.deadline_text import format_deadline
from handlers.core.timeparse import parse_datetime
from handlers.forms.registry import all_forms, fields_of, latest_version
from handlers.ledgers.coverage import Coverage
from handlers.tasks import on_behalf
from handlers.tasks.issue_rights import issue_refusal
from handlers.tasks.issuing import Terms, issue_task
from handlers.tasks.progress import progress
from handlers.tasks.recurrence_rules import relative_deadline
from handlers.texts import commands as ct
from handlers.texts import issuing as t
from handlers.texts import recurrence as rt
from handlers.texts.reporting import task_name
from ledger_store.models import (
    Assignment,
    ChatFocus,
    Department,
    Form,
    FormVersion,
    OrgUnit,
    Person,
    ReportTask,
    Role,
)
from ledger_store.org import all_units, fillers_by_unit, lock_department

ISSUE_PATTERN = re.compile(
    r"^(?P<template>.*?)\s*截止(?:时间|日期)?\s*[:：]?\s*(?P<when>.*?)(?:\s*范围\s*[:：]?\s*(?P<scope>.*))?$"
)
# 部门 区民政局 (also 部门：区民政局) names the department a task is for; 代区民政局 too, when it names one.
FOR_DEPARTMENT = re.compile(r"(?:^|\s)部门(?:\s*[:：]\s*|\s+)(?P<name>[^\s,，;；]+)")
ON_BEHALF = re.compile(r"(?:^|\s)代\s*(?P<name>[^\s,，;；]+?)(?:发布)?(?=[\s,，;；]|$)")
TRIMMED = " ，,；;。:："
LOOKALIKE_WINDOW = timedelta(hours=24)
# A one-off task closes within a year; anything longer is a recurrence (and dates near year 9999 cannot overflow).
MAX_TASK_LENGTH = timedelta(days=366)
LOOKALIKES_SHOWN = 3
PENDING_KIND = "issue"
# In a form, 确认 submits the form, so only these words confirm there; outside one, a plain 确认 does too.
CONFIRM = frozenset({"确认发布", "仍然发布", "继续发布", "确定发布"})
CONFIRM_OUTSIDE_FORM = CONFIRM | {"确认", "确定", "是", "发布"}
DECLINE = frozenset({"取消", "不发布", "不", "否", "不用", "不用了", "算了", "取消发布"})


def issue(ctx: Context, person: Person, args: str) -> list[str]:
    """/发布 模板 截止 时间 [范围 单位…] [部门 名称]: issue now, set up a recurrence, or ask about a lookalike."""
    args, department, problem = acting_for(ctx, person, args)
    if department is None:
        return [problem]
    split = recurrence.split_terms(args)
    if isinstance(split, str):
        return [split]
    args, terms = split
    parsed = ISSUE_PATTERN.match(args)
    template = parsed.group("template").strip(TRIMMED) if parsed else args
    if not args or not template:
        return [ct.NO_TEMPLATE]
    when = parsed.group("when").strip(TRIMMED) if parsed else ""
    if not when:
        return [ct.NO_DEADLINE]
    name, schedule = recurrence.split_schedule(template)
    form, problem = find_form(ctx, name)
    if form is None:
        return [problem]
    version = latest_version(ctx.session, form)
    if version is None:
        return [ct.unknown_template(name, [], [f.title for f in all_forms(ctx.session)])]
    refusal = issue_refusal(ctx.session, department, form.title, fields_of(version))
    if refusal is not None:
        return [refusal]
    scope = parsed.group("scope") if parsed else None
    if schedule is not None:
        units, problem = target_units(ctx, department.id, scope)
        if problem:
            return [problem]
        named = units if scope and scope.strip() else None
        return recurrence.issue_recurring(ctx, person, department, form, schedule, when, named, terms)
    local = parse_datetime(when, ctx.local_now()) or relative_deadline(when, ctx.local_now(), ctx.calendar)
    if local is None:
        return [ct.bad_deadline(when)]
    deadline = ctx.to_stored(local)
    if deadline <= ctx.now():
        return [ct.past_deadline(format_deadline(ctx, deadline))]
    if deadline > ctx.now() + MAX_TASK_LENGTH:
        return [ct.deadline_too_far(format_deadline(ctx, deadline), MAX_TASK_LENGTH.days)]
    units, problem = target_units(ctx, department.id, scope)
    if problem:
        return [problem]
    pending = {
        "kind": PENDING_KIND,
        "department_id": department.id,
        "form_version_id": version.id,
        "deadline": deadline.isoformat(),
        "unit_ids": [unit.id for unit in units],
        "accepts_late": terms.accepts_late,
        "remind_hours": terms.remind_hours,
        "review": terms.review,
    }
    lock_department(ctx.session, department.id)
    similar = lookalikes(ctx, department.id, form.id, deadline, units)
    if similar:
        return ask_first(ctx, person, department, similar, pending)
    covered = take_offer.covered_units(ctx, version, units, department)
    asked = take_offer.offer(ctx, person, department, version, covered, pending)
    if asked is not None:
        return asked
    return issue_now(ctx, person, department, version, deadline, units, terms, covered)


def ask_first(
    ctx: Context, person: Person, department: Department, similar: list[ReportTask], pending: dict[str, Any]
) -> list[str]:
    """Keep the parsed command for the next message and ask whether to issue it beside the tasks it looks like."""
    machine.focus_of(ctx, person).pending = pending
    lines = [lookalike_line(ctx, task) for task in similar[:LOOKALIKES_SHOWN]]
    if len(similar) > LOOKALIKES_SHOWN:
        lines.append(t.more_lookalikes(len(similar) - LOOKALIKES_SHOWN))
    return [t.lookalike(department.name, lines)]


def acting_for(ctx: Context, person: Person, args: str) -> tuple[str, Department | None, str]:
    """The arguments without 部门 …, and the department the command acts for; or None and why not."""
    departments = list(ctx.session.scalars(select(Department).order_by(Department.id)))
    by_name = {department.name: department for department in departments}
    named = FOR_DEPARTMENT.search(args)
    if named is None:
        proxy = ON_BEHALF.search(args)
        named = proxy if proxy is not None and proxy.group("name") in by_name else None
    own = person.department
    if named is None:
        if own is not None:
            return args, own, ""
        if not person.has_role(Role.ADMIN):
            return args, None, ct.NO_DEPARTMENT
        return args, None, t.name_the_department(list(by_name)) if by_name else t.NO_DEPARTMENTS
    args = " ".join((args[: named.start()] + " " + args[named.end() :]).split())
    wanted = named.group("name")
    department = by_name.get(wanted)
    if department is None:
        close = difflib.get_close_matches(wanted, list(by_name), n=3, cutoff=0.4)
        return args, None, t.unknown_department(wanted, close, list(by_name))
    if own is not None and own.id == department.id:
        return args, own, ""
    if not person.has_role(Role.ADMIN):
        return args, None, t.only_admins_act_for(department.name, own.name if own else None)
    return args, department, ""


def find_form(ctx: Context, name: str) -> tuple[Form | None, str]:
    """A form by title, code or unique fragment; otherwise the sentence naming the closest ones."""
    forms = all_forms(ctx.session)
    exact = [f for f in forms if name in (f.title, f.code)]
    fragment = [f for f in forms if name and name in f.title]
    if exact or len(fragment) == 1:
        return (exact or fragment)[0], ""
    titles = [f.title for f in forms]
    close = difflib.get_close_matches(name, titles, n=3, cutoff=0.3) or [f.title for f in fragment]
    return None, ct.unknown_template(name, close, titles)


def lookalikes(
    ctx: Context, department_id: int, form_id: int, deadline: datetime, units: list[OrgUnit]
) -> list[ReportTask]:
    """The department's tasks of the same form, due less than a day from `deadline`, to any of the same units."""
    candidates = list(
        ctx.session.scalars(
            select(ReportTask)
            .join(FormVersion, FormVersion.id == ReportTask.form_version_id)
            .where(
                ReportTask.department_id == department_id,
                FormVersion.form_id == form_id,
                ReportTask.deadline > deadline - LOOKALIKE_WINDOW,
                ReportTask.deadline < deadline + LOOKALIKE_WINDOW,
            )
            .order_by(ReportTask.id.desc())
        )
    )
    if not candidates:
        return []
    wanted = {unit.id for unit in units}
    if len(wanted) > 1000:  # a task to thousands of units: compare in Python rather than with a huge IN list
        hit = {a.task_id for task in candidates for a in task.assignments if a.org_unit_id in wanted}
    else:
        overlapping = select(Assignment.task_id).where(
            Assignment.task_id.in_([task.id for task in candidates]), Assignment.org_unit_id.in_(wanted)
        )
        hit = set(ctx.session.scalars(overlapping.distinct()))
    return [task for task in candidates if task.id in hit]


def lookalike_line(ctx: Context, task: ReportTask) -> str:
    """One existing task the new one looks like: number, deadline, units, progress."""
    state = progress(task)
    units = [assignment.org_unit.name for assignment in task.assignments]
    deadline = format_deadline(ctx, task.deadline)
    return t.lookalike_line(task_name(task.title, task.id), deadline, units, len(state.submitted), state.total)


def answer_pending(ctx: Context, person: Person, text: str, in_form: bool) -> list[str] | None:
    """The answer to "issue it anyway?": issued, dropped, or None when the message is about something else.

    The question lasts one message: whatever comes next drops it, and anything but yes or no is then handled as
    if it had not been asked (a form answer stays a form answer).
    """
    focus = ctx.session.get(ChatFocus, person.id)
    pending = focus.pending if focus is not None else None
    if not pending or pending.get("kind") != PENDING_KIND:
        return None
    focus.pending = None
    if text in (CONFIRM if in_form else CONFIRM_OUTSIDE_FORM):
        return issue_pending(ctx, person, pending)
    if text in DECLINE:
        return [t.NOT_ISSUED]
    return None


@dataclass(frozen=True)
class Issuable:
    """A waiting issue checked again when it is answered: still allowed, still due, the units still reachable."""

    department: Department
    version: FormVersion
    deadline: datetime
    units: list[OrgUnit]
    terms: Terms


def still_issuable(ctx: Context, pending: dict[str, Any]) -> Issuable | str:
    """The waiting issue as it stands now (the department's rights, the deadline, units with a filler), or why not."""
    department = ctx.session.get(Department, pending["department_id"])
    version = ctx.session.get(FormVersion, pending["form_version_id"])
    if department is None or version is None:
        return ct.NO_TARGETS
    refusal = issue_refusal(ctx.session, department, version.form.title, fields_of(version))
    if refusal is not None:
        return refusal
    deadline = datetime.fromisoformat(pending["deadline"])
    if deadline <= ctx.now():
        return ct.past_deadline(format_deadline(ctx, deadline))
    fillers = fillers_by_unit(ctx.session)
    by_id = {unit.id: unit for unit in all_units(ctx.session)}
    units = [by_id[unit_id] for unit_id in pending["unit_ids"] if unit_id in by_id and unit_id in fillers]
    if not units:
        return ct.NO_TARGETS
    terms = Terms(pending["accepts_late"], pending["remind_hours"], review=pending.get("review", Terms.review))
    return Issuable(department, version, deadline, units, terms)


def issue_pending(ctx: Context, person: Person, pending: dict[str, Any]) -> list[str]:
    """Issue the task a person confirmed, to those of its units that still have a filler."""
    found = still_issuable(ctx, pending)
    if isinstance(found, str):
        return [found]
    return issue_now(ctx, person, found.department, found.version, found.deadline, found.units, found.terms)


def issue_now(
    ctx: Context,
    person: Person,
    department: Department,
    version: FormVersion,
    deadline: datetime,
    units: list[OrgUnit],
    terms: Terms,
    covered: list[Coverage] | None = None,
) -> list[str]:
    """Issue the task and confirm it, with what the ledgers spare the fillers (`covered`: the units' coverage, if
    already worked out); a department an admin acted for is told."""
    if covered is None:
        covered = take_offer.covered_units(ctx, version, units, department)
    task = issue_task(ctx, person, version, deadline, units, terms, department_id=department.id)
    shown = format_deadline(ctx, deadline)
    reply = ct.issued(task.title, task.id, shown, [unit.name for unit in units])
    if person.department_id != department.id:
        text = t.on_behalf_notice(person.name, department.name, task_name(task.title, task.id), task.id, shown,
                                  len(units))  # fmt: skip
        on_behalf.tell_department(ctx, person, department, f"on-behalf:task:{task.id}", text)
        reply += "\n" + t.on_behalf_note(department.name)
    spared = take_offer.spared_note(covered)
    if spared is not None:
        reply += "\n" + spared
    terms_line = rt.terms_line(terms.accepts_late, terms.remind_hours)
    return [reply + "\n" + terms_line + "\n" + recurrence.review_line(ctx, department, terms, units)]
