"""The towns (镇街) a task's units are grouped by, labelled and ordered alike on the task page, in the progress CSV,
in the summary's 分镇统计 and on the burden page; which town a unit belongs to is ledger_store.org_towns."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.texts import towns as texts
from ledger_store.models import Assignment
from ledger_store.org_towns import NO_TOWN, town_names, unit_towns


@dataclass(frozen=True)
class Town:
    """A group of units: a town or street (key: its unit id), or every unit with none (key: NO_TOWN)."""

    key: int
    label: str


def town_order(key: int) -> tuple[bool, int]:
    """Towns in the order the organisation lists them (the order they were entered), the units with none last."""
    return key == NO_TOWN, key


def town_labels(session: Session, keys: Iterable[int]) -> dict[int, str]:
    """Each town key's label, in one query (see distinct_labels)."""
    keys = set(keys)
    named = town_names(session, keys - {NO_TOWN})
    if NO_TOWN in keys:
        named[NO_TOWN] = (texts.OUTSIDE_TOWNS, None)
    return distinct_labels(named)


def distinct_labels(named: dict[int, tuple[str, str | None]]) -> dict[int, str]:
    """Key -> label from key -> (name, parent's name): the name, unless another key of the list has it too; then
    the parent's name follows it, and the number if even that is shared. The units with no town keep their label."""
    names = Counter(name for name, _ in named.values())
    first = {
        key: name if names[name] == 1 or key == NO_TOWN else texts.town_in(name, parent)
        for key, (name, parent) in named.items()
    }
    labels = Counter(first.values())
    return {
        key: label if labels[label] == 1 or key == NO_TOWN else texts.town_numbered(named[key][0], key)
        for key, label in first.items()
    }


def towns_of_task(session: Session, task_id: int) -> dict[int, Town]:
    """Unit id -> its Town, for every target unit of the task (two queries, whatever the task's size)."""
    towns = unit_towns()
    placed = dict(
        session.execute(
            select(towns.c.unit_id, towns.c.town_id)
            .join(Assignment, Assignment.org_unit_id == towns.c.unit_id)
            .where(Assignment.task_id == task_id)
            .distinct()
        ).all()
    )
    labels = town_labels(session, placed.values())
    return {unit_id: Town(key, labels[key]) for unit_id, key in placed.items()}
