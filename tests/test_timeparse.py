"""Dates and deadlines as people type them: 2024-11-30, 11月30日, 明天下午5点, 下周一 9点."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest

from handlers.core.timeparse import DEFAULT_DEADLINE_TIME, parse_datetime
from ledger_store.values.dates import read_date
from ledger_store.values.problems import Refused

CHINA = timezone(timedelta(hours=8))
TODAY = date(2024, 11, 27)  # a Wednesday
NOW = datetime(2024, 11, 27, 10, 0, tzinfo=CHINA)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-11-30", date(2024, 11, 30)),
        ("2024/11/30", date(2024, 11, 30)),
        ("2024.11.30", date(2024, 11, 30)),
        ("2024年11月30日", date(2024, 11, 30)),
        (" 2024 年 11 月 30 日 ", date(2024, 11, 30)),
        ("20241130", date(2024, 11, 30)),
        ("11月30日", date(2024, 11, 30)),
        ("11月30号", date(2024, 11, 30)),
        ("11-30", date(2024, 11, 30)),
        ("1月5日", date(2024, 1, 5)),
        ("２０２４－１１－３０", date(2024, 11, 30)),
        ("２０２４年１１月３０日", date(2024, 11, 30)),
        ("二〇二四年十一月三十日", date(2024, 11, 30)),
        ("今天", date(2024, 11, 27)),
        ("昨天", date(2024, 11, 26)),
        ("前天", date(2024, 11, 25)),
        ("明天", date(2024, 11, 28)),
        ("2024-02-29", date(2024, 2, 29)),
        ("2024-11-30 08:30:00", date(2024, 11, 30)),  # a spreadsheet's date and time: the day counts
        ("2024/11/30T08:30", date(2024, 11, 30)),
    ],
)
def test_reads_dates(text: str, expected: date) -> None:
    assert read_date(text, TODAY) == expected


@pytest.mark.parametrize(
    "text", ["", "abc", "2月30日", "2023-02-29", "2024-13-01", "13月1日", "11月32日", "2024-11", "下午5点"]
)
def test_refuses_impossible_or_unreadable_dates(text: str) -> None:
    assert isinstance(read_date(text, TODAY), Refused)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-11-30 18:00", datetime(2024, 11, 30, 18, 0)),
        ("2024-11-30 18:00:00", datetime(2024, 11, 30, 18, 0)),
        ("2024-11-30T09:15", datetime(2024, 11, 30, 9, 15)),
        ("2024年11月30日 18:00", datetime(2024, 11, 30, 18, 0)),
        ("11月30日18点", datetime(2024, 11, 30, 18, 0)),
        ("11月30日18:30", datetime(2024, 11, 30, 18, 30)),
        ("11月30日下午6点", datetime(2024, 11, 30, 18, 0)),
        ("11月30日 下午 6 点", datetime(2024, 11, 30, 18, 0)),
        ("11月30日18点半", datetime(2024, 11, 30, 18, 30)),
        ("11月30日上午9点30分", datetime(2024, 11, 30, 9, 30)),
        ("11月30日", datetime(2024, 11, 30, 18, 0)),
        ("明天17:00", datetime(2024, 11, 28, 17, 0)),
        ("明天１７：００", datetime(2024, 11, 28, 17, 0)),
        ("明天下午5点", datetime(2024, 11, 28, 17, 0)),
        ("明天下午五点", datetime(2024, 11, 28, 17, 0)),
        ("明天18点前", datetime(2024, 11, 28, 18, 0)),
        ("后天", datetime(2024, 11, 29, 18, 0)),
        ("今天18点", datetime(2024, 11, 27, 18, 0)),
        ("今晚8点", datetime(2024, 11, 27, 20, 0)),
        ("今天24点", datetime(2024, 11, 28, 0, 0)),
        ("中午12点", datetime(2024, 11, 27, 12, 0)),
        ("18:00", datetime(2024, 11, 27, 18, 0)),
        ("周五18:00", datetime(2024, 11, 29, 18, 0)),
        ("星期五 18:00", datetime(2024, 11, 29, 18, 0)),
        ("周三", datetime(2024, 12, 4, 18, 0)),
        ("周日", datetime(2024, 12, 1, 18, 0)),
        ("下周一 9点", datetime(2024, 12, 2, 9, 0)),
        ("下周五", datetime(2024, 12, 6, 18, 0)),
        ("本周一", datetime(2024, 11, 25, 18, 0)),
        ("月底", datetime(2024, 11, 30, 18, 0)),
        ("本月底", datetime(2024, 11, 30, 18, 0)),
        ("这个月底前", datetime(2024, 11, 30, 18, 0)),
        ("月末 17:00", datetime(2024, 11, 30, 17, 0)),
        ("月底下午5点", datetime(2024, 11, 30, 17, 0)),
        ("下月底", datetime(2024, 12, 31, 18, 0)),
        ("下个月底 12:00", datetime(2024, 12, 31, 12, 0)),
        ("次月末", datetime(2024, 12, 31, 18, 0)),
        ("12月底", datetime(2024, 12, 31, 18, 0)),
        ("二月底", datetime(2025, 2, 28, 18, 0)),
    ],
)
def test_reads_deadlines(text: str, expected: datetime) -> None:
    assert parse_datetime(text, NOW) == expected.replace(tzinfo=CHINA)


@pytest.mark.parametrize(
    "text",
    ["", "abc", "今天25点", "13月1日", "2月30日 18:00", "2024-11-30 18:60", "明天上午13点", "明天下午", "18", "13月底"],
)
def test_refuses_impossible_or_unreadable_deadlines(text: str) -> None:
    assert parse_datetime(text, NOW) is None


def test_month_ends_cross_the_year_and_know_leap_februaries() -> None:
    december = datetime(2024, 12, 20, 10, 0, tzinfo=CHINA)
    assert parse_datetime("下月底", december) == datetime(2025, 1, 31, 18, 0, tzinfo=CHINA)
    assert parse_datetime("月底", datetime(2024, 2, 10, tzinfo=CHINA)) == datetime(2024, 2, 29, 18, 0, tzinfo=CHINA)


def test_deadline_keeps_the_timezone_of_now() -> None:
    assert parse_datetime("明天", NOW).tzinfo is CHINA


def test_a_day_without_time_ends_with_the_working_day() -> None:
    assert time(18, 0) == DEFAULT_DEADLINE_TIME
    assert parse_datetime("2024-11-30", NOW).time() == DEFAULT_DEADLINE_TIME


def test_weekday_on_that_same_weekday_means_next_week() -> None:
    friday = datetime(2024, 11, 29, 9, 0, tzinfo=CHINA)
    assert parse_datetime("周五", friday).date() == date(2024, 12, 6)
    assert parse_datetime("下周五", friday).date() == date(2024, 12, 6)
    assert parse_datetime("周一", friday).date() == date(2024, 12, 2)


def test_early_january_typed_in_late_december_is_next_year() -> None:
    late_december = datetime(2024, 12, 28, 9, 0, tzinfo=CHINA)
    assert parse_datetime("1月3日", late_december).date() == date(2025, 1, 3)
    assert parse_datetime("12月27日", late_december).date() == date(2024, 12, 27)
