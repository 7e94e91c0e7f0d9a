"""Lists of names inside one chat message: a task may go to thousands of units, a message should stay one."""

from __future__ import annotations

SHOWN_NAMES = 20  # names in one sentence at most; the summary workbook lists them all


def first_names(names: list[str]) -> tuple[str, int]:
    """At most SHOWN_NAMES names joined with 、, and how many were left out."""
    return "、".join(names[:SHOWN_NAMES]), max(0, len(names) - SHOWN_NAMES)
