"""Sentences of timed reminders: to fillers before and after a deadline, and to reviewers about late units."""

from __future__ import annotations

from handlers.texts.lists import first_names


def late_unit(unit: str, filler: str) -> str:
    """One late unit in a reviewer's reminder."""
    return f"{unit}（{filler}）"


def escalation(task: str, deadline: str, units: list[str]) -> str:
    """To the nearest reviewer of late units, once per task."""
    shown, left = first_names(units)
    more = f"等{len(units)}个单位" if left else ""
    return f"{task}已于{deadline}截止，以下单位还没有报送，请督促：{shown}{more}。"


def contact(department: str, issuer: str) -> str:
    """Whom to ask about a task: its department and the person who issued it."""
    return f"{department}（{issuer}）"


def closed_notice(title: str, task_id: int, deadline: str, position: int | None, total: int, contact: str) -> str:
    """Pushed at the close of a task that takes no late answers, to each filler who has not submitted."""
    if position is None:
        done = "您没有报送"
    elif position > total:
        done = "您已填完，但没有提交"
    else:
        done = f"您填到第{position}/{total}题，没有提交"
    return f"《{title}》（任务#{task_id}）已于{deadline}截止，不再接收报送；{done}。如需补报，请联系{contact}。"
