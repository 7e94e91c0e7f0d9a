"""Where reviewed reports stand, and reviewers kept moving: /进度 counts each state and names the units waiting
on a reviewer, /待办 shows a filler what came back to her, a reviewer is reminded once of what waited too long,
the deadline's digest names who holds submissions up, and /统计 and the 填报负担 sheet measure the review.

The clock starts on Thursday 2024-11-28 10:00 (Chongqing); tests move it and run the scheduler's work by hand.
"""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from bot.config import ReviewConfig, SchedulerConfig, load_config
from ledger_store.org_import import import_org
from scheduler.jobs import TimedWork

TZ = ZoneInfo("Asia/Shanghai")
ISSUE = "/发布 低保月报 截止 11月30日18点 范围 松林村 汉东村 石庙村"
DIBAO = ["120", "350", "3", "1", "15000", "是", "13908315526", "跳过", "提交"]


def at(clock, month: int, day: int, hour: int, minute: int = 0) -> None:
    """Set the clock to a local time in 2024."""
    clock.set(datetime(2024, month, day, hour, minute, tzinfo=TZ).astimezone(UTC))


def fill(chat, account: str) -> str:
    """The whole 低保月报 answered and submitted; the reply to 提交."""
    for answer in ["开始", *DIBAO]:
        reply = chat.say(account, answer)
    return reply


@pytest.fixture
def issued(chat, ledger_without_dibao):
    chat.say("li_minzheng", ISSUE)
    for account in ("li_minzheng", "zhou_jianguo", "zhang_dehua", "luo_xiuying", "chen_guoping"):
        chat.pushes(account)
    return chat


@pytest.fixture
def work(runtime):
    return TimedWork(runtime, SchedulerConfig(), holder="scheduler")


def run(work: TimedWork) -> None:
    """One tick of the timed work and one drain of the outbox, as the scheduler's jobs do."""
    work.tick()
    work.drain()


def test_progress_counts_each_state_and_names_the_units_waiting_on_a_reviewer_oldest_first(issued, clock):
    chat = issued
    fill(chat, "zhang_dehua")
    clock.advance(hours=3)
    fill(chat, "luo_xiuying")
    chat.say("chen_guoping", "开始")
    chat.say("chen_guoping", "120")
    clock.advance(hours=2)

    assert chat.say("li_minzheng", "/进度") == (
        "《低保月报》#1：已通过 0/3，11月30日（周六）18:00截止（还剩2天3小时）。\n"
        "未开始 0，填写中 1，待审核 2，已退回 0，已通过 0。\n"
        "等审核（等得最久的在前）：\n"
        "· 永川区/朱沱镇/松林村 张德华：等朱沱镇审核，已等5小时\n"
        "· 永川区/朱沱镇/汉东村 罗秀英：等朱沱镇审核，已等2小时\n"
        "未报：\n"
        "· 永川区/朱沱镇/石庙村 陈国平（填到第2/8题）"
    )

    chat.say("zhou_jianguo", "/审核")
    assert "已退回" in chat.say("zhou_jianguo", "退回 第3题 户数不对")  # the oldest: 松林村
    assert "已通过" in chat.say("zhou_jianguo", "通过")  # then 汉东村
    assert chat.say("li_minzheng", "/进度 1") == (
        "《低保月报》#1：已通过 1/3，11月30日（周六）18:00截止（还剩2天3小时）。\n"
        "未开始 0，填写中 1，待审核 0，已退回 1，已通过 1。\n"
        "未报：\n"
        "· 永川区/朱沱镇/松林村 张德华（已退回）\n"
        "· 永川区/朱沱镇/石庙村 陈国平（填到第2/8题）"
    )


def test_progress_lists_at_most_15_waiting_units_like_the_missing_ones(chat, runtime, clock, tmp_path):
    rows = "".join(f"新村{n},朱沱镇,村,填报员{n},filler_{n},填报员\n" for n in range(1, 17))
    path = tmp_path / "villages.csv"
    path.write_text("单位,上级单位,层级,姓名,账号,角色\n" + rows, encoding="utf-8")
    with runtime.factory.begin() as session:
        assert import_org(session, path).errors == []
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 " + " ".join(f"新村{n}" for n in range(1, 17)))
    for n in range(1, 17):
        fill(chat, f"filler_{n}")
        clock.advance(minutes=1)

    lines = chat.say("li_minzheng", "/进度").split("\n")
    assert lines[1] == "未开始 0，填写中 0，待审核 16，已退回 0，已通过 0。"
    assert lines[3] == "· 永川区/朱沱镇/新村1 填报员1：等朱沱镇审核，已等16分钟"
    assert lines[17] == "· 永川区/朱沱镇/新村15 填报员15：等朱沱镇审核，已等2分钟"
    assert lines[18:] == ["……另有1个单位等审核，完整名单见“/汇总 1”的“未报送”表。"]


