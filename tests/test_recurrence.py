"""Recurring reports: set up by command, each period its own task, last period's answers offered, /定时 to manage."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.config import SchedulerConfig
from handlers.tasks.recurrence_rules import (
    Schedule,
    deadline_of,
    next_issue,
    parse_deadline_rule,
    parse_schedule,
    period_of,
)
from ledger_store.models import ReportTask
from scheduler.jobs import TimedWork

TZ = ZoneInfo("Asia/Shanghai")
MONTHLY = "/发布 低保月报 每月25日 截止 次月3日 18:00 范围 松林村 不审核"
DIBAO_ANSWERS = ["120", "350", "3", "1", "15000", "是", "13908315526", "跳过"]


def at(clock, year: int, month: int, day: int, hour: int, minute: int = 0) -> None:
    clock.set(datetime(year, month, day, hour, minute, tzinfo=TZ).astimezone(UTC))


@pytest.fixture
def work(runtime):
    return TimedWork(runtime, SchedulerConfig(), holder="scheduler")


def run(work: TimedWork) -> None:
    work.tick()
    work.drain()


def tasks_of(runtime) -> list[tuple[str, datetime]]:
    with runtime.factory() as session:
        return [(task.period, task.deadline) for task in session.scalars(select(ReportTask).order_by(ReportTask.id))]


def test_a_monthly_report_issues_each_period_once_with_its_own_deadline(chat, runtime, work, clock):
    reply = chat.say("li_minzheng", MONTHLY)
    assert reply.startswith(
        "已设定定时发布《低保月报》（定时#1）：每月25日 09:00 发布，每期次月3日 18:00截止，发给1个单位。"
    )
    assert "第一期将于12月25日（周三）09:00发布" in reply
    run(work)
    assert tasks_of(runtime) == []
    at(clock, 2024, 12, 25, 9)
    run(work)
    run(work)  # a second pass, or a second scheduler, issues nothing more
    assert tasks_of(runtime) == [("2024-12", datetime(2025, 1, 3, 10, 0))]
    [push] = chat.pushed_texts("zhang_dehua")
    assert "【区民政局】发布了《低保月报》（任务#1），请在2025年1月3日（周五）18:00前报送" in push
    at(clock, 2025, 1, 25, 9, 1)
    run(work)
    assert [period for period, _ in tasks_of(runtime)] == ["2024-12", "2025-01"]


def test_a_town_department_s_recurring_report_goes_to_its_villages(chat, runtime, work, town_office, clock):
    issued = chat.say(town_office, "/发布 残疾人两项补贴情况 每月25日 截止 次月3日 18:00 不审核")
    assert "发给朱沱镇下辖各单位。" in issued
    at(clock, 2024, 12, 25, 9)
    run(work)
    assert len(tasks_of(runtime)) == 1
    assert [len(chat.pushed_texts(account)) for account in ("zhang_dehua", "hu_xiaoyan", "huang_li")] == [1, 0, 0]


def test_last_period_s_answers_are_offered_as_the_answers_to_keep(chat, work, clock):
    chat.say("li_minzheng", MONTHLY)
    at(clock, 2024, 12, 25, 9)
    run(work)
    # The ledger knows 松林村's 在保低保户数 (2): confirmed, then the other seven questions.
    for answer in ["开始", "确认", *DIBAO_ANSWERS[1:], "提交"]:
        chat.say("zhang_dehua", answer)
    at(clock, 2025, 1, 25, 9)
    run(work)
    # What the ledger holds (now 在保低保人数 too, written back by the first period) is confirmed at once;
    # the month's own figures offer last period's answers.
    first = chat.say("zhang_dehua", "开始")
    assert "以下 2 项已从台账带出" in first and "1. 在保低保户数：2户" in first and "2. 在保低保人数：350人" in first
    third = chat.say("zhang_dehua", "确认")
    assert "第3/8题" in third and "上期填的是：3户。没有变化请回复“不变”" in third
    fourth = chat.say("zhang_dehua", "不变")
    assert "第4/8题" in fourth and "上期填的是：1户" in fourth
    assert "第5/8题" in chat.say("zhang_dehua", "2")


def test_a_scheduler_that_was_down_issues_only_the_latest_period_still_open(chat, runtime, work, clock):
    chat.say("li_minzheng", "/发布 低保月报 每周一 截止 本周五 18:00 范围 松林村 不审核")
    at(clock, 2024, 12, 19, 10)  # Thursday: the periods of 2 and 9 December passed unissued, 16 December is open
    run(work)
    assert tasks_of(runtime) == [("2024-W51", datetime(2024, 12, 20, 10, 0))]


def test_schedules_are_listed_paused_resumed_and_stopped(chat, runtime, work, clock):
    chat.say("li_minzheng", MONTHLY)
    chat.say("li_minzheng", "/发布 低保月报 每个工作日 8:30 截止 当天17:00 不收迟报 不审核")
    listing = chat.say("li_minzheng", "/定时")
    assert (
        "#2《低保月报》每个工作日 08:30 发布，每期当天 17:00截止，发给各镇街；下次：11月29日（周五）08:30；进行中"
        in listing
    )
    assert "#1《低保月报》每月25日 09:00 发布" in listing
    assert chat.say("li_minzheng", "/定时 暂停 2") == "定时#2《低保月报》已暂停。"
    at(clock, 2024, 11, 29, 9)
    run(work)
    assert tasks_of(runtime) == []
    resumed = chat.say("li_minzheng", "/定时 恢复 2")
    assert resumed == "定时#2《低保月报》已恢复。下次 12月2日（周一）08:30 发布。"
    assert chat.say("li_minzheng", "/定时 停止 1") == "定时#1《低保月报》已停止。"
    assert "#1" not in chat.say("li_minzheng", "/定时")
    assert "没有找到定时#7" in chat.say("li_minzheng", "/定时 暂停 7")
    assert "请写成“/定时 暂停 编号”" in chat.say("li_minzheng", "/定时 删掉")
    assert chat.say("wang_canlian", "/定时").startswith("您的部门还没有定时发布的任务")
    at(clock, 2024, 12, 2, 8, 30)
    run(work)
    [(period, deadline)] = tasks_of(runtime)
    assert period == "2024-12-02" and deadline == datetime(2024, 12, 2, 9, 0)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/发布 低保月报 每月40日 截止 次月3日 不审核", "没看懂发布周期“每月40日”"),
        ("/发布 低保月报 每月25日 截止 下下月 不审核", "没看懂每期的截止时间“下下月”"),
        ("/发布 低保月报 每周八 截止 本周五 不审核", "没看懂发布周期“每周八”"),
    ],
)
def test_a_schedule_that_cannot_be_read_is_named(chat, runtime, command, expected):
    assert expected in chat.say("li_minzheng", command)


def test_rules_read_what_people_type():
    assert parse_schedule("每月25号 9:30") == ({"every": "month", "day": 25}, time(9, 30))
    assert parse_schedule("每星期五 下午3点") == ({"every": "week", "weekday": 4}, time(15, 0))
    assert parse_schedule("工作日") == ({"every": "workday"}, time(9, 0))
    assert parse_deadline_rule("下月3日18点") == ({"months": 1, "day": 3}, time(18, 0))
    assert parse_deadline_rule("下周一 12:00") == ({"weeks": 1, "weekday": 0}, time(12, 0))
    assert parse_deadline_rule("三天后") == ({"days": 3}, time(18, 0))
    assert parse_deadline_rule("明年") is None


def test_month_ends_and_periods():
    end_of_month = {"every": "month", "day": 31}
    after = datetime(2025, 2, 1, 10, tzinfo=TZ)
    assert next_issue(end_of_month, time(9), after) == datetime(2025, 2, 28, 9, tzinfo=TZ)
    schedule = Schedule(end_of_month, time(9), {"months": 1, "day": 31}, time(18))
    assert deadline_of(schedule, date(2025, 1, 31), TZ) == datetime(2025, 2, 28, 18, tzinfo=TZ)
    friday = datetime(2024, 11, 29, 17, tzinfo=TZ)
    assert next_issue({"every": "workday"}, time(9), friday) == datetime(2024, 12, 2, 9, tzinfo=TZ)
    assert period_of({"every": "week", "weekday": 0}, date(2024, 12, 30)) == "2025-W01"


@pytest.mark.parametrize(
    ("command", "issued", "due"),
    [
        ("/发布 低保月报 每月25日 截止 当月20日 范围 松林村 不审核", "12月25日（周三）09:00", "12月20日（周五）18:00"),
        (
            "/发布 低保月报 每月25日 9:00 截止 当月25日 9:00 范围 松林村 不审核",
            "12月25日（周三）09:00",
            "12月25日（周三）09:00",
        ),
        ("/发布 低保月报 每周五 截止 本周一 范围 松林村 不审核", "11月29日（周五）09:00", "11月25日（周一）18:00"),
        (
            "/发布 低保月报 每个工作日 10:00 截止 当天9:00 范围 松林村 不审核",
            "11月29日（周五）10:00",
            "11月29日（周五）09:00",
        ),
        # Fine in November (30日 falls on the 30th both ways), not in December: every coming period is checked.
        ("/发布 低保月报 每月31日 截止 当月30日 范围 松林村 不审核", "12月31日（周二）09:00", "12月30日（周一）18:00"),
    ],
)
def test_a_recurrence_due_before_its_periods_are_issued_is_refused(chat, runtime, command, issued, due):
    reply = chat.say("li_minzheng", command)
    assert reply.startswith("没有设定：每期的截止时间要晚于发布时间")
    assert f"{issued}发布的一期在{due}就截止了" in reply
    assert chat.say("li_minzheng", "/定时").startswith("您的部门还没有定时发布的任务")


def test_a_copy_of_a_running_recurrence_is_refused_and_named(chat, runtime):
    assert "定时#1" in chat.say("li_minzheng", MONTHLY)
    copy = chat.say("li_minzheng", MONTHLY.replace("18:00", "18点") + " 不收迟报")  # the same rules, other terms
    assert copy.startswith("已有一样的定时发布：定时#1《低保月报》（进行中），模板、周期、截止时间和范围都相同")
    assert "“/定时 停止 1”" in copy
    chat.say("li_minzheng", "/定时 暂停 1")
    assert "定时#1《低保月报》（已暂停）" in chat.say("li_minzheng", MONTHLY)
    listing = chat.say("li_minzheng", "/定时")
    assert "#1《低保月报》" in listing and "#2" not in listing
    # Not copies: other units, another deadline, another department; and once stopped, the same again.
    assert "定时#2" in chat.say("li_minzheng", MONTHLY.replace("松林村", "汉东村"))
    assert "定时#3" in chat.say("li_minzheng", MONTHLY.replace("次月3日", "次月5日"))
    chat.say("admin", "/台账权限 村社区基本情况台账 共享 区残联 完整")  # so that 区残联 may issue 低保月报 at all
    assert "定时#4" in chat.say("wang_canlian", MONTHLY)
    assert "定时#5" in chat.say("li_minzheng", MONTHLY.replace("每月25日", "每月25日 10:00"))
    chat.say("li_minzheng", "/定时 停止 1")
    assert "定时#6" in chat.say("li_minzheng", MONTHLY)


@pytest.mark.parametrize(
    ("command", "described"),
    [
        ("/发布 低保月报 每月25日 截止 次月底 范围 松林村 不审核", "每月25日 09:00 发布，每期次月底 18:00截止"),
        ("/发布 低保月报 每月1日 截止 月底17:00 范围 松林村 不审核", "每月1日 09:00 发布，每期当月底 17:00截止"),
        ("/发布 低保月报 每月1日 截止 当月底 范围 松林村 不审核", "每月1日 09:00 发布，每期当月底 18:00截止"),
        ("/发布 低保月报 每月底 截止 次月5日 范围 松林村 不审核", "每月底 09:00 发布，每期次月5日 18:00截止"),
    ],
)
def test_month_end_words_in_recurrences(chat, command, described):
    assert described in chat.say("li_minzheng", command)


def test_a_month_end_deadline_follows_the_month_s_length(chat, runtime, work, clock):
    chat.say("li_minzheng", "/发布 低保月报 每月25日 截止 次月底 范围 松林村 不审核")
    at(clock, 2025, 1, 25, 9)
    run(work)
    at(clock, 2025, 2, 25, 9)
    run(work)
    assert [deadline for _, deadline in tasks_of(runtime)] == [datetime(2025, 2, 28, 10), datetime(2025, 3, 31, 10)]
