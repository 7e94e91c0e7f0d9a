"""Sentences and headers of the burden figures (填报负担)."""

from __future__ import annotations

NO_FIGURES = "还没有人提交。"
NO_RECENT_TASKS = "近 30 天您的部门没有发布任务。"
NO_RECENT_TASKS_ANYWHERE = "近 30 天没有部门发布任务。"
SHEET = "填报负担"
ASKED = "问了几题"
PREFILLED = "台账带出"
CONFIRMED = "确认无变化"
MINUTES = "用时（分钟）"


def figures(submissions: int, asked: int, prefilled: int, confirmed: int, median_minutes: float | None) -> str:
    """The figures of some submissions."""
    line = f"{submissions} 份报送共问了 {asked} 题，台账带出 {prefilled} 项（{confirmed} 项确认无变化）"
    if median_minutes is not None:
        line += f"，一般用时约 {max(round(median_minutes), 1)} 分钟"
    return line + "。"


def task_line(task_id: int, title: str, figures_text: str) -> str:
    """One task's figures."""
    return f"《{title}》#{task_id}：{figures_text}"


def recent_header(days: int, tasks: int, figures_text: str) -> str:
    """Heads /统计."""
    return f"近 {days} 天发布 {tasks} 项任务，{figures_text}"


def more_tasks(count: int) -> str:
    """After the latest tasks."""
    return f"另有 {count} 项更早的任务，发送“/统计 任务号”查看。"


def digest_part(prefilled: int, asked: int) -> str:
    """Appended to a summary digest when the ledgers helped."""
    return f"台账带出 {prefilled} 项，实际问了 {asked} 题"
