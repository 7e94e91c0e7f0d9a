"""Parse the dates and deadlines people type in chat: 2024-11-30, 11月30日, 明天下午5点, 下周一 9点, 月底."""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date, datetime, time, timedelta

from handlers.numbers import parse_number

DEFAULT_DEADLINE_TIME = time(18, 0)
"""A deadline given as a day only ends with the working day."""

_CN_SMALL = "[零〇一二两三四五六七八九十]{1,3}"
_CN_YEAR = "[零〇一二三四五六七八九]{4}"
_MONTH_DAY = rf"(?P<m>\d{{1,2}}|{_CN_SMALL})\s*月\s*(?P<d>\d{{1,2}}|{_CN_SMALL})\s*[日号]?"

_ABSOLUTE_DATES = (
    r"(?P<y>\d{4})\s*[-/.]\s*(?P<m>\d{1,2})\s*[-/.]\s*(?P<d>\d{1,2})",
    rf"(?P<y>\d{{4}}|{_CN_YEAR})\s*年\s*{_MONTH_DAY}",
    r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})",
    _MONTH_DAY,
    r"(?P<m>\d{1,2})\s*[-/.]\s*(?P<d>\d{1,2})",
)
_RELATIVE_DAYS = {
    "大后天": 3, "后天": 2, "明天": 1, "明日": 1, "今天": 0, "今日": 0, "昨天": -1, "昨日": -1, "前天": -2,
}  # fmt: skip
_RELATIVE_DATE = "(?P<rel>" + "|".join(_RELATIVE_DAYS) + ")"
_WEEKDAY_DATE = r"(?P<week>下个?|本|这个?)?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天七1-7])"
# 月底, 本月底, 下月底, 月末: the last day of this (or next) month; 12月底: of that month.
_MONTH_END_DATE = rf"(?P<monthend>(?:本|这个?|当|下个?|次)?月[底末])|(?P<endm>\d{{1,2}}|{_CN_SMALL})\s*月[底末]"
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_SHORTHANDS = {"今晚": "今天晚上", "明晚": "明天晚上", "今早": "今天早上", "明早": "明天早上"}

_TIME = (
    r"(?P<period>上午|早上|早晨|中午|下午|傍晚|晚上|夜里|凌晨|早|晚)?\s*"
    rf"(?P<h>\d{{1,2}}|{_CN_SMALL})\s*"
    r"(?::\s*(?P<mi>\d{2})(?:\s*:\s*(?P<s>\d{2}))?"
    rf"|[点时]\s*(?:(?P<half>半)|整|(?P<mc>\d{{1,2}}|{_CN_SMALL})\s*分?)?)"
)
_AFTERNOON = frozenset({"下午", "傍晚", "晚上", "夜里", "晚"})
_NIGHT = frozenset({"晚上", "夜里", "晚"})
_MORNING = frozenset({"上午", "早上", "早晨", "早", "凌晨"})
_DEADLINE_SUFFIX = r"\s*(?:之前|以前|前|为止|截止)?"

_DATE_PATTERNS = [re.compile(p) for p in (*_ABSOLUTE_DATES, _RELATIVE_DATE)]
_DATETIME_PATTERNS = [
    re.compile(rf"(?:{date_part})(?:\s*T?\s*{_TIME})?{_DEADLINE_SUFFIX}")
    for date_part in (*_ABSOLUTE_DATES, _RELATIVE_DATE, _WEEKDAY_DATE, _MONTH_END_DATE)
] + [re.compile(rf"{_TIME}{_DEADLINE_SUFFIX}")]
_TIME_ONLY = re.compile(_TIME)


def parse_date(text: str, today: date) -> date | None:
    """The day meant by 2024-11-30, 2024年11月30日, 20241130, 11月30日 (this year), 昨天 ..., or None."""
    cleaned = _clean(text)
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(cleaned)
        if match:
            return _day(match, today, nearest_year=False)
    return None


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
    if groups.get("rel"):
        return today + timedelta(days=_RELATIVE_DAYS[groups["rel"]])
    if groups.get("wd"):
        return _weekday(today, groups["wd"], groups.get("week"))
    if groups.get("monthend"):
        return _month_end(today, 1 if groups["monthend"][0] in "下次" else 0)
    if groups.get("endm"):
        month = _to_int(groups["endm"])
        if month is None or not 1 <= month <= 12:
            return None
        ends = [_month_end(date(year, month, 1), 0) for year in (today.year - 1, today.year, today.year + 1)]
        return min(ends, key=lambda end: abs(end - today))
    month, day = _to_int(groups["m"]), _to_int(groups["d"])
    if month is None or day is None:
        return None
    if groups.get("y"):
        year = _to_int(groups["y"])
        return None if year is None else _safe_date(year, month, day)
    if not nearest_year:
        return _safe_date(today.year, month, day)
    candidates = [_safe_date(year, month, day) for year in (today.year - 1, today.year, today.year + 1)]
    valid = [candidate for candidate in candidates if candidate is not None]
    return min(valid, key=lambda candidate: abs(candidate - today), default=None)


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
    hour = _to_int(groups["h"])
    minute = 30 if groups["half"] else _to_int(groups["mi"] or groups["mc"] or "0")
    second = _to_int(groups["s"] or "0")
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


def _to_int(text: str | None) -> int | None:
    """A non-negative whole number written in digits or Chinese numerals."""
    if text is None:
        return None
    value = parse_number(text)
    if value is None or value < 0 or value != value.to_integral_value():
        return None
    return int(value)


def _safe_date(year: int, month: int, day: int) -> date | None:
    """A date, or None when the calendar has no such day."""
    try:
        return date(year, month, day)
    except ValueError:
        return None
