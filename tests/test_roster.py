"""Rosters (花名册): a list task pre-filled from the ledger, checked row by row in chat or as a workbook sent back.

The demo's 残疾人台账 has 刘大贵, 陈小芳 and 王德明 in 松林村, and 赵桂英 and 周小兵
in 汉东村. The built-in 两项补贴花名册 asks, per person: 身份证号, 姓名, 残疾等级, 享受补贴; then the filler's mobile.
"""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from bot.runtime import build_runtime
from handlers.core.messages import ButtonClick, Incoming
from ledger_store.ledger_import import import_ledger
from ledger_store.ledgers import get_ledger, get_record, history
from ledger_store.models import Form, FormVersion, RosterRow, StoredFile, Submission
from ledger_store.org import SIMULATOR

LIU, CHEN, WANG = "500118195803120218", "500118197209050447", "500118198501170635"
NEW_PERSON = "110101199003070011"  # a valid ID number the ledger does not know


@pytest.fixture
def roster(chat):
    """两项补贴花名册 issued to 松林村, 张德华 at its first row."""
    chat.say("wang_canlian", "/发布 两项补贴花名册 截止 11月30日18点 范围 松林村 不审核")
    first = chat.say("zhang_dehua", "开始")
    assert "【残疾人名单】第1/3行（从台账带出，还有3行待核对）" in first
    assert "5001**********0218" in first and "刘大贵" in first and LIU not in first
    chat.pushes("zhang_dehua")  # the task's announcement
    return chat


def rows_of(runtime) -> list[tuple[int, str, dict]]:
    with runtime.factory() as session:
        return [(r.position, r.status, r.values) for r in session.scalars(select(RosterRow).order_by(RosterRow.id))]


def test_rows_are_confirmed_changed_removed_and_added_and_the_ledger_learns_it(roster, runtime):
    assert "第2/3行" in roster.say("zhang_dehua", "确认")
    assert "第2行 · 第1/4项" in roster.say("zhang_dehua", "修改")
    roster.say("zhang_dehua", "跳过")
    assert "当前答案：一级" in roster.say("zhang_dehua", "跳过")
    roster.say("zhang_dehua", "二级")
    assert "第3/3行" in roster.say("zhang_dehua", "跳过")
    listing = roster.say("zhang_dehua", "删除")
    assert "共 2 行（无变化 1 行、已修改 1 行、删除 1 行）" in listing and "回复“完成”继续" in listing
    assert "第4行 · 第1/4项" in roster.say("zhang_dehua", "添加")
    for answer in (NEW_PERSON, "孙小红", "3", "1"):
        listing = roster.say("zhang_dehua", answer)
    assert "4. 1101**********0011 孙小红 三级 困难残疾人生活补贴（新增）" in listing
    assert "第2/2题" in roster.say("zhang_dehua", "完成")
    review = roster.say("zhang_dehua", "13908315526")
    assert "1. 残疾人名单：3 行（无变化 1 行、已修改 1 行、新增 1 行、删除 1 行）" in review
    assert "已提交" in roster.say("zhang_dehua", "提交")

    assert [(position, status) for position, status, _ in rows_of(runtime)] == [
        (1, "kept"), (2, "changed"), (3, "removed"), (4, "added"),
    ]  # fmt: skip
    with runtime.factory() as session:
        ledger = get_ledger(session, "disabled_people")
        [change] = history(session, ledger, CHEN, "disability_grade")[-1:]
        assert (change.old, change.new, change.source) == ("一级", "二级", "任务#1《两项补贴花名册》")
        added = get_record(session, ledger, NEW_PERSON)
        assert added.values["name"] == "孙小红" and added.org_unit_id == get_record(session, ledger, LIU).org_unit_id
        assert get_record(session, ledger, WANG) is not None  # off this roster, still in the ledger
        submission = session.scalar(select(Submission))
        assert (submission.asked_count, submission.prefilled_count, submission.confirmed_count) == (3, 3, 1)


