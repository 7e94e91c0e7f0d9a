"""Sentences and headers of the burden figures (填报负担)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

NO_FIGURES = "还没有人提交。"
NO_RECENT_TASKS = "近 30 天您的部门没有发布任务。"
NO_RECENT_TASKS_ANYWHERE = "近 30 天没有部门发布任务。"
SHEET = "填报负担"
ASKED = "问了几题"
PREFILLED = "台账带出"
CONFIRMED = "确认无变化"
MINUTES = "用时（分钟）"
RETURNS = "退回次数"
REOPENED = "退回重填题数"
HOURS_TO_APPROVAL = "提交到通过（小时）"


def figures(submissions: int, asked: int, prefilled: int, confirmed: int, median_minutes: float | None) -> str:
    """The figures of some submissions."""
    line = f"{submissions} 份报送共问了 {asked} 题，台账带出 {prefilled} 项（{confirmed} 项确认无变化）"
    if median_minutes is not None:
        line += f"，一般用时约 {max(round(median_minutes), 1)} 分钟"
    return line + "。"


def generated_part(count: int) -> str:
    """After the figures, when some submissions were generated from the ledgers."""
    return f"其中 {count} 份由台账直接生成，没有问基层。"


def review_figures(reviewed: int, returns: int, reopened: int, median_minutes: float | None) -> str:
    """The review figures of some submissions, after their burden figures."""
    if returns:
        per = (Decimal(returns) / reviewed).quantize(Decimal("0.1"), ROUND_HALF_UP).normalize()
        line = f"审核：退回 {returns} 次（平均每份 {per:f} 次），退回重填 {reopened} 题"
    else:
        line = "审核：没有退回"
    if median_minutes is not None:
        line += f"，从首次提交到通过一般约 {duration(median_minutes)}"
    return line + "。"


def duration(minutes: float) -> str:
    """35 分钟, 3 小时, 3.5 小时."""
    if minutes < 60:
        return f"{max(round(minutes), 1)} 分钟"
    hours = (Decimal(str(minutes)) / 60).quantize(Decimal("0.1"), ROUND_HALF_UP).normalize()
    return f"{hours:f} 小时"


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
