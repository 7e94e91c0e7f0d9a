"""Sentences of recurring reports (/发布 … 每月25日, /定时) and of the terms a task is issued with."""

from __future__ import annotations

from datetime import time
from typing import Any

WEEKDAY_NAMES = "一二三四五六日"
RECURRING_USAGE = "/发布 模板名 每月25日 截止 次月3日 18:00 [范围 单位…]（也可以 每周五、每个工作日）"
NO_RECURRENCES = "您的部门还没有定时发布的任务。设定方法：" + RECURRING_USAGE
NO_RECURRENCES_ANYWHERE = (
    "还没有任何部门定时发布的任务。代部门设定：/发布 模板名 每月25日 截止 次月3日 18:00 [范围 单位…] 部门 部门名称"
)
STATUS_NAMES = {"active": "进行中", "paused": "已暂停", "stopped": "已停止"}
CHANGED_NAMES = {"active": "已恢复", "paused": "已暂停", "stopped": "已停止"}
ALL_TOWNS = "各镇街"
NOT_LATE = "截止后不再接收"


def units_below(town: str) -> str:
    """The scope of a town department's recurrence that names no units."""
    return f"{town}下辖各单位"


def unit_count(count: int) -> str:
    """The scope of a recurrence that names its units."""
    return f"{count}个单位"


def rule_text(rule: dict[str, Any], at: time) -> str:
    """每月25日 09:00, 每周五 09:00, 每个工作日 09:00."""
    if rule["every"] == "month":
        when = f"每月{_day(rule['day'])}"
    elif rule["every"] == "week":
        when = f"每周{WEEKDAY_NAMES[rule['weekday']]}"
    else:
        when = "每个工作日"
    return f"{when} {at:%H:%M}"


def deadline_text(rule: dict[str, Any], at: time) -> str:
    """次月3日 18:00, 当月28日 18:00, 下周一 12:00, 当天 17:00, 3天后 18:00, 3个工作日后 18:00."""
    if "workdays" in rule:
        when = f"{rule['workdays']}个工作日后"
    elif "months" in rule:
        when = f"{'次月' if rule['months'] else '当月'}{_day(rule['day'])}"
    elif "weeks" in rule:
        when = f"{'下周' if rule['weeks'] else '本周'}{WEEKDAY_NAMES[rule['weekday']]}"
    else:
        when = {0: "当天", 1: "次日"}.get(rule["days"], f"{rule['days']}天后")
    return f"{when} {at:%H:%M}"


def _day(day: int) -> str:
    """25日, or 底 for day 31 (which falls on every month's last day)."""
    return "底" if day == 31 else f"{day}日"


def bad_schedule(text: str) -> str:
    """A schedule that could not be read."""
    return f"没看懂发布周期“{text}”。可以写 每月25日、每月底、每周五 或 每个工作日（后面可加时间，如 每月25日 9:00）。"


def bad_deadline_rule(text: str) -> str:
    """A recurring deadline that could not be read."""
    examples = "次月3日 18:00、当月28日、当月底、下周一 12:00、当天17:00、3天后 或 3个工作日"
    return f"没看懂每期的截止时间“{text}”。可以写 {examples}。"


def reminder_too_early(text: str, days: int) -> str:
    """A reminder hour further before the deadline than reminders go."""
    return f"提醒时间“{text}”太早了，最多提前{days}天（{days * 24}小时），请改一下。"


def bad_reminder_hours(text: str) -> str:
    """提醒 … that could not be read."""
    return f"没看懂提醒时间“{text}”。可以写 提醒 24小时,2小时，或 提醒 提前1天；不需要提醒请写 不提醒。"


def recurrence_created(number: int, title: str, schedule: str, deadline: str, units: str, first: str) -> str:
    """Confirmation of a new recurring report."""
    return (
        f"已设定定时发布《{title}》（定时#{number}）：{schedule} 发布，每期{deadline}截止，发给{units}。\n"
        f"第一期将于{first}发布。发送“/定时”查看，“/定时 暂停 {number}”暂停。"
    )


def recurrence_line(
    number: int,
    title: str,
    schedule: str,
    deadline: str,
    units: str,
    upcoming: str,
    status: str,
    department: str | None,
) -> str:
    """One recurrence in /定时; with its department for an admin, who sees every department's."""
    whose = f"（{department}）" if department else ""
    return f"#{number}《{title}》{whose}{schedule} 发布，每期{deadline}截止，发给{units}；下次：{upcoming}；{status}"


def recurrences_list(lines: list[str]) -> str:
    """/定时."""
    return "定时发布：\n" + "\n".join(lines) + "\n回复“/定时 暂停 编号”“/定时 恢复 编号”“/定时 停止 编号”管理。"


def deadline_before_issue(rule: str, due: str, issued: str, deadline: str) -> str:
    """A recurrence whose periods would be due at or before they are issued."""
    return (
        f"没有设定：每期的截止时间要晚于发布时间，按“{rule} 发布、每期{due}截止”，{issued}发布的一期"
        f"在{deadline}就截止了。请把截止时间改到发布之后，如 次月3日、当月底 或 3个工作日。"
    )


def same_recurrence(number: int, title: str, status: str) -> str:
    """A recurrence that repeats one already set up (same form, rules and units)."""
    return (
        f"已有一样的定时发布：定时#{number}《{title}》（{status}），模板、周期、截止时间和范围都相同，没有重复设定。"
        f"发送“/定时”查看；要改设定，请先“/定时 停止 {number}”再重新发布。"
    )


def unknown_recurrence(reference: str) -> str:
    """/定时 暂停 N with an unknown N."""
    return f"没有找到定时#{reference}。发送“/定时”查看所有定时发布。"


DO_USAGE = "请写成“/定时 暂停 编号”“/定时 恢复 编号”或“/定时 停止 编号”，编号见“/定时”。"


def status_changed(number: int, title: str, status: str, upcoming: str | None) -> str:
    """After pausing, resuming or stopping."""
    tail = f"下次 {upcoming} 发布。" if upcoming else ""
    return f"定时#{number}《{title}》{status}。{tail}"


def terms_line(accepts_late: bool, hours: list[int] | None) -> str:
    """How an issued task treats lateness and reminders, appended to the confirmation."""
    late = "截止后仍接收迟报，每个工作日提醒一次" if accepts_late else NOT_LATE
    if hours is None:
        remind = "截止前24小时、2小时和截止时提醒未报单位"
    elif hours:
        remind = "截止前" + "、".join(f"{h}小时" for h in hours) + "和截止时提醒未报单位"
    else:
        remind = "截止时提醒未报单位"
    return f"{remind}；{late}。"
