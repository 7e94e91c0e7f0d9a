"""Hostile input to review: numbers no column holds, control characters, a forged button; each fails only itself."""

from __future__ import annotations

from handlers.core.messages import ButtonClick, Incoming
from ledger_store.org import SIMULATOR

DIBAO_ANSWERS = ["确认", "350", "3", "1", "15000", "是", "13908315526", "无"]
HUGE = "9" * 400
APOLOGY = "出了点问题"


def submitted(chat) -> None:
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村")
    chat.say("zhang_dehua", "开始")
    for answer in DIBAO_ANSWERS:
        chat.say("zhang_dehua", answer)
    chat.say("zhang_dehua", "提交")
    chat.pushed_texts("zhou_jianguo")


def test_a_forged_review_button_with_a_400_digit_step_is_declined(chat, runtime):
    submitted(chat)
    click = Incoming(SIMULATOR, "zhou_jianguo", "", message_id="forged", button=ButtonClick("rv" + HUGE, "通过"))
    [reply] = runtime.engine.receive(click)
    assert reply.text == "这份报送已经处理过了，按钮已失效。发 /审核 看还有哪些待审核。"
    assert "已通过" in chat.say("zhou_jianguo", "通过")  # the real one is untouched and still decided as usual


def test_huge_numbers_and_control_characters_in_review_words_get_a_sentence(chat):
    submitted(chat)
    refused = chat.say("zhou_jianguo", f"退回 第{HUGE}题 不对")
    assert refused.startswith("没有第") and "这张表共 8 题" in refused and APOLOGY not in refused
    correction = chat.say("li_minzheng", f"/更正 {HUGE} 松林村 第2题 3")
    assert APOLOGY not in correction
    returned = chat.say("zhou_jianguo", "退回 第2题 人数\x00不对")
    assert returned.startswith("已退回") and APOLOGY not in returned
    assert "原因：人数不对" in chat.pushed_texts("zhang_dehua")[-1]
