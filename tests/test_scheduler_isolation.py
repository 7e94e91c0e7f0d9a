"""One task's failure fails only that task: the scheduler's tick goes on with the others, and a submission stands.

The failure is real: a stored answer the summary cannot read (damaged in the database, as data written by an
older release or by hand may be), so building that task's summary raises. Everything else is left as it was.
The clock starts on Thursday 2024-11-28 10:00 (Chongqing).
"""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from bot.config import SchedulerConfig
from ledger_store.models import Answer, AuditEntry, Recurrence, ReportTask
from scheduler.jobs import TickReport, TimedWork

TZ = ZoneInfo("Asia/Shanghai")
DIBAO = ["120", "350", "3", "1", "15000", "是", "13908315526", "跳过", "提交"]
SUBSIDIES = ["12", "3", "15000", "2024-11-20", "1", "1", "110102199101010078", "13908315526", "提交"]


def at(clock, month: int, day: int, hour: int) -> None:
    """Set the clock to a local time in 2024."""
    clock.set(datetime(2024, month, day, hour, tzinfo=TZ).astimezone(UTC))


def fill(chat, account: str, answers: list[str]) -> str:
    """Fill the account's open task; the reply to the last answer."""
    reply = chat.say(account, "开始")
    for answer in answers:
        reply = chat.say(account, answer)
    return reply


def damage(runtime, field_name: str) -> None:
    """Make a submitted several-choice answer unreadable: a number where a list of options belongs."""
    with runtime.factory.begin() as session:
        session.execute(update(Answer).where(Answer.field_name == field_name).values(choices_value=5))


def repair(runtime, field_name: str) -> None:
    """Put the damaged answer back as a list of options."""
    with runtime.factory.begin() as session:
        session.execute(update(Answer).where(Answer.field_name == field_name).values(choices_value=["none"]))


@pytest.fixture
def work(runtime):
    return TimedWork(runtime, SchedulerConfig(), holder="scheduler")


def task_id(runtime, title: str) -> int:
    with runtime.factory() as session:
        return session.scalar(select(ReportTask.id).where(ReportTask.title == title))


def test_a_task_whose_summary_fails_does_not_stop_the_other_deadlines_and_reminders(chat, runtime, work, clock, caplog):
    chat.say("wang_canlian", "/发布 残疾人两项补贴情况 截止 11月30日18点 范围 松林村 汉东村 不审核")
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 石庙村 不审核")
    assert "已提交" in fill(chat, "zhang_dehua", SUBSIDIES)
    damage(runtime, "issues_found")
    broken = task_id(runtime, "残疾人两项补贴情况")
    for account in ("wang_canlian", "li_minzheng", "luo_xiuying", "chen_guoping"):
        chat.pushes(account)

    at(clock, 11, 30, 18)
    with caplog.at_level(logging.ERROR, logger="scheduler.jobs"):
        report = work.tick()
    work.drain()
    assert report == TickReport(issued=0, closed=1, reminded=2, summaries=0, failed=1)
    [failure] = [record for record in caplog.records if record.name == "scheduler.jobs"]
    assert f"the deadline of task {broken} failed" in failure.getMessage() and failure.exc_info

    digest, summary = chat.pushes("li_minzheng")  # the other department's deadline closed
    assert digest.text.startswith("《低保月报》（任务#2）：0/1 已报") and summary.file_name.startswith("低保月报汇总_")
    assert "已到截止时间" in chat.pushed_texts("chen_guoping")[0]  # its filler was reminded
    assert "已到截止时间" in chat.pushed_texts("luo_xiuying")[0]  # and so was the broken task's
    assert chat.pushes("wang_canlian") == []  # the broken summary did not go out half-made

    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="scheduler.jobs"):
        assert work.tick().failed == 1  # tried again, still broken, still alone
    work.drain()
    assert chat.pushes("li_minzheng") == [] and chat.pushes("chen_guoping") == []  # nothing sent twice

    repair(runtime, "issues_found")
    assert work.tick() == TickReport(issued=0, closed=1, reminded=0)
    work.drain()
    digest, summary = chat.pushes("wang_canlian")
    assert digest.text.startswith("《残疾人两项补贴情况》（任务#1）：1/2 已报") and "未报：汉东村" in digest.text
    with runtime.factory() as session:
        audited = session.scalars(select(AuditEntry.entity_id).where(AuditEntry.action == "deadline")).all()
        assert sorted(audited) == sorted([str(broken), str(task_id(runtime, "低保月报"))])  # each closed once


