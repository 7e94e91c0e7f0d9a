"""Timed reminders and deadlines as people get them: never twice, never lost, never at night.

The clock starts on Thursday 2024-11-28 10:00 (Chongqing); tests move it and run the scheduler's work by hand.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.config import SchedulerConfig
from bot.runtime import build_runtime
from ledger_store.models import OutboxMessage
from scheduler.jobs import TimedWork

TZ = ZoneInfo("Asia/Shanghai")
ISSUE = "/发布 低保月报 截止 11月30日18点 范围 松林村 汉东村 不审核"
DIBAO_ANSWERS = ["120", "350", "3", "1", "15000", "是", "13908315526", "跳过", "提交"]


def at(clock, month: int, day: int, hour: int, minute: int = 0) -> None:
    """Set the clock to a local time in 2024."""
    clock.set(datetime(2024, month, day, hour, minute, tzinfo=TZ).astimezone(UTC))


@pytest.fixture
def work(runtime):
    return TimedWork(runtime, SchedulerConfig(), holder="scheduler-a")


def run(work: TimedWork):
    """One tick of the timed work and one drain of the outbox, as the scheduler's jobs do."""
    report = work.tick()
    work.drain()
    return report


def fill(chat, account: str) -> None:
    for answer in ["开始", *DIBAO_ANSWERS]:
        chat.say(account, answer)


@pytest.fixture
def issued(chat, ledger_without_dibao):
    chat.say("li_minzheng", ISSUE)
    for account in ("li_minzheng", "zhang_dehua", "luo_xiuying"):
        chat.pushes(account)
    return chat


def test_reminders_come_before_at_and_after_the_deadline_each_once(issued, work, clock):
    run(work)
    assert issued.pushed_texts("zhang_dehua") == []
    at(clock, 11, 29, 18)
    run(work)
    [first] = issued.pushed_texts("zhang_dehua")
    assert "《低保月报》（任务#1）11月30日（周六）18:00截止（还剩1天）" in first and "您还没有报送" in first
    assert len(issued.pushed_texts("luo_xiuying")) == 1
    run(work)
    assert issued.pushed_texts("zhang_dehua") == []  # the same reminder never goes twice

    fill(issued, "luo_xiuying")
    at(clock, 11, 30, 16)
    run(work)
    [second] = issued.pushed_texts("zhang_dehua")
    assert "还剩2小时" in second and second != first
    assert issued.pushed_texts("luo_xiuying") == []  # she has reported

    at(clock, 11, 30, 18)
    run(work)
    assert "已到截止时间" in issued.pushed_texts("zhang_dehua")[0]
    digest, summary = issued.pushes("li_minzheng")
    assert digest.text.startswith("《低保月报》（任务#1）：1/2 已报") and "未报：松林村" in digest.text
    assert summary.file_name.startswith("低保月报汇总_")

    at(clock, 12, 1, 9)
    run(work)
    assert issued.pushed_texts("zhang_dehua") == []  # a Sunday: late reminders wait for a working day
    at(clock, 12, 2, 9)
    run(work)
    [late] = issued.pushed_texts("zhang_dehua")
    assert "《低保月报》（任务#1）已于11月30日（周六）18:00截止（已逾期1天）" in late and "请尽快补报" in late
    [upward] = issued.pushed_texts("zhou_jianguo")  # 朱沱镇's reviewer, above 松林村
    assert upward == (
        "《低保月报》（任务#1）已于11月30日（周六）18:00截止，以下单位还没有报送，请督促：松林村（张德华）。"
    )
    at(clock, 12, 3, 9)
    run(work)
    assert "已逾期2天" in issued.pushed_texts("zhang_dehua")[0]
    assert issued.pushed_texts("zhou_jianguo") == []  # once upward


def test_a_scheduler_down_for_a_while_sends_one_reminder_not_the_stale_ones(issued, work, clock):
    at(clock, 11, 30, 17)  # the 24-hour and the 2-hour reminders were both missed
    run(work)
    [only] = issued.pushed_texts("zhang_dehua")
    assert "还剩1小时" in only
    with work.runtime.factory() as session:
        kinds = [row.dedupe_key.split(":")[-1] for row in session.scalars(select(OutboxMessage))]
    assert "before-2h" in kinds and "before-24h" not in kinds


def test_no_reminder_at_night_one_due_then_goes_out_in_the_morning(chat, work, clock):
    chat.say("li_minzheng", "/发布 低保月报 截止 11月29日23点 范围 松林村 不审核")
    chat.pushes("zhang_dehua")
    at(clock, 11, 29, 21)
    run(work)
    assert "还剩2小时" in chat.pushed_texts("zhang_dehua")[0]
    at(clock, 11, 29, 23)
    run(work)
    at(clock, 11, 30, 7, 59)
    run(work)
    assert chat.pushed_texts("zhang_dehua") == []
    at(clock, 11, 30, 8)
    run(work)
    [morning] = chat.pushed_texts("zhang_dehua")
    assert "已逾期9小时" in morning


def test_quiet_hours_come_from_the_configuration(chat, runtime, clock):
    late_evening = TimedWork(runtime, SchedulerConfig(quiet_start="20:00", quiet_end="07:30"), holder="a")
    chat.say("li_minzheng", "/发布 低保月报 截止 11月29日22点 范围 松林村 不审核")
    chat.pushes("zhang_dehua")
    at(clock, 11, 29, 20)  # the 2-hour reminder falls in these quiet hours
    run(late_evening)
    assert chat.pushed_texts("zhang_dehua") == []
    at(clock, 11, 30, 7, 30)
    run(late_evening)
    assert len(chat.pushed_texts("zhang_dehua")) == 1


