"""Sentences of timed reminders: to fillers before and after a deadline, and to reviewers about late units."""

from __future__ import annotations


def overdue(title: str, deadline: str, late: str, position: int | None, total: int) -> str:
    """A daily reminder after the deadline, for a task that still takes late answers."""
    done = f"您已填到第{position}/{total}题，还没有提交" if position else "您还没有报送"
    return f"《{title}》已于{deadline}截止（{late}），{done}，请尽快补报。回复“开始”填写。"


def late_unit(unit: str, filler: str) -> str:
    """One late unit in a reviewer's reminder."""
    return f"{unit}（{filler}）"


def escalation(title: str, deadline: str, units: list[str]) -> str:
    """To the nearest reviewer of late units, once per task."""
    return f"《{title}》已于{deadline}截止，以下单位还没有报送，请督促：{'、'.join(units)}。"
