"""Recurring schedules as people type them (每月25日, 每周五, 每个工作日; 次月3日 18:00, 下周一 12:00, 当天17:00).

Pure functions on local dates and times: reading a schedule and a deadline rule, the next issue moment, a
period's deadline and its label. Working days come from a WorkCalendar (the configured holidays and 调休);
without one they are Monday to Friday.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from handlers.core.numbers import parse_number
from handlers.core.timeparse import DEFAULT_DEADLINE_TIME, parse_clock
from handlers.core.workdays import WorkCalendar

DEFAULT_ISSUE_TIME = time(9, 0)
LAST_DAY = 31  # a monthly day past the month's end falls on its last day, so 31 means 月底
WORKWEEK = WorkCalendar()  # Monday to Friday, no holidays
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_WEEK = r"(?:周|星期|礼拜)(?P<wd>[一二三四五六日天七1-7])"
_NUMBER = r"(?P<n>\d{1,2}|[一二两三四五六七八九十]{1,3})"
_MONTH_END = r"(?P<end>底|末|最后一天)"  # the last day of the month, kept as day 31 (which falls on it)
_SCHEDULES = (
    ("month", re.compile(rf"每个?月\s*(?:{_NUMBER}\s*[日号]|{_MONTH_END})\s*(?P<time>.*)")),
    ("week", re.compile(rf"每个?{_WEEK}\s*(?P<time>.*)")),
    ("workday", re.compile(r"(?:每个?)?工作日\s*(?P<time>.*)")),
)
_DEADLINES = (
    ("month", re.compile(rf"(?P<rel>次月|下个?月|当月|本月)\s*(?:{_NUMBER}\s*[日号]|{_MONTH_END})\s*(?P<time>.*)")),
    ("month", re.compile(r"(?P<rel>)月(?P<end>底|末)\s*(?P<time>.*)")),  # 月底: this month's
    ("week", re.compile(rf"(?P<rel>下个?|本|当)\s*{_WEEK}\s*(?P<time>.*)")),
    # 3个工作日, 三个工作日内 12:00, 3个工作日以内, 3个工作日后的17:00, 3个工作日17:00前, 下个工作日
    (
        "workdays",
        re.compile(
            rf"(?P<rel>下一?个|{_NUMBER}\s*个?)\s*工作日\s*(?:以内|之内|内|后)?\s*的?\s*(?P<time>.*?)\s*(?:之前|以前|前)?"
        ),
    ),
    ("days", re.compile(rf"(?P<rel>当天|当日|次日|第二天|{_NUMBER}\s*天后)\s*(?P<time>.*)")),
)


@dataclass(frozen=True)
class Schedule:
    """When a recurring report is issued, and when each period's task is due."""

    rule: dict[str, Any]
    issue_time: time
    deadline_rule: dict[str, Any]
    deadline_time: time


def parse_schedule(text: str) -> tuple[dict[str, Any], time] | None:
    """每月25日 [9:00], 每月底, 每周五 [9点], 每个工作日 [8:30] as (rule, issue time), or None."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    for every, pattern in _SCHEDULES:
        match = pattern.fullmatch(cleaned)
        if match is None:
            continue
        at = _time_or(match.group("time"), DEFAULT_ISSUE_TIME)
        if at is None:
            return None
        if every == "month":
            day = LAST_DAY if match.group("end") else _small(match.group("n"))
            return ({"every": "month", "day": day}, at) if day and 1 <= day <= 31 else None
        if every == "week":
            return {"every": "week", "weekday": _weekday(match.group("wd"))}, at
        return {"every": "workday"}, at
    return None


def parse_deadline_rule(text: str) -> tuple[dict[str, Any], time] | None:
    """次月3日 18:00, 当月28日, 当月底, 下周一 12:00, 本周五, 当天17:00, 次日, 3天后, 3个工作日 as (rule, time)."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    for kind, pattern in _DEADLINES:
        match = pattern.fullmatch(cleaned)
        if match is None:
            continue
        at = _time_or(match.group("time"), DEFAULT_DEADLINE_TIME)
        if at is None:
            return None
        relative = match.group("rel")
        if kind == "month":
            day = LAST_DAY if match.group("end") else _small(match.group("n"))
            months = 0 if relative in ("当月", "本月", "") else 1
            return ({"months": months, "day": day}, at) if day and 1 <= day <= 31 else None
        if kind == "week":
            return {"weeks": 1 if relative.startswith("下") else 0, "weekday": _weekday(match.group("wd"))}, at
        if kind == "workdays":
            count = 1 if relative.startswith("下") else _small(match.group("n"))
            return ({"workdays": count}, at) if count and count <= 31 else None
        days = {"当天": 0, "当日": 0, "次日": 1, "第二天": 1}.get(relative)
        days = _small(match.group("n")) if days is None else days
        return ({"days": days}, at) if days is not None and days <= 31 else None
    return None


