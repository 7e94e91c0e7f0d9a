"""Parse the deadlines and times people type in chat: 11月30日下午5点, 明天17:00, 下周一 9点, 月底, 18点.

Days alone (a date answer, a date in a query) are read by ledger_store.values.dates, whose patterns this extends.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date, datetime, time, timedelta

from ledger_store.values.dates import (
    ABSOLUTE_DATES,
    CN_SMALL,
    RELATIVE_DATE,
    calendar_day,
    natural_number,
)

DEFAULT_DEADLINE_TIME = time(18, 0)
"""A deadline given as a day only ends with the working day."""

_WEEKDAY_DATE = r"(?P<week>下个?|本|这个?)?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天七1-7])"
# 月底, 本月底, 下月底, 月末: the last day of this (or next) month; 12月底: of that month.
_MONTH_END_DATE = rf"(?P<monthend>(?:本|这个?|当|下个?|次)?月[底末])|(?P<endm>\d{{1,2}}|{CN_SMALL})\s*月[底末]"
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_SHORTHANDS = {"今晚": "今天晚上", "明晚": "明天晚上", "今早": "今天早上", "明早": "明天早上"}

_TIME = (
    r"(?P<period>上午|早上|早晨|中午|下午|傍晚|晚上|夜里|凌晨|早|晚)?\s*"
    rf"(?P<h>\d{{1,2}}|{CN_SMALL})\s*"
    r"(?::\s*(?P<mi>\d{2})(?:\s*:\s*(?P<s>\d{2}))?"
    rf"|[点时]\s*(?:(?P<half>半)|整|(?P<mc>\d{{1,2}}|{CN_SMALL})\s*分?)?)"
)
_AFTERNOON = frozenset({"下午", "傍晚", "晚上", "夜里", "晚"})
_NIGHT = frozenset({"晚上", "夜里", "晚"})
_MORNING = frozenset({"上午", "早上", "早晨", "早", "凌晨"})
_DEADLINE_SUFFIX = r"\s*(?:之前|以前|前|为止|截止)?"

_DATETIME_PATTERNS = [
    re.compile(rf"(?:{date_part})(?:\s*T?\s*{_TIME})?{_DEADLINE_SUFFIX}")
    for date_part in (*ABSOLUTE_DATES, RELATIVE_DATE, _WEEKDAY_DATE, _MONTH_END_DATE)
] + [re.compile(rf"{_TIME}{_DEADLINE_SUFFIX}")]
_TIME_ONLY = re.compile(_TIME)


def parse_datetime(text: str, now: datetime) -> datetime | None:
    """The moment meant by a deadline such as 11月30日下午6点, 明天17:00, 周五 or 月底, in now's timezone, or None.

    A day without a time means DEFAULT_DEADLINE_TIME; a time without a day means today; a month and day
    without a year means the closest such day to today, so 1月3日 typed in late December is next January.
    """
    cleaned = _clean(text)
    for short, full in _SHORTHANDS.items():
        cleaned = cleaned.replace(short, full)
    for pattern in _DATETIME_PATTERNS:
        match = pattern.fullmatch(cleaned)
        if match:
            return _moment(match, now)
    return None


def parse_clock(text: str) -> time | None:
    """A time of day such as 18:00, 18点, 下午6点 or 9点半, or None (24点 is not a time of day here)."""
    match = _TIME_ONLY.fullmatch(_clean(text))
    found = _clock(match.groupdict()) if match else None
    return found[1] if found and found[0] == 0 else None


def _clean(text: str) -> str:
    """Full-width digits and colons to ASCII, surrounding whitespace removed."""
    return unicodedata.normalize("NFKC", text).strip()


def _moment(match: re.Match[str], now: datetime) -> datetime | None:
    """Combine the matched day (today if absent) and time (DEFAULT_DEADLINE_TIME if absent)."""
    groups = match.groupdict()
    has_day = any(groups.get(name) for name in ("d", "rel", "wd", "monthend", "endm"))
    day = _day(match, now.date(), nearest_year=True) if has_day else now.date()
    if day is None:
        return None
    if groups["h"] is None:
        return datetime.combine(day, DEFAULT_DEADLINE_TIME, tzinfo=now.tzinfo)
    clock = _clock(groups)
    if clock is None:
        return None
    extra_days, moment = clock
    return datetime.combine(day + timedelta(days=extra_days), moment, tzinfo=now.tzinfo)


def _day(match: re.Match[str], today: date, nearest_year: bool) -> date | None:
    """The calendar day of a matched date part; None for impossible dates such as 2月30日."""
    groups = match.groupdict()
    if groups.get("wd"):
        return _weekday(today, groups["wd"], groups.get("week"))
    if groups.get("monthend"):
        return _month_end(today, 1 if groups["monthend"][0] in "下次" else 0)
    if groups.get("endm"):
        month = natural_number(groups["endm"])
        if month is None or not 1 <= month <= 12:
            return None
        ends = [_month_end(date(year, month, 1), 0) for year in (today.year - 1, today.year, today.year + 1)]
        return min(ends, key=lambda end: abs(end - today))
    return calendar_day(groups, today, nearest_year)


def _weekday(today: date, name: str, week: str | None) -> date:
    """周五 is the next Friday after today; 下周五 is Friday of next week; 本周五 is Friday of this week."""
    target = _WEEKDAYS[name] if name in _WEEKDAYS else int(name) - 1
    monday = today - timedelta(days=today.weekday())
    if week is None:
        return today + timedelta(days=(target - today.weekday() - 1) % 7 + 1)
    if week.startswith("下"):
        return monday + timedelta(days=7 + target)
    return monday + timedelta(days=target)


def _month_end(today: date, months_ahead: int) -> date:
    """The last day of this month, or of a later one."""
    year, month = divmod(today.month - 1 + months_ahead, 12)
    year, month = today.year + year, month + 1
    return date(year, month, calendar.monthrange(year, month)[1])


def _clock(groups: dict[str, str | None]) -> tuple[int, time] | None:
    """(days to add, time of day) for a matched time; 24点 and 晚上12点 are midnight of the next day."""
    hour = natural_number(groups["h"])
    minute = 30 if groups["half"] else natural_number(groups["mi"] or groups["mc"] or "0")
    second = natural_number(groups["s"] or "0")
    if hour is None or minute is None or second is None:
        return None
    period = groups["period"]
    if period in _MORNING and hour > 12:
        return None
    if period in _AFTERNOON and hour < 12:
        hour += 12
    elif period in _NIGHT and hour == 12:
        hour = 24
    elif period == "中午" and 1 <= hour <= 3:
        hour += 12
    if hour == 24:
        return (1, time(0)) if minute == 0 and second == 0 else None
    if hour > 23 or minute > 59 or second > 59:
        return None
    return 0, time(hour, minute, second)
