"""The one table of chat commands (names, aliases, roles, help lines), and matching a message to one and running it."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection
from dataclasses import dataclass

from handlers.commands import (
    analysis,
    correction,
    dashboard,
    delivery,
    issue,
    ledger_define,
    ledger_overview,
    ledger_permissions,
    ledgers,
    recurrence,
    review,
    take,
    task_status,
    templates,
    transfer,
    upkeep,
    warnings,
)
from handlers.conversation import todos
from handlers.core.context import Context
from handlers.texts import analysis as analysis_texts
from handlers.texts import commands as t
from handlers.texts import dashboard as dashboard_texts
from handlers.texts import delivery as dt
from handlers.texts import issuing as it
from handlers.texts import ledger_access as at
from handlers.texts import ledger_define as dft
from handlers.texts import ledgers as lt
from handlers.texts import record_scope as st
from handlers.texts import review as rvt
from handlers.texts import signoff as signoff_texts
from handlers.texts import take as tt
from handlers.texts import upkeep as upkeep_texts
from handlers.texts import warnings as warning_texts
from ledger_store.models import Person, Role


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


def may_use(person: Person, name: str) -> bool:
    """May this person use the command of that name (what the dashboard asks before showing what it shows)?"""
    return BY_NAME[name].allows([r.role for r in person.roles])


def unknown(word: str) -> list[str]:
    """Answer to a slash word that is no command, with the closest command name."""
    close = difflib.get_close_matches(word[1:], list(BY_NAME), n=1, cutoff=0.4)
    return [t.unknown_command(word, "/" + close[0] if close else None)]


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
    Command(("模板", "templates"), Role.ISSUER, "/模板：可发布的模板", templates.templates),
    Command(
        ("空白模板", "blank-form"),
        Role.ISSUER,
        "/空白模板：要一份 Excel 表单模板，填好发回即可导入",
        templates.blank_form,
    ),
    Command(("进度", "progress"), Role.ISSUER, "/进度 [任务]：已报几个、谁还没报", task_status.show_progress),
    Command(("催报", "remind"), Role.ISSUER, "/催报 [任务]：马上提醒未报单位", task_status.remind),
    Command(("看板", "dashboard"), Role.ISSUER, dashboard_texts.DASHBOARD_HELP, dashboard.send_link),
    Command(("分析", "analysis"), Role.ISSUER, analysis_texts.ANALYSIS_HELP, analysis.digest),
    Command(("取数", "take"), Role.ISSUER, tt.TAKE_USAGE, take.take),
    Command(("汇总", "summary"), Role.ISSUER, "/汇总 [任务]：马上生成汇总表发给您", task_status.summarise),
    Command(("定时", "schedules"), Role.ISSUER, "/定时：定时发布的任务，可暂停、恢复、停止", recurrence.timed),
    Command(
        ("统计", "stats"), Role.ISSUER, "/统计 [任务]：填报负担，问了几题、台账带出几项、用时", task_status.show_burden
    ),
    Command(("审核", "review"), Role.REVIEWER, rvt.REVIEW_HELP, review.review, also=(Role.ISSUER,)),
    Command(("更正", "correct"), Role.ISSUER, signoff_texts.CORRECT_HELP, correction.run, typed=True),
    Command(("台账", "ledgers"), None, dft.OVERVIEW_HELP, ledger_overview.overview),
    Command(("空白台账", "blank-ledger"), Role.ISSUER, dft.BLANK_HELP, ledger_define.blank_ledger),
    Command(("查询", "query"), Role.ISSUER, lt.QUERY_HELP, ledgers.query),
    Command(("导出", "export"), Role.ISSUER, lt.EXPORT_HELP, ledgers.export),
    Command(("预警", "warnings"), Role.ISSUER, warning_texts.WARNING_HELP, warnings.run, typed=True),
    Command(("迁移", "transfer"), Role.REVIEWER, st.TRANSFER_HELP, transfer.run, also=(Role.ISSUER,), typed=True),
    Command(("台账权限", "ledger-access"), Role.ADMIN, at.COMMAND_HELP, ledger_permissions.run),
    Command(("投递", "delivery"), Role.ADMIN, dt.DELIVERY_HELP, delivery.run),
    Command(("登记", "register"), Role.FILLER, upkeep_texts.REGISTER_HELP, upkeep.register),
    Command(("更新", "update"), Role.FILLER, upkeep_texts.UPDATE_HELP, upkeep.update),
    Command(("我的台账", "my-ledgers"), Role.FILLER, upkeep_texts.MY_LEDGERS_HELP, upkeep.my_ledgers),
    Command(("核实", "verify"), Role.FILLER, upkeep_texts.VERIFY_HELP, upkeep.verify),
    Command(("待办", "todo"), None, "/待办：我要填的任务", todo),
    Command(("帮助", "help"), None, "/帮助：查看可用命令", show_help),
)
BY_NAME = {name: command for command in COMMANDS for name in command.names}