def test_a_task_with_department_acceptance_counts_待验收_and_names_the_department(chat, ledger_without_dibao, clock):
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村 审核 区级")
    fill(chat, "zhang_dehua")
    chat.say("zhou_jianguo", "通过")
    clock.advance(minutes=35)

    reply = chat.say("li_minzheng", "/进度")
    assert "未开始 0，填写中 0，待审核 0，待验收 1，已退回 0，已通过 0。" in reply
    assert "· 永川区/朱沱镇/松林村 张德华：等区民政局验收，已等35分钟" in reply
    assert "未报" not in reply
    chat.say("li_minzheng", "通过")
    assert chat.say("li_minzheng", "/进度").endswith("已通过 1。\n全部已通过。")


def test_a_task_without_review_keeps_its_progress_as_it_was(chat, ledger_without_dibao):
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村 汉东村 不审核")
    fill(chat, "zhang_dehua")

    assert chat.say("li_minzheng", "/进度") == (
        "《低保月报》#1：已报 1/2，11月30日（周六）18:00截止（还剩2天8小时）。\n"
        "未报：\n"
        "· 永川区/朱沱镇/汉东村 罗秀英（未开始）"
    )


def test_todo_tells_a_filler_her_returned_report_waits_on_her_and_why(issued, clock):
    chat = issued
    fill(chat, "zhang_dehua")
    chat.say("zhou_jianguo", "退回 第3题 第5题 户数与台账不符")

    assert chat.say("zhang_dehua", "/待办") == (
        "您的待办：\n"
        "1. 《低保月报》（任务#1）已退回：户数与台账不符，请改正后重新提交；11月30日（周六）18:00截止（还剩2天8小时）\n"
        "回复“开始”填写。"
    )


def test_a_reviewer_is_reminded_once_of_what_waited_a_day_in_one_message(issued, work, clock):
    chat = issued
    fill(chat, "zhang_dehua")  # Thursday 10:00
    clock.advance(hours=1)
    fill(chat, "luo_xiuying")  # Thursday 11:00
    chat.pushes("zhou_jianguo")  # the two review requests

    at(clock, 11, 29, 9, 59)
    run(work)
    assert chat.pushed_texts("zhou_jianguo") == []  # not a day yet

    at(clock, 11, 29, 11)
    run(work)
    assert chat.pushed_texts("zhou_jianguo") == [
        "提醒：以下 2 份报送等您审核已超过 24 小时：\n"
        "· 永川区/朱沱镇/松林村 张德华 提交的《低保月报》（任务#1）（待审核，已等25小时）\n"
        "· 永川区/朱沱镇/汉东村 罗秀英 提交的《低保月报》（任务#1）（待审核，已等24小时）\n"
        "发 /审核 逐份处理。"
    ]
    run(work)
    clock.advance(hours=5)
    run(work)
    assert chat.pushed_texts("zhou_jianguo") == []  # never twice
    assert chat.pushed_texts("li_minzheng") == [] and chat.pushed_texts("hu_xiaoyan") == []

    fill(chat, "chen_guoping")  # Friday 16:00
    chat.pushes("zhou_jianguo")
    at(clock, 11, 30, 16)
    run(work)
    [later] = chat.pushed_texts("zhou_jianguo")
    assert later.startswith("提醒：以下 1 份报送等您审核已超过 24 小时：\n· 永川区/朱沱镇/石庙村 陈国平")
    assert later.endswith("另有 2 份也在等您处理。发 /审核 逐份处理。")


def test_no_reminder_in_quiet_hours_it_waits_for_their_end(issued, work, clock):
    chat = issued
    at(clock, 11, 28, 23, 30)
    fill(chat, "zhang_dehua")
    fill(chat, "luo_xiuying")
    chat.say("zhou_jianguo", "/审核")
    chat.say("zhou_jianguo", "退回 第3题 户数不对")  # 松林村 decided within the day: nothing to remind of
    chat.pushes("zhou_jianguo")

    at(clock, 11, 29, 23, 30)
    run(work)
    at(clock, 11, 30, 7, 59)
    run(work)
    assert chat.pushed_texts("zhou_jianguo") == []

    at(clock, 11, 30, 8)
    run(work)
    [reminder] = chat.pushed_texts("zhou_jianguo")
    assert "以下 1 份" in reminder and "汉东村 罗秀英" in reminder and "松林村" not in reminder


def test_a_department_is_reminded_of_the_town_reports_it_reviews(chat, ledger_without_dibao, work, clock):
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 朱沱镇")
    fill(chat, "hu_xiaoyan")  # a town's own report: the department reviews it
    chat.pushes("li_minzheng")

    clock.advance(hours=24)
    run(work)
    assert chat.pushed_texts("li_minzheng") == [
        "提醒：以下 1 份报送等您审核已超过 24 小时：\n"
        "· 永川区/朱沱镇 胡晓燕 提交的《低保月报》（任务#1）（待审核，已等24小时）\n"
        "发 /审核 逐份处理。"
    ]
    assert chat.pushed_texts("zhou_jianguo") == []