def test_all_rows_can_be_confirmed_at_once_but_not_skipped(roster):
    assert "第2/3行" in roster.say("zhang_dehua", "确认")
    refusal = roster.say("zhang_dehua", "完成")
    assert "还有 2 行没有核对" in refusal and "第2/3行" in refusal
    listing = roster.say("zhang_dehua", "全部确认")
    assert "共 3 行（无变化 3 行）" in listing
    assert "第2/2题" in roster.say("zhang_dehua", "完成")


def test_a_wrong_value_in_a_row_is_refused_and_the_same_field_asked_again(roster):
    roster.say("zhang_dehua", "修改 1")
    reply = roster.say("zhang_dehua", "500118195803120219")
    assert "校验位不对" in reply and "第1行 · 第1/4项" in reply
    duplicate = roster.say("zhang_dehua", CHEN)
    assert "名单第 2 行已经是这个人了" in duplicate and "第1行 · 第1/4项" in duplicate
    assert "第1行 · 第2/4项" in roster.say("zhang_dehua", "跳过")
    assert "必填的，不能跳过" not in roster.say("zhang_dehua", "跳过")  # 刘大贵's name is kept


def test_a_row_number_outside_the_roster_is_named(roster):
    reply = roster.say("zhang_dehua", "删除 9")
    assert "请写明第几行" in reply and "1 到 3" in reply and "第1/3行" in reply


def test_the_roster_goes_out_as_a_workbook_and_comes_back_edited(roster, runtime):
    assert "花名册已作为 Excel 文件发给您" in roster.say("zhang_dehua", "表格")
    [push] = roster.pushes("zhang_dehua")
    assert push.file_name == "残疾人名单花名册_20241128-100000.xlsx"
    book = load_workbook(io.BytesIO(push.file_bytes))
    sheet = book.active
    lines = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert lines[0] == ["身份证号", "姓名", "残疾等级", "享受补贴"]
    assert lines[1] == [LIU, "刘大贵", "二级", "困难残疾人生活补贴"]
    assert len(lines) == 4
    sheet["C3"] = "二级"  # 陈小芳 from 一级
    sheet.delete_rows(4)  # 王德明 leaves the list
    sheet.append([NEW_PERSON, "孙小红", "三级", "困难残疾人生活补贴"])
    edited = io.BytesIO()
    book.save(edited)
    reply = roster.send_file("zhang_dehua", "残疾人名单花名册.xlsx", edited.getvalue())
    assert "已按表格更新花名册：无变化 1 行、已修改 1 行、新增 1 行、删除 1 行" in reply
    assert "第2/2题" in roster.say("zhang_dehua", "完成")
    roster.say("zhang_dehua", "13908315526")
    roster.say("zhang_dehua", "提交")
    statuses = {values["member_name"]: status for _, status, values in rows_of(runtime)}
    assert statuses == {"刘大贵": "kept", "陈小芳": "changed", "孙小红": "added", "王德明": "removed"}


def test_the_workbook_asked_for_again_unchanged_is_the_same_stored_file(roster, runtime, clock):
    roster.say("zhang_dehua", "表格")
    clock.advance(minutes=1)
    roster.say("zhang_dehua", "确认")  # a row confirmed: the workbook reads the same
    roster.say("zhang_dehua", "表格")
    first, again = roster.pushes("zhang_dehua")
    assert again.file_name == first.file_name == "残疾人名单花名册_20241128-100000.xlsx"
    assert again.file_bytes == first.file_bytes
    roster.say("zhang_dehua", "删除 3 迁往外地")
    roster.say("zhang_dehua", "表格")
    [changed] = roster.pushes("zhang_dehua")
    assert changed.file_name == "残疾人名单花名册_20241128-100100.xlsx"
    assert load_workbook(io.BytesIO(changed.file_bytes)).active.max_row == 3  # the header and 2 rows left
    with runtime.factory() as session:
        stored = session.scalars(select(StoredFile.name).where(StoredFile.name.startswith("残疾人名单"))).all()
    assert stored == [first.file_name, changed.file_name]


