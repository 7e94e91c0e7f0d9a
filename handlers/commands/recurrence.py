"""The chat side of time: the terms /发布 takes (提醒 …, 不收迟报), recurring /发布 … 每月25日, and /定时."""

from __future__ import annotations

import re

from handlers.core.context import Context
from handlers.core.deadline_text import format_deadline
from handlers.core.numbers import whole_number
from handlers.review.policy import falling_back, split_policy
from handlers.tasks import on_behalf, recurrence
from handlers.tasks.issuing import Terms
from handlers.tasks.recurrence_rules import Schedule, parse_deadline_rule, parse_schedule
from handlers.texts import issuing as it
from handlers.texts import recurrence as t
from handlers.texts import review as rvt
from ledger_store.models import Department, Form, OrgUnit, Person, Recurrence, RecurrenceStatus, ReviewPolicy, Role
from ledger_store.org import default_targets, issuing_unit, lock_department

NOT_LATE = re.compile(r"\s*(?:不收迟报|不接收迟报|截止后关闭|过期不收)\s*")
REMIND = re.compile(r"\s*(?:(?<!不)提醒\s*(?P<hours>.+?)|(?P<none>不提醒))\s*(?=范围|$)")
SCHEDULE = re.compile(r"^(?P<name>.+?)\s+(?P<schedule>(?:每|工作日).*)$")
# Reminders go out at most this long before a deadline (a task runs at most a year, see issue_command).
MAX_REMIND_DAYS = 30
HOURS = re.compile(r"^(?:提前)?(?P<n>[0-9一二两三四五六七八九十]+)\s*(?P<unit>小时|h|天)?$")
ACTIONS = {"暂停": RecurrenceStatus.PAUSED, "恢复": RecurrenceStatus.ACTIVE, "继续": RecurrenceStatus.ACTIVE,
           "停止": RecurrenceStatus.STOPPED, "取消": RecurrenceStatus.STOPPED}  # fmt: skip


def split_terms(args: str) -> tuple[str, Terms] | str:
    """The /发布 arguments without their terms, and the terms (late answers, reminder hours, review); or what is
    wrong."""
    args, review = split_policy(args)
    accepts_late = NOT_LATE.search(args) is None
    args = NOT_LATE.sub(" ", args)
    hours = None
    found = REMIND.search(args)
    if found:
        written = found.group("hours") or found.group("none")
        hours = reminder_hours(written)
        if hours is None:
            return t.bad_reminder_hours(written.strip())
        if hours and hours[0] > MAX_REMIND_DAYS * 24:
            return t.reminder_too_early(written.strip(), MAX_REMIND_DAYS)
        args = args[: found.start()] + " " + args[found.end() :]
    return " ".join(args.split()), Terms(accepts_late=accepts_late, remind_hours=hours, review=review)


def reminder_hours(text: str) -> list[int] | None:
    """24小时,2小时 / 提前1天 / 不提醒 as hours before the deadline, largest first; None when unreadable."""
    if text.strip() == "不提醒":
        return []
    hours = []
    for token in filter(None, re.split(r"[,，、\s]+", text.strip())):
        match = HOURS.fullmatch(token)
        number = whole_number(match.group("n")) if match else None
        if number is None or number <= 0:
            return None
        hours.append(number * (24 if match.group("unit") == "天" else 1))
    return sorted(set(hours), reverse=True) or None


def split_schedule(template: str) -> tuple[str, str | None]:
    """低保月报 每月25日 -> (低保月报, 每月25日); a one-off template has no schedule."""
    match = SCHEDULE.match(template)
    return (match.group("name").strip(), match.group("schedule").strip()) if match else (template, None)


