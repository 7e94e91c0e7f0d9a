"""Sentences about tasks: the push that assigns one, submitting, reminders, progress and summaries."""

from __future__ import annotations

from handlers.texts.lists import SHOWN_NAMES, first_names


def task_name(title: str, task_id: int) -> str:
    """《低保月报》（任务#12）: how every notice about a task names it, so that two alike tasks read differently."""
    return f"《{title}》（任务#{task_id}）"


def task_assigned(department: str, task: str, deadline: str, total: int, others: int) -> str:
    """Pushed to each target unit's filler when a task is issued."""
    more = f"您另有{others}项待办，回复“/待办”可查看。" if others else ""
    return f"【{department}】发布了{task}，请在{deadline}前报送，共{total}题。\n回复“开始”逐题填写。{more}"


def submitted(task: str) -> str:
    """Confirmation after 提交."""
    return f"{task}已提交，谢谢！"


def more_todo(count: int) -> str:
    """After submitting, when other tasks are still open."""
    return f"您还有{count}项待办，回复“开始”继续填写。"


def reminder(task: str, deadline: str, left: str, position: int | None, total: int) -> str:
    """A reminder pushed to a filler who has not submitted."""
    due = f"提醒：{task}{deadline}截止（{left}），"
    if position:
        return due + f"您已填到第{position}/{total}题，还没有提交。回复“开始”接着填写。"
    return due + "您还没有报送。回复“开始”填写。"


def late_reminder(task: str, deadline: str, late: str, position: int | None, total: int) -> str:
    """A reminder on each working day after the deadline, for a task that still takes late answers."""
    done = f"您已填到第{position}/{total}题，还没有提交" if position else "您还没有报送"
    return f"{task}已于{deadline}截止（{late}），{done}，请尽快补报。回复“开始”填写。"


def summary_digest(task: str, done: int, total: int, headline: str | None) -> str:
    """The one-line digest sent with a summary workbook; `task` as task_name gives it, so two summaries of one
    template read differently."""
    line = f"{task}：{done}/{total} 已报"
    return f"{line}，{headline}" if headline else line


def headline_total(label: str, total: str, unit: str) -> str:
    """The headline figure of a digest, e.g. 本月新增低保户合计 37 户."""
    return f"{label}合计 {total}{' ' + unit if unit else ''}"


def missing_units(names: list[str]) -> str:
    """Appended to a digest when some units have not reported."""
    shown, left = first_names(names)
    return "未报：" + shown + (f"等{len(names)}个单位（名单见汇总表的“未报送”表）" if left else "")


def reviewer_holdup(holder: str, people: list[str], count: int) -> str:
    """朱沱镇（周建国）2份: a reviewer holding submissions of a task up."""
    who = f"（{'、'.join(people)}）" if people else ""
    return f"{holder}{who}{count}份"


def held_by_reviewers(holdups: list[str]) -> str:
    """Appended to a digest when submissions wait on reviewers: 待审核：朱沱镇（周建国）2份，中山路街道（杨志强）1份."""
    shown = "，".join(holdups[:SHOWN_NAMES])
    more = f"等{len(holdups)}处" if len(holdups) > SHOWN_NAMES else ""
    return f"待审核：{shown}{more}"


def time_left(days: int, hours: int, minutes: int) -> str:
    """How long until a deadline."""
    if days:
        return f"还剩{days}天{hours}小时" if hours else f"还剩{days}天"
    if hours:
        return f"还剩{hours}小时{minutes}分钟" if minutes else f"还剩{hours}小时"
    return f"还剩{max(minutes, 1)}分钟"


def overdue(days: int, hours: int) -> str:
    """How long past a deadline."""
    if days:
        return f"已逾期{days}天"
    return f"已逾期{max(hours, 1)}小时" if hours else "已到截止时间"


def workbook_kept(department: str) -> str:
    """Under a summary's digest, to someone outside the task's department (an admin who issued for it)."""
    return f"汇总表（数据不打码）只发给{department}的发布员。"
