"""The blank Excel template a department fills in: Chinese headers, one example row per type, a guide sheet."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from handlers.texts import forms as t
from ledger_store.xlsx_cells import cell

SURVEY_HEADER = (
    "类型",
    "字段名",
    "题目",
    "提示",
    "必填",
    "单位",
    "校验",
    "校验提示",
    "显示条件",
    "默认值",
    "计算",
    "台账字段",
)
# One row per supported type, plus a group and a repeat; columns not named stay empty.
SURVEY_EXAMPLE: tuple[dict[str, str], ...] = (
    {"类型": "分组开始", "字段名": "basic", "题目": "基本情况"},
    {
        "类型": "整数",
        "字段名": "households",
        "题目": "本村低保户数",
        "提示": "截至本月末",
        "必填": "是",
        "单位": "户",
        "校验": ". >= 0 and . <= 10000",
        "校验提示": "户数应在 0 到 10000 之间",
    },
    {
        "类型": "小数",
        "字段名": "amount",
        "题目": "本月发放金额",
        "提示": "可写“1.5万”",
        "必填": "是",
        "单位": "元",
        "校验": ". >= 0",
        "校验提示": "金额不能为负数",
    },
    {"类型": "日期", "字段名": "paid_on", "题目": "发放日期", "必填": "是", "校验": ". <= today()"},
    {"类型": "是否", "字段名": "has_new", "题目": "本月是否有新增低保户", "必填": "是"},
    {
        "类型": "整数",
        "字段名": "new_households",
        "题目": "本月新增户数",
        "必填": "是",
        "单位": "户",
        "校验": ". >= 1",
        "显示条件": "${has_new} = 'yes'",
    },
    {"类型": "单选 村组", "字段名": "village_group", "题目": "所在村组", "必填": "是"},
    {"类型": "多选 困难类型", "字段名": "hardships", "题目": "主要困难类型", "提示": "可多选"},
    {"类型": "文本", "字段名": "remarks", "题目": "备注", "校验": "string-length(.) <= 200"},
    {"类型": "分组结束"},
    {"类型": "重复开始", "字段名": "new_members", "题目": "新增对象", "显示条件": "${has_new} = 'yes'"},
    {"类型": "身份证号", "字段名": "member_id", "题目": "身份证号", "必填": "是", "台账字段": "低保对象台账.身份证号"},
    {"类型": "文本", "字段名": "member_name", "题目": "姓名", "必填": "是", "台账字段": "低保对象台账.姓名"},
    {"类型": "手机号", "字段名": "member_mobile", "题目": "联系电话", "台账字段": "低保对象台账.联系电话"},
    {"类型": "重复结束"},
    {
        "类型": "计算",
        "字段名": "amount_per_household",
        "题目": "户均金额",
        "单位": "元",
        "计算": "if(${households} > 0, ${amount} div ${households}, 0)",
    },
    {"类型": "说明", "字段名": "notice", "题目": "以上数据将报送镇民政办。"},
    {"类型": "确认", "字段名": "confirmed", "题目": "以上情况属实", "提示": "回复“确认”即可", "必填": "是"},
)
CHOICES_HEADER = ("选项列表", "选项值", "选项文字")
CHOICES_EXAMPLE = (
    ("村组", "group1", "一组"),
    ("村组", "group2", "二组"),
    ("困难类型", "disability", "残疾"),
    ("困难类型", "illness", "大病"),
    ("困难类型", "elderly", "高龄"),
)
SETTINGS_HEADER = ("表单名称", "表单编号", "版本")
SETTINGS_EXAMPLE = (("示例表单", "example_form", "1"),)


def blank_template() -> bytes:
    """An .xlsx a department can copy and fill in; it reads back as a form without problems."""
    workbook = Workbook()
    survey = workbook.active
    survey.title = "survey"
    rows = tuple(tuple(example.get(header, "") for header in SURVEY_HEADER) for example in SURVEY_EXAMPLE)
    _fill(survey, SURVEY_HEADER, rows, widths={"C": 24, "G": 24, "H": 24, "I": 22, "K": 40})
    _fill(workbook.create_sheet("choices"), CHOICES_HEADER, CHOICES_EXAMPLE, widths={})
    _fill(workbook.create_sheet("settings"), SETTINGS_HEADER, SETTINGS_EXAMPLE, widths={"A": 20})
    guide = workbook.create_sheet("说明")
    guide.append([cell(guide, t.GUIDE_TITLE, font=Font(bold=True, size=14))])
    _fill(guide, t.GUIDE_HEADER, t.GUIDE_ROWS, widths={"A": 22, "B": 70, "C": 28})
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _fill(
    sheet: Worksheet,
    header: tuple[str, ...],
    rows: tuple[tuple[str, ...], ...],
    widths: dict[str, int],
) -> None:
    """Write a bold header and the rows through the safe cell writer: every cell is text, never a formula."""
    sheet.append([cell(sheet, title, font=Font(bold=True)) for title in header])
    for row in rows:
        sheet.append([cell(sheet, value or None) for value in row])
    for letter in "ABCDEFGHIJKL"[: len(header)]:
        sheet.column_dimensions[letter].width = widths.get(letter, 14)
