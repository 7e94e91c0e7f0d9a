"""Numbers no one means, typed in chat: each gets a Chinese answer saying what is wrong, never the apology.

On PostgreSQL and MariaDB a number beyond 64 bits raises in the driver, on SQLite in sqlite3: these tests
run on whichever database the suite runs on.
"""

from __future__ import annotations

import pytest

from handlers.texts.commands import INTERNAL_ERROR

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
