"""Closing is said: a task issued with 不收迟报 tells every filler who has not submitted that it closed, and whom to
contact; a late 开始 hears the same instead of "您目前没有待填报的任务".

The clock starts on Thursday 2024-11-28 10:00 (Chongqing); the task closes on Saturday 11-30 at 18:00.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.config import SchedulerConfig
from scheduler.jobs import TimedWork

TZ = ZoneInfo("Asia/Shanghai")
CLOSED = "《低保月报》（任务#1）已于11月30日（周六）18:00截止，不再接收报送"
CONTACT = "如需补报，请联系区民政局（李敏正）。"
ANSWERS = ["120", "350", "3", "1", "15000", "是", "13908315526", "跳过", "提交"]


def at(clock, month: int, day: int, hour: int, minute: int = 0) -> None:
    """Set the clock to a local time in 2024."""
    clock.set(datetime(2024, month, day, hour, minute, tzinfo=TZ).astimezone(UTC))


@pytest.fixture
def work(runtime):
    return TimedWork(runtime, SchedulerConfig(), holder="scheduler-a")


def close(work: TimedWork, clock) -> None:
    """Move to the deadline and run one tick and one drain of the outbox."""
    at(clock, 11, 30, 18)
    work.tick()
    work.drain()


@pytest.fixture
def closing_task(chat, ledger_without_dibao):
    """低保月报 to 松林村, 汉东村 and 石庙村, 不收迟报: 张德华 stopped at question 3, 陈国平 submitted, 罗秀英 never
    began."""
    reply = chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村 汉东村 石庙村 不收迟报 不审核")
    assert "截止后不再接收" in reply
    for answer in ("开始", "120", "350"):
        chat.say("zhang_dehua", answer)
    for answer in ("开始", *ANSWERS):
        chat.say("chen_guoping", answer)
    for account in ("li_minzheng", "zhang_dehua", "luo_xiuying", "chen_guoping"):
        chat.pushes(account)
    return chat


def test_every_filler_who_has_not_submitted_is_told_the_task_closed_and_whom_to_contact(closing_task, work, clock):
    close(work, clock)
    assert closing_task.pushed_texts("zhang_dehua") == [f"{CLOSED}；您填到第3/8题，没有提交。{CONTACT}"]
    assert closing_task.pushed_texts("luo_xiuying") == [f"{CLOSED}；您没有报送。{CONTACT}"]
    assert closing_task.pushed_texts("chen_guoping") == []  # she submitted
    [digest] = closing_task.pushed_texts("li_minzheng")
    assert digest.endswith("未报：松林村、汉东村")


def test_the_closing_notice_goes_once(closing_task, work, clock):
    close(work, clock)
    closing_task.pushes("zhang_dehua")
    at(clock, 12, 2, 9)
    work.tick()
    work.drain()
    assert closing_task.pushed_texts("zhang_dehua") == []


def test_a_late_start_is_answered_with_the_task_that_closed(closing_task, work, clock):
    close(work, clock)
    for word in ("开始", "继续", "你好", "/待办"):
        reply = closing_task.say("luo_xiuying", word)
        assert reply == f"{CLOSED}。{CONTACT}\n您目前没有其他待填报的任务。"


def test_a_filler_in_the_middle_of_the_closed_form_hears_whom_to_contact(closing_task, work, clock):
    close(work, clock)
    assert closing_task.say("zhang_dehua", "350") == f"{CLOSED}。{CONTACT}"
    assert closing_task.say("zhang_dehua", "继续").startswith(CLOSED)


def test_a_task_that_takes_late_answers_sends_no_closing_notice(chat, work, clock, ledger_without_dibao):
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村 不审核")
    chat.pushes("zhang_dehua")
    close(work, clock)
    [reminder] = chat.pushed_texts("zhang_dehua")
    assert "截止" in reminder and "不再接收" not in reminder
    assert "第1/8题" in chat.say("zhang_dehua", "开始")


def test_a_closed_task_is_forgotten_after_a_month(closing_task, work, clock):
    close(work, clock)
    at(clock, 12, 30, 17)
    assert CLOSED in closing_task.say("luo_xiuying", "开始")
    at(clock, 12, 31, 10)
    assert closing_task.say("luo_xiuying", "开始") == "您目前没有待填报的任务。发送“/帮助”查看可以做什么。"
    assert CLOSED in closing_task.say("zhang_dehua", "开始")  # the form he was in, said once more
    assert closing_task.say("zhang_dehua", "开始") == "您目前没有待填报的任务。发送“/帮助”查看可以做什么。"


def test_a_task_still_open_comes_before_the_one_that_closed(closing_task, work, clock):
    close(work, clock)
    closing_task.say("wang_canlian", "/发布 残疾人两项补贴 截止 12月5日 范围 汉东村 不审核")
    assert "开始填写《残疾人两项补贴情况》" in closing_task.say("luo_xiuying", "开始")


def test_the_closed_form_points_to_the_tasks_still_open(closing_task, work, clock):
    close(work, clock)
    closing_task.say("wang_canlian", "/发布 残疾人两项补贴 截止 12月5日 范围 松林村 不审核")
    reply = closing_task.say("zhang_dehua", "350")
    assert reply == f"{CLOSED}。{CONTACT}\n您还有1项待办，回复“开始”继续填写。"
    assert "开始填写《残疾人两项补贴情况》" in closing_task.say("zhang_dehua", "开始")


def test_a_task_closing_in_quiet_hours_is_told_at_once_not_in_the_morning(chat, work, clock, ledger_without_dibao):
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日23点 范围 松林村 不收迟报 不审核")
    chat.pushes("zhang_dehua")
    at(clock, 11, 30, 23)  # 22:00–08:00 are quiet: reminders wait for 08:00, the closing notice does not

    work.tick()
    work.drain()

    closed = "《低保月报》（任务#1）已于11月30日（周六）23:00截止，不再接收报送；您没有报送。"
    assert chat.pushed_texts("zhang_dehua") == [closed + CONTACT]