def issue_recurring(
    ctx: Context,
    person: Person,
    department: Department,
    form: Form,
    written: str,
    when: str,
    units: list[OrgUnit] | None,
    terms: Terms,
) -> list[str]:
    """/发布 模板 每月25日 截止 次月3日 18:00: set the recurrence up; its periods are issued by the scheduler.

    Refused: a deadline that falls at or before a period's issue moment, and a copy of a recurrence that runs.
    """
    parsed = parse_schedule(written)
    if parsed is None:
        return [t.bad_schedule(written)]
    deadline = parse_deadline_rule(when)
    if deadline is None:
        return [t.bad_deadline_rule(when)]
    schedule = Schedule(parsed[0], parsed[1], deadline[0], deadline[1])
    rule, due = t.rule_text(schedule.rule, schedule.issue_time), t.deadline_text(*deadline)
    inverted = recurrence.first_inverted_period(ctx, schedule)
    if inverted is not None:
        shown = [format_deadline(ctx, ctx.to_stored(moment)) for moment in inverted]
        return [t.deadline_before_issue(rule, due, *shown)]
    lock_department(ctx.session, department.id)
    same = recurrence.same_as(ctx, department.id, form, schedule, units)
    if same is not None:
        return [t.same_recurrence(same.id, form.title, t.STATUS_NAMES[same.status])]
    created = recurrence.create(ctx, person, department.id, form, schedule, units, terms)
    first = format_deadline(ctx, created.next_issue_at)
    text = t.recurrence_created(created.id, form.title, *_described(ctx, created), first)
    if person.department_id != department.id:
        notice = it.on_behalf_recurrence_notice(person.name, department.name, form.title, created.id, rule, due)
        on_behalf.tell_department(ctx, person, department, f"on-behalf:recurrence:{created.id}", notice)
        text += "\n" + it.on_behalf_recurrence_note(department.name)
    targets = units if units is not None else default_targets(ctx.session, department.id)
    return [
        text
        + "\n"
        + t.terms_line(terms.accepts_late, terms.remind_hours)
        + "\n"
        + review_line(ctx, department, terms, targets)
    ]


def review_line(ctx: Context, department: Department, terms: Terms, units: list[OrgUnit]) -> str:
    """How the task (or each period) will be reviewed, naming the units the department reviews for want of one."""
    fallback = [unit.name for unit in falling_back(ctx, ReviewPolicy(terms.review), units)]
    return rvt.policy_line(terms.review, department.name, fallback)


def timed(ctx: Context, person: Person, args: str) -> list[str]:
    """/定时 [暂停|恢复|停止 编号]: the department's recurring reports (an admin's: all), and managing one."""
    admin = person.has_role(Role.ADMIN)
    words = args.split()
    if not words:
        found = recurrence.department_recurrences(ctx, person, admin)
        if not found:
            return [t.NO_RECURRENCES_ANYWHERE if admin else t.NO_RECURRENCES]
        return [t.recurrences_list([_line(ctx, item, admin) for item in found])]
    if len(words) != 2 or words[0] not in ACTIONS:
        return [t.DO_USAGE]
    reference = words[1].lstrip("#＃")
    target = next((r for r in recurrence.department_recurrences(ctx, person, admin) if str(r.id) == reference), None)
    if target is not None:  # another issuer may be changing it at this moment: take turns, then look again
        recurrence.lock(ctx, target)
    if target is None or target.status == RecurrenceStatus.STOPPED:
        return [t.unknown_recurrence(reference)]
    status = ACTIONS[words[0]]
    recurrence.set_status(ctx, person, target, status)
    upcoming = format_deadline(ctx, target.next_issue_at) if status == RecurrenceStatus.ACTIVE else None
    return [t.status_changed(target.id, target.form.title, t.CHANGED_NAMES[status], upcoming)]


def _line(ctx: Context, item: Recurrence, with_department: bool) -> str:
    """One recurrence as /定时 lists it; an admin sees whose it is."""
    upcoming = format_deadline(ctx, item.next_issue_at)
    department = ctx.session.get(Department, item.department_id) if with_department else None
    return t.recurrence_line(item.id, item.form.title, *_described(ctx, item), upcoming, t.STATUS_NAMES[item.status],
                             department.name if department else None)  # fmt: skip


def _described(ctx: Context, item: Recurrence) -> tuple[str, str, str]:
    """(schedule, deadline, units) of a recurrence in words."""
    schedule = recurrence.schedule_of(item)
    if item.unit_ids is not None:
        units = t.unit_count(len(item.unit_ids))
    else:
        home = issuing_unit(ctx.session, item.department_id)
        units = t.ALL_TOWNS if home is None else t.units_below(home.name)
    return (
        t.rule_text(schedule.rule, schedule.issue_time),
        t.deadline_text(schedule.deadline_rule, schedule.deadline_time),
        units,
    )
