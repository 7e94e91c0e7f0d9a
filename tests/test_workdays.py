"""Working days with the configured public holidays and 调休: workday reports and 个工作日 deadlines.

The calendar is the 2024 National Day holiday as the State Council announced it: 1 to 7 October off, Sunday
29 September and Saturday 12 October worked instead.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.config import CalendarConfig, Config, ConfigError, SchedulerConfig, load_config
from bot.runtime import build_runtime
from handlers.core.workdays import WorkCalendar
from ledger_store.models import ReportTask
from scheduler.jobs import TimedWork

TZ = ZoneInfo("Asia/Shanghai")
NATIONAL_DAY = CalendarConfig(holidays=("2024-10-01..2024-10-07",), workdays=("2024-09-29", "2024-10-12"))


def at(clock, month: int, day: int, hour: int, minute: int = 0) -> None:
    clock.set(datetime(2024, month, day, hour, minute, tzinfo=TZ).astimezone(UTC))


@pytest.fixture
def holiday_chat(chat, runtime, engine, clock):
    """The demo organisation on a bot configured with the National Day calendar, on Friday 27 September."""
    at(clock, 9, 27, 10)
    chat.runtime = build_runtime(Config(calendar=NATIONAL_DAY), runtime.platform, clock=clock, database=engine)
    return chat


def test_the_holidays_are_days_off_and_the_exchanged_weekend_days_are_worked() -> None:
    days = NATIONAL_DAY.calendar()
    assert [days.is_workday(date(2024, 9, day)) for day in (27, 28, 29, 30)] == [True, False, True, True]
    assert [days.is_workday(date(2024, 10, day)) for day in (1, 4, 7, 8, 12, 13)] == [False] * 3 + [True, True, False]
    assert days.after_workdays(date(2024, 9, 27), 3) == date(2024, 10, 8)
    assert WorkCalendar().after_workdays(date(2024, 9, 27), 3) == date(2024, 10, 2)  # without a calendar


def test_a_workday_report_is_issued_on_the_worked_sunday_and_not_in_the_holiday(holiday_chat, clock) -> None:
    reply = holiday_chat.say("li_minzheng", "/发布 低保月报 每个工作日 9:00 截止 当天17:00 范围 松林村")
    assert "第一期将于9月29日（周日）09:00发布" in reply
    work = TimedWork(holiday_chat.runtime, SchedulerConfig(), holder="scheduler")
    for day in [(9, 28), (9, 29), (9, 30), *((10, n) for n in range(1, 9))]:
        at(clock, *day, 9, 1)
        work.tick()
    with holiday_chat.runtime.factory() as session:
        periods = list(session.scalars(select(ReportTask.period).order_by(ReportTask.id)))
    assert periods == ["2024-09-29", "2024-09-30", "2024-10-08"]


def test_holidays_configured_later_move_a_period_already_planned(chat, runtime, engine, clock) -> None:
    at(clock, 9, 30, 10)  # Monday, before anyone entered the National Day holiday
    chat.say("li_minzheng", "/发布 低保月报 每个工作日 9:00 截止 当天17:00 范围 松林村")
    assert "下次：10月1日（周二）09:00" in chat.say("li_minzheng", "/定时")
    chat.runtime = build_runtime(Config(calendar=NATIONAL_DAY), runtime.platform, clock=clock, database=engine)
    work = TimedWork(chat.runtime, SchedulerConfig(), holder="scheduler")  # restarted with the holidays
    at(clock, 10, 1, 9, 1)
    work.tick()
    assert "下次：10月8日（周二）09:00" in chat.say("li_minzheng", "/定时")
    at(clock, 10, 8, 9, 1)
    work.tick()
    with chat.runtime.factory() as session:
        assert list(session.scalars(select(ReportTask.period))) == ["2024-10-08"]


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("3个工作日", "10月8日（周二）18:00截止"),
        ("两个工作日内 12:00", "9月30日（周一）12:00截止"),
        ("3 个工作日以内", "10月8日（周二）18:00截止"),
        ("3个工作日后的17:00", "10月8日（周二）17:00截止"),
        ("3个工作日下午5点前", "10月8日（周二）17:00截止"),
        ("下个工作日", "9月29日（周日）18:00截止"),  # the Sunday worked instead
        ("3天后", "9月30日（周一）18:00截止"),
        ("次日 12:00", "9月28日（周六）12:00截止"),
    ],
)
def test_a_deadline_in_working_days_skips_the_holiday(holiday_chat, written: str, shown: str) -> None:
    reply = holiday_chat.say("li_minzheng", f"/发布 低保月报 截止 {written} 范围 松林村")
    assert shown in reply


def test_late_reminders_wait_out_the_holiday(holiday_chat, clock) -> None:
    holiday_chat.say("li_minzheng", "/发布 低保月报 截止 9月30日18点 范围 松林村")
    work = TimedWork(holiday_chat.runtime, SchedulerConfig(), holder="scheduler")
    at(clock, 9, 30, 18)
    work.tick()
    work.drain()
    holiday_chat.pushes("zhang_dehua")
    for day in range(1, 8):
        at(clock, 10, day, 9)
        work.tick()
        work.drain()
    assert holiday_chat.pushed_texts("zhang_dehua") == [] and holiday_chat.pushed_texts("zhou_jianguo") == []
    at(clock, 10, 8, 9)
    work.tick()
    work.drain()
    assert "请尽快补报" in holiday_chat.pushed_texts("zhang_dehua")[0]
    assert "以下单位还没有报送，请督促：松林村" in holiday_chat.pushed_texts("zhou_jianguo")[0]


def test_a_recurring_deadline_in_working_days_counts_from_each_issue_day(holiday_chat, clock) -> None:
    reply = holiday_chat.say("li_minzheng", "/发布 低保月报 每周一 截止 3个工作日 范围 松林村")
    assert "每周一 09:00 发布，每期3个工作日后 18:00截止" in reply
    work = TimedWork(holiday_chat.runtime, SchedulerConfig(), holder="scheduler")
    at(clock, 9, 30, 9)  # the Monday before the holiday: 8, 9 and 10 October are its 3 working days
    work.tick()
    with holiday_chat.runtime.factory() as session:
        [deadline] = session.scalars(select(ReportTask.deadline))
    assert deadline == datetime(2024, 10, 10, 10, 0)  # 18:00 in Chongqing


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_calendar_is_read_from_the_configuration(tmp_path) -> None:
    text = '[calendar]\nholidays = ["2024-10-01..2024-10-07"]\nworkdays = ["2024-09-29", "2024-10-12"]\n'
    assert load_config(write_toml(tmp_path, text), environ={}).calendar == NATIONAL_DAY
    bare = '[calendar]\nholidays = ["2024-10-01..2024-10-07"]\nworkdays = [2024-09-29, 2024-10-12]\n'  # TOML dates
    assert load_config(write_toml(tmp_path, bare), environ={}).calendar == NATIONAL_DAY


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('holidays = ["2024-13-01"]', "'2024-13-01' is not a day such as '2025-10-01'"),
        ('holidays = ["10月1日"]', "'10月1日' is not a day"),
        ('holidays = ["2024-10-07..2024-10-01"]', "a range must run forwards"),
        ('holidays = ["2024-10-01"]\nworkdays = ["2024-10-01"]', "2024-10-01 listed both as holidays and as workdays"),
        ('holidays = "2024-10-01"', "must be a list of days"),
        ("holidays = [20241001]", "must be a list of days"),
        ("holidays = [2024-10-01T09:00:00]", "must be a list of days"),
    ],
)
def test_a_calendar_mistake_names_the_day(tmp_path, text: str, says: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(write_toml(tmp_path, "[calendar]\n" + text + "\n"), environ={})
    assert says in str(raised.value)