def test_a_long_roster_name_with_a_slash_gives_a_short_safe_file_name(chat, runtime):
    label = "残疾人/名单" + "很长" * 97  # 200 characters, one a file system refuses
    with runtime.factory.begin() as session:
        version = session.scalars(select(FormVersion).join(Form).where(Form.title == "两项补贴花名册")).one()
        version.fields = [{**f, "repeat_label": label} if f.get("repeat") else f for f in version.fields]
    chat.say("wang_canlian", "/发布 两项补贴花名册 截止 11月30日18点 范围 松林村 不审核")
    chat.say("zhang_dehua", "开始")
    chat.pushes("zhang_dehua")
    assert "花名册已作为 Excel 文件发给您" in chat.say("zhang_dehua", "表格")
    [push] = chat.pushes("zhang_dehua")
    assert push.file_name == "残疾人_名单" + "很长" * 27 + "花名册_20241128-100000.xlsx"  # the name cut to 60
    assert push.file_path.name == push.file_name and push.file_path.parent.name == "zhang_dehua"
    assert load_workbook(push.file_path).active["B2"].value == "刘大贵"


def test_a_broken_workbook_is_answered_row_by_row_and_changes_nothing(roster, runtime):
    book = Workbook()
    sheet = book.active
    sheet.append(["身份证号", "姓名", "残疾等级", "享受补贴"])
    sheet.append([LIU, "刘大贵", "五级", "困难残疾人生活补贴"])
    sheet.append(["500118195803120219", "", "二级", "困难残疾人生活补贴"])
    sheet.append([LIU, "刘大贵", "二级", "困难残疾人生活补贴"])
    buffer = io.BytesIO()
    book.save(buffer)
    reply = roster.send_file("zhang_dehua", "花名册.xlsx", buffer.getvalue())
    assert reply.startswith("花名册有 4 处需要修改，名单没有变动")
    assert "第 2 行“残疾等级”" in reply
    assert "第 3 行“身份证号”：" in reply and "校验位不对" in reply and "第 3 行“姓名”：必填" in reply
    assert "第 4 行：与第 2 行是同一个人" in reply
    assert "第1/3行" in reply  # the roster stands where it was
    assert "打不开" in roster.send_file("zhang_dehua", "坏.xlsx", b"PK broken")
    no_columns = Workbook()
    no_columns.active.append(["姓名"])
    buffer = io.BytesIO()
    no_columns.save(buffer)
    assert "缺少这些列：身份证号" in roster.send_file("zhang_dehua", "少列.xlsx", buffer.getvalue())
    assert "第2/3行" in roster.say("zhang_dehua", "确认")


def test_the_summary_has_a_detail_sheet_with_every_row(roster):
    roster.say("zhang_dehua", "确认")
    roster.say("zhang_dehua", "删除")
    roster.say("zhang_dehua", "全部确认")
    roster.say("zhang_dehua", "完成")
    roster.say("zhang_dehua", "13908315526")
    roster.say("zhang_dehua", "提交")
    _, summary = roster.pushes("wang_canlian")
    book = load_workbook(io.BytesIO(summary.file_bytes))
    assert book.sheetnames == ["汇总", "未报送", "花名册-残疾人名单", "填报负担", "分镇统计"]
    overview = list(book["汇总"].iter_rows(values_only=True))
    assert overview[0][-1] == "残疾人名单（行数）" and overview[1][-1] == 2
    detail = [list(row) for row in book["花名册-残疾人名单"].iter_rows(values_only=True)]
    assert detail[0] == ["序号", "单位", "填报人", "身份证号", "姓名", "残疾等级", "享受补贴", "核对情况"]
    assert detail[1] == [1, "永川区/朱沱镇/松林村", "张德华", LIU, "刘大贵", "二级", "困难残疾人生活补贴", "无变化"]
    assert [row[-1] for row in detail[1:]] == ["无变化", "删除", "无变化"]


