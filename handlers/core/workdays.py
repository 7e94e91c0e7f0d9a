"""Working days: Monday to Friday, less the public holidays, plus the weekend days worked instead (调休).

The holidays change every year by the State Council's notice, so they come from the configuration.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

# 2025-10-01, or a range of days 2025-10-01..2025-10-08 (also ~ or 至 between them).
_RANGE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s*(?:(?:\.\.|~|～|至)\s*(\d{4}-\d{2}-\d{2})\s*)?$")
_LONGEST_RANGE = 31


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are working days."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)  # weekend days worked in exchange

    def is_workday(self, day: date) -> bool:
        """Is `day` a working day?"""
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def after_workdays(self, start: date, count: int) -> date:
        """The day `count` working days after `start` (start itself not counted)."""
        day = start
        while count > 0:
            day += timedelta(days=1)
            count -= self.is_workday(day)
        return day


def parse_days(items: Iterable[str]) -> frozenset[date]:
    """Days written as 2025-10-01 or 2025-10-01..2025-10-08; ValueError naming the item that cannot be read."""
    days: set[date] = set()
    for item in items:
        match = _RANGE.match(item)
        try:
            first = date.fromisoformat(match.group(1)) if match else None
            last = date.fromisoformat(match.group(2) or match.group(1)) if match else None
        except ValueError:
            first = last = None
        if first is None or last is None:
            raise ValueError(f"{item!r} is not a day such as '2025-10-01' or a range such as '2025-10-01..2025-10-08'")
        if not 0 <= (last - first).days < _LONGEST_RANGE:
            raise ValueError(f"{item!r}: a range must run forwards and be shorter than {_LONGEST_RANGE} days")
        days.update(first + timedelta(days=n) for n in range((last - first).days + 1))
    return frozenset(days)


def work_calendar(holidays: Iterable[str], workdays: Iterable[str]) -> WorkCalendar:
    """The calendar from the configured lists; a day in both is refused."""
    off, on = parse_days(holidays), parse_days(workdays)
    if both := sorted(off & on):
        raise ValueError(f"{', '.join(map(str, both))} listed both as holidays and as workdays")
    return WorkCalendar(off, on)