def test_a_restart_sends_nothing_again(issued, work, runtime, engine, clock):
    at(clock, 11, 29, 18)
    run(work)
    issued.pushes("zhang_dehua")
    restarted = build_runtime(runtime.config, runtime.platform, clock=clock, database=engine)
    run(TimedWork(restarted, SchedulerConfig(), holder="scheduler-a"))
    assert issued.pushed_texts("zhang_dehua") == []


def test_a_second_scheduler_waits_on_the_lease_and_takes_over_when_the_first_stops(issued, runtime, clock):
    first = TimedWork(runtime, SchedulerConfig(), holder="host-1:100")
    second = TimedWork(runtime, SchedulerConfig(), holder="host-2:200")
    assert first.tick() is not None
    assert second.tick() is None
    clock.advance(seconds=90)
    assert first.tick() is not None  # the leader renews its lease
    assert second.tick() is None
    clock.advance(seconds=121)  # the leader died without a word: its lease runs out
    assert second.tick() is not None
    assert first.tick() is None
    second.stop()  # a clean shutdown hands over at once
    assert first.tick() is not None


def test_two_schedulers_at_the_same_moment_remind_once(issued, runtime, engine, clock):
    at(clock, 11, 29, 18)
    works = [
        TimedWork(build_runtime(runtime.config, runtime.platform, clock=clock, database=engine), SchedulerConfig(),
                  holder=f"host-{n}")
        for n in range(2)
    ]  # fmt: skip
    start = threading.Barrier(2)
    results = []

    def tick(work: TimedWork) -> None:
        start.wait()
        results.append(work.tick())

    threads = [threading.Thread(target=tick, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(result is None for result in results) == [False, True]
    works[0].drain()
    assert len(issued.pushed_texts("zhang_dehua")) == 1


def test_a_task_that_takes_no_late_answers_closes_at_its_deadline(chat, work, clock):
    reply = chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村 汉东村 不收迟报 不审核")
    assert "截止后不再接收" in reply
    chat.say("zhang_dehua", "开始")
    at(clock, 11, 30, 18)
    run(work)
    assert "已于11月30日（周六）18:00截止，不再接收报送" in chat.say("zhang_dehua", "120")
    assert "《低保月报》（任务#1）已于11月30日（周六）18:00截止" in chat.say("luo_xiuying", "/待办")
    chat.pushes("zhang_dehua")
    at(clock, 12, 1, 9)
    run(work)
    assert chat.pushed_texts("zhang_dehua") == []  # nothing to remind of
    assert chat.pushed_texts("zhou_jianguo") == []


def test_a_late_answer_completes_the_task_and_the_full_summary_follows(issued, work, clock):
    fill(issued, "luo_xiuying")
    at(clock, 11, 30, 18)
    run(work)
    assert "未报：松林村" in issued.pushed_texts("li_minzheng")[0]
    at(clock, 12, 1, 10)
    fill(issued, "zhang_dehua")
    texts = issued.pushed_texts("li_minzheng")
    assert texts == ["《低保月报》（任务#1）：2/2 已报，本月新增低保户合计 6 户"]


def test_a_task_can_name_its_own_reminder_hours(chat, work, clock):
    reply = chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村 提醒 48小时,3小时 不审核")
    assert "截止前48小时、3小时和截止时提醒未报单位" in reply
    chat.pushes("zhang_dehua")
    at(clock, 11, 28, 18)
    run(work)
    assert "还剩2天" in chat.pushed_texts("zhang_dehua")[0]
    at(clock, 11, 29, 18)  # the default 24 hours is not this task's
    run(work)
    assert chat.pushed_texts("zhang_dehua") == []
    at(clock, 11, 30, 15)
    run(work)
    assert "还剩3小时" in chat.pushed_texts("zhang_dehua")[0]
    assert "没看懂提醒时间“很多次”" in chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 提醒 很多次 不审核")


def issue_anyway(chat, command: str) -> None:
    """Issue a task, confirming when the bot first shows a like one."""
    reply = chat.say("li_minzheng", command)
    if "已发布" not in reply:
        reply = chat.say("li_minzheng", "仍然发布")
    assert "已发布" in reply, reply


def test_when_many_summaries_fall_due_at_once_a_tick_leaves_some_to_the_next_and_reminders_still_go(
    chat, runtime, clock, ledger_without_dibao
):
    """At city size a summary takes seconds: a tick spends at most a third of tick_seconds on them (here nothing,
    so one each tick) and the reminders of that tick are not held up."""
    for village in ("松林村", "汉东村", "石庙村"):
        issue_anyway(chat, f"/发布 低保月报 截止 11月30日18点 范围 {village} 不审核")
    fillers = ("zhang_dehua", "luo_xiuying", "chen_guoping")
    for account in ("li_minzheng", *fillers):
        chat.pushes(account)
    work = TimedWork(runtime, SchedulerConfig(), holder="scheduler-a", heavy_seconds=0)
    at(clock, 12, 1, 9)  # three deadlines passed; the morning reminders of late reports are due
    reports = [run(work)]
    # The first tick, busy with a summary, still sent every filler the reminder due this morning.
    assert all(any("低保月报" in text for text in chat.pushed_texts(account)) for account in fillers)
    reports += [run(work) for _ in range(3)]
    assert [report.closed for report in reports] == [1, 1, 1, 0]
    assert chat.pushed_texts("li_minzheng") == [
        f"《低保月报》（任务#{number}）：0/1 已报，本月新增低保户合计 0 户；未报：{village}"
        for number, village in ((1, "松林村"), (2, "汉东村"), (3, "石庙村"))
    ]