def test_the_last_submission_stands_when_its_summary_fails_and_the_summary_follows(chat, runtime, work, caplog):
    chat.say("wang_canlian", "/发布 残疾人两项补贴情况 截止 11月30日18点 范围 松林村 汉东村 不审核")
    assert "已提交" in fill(chat, "zhang_dehua", SUBSIDIES)
    damage(runtime, "issues_found")
    chat.pushes("wang_canlian")

    with caplog.at_level(logging.ERROR):
        reply = fill(chat, "luo_xiuying", SUBSIDIES)
    assert reply == "《残疾人两项补贴情况》（任务#1）已提交，谢谢！"  # the cadre is done: no apology, nothing to redo
    assert "残疾人两项补贴情况" not in chat.say("luo_xiuying", "/待办")
    broken = task_id(runtime, "残疾人两项补贴情况")
    assert any(f"summary of task {broken} could not be built" in r.getMessage() for r in caplog.records)
    assert chat.pushes("wang_canlian") == []
    assert "2/2" in chat.say("wang_canlian", "/进度")

    with caplog.at_level(logging.ERROR, logger="scheduler.jobs"):
        assert work.tick().failed == 1  # the scheduler keeps trying, and says which task
    assert f"the owed summary of task {broken} failed" in caplog.records[-1].getMessage()

    repair(runtime, "issues_found")
    assert work.tick().summaries == 1
    work.drain()
    digest, summary = chat.pushes("wang_canlian")
    assert digest.text.startswith("《残疾人两项补贴情况》（任务#1）：2/2 已报")
    rows = list(load_workbook(io.BytesIO(summary.file_bytes))["汇总"].iter_rows(values_only=True))
    assert [row[2] for row in rows[1:3]] == ["张德华", "罗秀英"]
    assert work.tick().summaries == 0  # sent once


def test_a_recurrence_that_fails_does_not_keep_the_others_from_issuing(chat, runtime, work, clock, caplog):
    assert "每月25日" in chat.say("li_minzheng", "/发布 低保月报 每月25日 截止 次月3日 18:00 范围 松林村 不审核")
    other = chat.say("wang_canlian", "/发布 残疾人两项补贴情况 每月25日 截止 次月3日 18:00 范围 汉东村 不审核")
    assert "每月25日" in other
    with runtime.factory.begin() as session:
        broken = session.scalar(select(Recurrence).order_by(Recurrence.id).limit(1))  # 区民政局's
        broken.issue_time = "25:99"  # a stored time no release could read
        broken_id = broken.id
    chat.pushes("zhang_dehua")
    chat.pushes("luo_xiuying")

    at(clock, 12, 25, 9)
    with caplog.at_level(logging.ERROR, logger="scheduler.jobs"):
        report = work.tick()
    work.drain()
    assert (report.issued, report.failed) == (1, 1)
    assert f"issuing a period of recurrence {broken_id} failed" in caplog.records[-1].getMessage()
    assert any("残疾人两项补贴情况" in text for text in chat.pushed_texts("luo_xiuying"))
    assert chat.pushed_texts("zhang_dehua") == []

    with runtime.factory.begin() as session:
        session.get(Recurrence, broken_id).issue_time = "09:00"
    assert work.tick().issued == 1  # tried again at the next tick, and the period is not lost
    work.drain()
    assert any("低保月报" in text for text in chat.pushed_texts("zhang_dehua"))
    assert work.tick().issued == 0
