"""Numbers no one means, typed in chat: each gets a Chinese answer saying what is wrong, never the apology.

On PostgreSQL and MariaDB a number beyond 64 bits raises in the driver, on SQLite in sqlite3: these tests
run on whichever database the suite runs on.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers.forms.builtin import Template
from handlers.forms.fields import Field, FieldType
from handlers.forms.registry import ensure_template
from handlers.texts.commands import INTERNAL_ERROR
from ledger_store.models import Answer

HUGE = "99999999999999999999"
ISSUE = "/发布 低保月报 截止 11月30日18点 范围 松林村"


def test_retrying_a_message_numbered_beyond_any_id_says_it_is_no_failed_message(chat):
    reply = chat.say("admin", f"/投递 重试 {HUGE} #{'1' * 5000}")

    assert reply == (
        f"#{HUGE}、#{'1' * 5000} 不是发送失败的消息（可能已经发出，或编号不对）。回复“/投递”查看发送失败的消息和编号。"
    )


@pytest.mark.parametrize(
    ("condition", "example"),
    [(f"家庭人口>{HUGE}", "家庭人口>3"), (f"家庭人口={HUGE}", "家庭人口=3"), (f"家庭人口=-{HUGE}", "家庭人口=3")],
)
def test_a_ledger_condition_beyond_any_stored_whole_number_is_refused_with_an_example(chat, condition, example):
    typed = condition[5:]
    for command in ("/查询", "/导出"):
        reply = chat.say("li_minzheng", f"{command} 低保对象台账 {condition}")

        assert reply == f"“{typed}”超出了家庭人口可能的范围，请检查后重写，如 {example}。"


def test_a_decimal_condition_far_beyond_any_value_just_matches_nothing_or_everything(chat):
    assert "共 8 条" in chat.say("li_minzheng", f"/查询 低保对象台账 家庭月人均收入<{HUGE}.5")


@pytest.mark.parametrize(
    ("account", "words", "expected"),
    [
        ("li_minzheng", f"/进度 #{HUGE}", f"没有找到任务“{HUGE}”"),
        ("li_minzheng", f"/催报 {HUGE}", f"没有找到任务“{HUGE}”"),
        ("li_minzheng", f"/定时 暂停 {HUGE}", f"没有找到定时#{HUGE}"),
        ("zhang_dehua", f"修改 {HUGE}", "题号要在 1 到 8 之间"),
        ("zhang_dehua", HUGE, "不能超过"),
        ("zhang_dehua", "1" + "0" * 30, "不能超过"),
    ],
)
def test_task_recurrence_question_and_answer_numbers_far_out_of_range_are_answered(
    chat, account, words, expected, ledger_without_dibao
):
    chat.say("li_minzheng", ISSUE)
    chat.say("li_minzheng", "/发布 低保月报 每月25日 截止 次月3日 18:00 范围 松林村")
    chat.say("zhang_dehua", "开始")

    reply = chat.say(account, words)

    assert expected in reply and reply != INTERNAL_ERROR


def test_a_todo_number_of_ten_to_the_thirty_asks_again(chat):
    chat.say("li_minzheng", ISSUE)
    chat.say("li_minzheng", "/发布 残疾人两项补贴情况 截止 11月30日18点 范围 松林村")
    chat.say("zhang_dehua", "/待办")

    reply = chat.say("zhang_dehua", str(10**30))

    assert reply.startswith("请回复 1 到 2 之间的序号")


def test_an_answer_beyond_fifteen_digits_is_refused_and_a_huge_calculation_still_submits(chat, runtime, clock):
    # An issuer's own form without limits: the answer column holds 15 whole digits on every database.
    form = Template(
        "area_survey",
        "耕地面积调查",
        (
            Field("area", "耕地面积", FieldType.INTEGER, unit="亩"),
            Field("square", "面积平方", FieldType.CALCULATE, calculation="${area} * ${area} * ${area}"),
        ),
    )
    with runtime.factory() as session:
        ensure_template(session, form, clock.now().replace(tzinfo=None))
        session.commit()
    chat.say("li_minzheng", "/发布 耕地面积调查 截止 11月30日18点 范围 松林村")
    chat.say("zhang_dehua", "开始")

    reply = chat.say("zhang_dehua", HUGE)

    assert reply.startswith("这个数太大了，最多填 15 位整数") and "第1/1题" in reply
    chat.say("zhang_dehua", "1000000")
    assert "已提交" in chat.say("zhang_dehua", "提交")  # a million cubed has 19 digits: kept as text
    with runtime.factory() as session:
        row = session.scalar(select(Answer).where(Answer.field_name == "square"))
    assert row.text_value == str(10**18) and row.number_value is None


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("截止 9999年12月31日 范围 松林村", "截止时间9999年12月31日（周五）18:00太远了，任务最长366天"),
        ("截止 2026年12月1日 范围 松林村", "太远了"),  # the clock stands at 2024-11-28
        ("截止 明天 范围 松林村 提醒 999999999小时", "提醒时间“999999999小时”太早了，最多提前30天（720小时）"),
        ("截止 明天 范围 松林村 提醒 提前31天", "太早了"),
    ],
)
def test_a_deadline_beyond_a_year_or_a_reminder_beyond_thirty_days_is_refused(chat, words, expected):
    reply = chat.say("li_minzheng", f"/发布 低保月报 {words}")

    assert expected in reply
    assert "已发布" not in chat.say("li_minzheng", "/进度")


def test_a_deadline_within_a_year_and_a_reminder_thirty_days_ahead_are_taken(chat):
    reply = chat.say("li_minzheng", "/发布 低保月报 截止 2025年11月20日 范围 松林村 提醒 提前30天")

    assert "已发布《低保月报》（任务#1），2025年11月20日（周四）18:00截止" in reply
    assert "截止前720小时" in reply
