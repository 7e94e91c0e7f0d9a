"""Burden figures (填报负担): what each report asked of the grassroots, in /统计 and in the summary workbook."""

from __future__ import annotations

import io

from openpyxl import load_workbook

BASICS = "/发布 村社区基本情况 截止 11月30日18点 范围 松林村 石庙村 不审核"


def fill_basics(chat, clock) -> None:
    """松林村 confirms the ledger's five values in two minutes; 石庙村 confirms two and answers three in six."""
    chat.say("zhang_dehua", "开始")
    clock.advance(minutes=2)
    for answer in ("确认", "跳过", "提交"):
        chat.say("zhang_dehua", answer)
    chat.say("chen_guoping", "开始")
    clock.advance(minutes=6)
    for answer in ("确认", "2", "赵大海", "13983041277", "跳过", "提交"):
        chat.say("chen_guoping", answer)


def test_stats_of_one_task_count_questions_ledger_values_and_minutes(chat, clock):
    chat.say("li_minzheng", BASICS)
    assert chat.say("li_minzheng", "/统计 1") == "《村社区基本情况》#1：还没有人提交。"
    fill_basics(chat, clock)
    reply = chat.say("li_minzheng", "/统计 1")
    assert reply == "《村社区基本情况》#1：2 份报送共问了 5 题，台账带出 7 项（7 项确认无变化），一般用时约 4 分钟。"


def test_stats_without_a_task_cover_the_department_s_last_30_days(chat, clock):
    chat.say("li_minzheng", BASICS)
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 汉东村 不审核")
    fill_basics(chat, clock)
    # The ledger knows 汉东村's 在保低保户数: confirmed, then the other seven questions.
    for answer in ("开始", "确认", "350", "3", "1", "15000", "是", "13908315526", "跳过", "提交"):
        chat.say("luo_xiuying", answer)
    reply = chat.say("li_minzheng", "/stats")
    assert reply.startswith("近 30 天发布 2 项任务，3 份报送共问了 12 题，台账带出 8 项（8 项确认无变化）")
    assert "《低保月报》#2：1 份报送共问了 7 题，台账带出 1 项（1 项确认无变化）" in reply
    assert "《村社区基本情况》#1：2 份报送共问了 5 题" in reply
    assert chat.say("wang_canlian", "/统计") == "近 30 天您的部门没有发布任务。"
    assert "需要发布员权限" in chat.say("zhang_dehua", "/统计")


def test_the_summary_has_a_burden_sheet_and_its_digest_says_what_the_ledger_spared(chat, clock):
    chat.say("li_minzheng", BASICS)
    fill_basics(chat, clock)
    digest, summary = chat.pushes("li_minzheng")
    assert digest.text == "《村社区基本情况》（任务#1）：2/2 已报，户籍人口合计 2215 人；台账带出 7 项，实际问了 5 题"
    sheet = load_workbook(io.BytesIO(summary.file_bytes))["填报负担"]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows == [
        ["序号", "单位", "填报人", "问了几题", "台账带出", "确认无变化", "用时（分钟）"],
        [1, "永川区/朱沱镇/松林村", "张德华", 1, 5, 5, 2],
        [2, "永川区/朱沱镇/石庙村", "陈国平", 4, 2, 2, 6],
        [None, "合计", None, 5, 7, 7, None],
    ]