def test_the_waiting_time_before_a_reminder_comes_from_the_configuration(runtime, issued, clock, tmp_path):
    path = tmp_path / "bot.toml"
    path.write_text("[review]\nremind_after_hours = 2\n", encoding="utf-8")
    assert load_config(path, environ={}).review == ReviewConfig(remind_after_hours=2)
    runtime.config = replace(runtime.config, review=ReviewConfig(remind_after_hours=2))
    work = TimedWork(runtime, SchedulerConfig(), holder="scheduler")
    fill(issued, "zhang_dehua")
    issued.pushes("zhou_jianguo")

    clock.advance(hours=1, minutes=59)
    run(work)
    assert issued.pushed_texts("zhou_jianguo") == []
    clock.advance(minutes=1)
    run(work)
    [reminder] = issued.pushed_texts("zhou_jianguo")
    assert reminder.startswith("提醒：以下 1 份报送等您审核已超过 2 小时：")


def test_the_deadline_digest_names_the_reviewers_holding_submissions_up(chat, ledger_without_dibao, work, clock):
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 朱沱镇 松林村 汉东村 石庙村")
    for account in ("zhang_dehua", "luo_xiuying", "hu_xiaoyan"):
        fill(chat, account)
    chat.pushes("li_minzheng")

    at(clock, 11, 30, 18)
    run(work)
    digest = next(m.text for m in chat.pushes("li_minzheng") if m.text and m.text.startswith("《低保月报》"))
    assert digest == (
        "《低保月报》（任务#1）：0/4 已报，本月新增低保户合计 0 户；未报：石庙村；"
        "待审核：朱沱镇（周建国）2份，区民政局（李敏正）1份"
    )


def test_stats_and_the_burden_sheet_measure_the_review_after_one_return(chat, ledger_without_dibao, clock):
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村 汉东村")
    chat.say("zhang_dehua", "开始")
    clock.advance(minutes=4)
    for answer in DIBAO:
        chat.say("zhang_dehua", answer)  # 10:04, after 4 minutes
    chat.say("luo_xiuying", "开始")
    clock.advance(minutes=6)
    for answer in DIBAO:
        chat.say("luo_xiuying", answer)  # 10:10, after 6 minutes
    clock.advance(hours=2)
    chat.say("zhou_jianguo", "/审核")
    chat.say("zhou_jianguo", "退回 第3题 第5题 户数不对")  # 松林村, 12:10
    chat.say("zhou_jianguo", "通过")  # 汉东村, two hours after its 提交
    clock.advance(hours=1)
    for answer in ("开始", "4", "16000", "提交"):
        chat.say("zhang_dehua", answer)  # 13:10: the filling time stays the first round's
    clock.advance(minutes=54)
    chat.pushes("li_minzheng")
    chat.say("zhou_jianguo", "通过")  # 松林村, four hours after its first 提交

    assert chat.say("li_minzheng", "/统计 1") == (
        "《低保月报》#1：2 份报送共问了 16 题，台账带出 0 项（0 项确认无变化），一般用时约 5 分钟。"
        "审核：退回 1 次（平均每份 0.5 次），退回重填 2 题，从首次提交到通过一般约 3 小时。"
    )
    assert "审核：退回 1 次（平均每份 0.5 次），退回重填 2 题" in chat.say("li_minzheng", "/统计").split("\n")[0]
    [summary] = [m for m in chat.pushes("li_minzheng") if m.file_name]
    rows = [list(row) for row in load_workbook(io.BytesIO(summary.file_bytes))["填报负担"].iter_rows(values_only=True)]
    assert rows == [
        [
            "序号",
            "单位",
            "填报人",
            "问了几题",
            "台账带出",
            "确认无变化",
            "用时（分钟）",
            "退回次数",
            "退回重填题数",
            "提交到通过（小时）",
        ],  # fmt: skip
        [1, "永川区/朱沱镇/松林村", "张德华", 8, 0, 0, 4, 1, 2, 4],
        [2, "永川区/朱沱镇/汉东村", "罗秀英", 8, 0, 0, 6, 0, 0, 2],
        [None, "合计", None, 16, 0, 0, None, 1, 2, None],
    ]


def test_a_return_of_the_whole_form_counts_every_question_as_reopened(chat, ledger_without_dibao):
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村")
    fill(chat, "zhang_dehua")
    chat.say("zhou_jianguo", "退回 请全部核对")

    assert chat.say("li_minzheng", "/统计 1").endswith("审核：退回 1 次（平均每份 1 次），退回重填 8 题。")
