"""Text stays as typed, and what no database or workbook can hold is dropped where a message comes in.

Commands, control words, numbers and options are recognised in full-width as well (／帮助, １２０, ２), but a text
answer reaches the department exactly as the cadre typed it: `退出，已入户核实。` keeps its full-width comma.
Run on PostgreSQL too (YBT_TEST_DATABASE_URL): there a NUL in an answer used to make every 提交 fail.
"""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from handlers.core.messages import Incoming
from ledger_store.models import Answer, InboundMessage, RosterRow
from ledger_store.org import SIMULATOR

# 低保月报's first seven answers; the eighth (备注) is the text under test.
FULL_WIDTH_ANSWERS = ["１２０", "３５０", "３", "１", "１５０００", "是", "１３９０８３１５５２６"]


def report_with_remark(chat, remark: str) -> str:
    """张德华 fills 低保月报 for 松林村 with full-width numbers and `remark` as 备注; the review."""
    chat.say("li_minzheng", "／发布 低保月报 截止 11月30日18点 范围 松林村 不审核")
    assert "第1/8题" in chat.say("zhang_dehua", "开始")
    for answer in FULL_WIDTH_ANSWERS:
        chat.say("zhang_dehua", answer)
    return chat.say("zhang_dehua", remark)


def summary_row(chat) -> dict[str, object]:
    """The 汇总 sheet's row for 松林村, by header, from the workbook pushed to 李敏正."""
    [workbook] = [push for push in chat.pushes("li_minzheng") if push.file_bytes]
    rows = list(load_workbook(io.BytesIO(workbook.file_bytes))["汇总"].iter_rows(values_only=True))
    return dict(zip(rows[0], rows[1], strict=True))


@pytest.mark.parametrize("remark", ["退出，已入户核实。", "ＡＢＣ　１２", "２"])
def test_a_text_answer_reaches_the_summary_exactly_as_typed(chat, runtime, remark, ledger_without_dibao):
    review = report_with_remark(chat, remark)
    assert f"8. 备注：{remark}" in review
    assert "已提交" in chat.say("zhang_dehua", "提交")
    row = summary_row(chat)
    assert row["备注"] == remark
    assert row["在保低保户数（户）"] == 120 and row["填报人手机号"] == "13908315526"  # full-width numbers were read
    with runtime.factory() as session:
        assert session.scalar(select(Answer.text_value).where(Answer.field_name == "remarks")) == remark


def test_full_width_commands_control_words_and_options_still_work(chat):
    assert "可以使用" in chat.say("zhang_dehua", "／帮助")
    chat.say("wang_canlian", "/发布 残疾人两项补贴 截止 12月5日 范围 石庙村 不审核")
    chat.say("chen_guoping", "开始")
    for answer in ("１２", "５", "８６００", "２０２４年１１月２０日"):
        chat.say("chen_guoping", answer)
    assert "第6/8题" in chat.say("chen_guoping", "２")  # 发放方式: option 2
    assert "当前答案：银行卡" in chat.say("chen_guoping", "上一题")
    assert "第6/8题" in chat.say("chen_guoping", "跳过　")  # a full-width space after a control word
    assert "第7/8题" in chat.say("chen_guoping", "２、４")
    assert "第5/8题" in chat.say("chen_guoping", "修改　５")
    assert "第7/8题" in chat.say("chen_guoping", "１")
    chat.say("chen_guoping", "４４０１１３２０１４１００５００１ｘ")  # a full-width ID number
    review = chat.say("chen_guoping", "１３８９６４７５１０２")
    assert "发放方式：社保卡" in review and "核查发现的问题：对象已死亡、重复享受" in review
    assert "4401**********001X" in review and "138****5102" in review


def test_a_roster_name_typed_in_chat_is_kept_as_typed(chat, runtime):
    chat.say("wang_canlian", "/发布 两项补贴花名册 截止 11月30日18点 范围 松林村 不审核")
    chat.say("zhang_dehua", "开始")
    chat.say("zhang_dehua", "全部确认")
    chat.say("zhang_dehua", "添加")
    for answer in ("１１０１０１１９９００３０７００１１", "欧阳　小红", "３", "１"):
        listing = chat.say("zhang_dehua", answer)
    assert "4. 1101**********0011 欧阳　小红 三级 困难残疾人生活补贴（新增）" in listing
    chat.say("zhang_dehua", "完成")
    chat.say("zhang_dehua", "13908315526")
    chat.say("zhang_dehua", "提交")
    with runtime.factory() as session:
        [row] = session.scalars(select(RosterRow).where(RosterRow.status == "added"))
    assert row.values["member_name"] == "欧阳　小红" and row.values["member_id"] == "110101199003070011"


# Control characters are dropped where a message comes in


@pytest.mark.parametrize("control", ["\x00", "\x01", "\x1f", "\x7f", "\x85"])
def test_a_control_character_in_an_answer_is_dropped_and_submit_and_summary_work(
    chat, runtime, control, ledger_without_dibao
):
    review = report_with_remark(chat, f"备注{control}内容")
    assert "8. 备注：备注内容" in review
    assert "已提交" in chat.say("zhang_dehua", "提交")
    assert summary_row(chat)["备注"] == "备注内容"
    with runtime.factory() as session:
        assert session.scalar(select(Answer.text_value).where(Answer.field_name == "remarks")) == "备注内容"


def test_control_characters_do_not_hide_a_command_or_a_number(chat, ledger_without_dibao):
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村 不审核")
    assert "可以使用" in chat.say("zhang_dehua", "\x00/帮助")
    chat.say("zhang_dehua", "开始")
    assert "第2/8题" in chat.say("zhang_dehua", "1\x0120")
    assert "当前答案：120" in chat.say("zhang_dehua", "上一\x00题")


def test_a_message_of_control_characters_only_is_an_empty_message(chat):
    assert chat.say("zhang_dehua", "\x00\x01\x02") == "没有收到文字内容，请直接回复文字。"


def test_line_breaks_and_tabs_stay_text_and_never_split_a_word(chat, runtime, ledger_without_dibao):
    review = report_with_remark(chat, "第一行\r\n第二行\t完")
    assert "8. 备注：第一行\n第二行 完" in review
    chat.say("zhang_dehua", "提交")
    assert summary_row(chat)["备注"] == "第一行\n第二行 完"


def test_a_message_stored_to_handle_later_is_stored_without_control_characters(chat, runtime, ledger_without_dibao):
    """The WeCom path: the message is stored before it is handled; a NUL would make PostgreSQL refuse the row."""
    report_with_remark(chat, "跳过")
    engine = runtime.engine
    assert engine.accept(Incoming(SIMULATOR, "zhang_dehua", "修改 8", message_id="m-1"))
    assert engine.accept(Incoming(SIMULATOR, "zhang_dehua", "备注\x00内容", message_id="m-2"))
    assert engine.accept(Incoming(SIMULATOR, "zhang_dehua", "提交", message_id="m-3"))
    assert runtime.process_pending() == 3
    with runtime.factory() as session:
        stored = session.scalars(
            select(InboundMessage.payload)
            .where(InboundMessage.message_key.in_(["m-1", "m-2", "m-3"]))
            .order_by(InboundMessage.id)
        ).all()
        remark = session.scalar(select(Answer.text_value).where(Answer.field_name == "remarks"))
    assert [payload["text"] for payload in stored] == ["修改 8", "备注内容", "提交"]
    assert remark == "备注内容"
