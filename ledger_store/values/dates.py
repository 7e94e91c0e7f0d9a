"""Days as people write them, in chat or in a cell: 2024-11-30, 2024年11月30日, 20241130, 11月30日, 昨天."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

from ledger_store.values.numbers import parse_number
from ledger_store.values.problems import Problem, Refused

CN_SMALL = "[零〇一二两三四五六七八九十]{1,3}"  # a month, day or hour in Chinese numerals
_CN_YEAR = "[零〇一二三四五六七八九]{4}"
_MONTH_DAY = rf"(?P<m>\d{{1,2}}|{CN_SMALL})\s*月\s*(?P<d>\d{{1,2}}|{CN_SMALL})\s*[日号]?"
ABSOLUTE_DATES = (
    r"(?P<y>\d{4})\s*[-/.]\s*(?P<m>\d{1,2})\s*[-/.]\s*(?P<d>\d{1,2})",
    rf"(?P<y>\d{{4}}|{_CN_YEAR})\s*年\s*{_MONTH_DAY}",
    r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})",
    _MONTH_DAY,
    r"(?P<m>\d{1,2})\s*[-/.]\s*(?P<d>\d{1,2})",
)
_RELATIVE_DAYS = {
    "大后天": 3, "后天": 2, "明天": 1, "明日": 1, "今天": 0, "今日": 0, "昨天": -1, "昨日": -1, "前天": -2,
}  # fmt: skip
RELATIVE_DATE = "(?P<rel>" + "|".join(_RELATIVE_DAYS) + ")"
# A spreadsheet writes a day with a time of day (2024-11-30 00:00:00, 2024-11-30T08:30): the day is what counts.
_CLOCK_TIME = r"(?:\s*[ T]\s*\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_DATE_PATTERNS = [re.compile(ABSOLUTE_DATES[0] + _CLOCK_TIME), *map(re.compile, (*ABSOLUTE_DATES[1:], RELATIVE_DATE))]


def read_date(text: str, today: date) -> date | Refused:
    """The day meant by 2024-11-30, 2024年11月30日, 20241130, 11月30日 (this year), 昨天 …, or why it is none."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(cleaned)
        if match:
            day = calendar_day(match.groupdict(), today, nearest_year=False)
            return Refused(Problem.NO_SUCH_DAY, text) if day is None else day
    return Refused(Problem.NOT_A_DATE, text)


def calendar_day(groups: dict[str, str | None], today: date, nearest_year: bool) -> date | None:
    """The day of matched `rel` or `y`/`m`/`d` groups; None for impossible dates such as 2月30日.

    Without a year, the day is this year's, or with `nearest_year` the closest such day to today.
    """
    if groups.get("rel"):
        return today + timedelta(days=_RELATIVE_DAYS[groups["rel"]])
    month, day = natural_number(groups["m"]), natural_number(groups["d"])
    if month is None or day is None:
        return None
    if groups.get("y"):
        year = natural_number(groups["y"])
        return None if year is None else safe_date(year, month, day)
    if not nearest_year:
        return safe_date(today.year, month, day)
    candidates = [safe_date(year, month, day) for year in (today.year - 1, today.year, today.year + 1)]
    valid = [candidate for candidate in candidates if candidate is not None]
    return min(valid, key=lambda candidate: abs(candidate - today), default=None)


def natural_number(text: str | None) -> int | None:
    """A non-negative whole number written in digits or Chinese numerals."""
    if text is None:
        return None
    if text.isascii() and text.isdigit():
        return int(text)
    value = parse_number(text)
    if value is None or value < 0 or value != value.to_integral_value():
        return None
    return int(value)


def safe_date(year: int, month: int, day: int) -> date | None:
    """A date, or None when the calendar has no such day."""
    try:
        return date(year, month, day)
    except ValueError:
        return None
