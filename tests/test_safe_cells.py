"""Every workbook the bot writes keeps what people wrote as text: never a formula, never a crash.

A value or a header that starts like a formula (=HYPERLINK(...)) is written as text with Excel's quotePrefix, so
it reads back unchanged and stays text when someone edits the cell; control characters that the xlsx format
cannot hold (left in the database before they were stripped at the edge) are left out instead of making the
summary, /导出 or the roster workbook fail; sheet titles with characters Excel refuses are written anyway.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from ledger_store.ledgers import get_ledger, get_record
from ledger_store.models import Answer
from ledger_store.xlsx_cells import cell, row_cells, sheet_title

LINK = '=HYPERLINK("http://x","点我")'
LIU = "500118195803120218"  # 刘大贵 of 松林村 in the demo's 残疾人台账
ZHANG = "500118196003138318"  # 张德明 of 松林村 in the demo's 低保对象台账


def defused(found) -> bool:
    """Is this read-back cell plain text marked to stay text (quotePrefix)?"""
    return found.data_type == "s" and found.quotePrefix


def set_ledger_value(runtime, code: str, key: str, label: str, value: object) -> None:
    """Write a value into a ledger record the way data stored before this release may hold it."""
    with runtime.factory.begin() as session:
        ledger = get_ledger(session, code)
        name = next(field["name"] for field in ledger.fields if field["label"] == label)
        record = get_record(session, ledger, key)
        record.values = {**record.values, name: value}


# --- the writer itself -------------------------------------------------------------------------------------------

AWKWARD = [
    LINK,
    "+86 138",
    "-3",
    "@SUM(A1)",
    "\t=1+1",
    "＝1+1",
    "#N/A",
    "备注\x01内\ufffe容\x00\x7f",
    "长" * 40_000,
    Decimal("NaN"),
    float("inf"),
    datetime(2024, 11, 28, 10, 0, tzinfo=UTC),
    ["a", "b"],
    None,
    42,
    Decimal("1.5"),
    date(2024, 11, 30),
    True,
    "普通文字",
]


@pytest.mark.parametrize("write_only", [True, False])
def test_awkward_values_are_written_without_raising_and_read_back_as_typed(write_only: bool) -> None:
    book = Workbook(write_only=write_only)
    sheet = book.create_sheet(sheet_title("a/b:c*d?e[f]g\\h"))
    sheet.append([cell(sheet, LINK), cell(sheet, "备注\x02\uffff")])  # a header row
    sheet.append(row_cells(sheet, AWKWARD, {16: "yyyy-mm-dd"}))
    buffer = io.BytesIO()
    book.save(buffer)

    read = load_workbook(io.BytesIO(buffer.getvalue()))
    back = read.worksheets[-1]
    assert back.title == "a／b：c＊d？e［f］g＼h"
    assert back["A1"].value == LINK and defused(back["A1"])
    assert back["B1"].value == "备注"
    cells = list(back.iter_rows(min_row=2, max_row=2))[0]
    values = [found.value for found in cells]
    assert values[:8] == [LINK, "+86 138", "-3", "@SUM(A1)", "\t=1+1", "＝1+1", "#N/A", "备注内容"]
    assert all(defused(found) for found in cells[:7])  # would be a formula or an error value otherwise
    assert not cells[7].quotePrefix  # ordinary text is left alone
    assert values[8] == "长" * 32_767  # Excel's limit for one cell
    assert values[9:13] == ["NaN", "inf", datetime(2024, 11, 28, 10, 0), "['a', 'b']"]
    assert values[13:16] == [None, 42, 1.5]
    assert values[16] == datetime(2024, 11, 30) and cells[16].number_format == "yyyy-mm-dd"
    assert values[17:] == [True, "普通文字"]


def test_sheet_titles_are_always_valid_and_distinct() -> None:
    taken: list[str] = []
    for wanted in ("花名册", "花名册", "HISTORY", "'引号'", "", "x" * 40, "x" * 40, "\x01"):
        taken.append(sheet_title(wanted, taken))
    assert taken == ["花名册", "花名册(2)", "HISTORY_", "引号", "Sheet", "x" * 31, "x" * 28 + "(2)", "Sheet(2)"]
    book = Workbook(write_only=True)
    for title in taken:
        book.create_sheet(title)
    book.save(io.BytesIO())


# --- the workbooks people get ------------------------------------------------------------------------------------


def form_workbook() -> bytes:
    """A department's form whose first label is a formula and whose roster name has characters sheet titles refuse."""
    book = Workbook()
    survey = book.active
    survey.title = "survey"
    for row in (
        ["type", "name", "label", "required"],
        ["text", "link", LINK, "yes"],
        ["text", "remark", "备注", "no"],
        ["begin repeat", "helpers", "帮扶/干部[名单]", ""],
        ["text", "helper", "姓名", "yes"],
        ["end repeat", "", "", ""],
    ):
        survey.append(row)
    for found in survey["C"]:
        found.data_type = "s"  # as a person typing it in Excel with the cell formatted as text
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id"])
    settings.append(["链接测试", "link_test"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_formula_in_a_label_and_in_an_answer_stays_text_in_the_summary(chat, runtime):
    assert "已导入表单《链接测试》" in chat.send_file("li_minzheng", "链接测试.xlsx", form_workbook())
    chat.say("li_minzheng", "/发布 链接测试 截止 11月30日18点 范围 松林村 不审核")
    chat.pushes("li_minzheng")
    chat.say("zhang_dehua", "开始")
    chat.say("zhang_dehua", LINK)
    chat.say("zhang_dehua", "备注内容")
    assert "帮扶/干部[名单]" in chat.say("zhang_dehua", "完成")
    assert "已提交" in chat.say("zhang_dehua", "提交")
    _, summary = chat.pushes("li_minzheng")

    book = load_workbook(io.BytesIO(summary.file_bytes))
    assert book.sheetnames == ["汇总", "未报送", "花名册-帮扶／干部［名单］", "填报负担", "分镇统计"]
    sheet = book["汇总"]
    header = [found.value for found in sheet[1]]
    column = header.index(LINK) + 1
    assert defused(sheet.cell(1, column))  # the header a department wrote
    answer = sheet.cell(2, column)
    assert answer.value == LINK and defused(answer)  # the answer a cadre typed
    assert not sheet.cell(2, column + 1).quotePrefix

    # An answer stored before control characters were stripped at the edge: the summary is built all the same.
    with runtime.factory.begin() as session:
        session.scalar(select(Answer).where(Answer.field_name == "remark")).text_value = "备注\x01内容"
    chat.say("li_minzheng", "/汇总")
    files = [push for push in chat.pushes("li_minzheng") if push.file_bytes]
    again = load_workbook(io.BytesIO(files[-1].file_bytes))["汇总"]
    assert again.cell(2, column + 1).value == "备注内容"


def test_export_keeps_a_formula_looking_value_as_typed_and_survives_control_characters(chat, runtime):
    set_ledger_value(runtime, "dibao_households", ZHANG, "姓名", LINK)
    set_ledger_value(runtime, "dibao_households", "500118197701172729", "姓名", "李秀兰\x01")
    assert "（2 条）" in chat.say("li_minzheng", "/导出 低保对象台账 单位=松林村")
    [push] = chat.pushes("li_minzheng")
    sheet = load_workbook(io.BytesIO(push.file_bytes)).active
    names = {row[0].value: row[1] for row in sheet.iter_rows(min_row=2)}
    assert names[ZHANG].value == LINK and defused(names[ZHANG])  # no apostrophe added to the value
    assert names["500118197701172729"].value == "李秀兰"


def test_the_roster_workbook_keeps_formulas_as_text_and_comes_back_unchanged(chat, runtime):
    set_ledger_value(runtime, "disabled_people", LIU, "姓名", "@刘大贵")
    set_ledger_value(runtime, "disabled_people", "500118197209050447", "姓名", "陈小芳\x01")
    chat.say("wang_canlian", "/发布 两项补贴花名册 截止 11月30日18点 范围 松林村 不审核")
    chat.say("zhang_dehua", "开始")
    chat.pushes("zhang_dehua")
    assert "花名册已作为 Excel 文件发给您" in chat.say("zhang_dehua", "表格")
    [push] = chat.pushes("zhang_dehua")
    sheet = load_workbook(io.BytesIO(push.file_bytes)).active
    assert sheet["B2"].value == "@刘大贵" and defused(sheet["B2"])
    assert sheet["B3"].value == "陈小芳"

    reply = chat.send_file("zhang_dehua", "残疾人名单花名册.xlsx", push.file_bytes)
    assert "已按表格更新花名册：无变化 2 行、已修改 1 行" in reply  # 陈小芳 lost the control character
    listing = chat.say("zhang_dehua", "查看")
    assert "@刘大贵" in listing and "'@刘大贵" not in listing


def test_the_blank_template_and_the_ledger_error_workbook_go_through_the_same_writer(chat, tmp_path, runtime):
    from ledger_store.ledger_import import import_ledger

    chat.say("li_minzheng", "/空白模板")
    [template] = [push for push in chat.pushes("li_minzheng") if push.file_bytes]
    survey = load_workbook(io.BytesIO(template.file_bytes))["survey"]
    assert all(found.data_type == "s" for row in survey.iter_rows() for found in row if found.value is not None)

    source = tmp_path / "低保.csv"
    quoted = LINK.replace('"', '""')
    source.write_text(
        "身份证号,姓名,家庭人口,家庭月人均收入,联系电话,保障类别,单位\n"
        f'110102199101010079,"{quoted}",3,560.5,13908315526,A类,松林村\n'  # a wrong check digit
        "110102199101010078,备注\x01张\x00三,3,560.5,13908315526,A类,松林村\n",
        encoding="utf-8",
    )
    errors = tmp_path / "低保_错误.xlsx"
    now = datetime(2024, 11, 28, 2, 0)
    report = import_ledger(runtime.factory, "dibao_households", source, None, now, error_path=errors)
    assert report.invalid == 1 and report.inserted == 1
    sheet = load_workbook(errors).active
    assert sheet["C2"].value == LINK and defused(sheet["C2"])  # the refused row, as typed
    with runtime.factory() as session:
        stored = get_record(session, get_ledger(session, "dibao_households"), "110102199101010078")
        assert "备注张三" in stored.values.values()  # no NUL reaches the database
