"""Sentences of timed reminders: to fillers before and after a deadline, and to reviewers about late units."""

from __future__ import annotations


def late_unit(unit: str, filler: str) -> str:
    """One late unit in a reviewer's reminder."""
    return f"{unit}（{filler}）"


def escalation(title: str, deadline: str, units: list[str]) -> str:
    """To the nearest reviewer of late units, once per task."""
    return f"《{title}》已于{deadline}截止，以下单位还没有报送，请督促：{'、'.join(units)}。"
