"""Chat commands: issuing, progress, reminders and summaries for departments; to-dos and help for all."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection
from dataclasses import dataclass

from sqlalchemy import select

from handlers.commands import delivery, issue, ledger_permissions, ledgers, recurrence, transfer
from handlers.conversation import todos
from handlers.core.context import Context
from handlers.core.deadline_text import format_deadline, time_left
from handlers.forms.registry import all_forms, latest_version
from handlers.forms.xlsform import blank_template
from handlers.tasks import burden
from handlers.tasks.progress import progress, question_total, reached_questions
from handlers.tasks.reminders import remind_missing
from handlers.tasks.summary_push import gets_workbook, push_summary
from handlers.texts import commands as t
from handlers.texts import delivery as dt
from handlers.texts import form_import as ft
from handlers.texts import issuing as it
from handlers.texts import ledger_access as at
from handlers.texts import ledgers as lt
from handlers.texts import record_scope as st
from ledger_store.file_names import stamped_name, store_named
from ledger_store.models import Person, ReportTask, Role
from ledger_store.org import unit_path
from ledger_store.outbox import enqueue


@dataclass(frozen=True)
class Command:
    """A chat command: its names (Chinese first), who may use it, and what it does."""

    names: tuple[str, ...]
    role: Role | None
    usage: str
    run: Callable[[Context, Person, str], list[str]]
    also: tuple[Role, ...] = ()  # further roles that may use it (/迁移: reviewers and issuers)
    # run gets its arguments as typed, not folded, because it keeps free text from them (/迁移's reason)
    typed: bool = False

    def allows(self, roles: Collection[str]) -> bool:
        """May someone holding these roles use it? Admins may use everything."""
        return self.role is None or Role.ADMIN in roles or any(role in roles for role in (self.role, *self.also))


def match(text: str, in_form: bool) -> tuple[Command, str] | tuple[None, str] | None:
    """The command a message invokes and its arguments; (None, word) for an unknown slash word."""
    if text.startswith("/"):
        word, _, args = text[1:].partition(" ")
        word = word.strip()
        command = BY_NAME.get(word.lower())
        return (command, args.strip()) if command else (None, "/" + word)
    bare = {"待办": "待办", "帮助": "帮助", "help": "帮助"}
    if text in bare and not (in_form and text != "待办"):
        return BY_NAME[bare[text]], ""
    return None


def typed_arguments(typed: str) -> str:
    """What follows the command word in the message as typed (full-width commas and all)."""
    parts = typed.split(None, 1)
    return parts[1].strip() if len(parts) > 1 else ""


def run(ctx: Context, person: Person, command: Command, args: str) -> list[str]:
    """Run a command after checking the person's role (admins may run everything)."""
    if not command.allows([r.role for r in person.roles]):
        needed = "或".join(t.ROLE_NAMES[role] for role in (command.role, *command.also) if role is not None)
        return [t.not_allowed("/" + command.names[0], needed)]
    return command.run(ctx, person, args)


def unknown(word: str) -> list[str]:
    """Answer to a slash word that is no command, with the closest command name."""
    close = difflib.get_close_matches(word[1:], list(BY_NAME), n=1, cutoff=0.4)
    return [t.unknown_command(word, "/" + close[0] if close else None)]


def find_task(ctx: Context, person: Person, reference: str) -> tuple[ReportTask | None, str]:
    """A task of the person's department (any task for an admin) by #id, id, title fragment or latest."""
    query = select(ReportTask).order_by(ReportTask.id.desc())
    if not person.has_role(Role.ADMIN):
        query = query.where(ReportTask.department_id == person.department_id)
    tasks = list(ctx.session.scalars(query.limit(200)))
    if not tasks:
        return None, t.NO_TASKS_ANYWHERE if person.has_role(Role.ADMIN) else t.NO_TASKS_YET
    reference = reference.strip().lstrip("#＃")
    if not reference:
        return tasks[0], ""
    found = next((task for task in tasks if str(task.id) == reference or reference in task.title), None)
    if found is None:
        return None, t.unknown_task(reference, [t.task_label(task.id, task.title) for task in tasks[:3]])
    return found, ""


def show_progress(ctx: Context, person: Person, args: str) -> list[str]:
    """/进度 [任务]: submitted x/y and who is missing."""
    task, problem = find_task(ctx, person, args)
    if task is None:
        return [problem]
    state = progress(task)
    deadline = format_deadline(ctx, task.deadline)
    lines = [
        t.progress_header(
            task.title,
            task.id,
            len(state.submitted),
            state.total,
            deadline,
            time_left(ctx, task.deadline),
        )
    ]
    if not state.missing:
        lines.append(t.ALL_SUBMITTED)
    else:
        lines.append(t.MISSING_HEADER)
        total = question_total(task.form_version)
        listed = state.missing[: t.LISTED_MISSING]
        reached = reached_questions(ctx, listed)
        for assignment in listed:
            number = reached.get(assignment.id)
            if number is None:
                where = t.STATE_NOT_STARTED
            elif number > total:
                where = t.STATE_ALL_ANSWERED
            else:
                where = t.state_in_progress(number, total)
            path = unit_path(assignment.org_unit)
            lines.append(t.progress_missing_line(path, assignment.filler.name, where))
        if len(state.missing) > t.LISTED_MISSING:
            lines.append(t.more_missing(len(state.missing) - t.LISTED_MISSING, task.id))
    return ["\n".join(lines)]


