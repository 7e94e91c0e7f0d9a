"""Sentences of timed reminders: to fillers before and after a deadline, and to reviewers about late units."""

from __future__ import annotations

from handlers.texts.lists import first_names


def late_unit(unit: str, filler: str) -> str:
    """One late unit in a reviewer's reminder."""
    return f"{unit}（{filler}）"


def escalation(title: str, deadline: str, units: list[str]) -> str:
    """To the nearest reviewer of late units, once per task."""
    shown, left = first_names(units)
    more = f"等{len(units)}个单位" if left else ""
    return f"《{title}》已于{deadline}截止，以下单位还没有报送，请督促：{shown}{more}。"