def relative_deadline(text: str, now: datetime, days: WorkCalendar) -> datetime | None:
    """A one-off deadline typed as 3个工作日 [17:00], 下个工作日, 3天后 or 次日 (from today), or None if not so."""
    parsed = parse_deadline_rule(text)
    if parsed is None or not {"workdays", "days"} & set(parsed[0]):
        return None
    rule, at = parsed
    today = now.date()
    day = days.after_workdays(today, rule["workdays"]) if "workdays" in rule else today + timedelta(rule["days"])
    return datetime.combine(day, at, tzinfo=now.tzinfo)


def next_issue(rule: dict[str, Any], issue_time: time, after: datetime, days: WorkCalendar = WORKWEEK) -> datetime:
    """The first issue moment strictly after `after` (aware local time), in after's time zone."""
    day = after.date()
    for _ in range(400):
        if issues_on(rule, day, days):
            moment = datetime.combine(day, issue_time, tzinfo=after.tzinfo)
            if moment > after:
                return moment
        day += timedelta(days=1)
    raise ValueError(f"rule {rule} issues nothing within a year")


def deadline_of(schedule: Schedule, issued: date, tz: ZoneInfo, days: WorkCalendar = WORKWEEK) -> datetime:
    """The deadline (aware local) of the period issued on `issued`."""
    rule = schedule.deadline_rule
    if "workdays" in rule:
        day = days.after_workdays(issued, rule["workdays"])
    elif "months" in rule:
        year, month = divmod(issued.month - 1 + rule["months"], 12)
        year, month = issued.year + year, month + 1
        day = date(year, month, min(rule["day"], calendar.monthrange(year, month)[1]))
    elif "weeks" in rule:
        monday = issued - timedelta(days=issued.weekday())
        day = monday + timedelta(days=7 * rule["weeks"] + rule["weekday"])
    else:
        day = issued + timedelta(days=rule["days"])
    return datetime.combine(day, schedule.deadline_time, tzinfo=tz)


def period_of(rule: dict[str, Any], issued: date) -> str:
    """The period a task issued on `issued` is for: 2024-11, 2024-W48, or the day for workday reports."""
    if rule["every"] == "month":
        return f"{issued.year}-{issued.month:02d}"
    if rule["every"] == "week":
        year, week, _ = issued.isocalendar()
        return f"{year}-W{week:02d}"
    return issued.isoformat()


def issues_on(rule: dict[str, Any], day: date, days: WorkCalendar) -> bool:
    """Is `day` an issue day? A monthly day past the month's end (31日) falls on its last day."""
    if rule["every"] == "month":
        return day.day == min(rule["day"], calendar.monthrange(day.year, day.month)[1])
    if rule["every"] == "week":
        return day.weekday() == rule["weekday"]
    if rule["every"] == "day":  # a data source's 每天 (recurring reports do not take it)
        return True
    return days.is_workday(day)


def _time_or(text: str, default: time) -> time | None:
    """The typed time of day, the default when none was typed, None when it cannot be read."""
    return default if not text.strip() else parse_clock(text)


def _weekday(name: str) -> int:
    """一 .. 日 (or 1 .. 7) as 0 .. 6."""
    return _WEEKDAYS[name] if name in _WEEKDAYS else int(name) - 1


def _small(text: str | None) -> int | None:
    """A small whole number in digits or Chinese numerals."""
    number = parse_number(text) if text else None
    return int(number) if number is not None and number == int(number) and number > 0 else None