def remind(ctx: Context, person: Person, args: str) -> list[str]:
    """/催报 [任务]: remind every filler who has not submitted, now."""
    task, problem = find_task(ctx, person, args)
    if task is None:
        return [problem]
    stamp = ctx.local_now().strftime("manual-%Y%m%d%H%M")
    if not progress(task).missing:
        return [t.NOTHING_TO_REMIND]
    reminded = remind_missing(ctx, task, stamp)
    if not reminded:
        return [t.JUST_REMINDED]
    return [t.reminded(len(reminded), [a.org_unit.name for a in reminded], task.id)]


def summarise(ctx: Context, person: Person, args: str) -> list[str]:
    """/汇总 [任务]: build the summary now and send it to the asker as a file."""
    task, problem = find_task(ctx, person, args)
    if task is None:
        return [problem]
    state = progress(task)
    push_summary(ctx, task, [person], None)
    if not gets_workbook(task, person):
        return [t.digest_queued(task.title, len(state.submitted), state.total)]
    return [t.summary_queued(task.title, len(state.submitted), state.total)]


def show_burden(ctx: Context, person: Person, args: str) -> list[str]:
    """/统计 [任务]: how much the reports asked of the grassroots and what the ledgers spared them."""
    if not args.strip():
        return burden.show_recent(ctx, person)
    task, problem = find_task(ctx, person, args)
    return [problem] if task is None else burden.show_task(ctx, task)


def templates(ctx: Context, person: Person, args: str) -> list[str]:
    """/模板: the forms a department can issue."""
    lines = []
    for form in all_forms(ctx.session):
        version = latest_version(ctx.session, form)
        lines.append(t.template_line(form.title, question_total(version) if version else 0))
    return [t.templates_list(lines)]


def blank_form(ctx: Context, person: Person, args: str) -> list[str]:
    """/空白模板: send the blank form workbook to fill in and send back."""
    name = stamped_name(ft.BLANK_TEMPLATE_LABEL, ctx.local_now())
    stored = store_named(ctx.session, name, blank_template(), ctx.now())
    # Keyed by the file: every request is a file of its own and is sent.
    enqueue(ctx.session, person_id=person.id, dedupe_key=f"blank-form:{stored.id}", now=ctx.now(), file=stored)
    return [ft.BLANK_TEMPLATE_SENT]


def todo(ctx: Context, person: Person, args: str) -> list[str]:
    """/待办: the person's open tasks; with several, a number then picks one (in the middle of a form too)."""
    return todos.list_open(ctx, person)


def show_help(ctx: Context, person: Person, args: str) -> list[str]:
    """/帮助: what this person's roles allow, and what they can say where they stand."""
    roles = [r.role for r in person.roles]
    lines = [f"· {command.usage}" for command in COMMANDS if command.allows(roles)]
    if Role.ADMIN in roles:
        lines.append("· " + it.ADMIN_HELP)
    if Role.FILLER in roles:
        lines.append("· " + t.FILLER_HELP)
    here = todos.stage_words(ctx, person)
    return [t.help_text(person.name, roles, lines) + ("\n\n" + here if here else "")]


COMMANDS: tuple[Command, ...] = (
    Command(("发布", "issue"), Role.ISSUER, t.ISSUE_USAGE, issue.issue),
    Command(("模板", "templates"), Role.ISSUER, "/模板：可发布的模板", templates),
    Command(("空白模板", "blank-form"), Role.ISSUER, "/空白模板：要一份 Excel 表单模板，填好发回即可导入", blank_form),
    Command(("进度", "progress"), Role.ISSUER, "/进度 [任务]：已报几个、谁还没报", show_progress),
    Command(("催报", "remind"), Role.ISSUER, "/催报 [任务]：马上提醒未报单位", remind),
    Command(("汇总", "summary"), Role.ISSUER, "/汇总 [任务]：马上生成汇总表发给您", summarise),
    Command(("定时", "schedules"), Role.ISSUER, "/定时：定时发布的任务，可暂停、恢复、停止", recurrence.timed),
    Command(("统计", "stats"), Role.ISSUER, "/统计 [任务]：填报负担，问了几题、台账带出几项、用时", show_burden),
    Command(("查询", "query"), Role.ISSUER, lt.QUERY_HELP, ledgers.query),
    Command(("导出", "export"), Role.ISSUER, lt.EXPORT_HELP, ledgers.export),
    Command(("迁移", "transfer"), Role.REVIEWER, st.TRANSFER_HELP, transfer.run, also=(Role.ISSUER,), typed=True),
    Command(("台账权限", "ledger-access"), Role.ADMIN, at.COMMAND_HELP, ledger_permissions.run),
    Command(("投递", "delivery"), Role.ADMIN, dt.DELIVERY_HELP, delivery.run),
    Command(("待办", "todo"), None, "/待办：我要填的任务", todo),
    Command(("帮助", "help"), None, "/帮助：查看可用命令", show_help),
)
BY_NAME = {name: command for command in COMMANDS for name in command.names}
