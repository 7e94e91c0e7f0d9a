"""Whatever a handler puts in a message, an ID number or a mobile leaves the bot masked.

Direct replies leave through handlers.chat.router, pushes through ledger_store.outbox: both mask at that one exit,
so a sentence that quotes what a person typed (a remark, a reason, a button label) cannot carry a whole number
into a chat. Files a department is granted (the summary workbook) keep the answer exactly as typed.
"""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from ledger_store.models import OutboxMessage
from ledger_store.outbox import Buttons, Option, Push, enqueue, enqueue_many

WHOLE = re.compile(r"(?<!\d)(?:\d{17}[\dXx]|1[3-9]\d{9})(?!\d)")
REMARK = "户主电话13912345678，身份证500118196003138318，已入户核实"
DIBAO_ANSWERS = ["120", "350", "3", "1", "15000", "是", "13908315526"]
MOBILE, ID_NUMBER = "13912345678", "500118196003138318"


@pytest.mark.parametrize(
    ("account", "text", "shown"),
    [
        ("zhang_dehua", f"/{MOBILE}", "没有“/139****5678”这个命令"),
        ("li_minzheng", f"/发布 {MOBILE} 截止 明天 不审核", "没有找到模板“139****5678”"),
        ("li_minzheng", f"/发布 低保月报 截止 {MOBILE} 不审核", "没看懂截止时间“139****5678”"),
        ("li_minzheng", f"/发布 低保月报 截止 明天 范围 {ID_NUMBER} 不审核", "没有找到单位“5001**********8318”"),
        ("admin", f"/台账权限 {ID_NUMBER} 归属 区残联", "没有找到台账“5001**********8318”"),
        ("admin", f"/投递 重试 {MOBILE}", "#139****5678 不是发送失败的消息"),
    ],
)
def test_a_reply_quoting_what_was_typed_masks_the_number(chat, account, text, shown):
    reply = chat.say(account, text)
    assert shown in reply
    assert not WHOLE.search(reply)


def test_a_remark_quoting_numbers_is_masked_in_every_reply_and_kept_whole_in_the_summary(chat, ledger_without_dibao):
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村 不审核")
    chat.say("zhang_dehua", "开始")
    replies = [chat.say("zhang_dehua", answer) for answer in DIBAO_ANSWERS]
    review = chat.say("zhang_dehua", REMARK)
    assert "户主电话139****5678，身份证5001**********8318" in review
    replies += [review, chat.say("zhang_dehua", "上一题"), chat.say("zhang_dehua", REMARK)]
    replies.append(chat.say("zhang_dehua", "提交"))
    assert "已提交" in replies[-1]
    assert [reply for reply in replies if WHOLE.search(reply)] == []
    pushes = chat.pushes("li_minzheng")
    assert [push.text for push in pushes if push.text and WHOLE.search(push.text)] == []
    [workbook] = [push for push in pushes if push.file_bytes]
    rows = list(load_workbook(io.BytesIO(workbook.file_bytes))["汇总"].iter_rows(values_only=True))
    assert dict(zip(rows[0], rows[1], strict=True))["备注"] == REMARK


def test_a_push_queued_with_whole_numbers_is_stored_masked(runtime):
    with runtime.factory() as session, session.begin():
        enqueue(
            session,
            person_id=None,
            user_id="zhang_dehua",
            platform="simulator",
            dedupe_key="one",
            now=runtime.engine.now(),
            text="请核对 13700001234 的户口",
            buttons=Buttons("t", (Option("1", "500118196003138318 张德明"),)),
        )
        enqueue_many(session, [Push(1, "many", "身份证 44011320141005001X 已迁出")], runtime.engine.now())
    with runtime.factory() as session:
        stored = {row.dedupe_key: row for row in session.scalars(select(OutboxMessage))}
    assert stored["one"].text == "请核对 137****1234 的户口"
    # The value is what a click types back; only the label a person reads is masked.
    assert stored["one"].card["options"] == [["1", "5001**********8318 张德明"]]
    assert stored["many"].text == "身份证 4401**********001X 已迁出"