def test_a_roster_without_a_ledger_starts_empty_and_rows_are_added(chat, runtime):
    book = Workbook()
    survey = book.active
    survey.title = "survey"
    for row in (
        ["类型", "字段名", "题目", "必填"],
        ["重复开始", "helpers", "帮扶干部", ""],
        ["文本", "helper", "姓名", "是"],
        ["手机号", "phone", "手机号", "否"],
        ["重复结束", "", "", ""],
    ):
        survey.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    assert "已导入表单《帮扶干部》" in chat.send_file("li_minzheng", "帮扶干部.xlsx", buffer.getvalue())
    chat.say("li_minzheng", "/发布 帮扶干部 截止 11月30日18点 范围 松林村 不审核")
    assert "【帮扶干部】名单里还没有人" in chat.say("zhang_dehua", "开始")
    chat.say("zhang_dehua", "添加")
    chat.say("zhang_dehua", "吴志强")
    listing = chat.say("zhang_dehua", "跳过")
    assert "1. 吴志强（新增）" in listing
    assert "1. 帮扶干部：1 行（新增 1 行）" in chat.say("zhang_dehua", "完成")


def test_a_roster_edit_survives_a_restart(roster, runtime, engine, clock):
    roster.say("zhang_dehua", "修改 2")
    restarted = build_runtime(runtime.config, runtime.platform, clock=clock, database=engine)
    [reply] = restarted.engine.receive(Incoming(SIMULATOR, "zhang_dehua", "跳过", message_id="after-restart"))
    assert "第2行 · 第2/4项" in reply.text


def test_a_row_offers_buttons_and_a_press_on_an_earlier_row_is_stale(roster, runtime):
    [reply] = runtime.engine.receive(Incoming(SIMULATOR, "zhang_dehua", "查看", message_id="look"))
    assert [option.value for option in reply.buttons.options] == ["确认", "修改", "删除", "全部确认"]
    first_row = reply.buttons.token
    press = Incoming(SIMULATOR, "zhang_dehua", "", message_id="press-1", button=ButtonClick(first_row, "确认"))
    [second] = runtime.engine.receive(press)
    assert "第2/3行" in second.text and second.buttons.token != first_row
    again = Incoming(SIMULATOR, "zhang_dehua", "", message_id="press-2", button=ButtonClick(first_row, "确认"))
    [stale] = runtime.engine.receive(again)
    assert "这个按钮对应的题目已经答过或换了" in stale.text and "第2/3行" in stale.text


def id_number(serial: int) -> str:
    """A valid ID number (GB 11643 check digit) born 1960-01-01 in 永川, told apart by its serial."""
    body = f"50011819600101{serial:03d}"[:14] + f"{serial:04d}"[-3:]
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def test_a_roster_takes_at_most_a_thousand_rows_from_the_ledger(chat, runtime, tmp_path):
    rows = [f"{id_number(n)},村民{n},肢体,二级,困难残疾人生活补贴,,松林村" for n in range(1, 1000)]
    ledger_file = tmp_path / "many.csv"
    ledger_file.write_text(
        "身份证号,姓名,残疾类别,残疾等级,享受补贴,联系电话,单位\n" + "\n".join(rows), encoding="utf-8"
    )
    assert import_ledger(runtime.factory, "disabled_people", ledger_file, None, runtime.engine.now()).inserted == 999
    chat.say("wang_canlian", "/发布 两项补贴花名册 截止 11月30日18点 范围 松林村 不审核")

    first = chat.say("zhang_dehua", "开始")  # the demo's 3 people of 松林村 and 999 more: 1002 records

    assert "第1/1000行（从台账带出，还有1000行待核对）" in first
