"""A deadline as people read it: 11月30日（周六）18:00, and how long is left (还剩… or 已逾期…)."""

from __future__ import annotations

from datetime import datetime

from handlers.core.context import Context
from handlers.texts import reporting as t

WEEKDAYS = "一二三四五六日"


def format_deadline(ctx: Context, deadline: datetime) -> str:
    """A stored deadline as people read it: 11月30日（周六）18:00, with the year when it is not this one."""
    local = ctx.to_local(deadline)
    year = "" if local.year == ctx.local_now().year else f"{local.year}年"
    return f"{year}{local.month}月{local.day}日（周{WEEKDAYS[local.weekday()]}）{local:%H:%M}"


def time_left(ctx: Context, deadline: datetime) -> str:
    """还剩… or 已逾期… relative to now."""
    seconds = int((deadline - ctx.now()).total_seconds())
    if seconds <= 0:
        seconds = -seconds
        return t.overdue(seconds // 86400, seconds % 86400 // 3600)
    return t.time_left(seconds // 86400, seconds % 86400 // 3600, seconds % 3600 // 60)
