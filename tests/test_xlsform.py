"""Excel (XLSForm) templates: each test shows the workbook as a table and, next to it, the form or the problems."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from handlers.forms.fields import Choice, Field, FieldType
from handlers.forms.xlsform import FormResult, Problem, blank_template, read_form

FIXTURES = Path(__file__).parent / "fixtures" / "xlsform"


def workbook(md: str) -> bytes:
    """An .xlsx from a pyxform-style table: a sheet name in the first column starts that sheet's rows."""
    book = Workbook()
    book.remove(book.active)
    sheet = None
    for line in md.strip().splitlines():
        cells = [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if cells[0]:
            sheet = book.create_sheet(cells[0])
            continue
        values = cells[1:]
        while values and not values[-1]:
            values.pop()
        sheet.append([value or None for value in values])
        for cell in sheet[sheet.max_row]:
            cell.data_type = "s"  # keep expressions such as "= 1" text, as a person typing them would
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def read(md: str, file_name: str = "测试表单.xlsx") -> FormResult:
    return read_form(workbook(md), file_name=file_name)


def fields_of(md: str) -> list[Field]:
    result = read(md)
    assert result.problems == []
    return list(result.form.fields)


def messages(md: str) -> list[str]:
    result = read(md)
    assert result.form is None
    return [problem.message for problem in result.problems]


# --- pyxform's own sample workbooks -------------------------------------------------------------------------------

CONFORMANCE = {
    "text_and_integer.xlsx": [("your_name", "text", "", ""), ("your_age", "integer", "", "")],
    "yes_or_no_question.xlsx": [("good_day", "select_one", "", "")],
    "group.xlsx": [
        ("family_name", "text", "", ""),
        ("phone_number", "mobile", "Father", ""),  # pyxform's "phone number": a mobile here
        ("age", "integer", "Father", ""),
    ],
    "choice_filter_test.xlsx": [
        Problem(
            "survey",
            3,
            "choice_filter",
            "survey 表第 3 行：choice_filter（按前面的答案筛选选项）暂不支持，请去掉筛选条件，或把选项分成几道题。",
        ),
        Problem(
            "survey",
            4,
            "choice_filter",
            "survey 表第 4 行：choice_filter（按前面的答案筛选选项）暂不支持，请去掉筛选条件，或把选项分成几道题。",
        ),
        Problem("choices", 6, "name", "choices 表第 6 行：选项列表“counties”里的选项值“king”与第 4 行重复。"),
    ],
}


def test_every_conformance_workbook_has_an_expectation() -> None:
    assert sorted(path.name for path in FIXTURES.glob("*.xlsx")) == sorted(CONFORMANCE)


@pytest.mark.parametrize("name", sorted(CONFORMANCE))
def test_conformance_workbook(name: str) -> None:
    result = read_form(FIXTURES / name)
    expected = CONFORMANCE[name]
    if isinstance(expected[0], Problem):
        assert result.form is None
        assert result.problems == expected
    else:
        assert result.problems == []
        fields = [(f.name, f.type.value, f.group, f.repeat) for f in result.form.fields]
        assert fields == expected
        assert result.form.code == Path(name).stem


def test_conformance_details() -> None:
    yes_no = read_form(FIXTURES / "yes_or_no_question.xlsx").form
    assert yes_no.fields[0].choices == (Choice("yes", "yes"), Choice("no", "no"))
    assert yes_no.fields[0].label == "have you had a good day today?"
    assert yes_no.fields[0].required is False  # XLSForm questions are optional unless required says yes
    group = read_form(FIXTURES / "group.xlsx").form
    assert group.fields[1].label == "What's your father's phone number?"  # from label:English (en)
    assert (group.code, group.title, group.version) == ("group", "group", "")


# --- every supported type -----------------------------------------------------------------------------------------

EXPECTED_TYPES = [
    ("persons", FieldType.INTEGER, True),
    ("area", FieldType.DECIMAL, True),
    ("remark", FieldType.TEXT, False),
    ("place", FieldType.SELECT_ONE, True),
    ("kinds", FieldType.SELECT_MULTIPLE, True),
    ("visited", FieldType.DATE, True),
    ("intro", FieldType.NOTE, False),
    ("ok", FieldType.ACKNOWLEDGE, True),
    ("double", FieldType.CALCULATE, False),
    ("idno", FieldType.ID_NUMBER, True),
    ("phone", FieldType.MOBILE, True),
    ("insured", FieldType.YES_NO, True),
]


def test_every_supported_type_with_english_headers() -> None:
    fields = fields_of(
        """
        | survey   |                    |         |            |          |          |                |
        |          | type               | name    | label      | required | hint     | calculation    |
        |          | integer            | persons | 人数       | yes      | 户籍人口 |                |
        |          | decimal            | area    | 面积       | true     |          |                |
        |          | text               | remark  | 备注       | no       |          |                |
        |          | select_one places  | place   | 地点       | 1        |          |                |
        |          | select_multiple ks | kinds   | 类型       | TRUE     |          |                |
        |          | date               | visited | 日期       | yes      |          |                |
        |          | note               | intro   | 请如实填写 |          |          |                |
        |          | acknowledge        | ok      | 已阅       | yes      |          |                |
        |          | calculate          | double  |            |          |          | ${persons} * 2 |
        |          | id_number          | idno    | 身份证号   | yes      |          |                |
        |          | mobile             | phone   | 手机号     | yes      |          |                |
        |          | yes_no             | insured | 是否参保   | yes      |          |                |
        | choices  |                    |         |            |          |          |                |
        |          | list_name          | name    | label      |          |          |                |
        |          | places             | a       | 甲村       |          |          |                |
        |          | places             | b       | 乙村       |          |          |                |
        |          | ks                 | x       | 脱贫户     |          |          |                |
        """
    )
    assert [(f.name, f.type, f.required) for f in fields] == EXPECTED_TYPES
    assert (fields[0].label, fields[0].hint) == ("人数", "户籍人口")
    assert fields[3].choices == (Choice("a", "甲村"), Choice("b", "乙村"))
    assert fields[4].choices == (Choice("x", "脱贫户"),)
    assert (fields[8].label, fields[8].calculation) == ("", "${persons} * 2")


def test_every_supported_type_with_chinese_headers() -> None:
    fields = fields_of(
        """
        | survey   |             |         |            |      |          |                |      |
        |          | 类型        | 字段名  | 题目       | 必填 | 提示     | 计算           | 单位 |
        |          | 整数        | persons | 人数       | 是   | 户籍人口 |                | 人   |
        |          | 小数        | area    | 面积       | 必填 |          |                | 亩   |
        |          | 文本        | remark  | 备注       | 否   |          |                |      |
        |          | 单选 places | place   | 地点       | 是   |          |                |      |
        |          | 多选 ks     | kinds   | 类型       | 是   |          |                |      |
        |          | 日期        | visited | 日期       | 是   |          |                |      |
        |          | 说明        | intro   | 请如实填写 |      |          |                |      |
        |          | 确认        | ok      | 已阅       | 是   |          |                |      |
        |          | 计算        | double  |            |      |          | ${persons} * 2 |      |
        |          | 身份证号    | idno    | 身份证号   | 是   |          |                |      |
        |          | 手机号      | phone   | 手机号     | 是   |          |                |      |
        |          | 是否        | insured | 是否参保   | 是   |          |                |      |
        | choices  |             |         |            |      |          |                |      |
        |          | 选项列表    | 选项值  | 选项文字   |      |          |                |      |
        |          | places      | a       | 甲村       |      |          |                |      |
        |          | places      | b       | 乙村       |      |          |                |      |
        |          | ks          | x       | 脱贫户     |      |          |                |      |
        """
    )
    assert [(f.name, f.type, f.required) for f in fields] == EXPECTED_TYPES
    assert (fields[0].hint, fields[0].unit, fields[1].unit) == ("户籍人口", "人", "亩")
    assert fields[3].choices == (Choice("a", "甲村"), Choice("b", "乙村"))


def test_type_spellings_from_older_forms() -> None:
    fields = fields_of(
        """
        | survey  |                              |    |       |
        |         | type                         | name | label |
        |         | select one from yn           | a  | A     |
        |         | select all that apply from yn | b | B     |
        |         | Select_One yn                | c  | C     |
        |         | 单选yn                        | d  | D     |
        |         | phone number                 | e  | E     |
        |         | int                          | f  | F     |
        |         | string                       | g  | G     |
        |         | trigger                      | h  | H     |
        | choices |                              |    |       |
        |         | list name                    | name | label |
        |         | yn                           | yes | 是   |
        """
    )
    assert [f.type.value for f in fields] == [
        "select_one",
        "select_multiple",
        "select_one",
        "select_one",
        "mobile",
        "integer",
        "text",
        "acknowledge",
    ]


def test_columns_are_stored_on_the_field() -> None:
    checked, other = fields_of(
        """
        | survey |         |      |       |          |                  |                     |                    |
        |        | type    | name | label | required | required_message | constraint          | constraint_message |
        |        | integer | age  | 年龄  | yes      | 请填年龄         | . >= 0 and . <= 150 | 年龄应在 0～150    |
        |        | yes_no  | ok   | 本人? |          |                  |                     |                    |
        """
    )
    assert (checked.required, checked.required_message) == (True, "请填年龄")
    assert (checked.constraint, checked.constraint_message) == (". >= 0 and . <= 150", "年龄应在 0～150")
    assert other.required is False
    (field,) = fields_of(
        """
        | survey |         |      |       |               |         |           |            |
        |        | type    | name | label | relevant      | default | read_only | save_to    |
        |        | integer | age  | 年龄  | string-length(${age}) < 4 | 18 | yes | person_age |
        """
    )
    assert (field.relevant, field.default, field.read_only, field.save_to) == (
        "string-length(${age}) < 4",
        "18",
        True,
        "person_age",
    )
    assert Field.from_dict(field.to_dict()) == field


def test_chinese_label_column_is_preferred() -> None:
    fields = fields_of(
        """
        | survey |         |      |                     |                    |                |              |
        |        | type    | name | label::English (en) | label::Chinese (zh) | hint::English | hint::中文   |
        |        | integer | a    | Households          | 户数               | at month end  | 截至月末     |
        |        | integer | b    | Persons             |                    |               |              |
        | choices |        |      |                     |                    |                |              |
        |        | list_name | name | label::English | label::zh-CN       |                |              |
        """
    )
    assert [(f.label, f.hint) for f in fields] == [("户数", "截至月末"), ("Persons", "")]


# --- groups and repeats -------------------------------------------------------------------------------------------


def test_groups_flatten_keeping_their_labels_and_conditions() -> None:
    fields = fields_of(
        """
        | survey |             |          |          |                |
        |        | type        | name     | label    | relevant       |
        |        | yes_no      | poor     | 是否困难 |                |
        |        | begin group | family   | 家庭情况 | ${poor} = 'yes' |
        |        | integer     | members  | 人口     |                |
        |        | begin_group | income   | 收入     |                |
        |        | decimal     | wage     | 工资     | ${members} > 0 |
        |        | end_group   |          |          |                |
        |        | end group   |          |          |                |
        |        | text        | remarks  | 备注     |                |
        """
    )
    assert [(f.name, f.group, f.relevant) for f in fields] == [
        ("poor", "", ""),
        ("members", "家庭情况", "${poor} = 'yes'"),
        ("wage", "家庭情况 / 收入", "(${poor} = 'yes') and (${members} > 0)"),
        ("remarks", "", ""),
    ]


def test_a_repeat_is_a_roster() -> None:
    result = read(
        """
        | survey |              |         |          |
        |        | type         | name    | label    |
        |        | integer      | count   | 人数     |
        |        | begin repeat | members | 家庭成员 |
        |        | text         | who     | 姓名     |
        |        | begin group  | contact | 联系方式 |
        |        | mobile       | phone   | 手机号   |
        |        | end group    |         |          |
        |        | end repeat   |         |          |
        """
    )
    assert result.problems == []
    assert [(f.name, f.repeat, f.group) for f in result.form.fields] == [
        ("count", "", ""),
        ("who", "members", ""),
        ("phone", "members", "联系方式"),
    ]
    assert [(r.name, r.label, r.fields) for r in result.form.repeats] == [("members", "家庭成员", ("who", "phone"))]


def test_unbalanced_groups_and_repeats() -> None:
    assert messages(
        """
        | survey |              |       |       |
        |        | type         | name  | label |
        |        | end group    |       |       |
        |        | begin repeat | a     | A     |
        |        | begin repeat | b     | B     |
        |        | integer      | n     | N     |
        |        | end group    |       |       |
        |        | end repeat   |       |       |
        |        | begin group  | g     | G     |
        """
    ) == [
        "survey 表第 2 行：“end group”前面没有对应的开始行。",
        "survey 表第 3 行：“begin repeat”没有对应的结束行。",
        "survey 表第 4 行：重复组里不能再套重复组（第 3 行已开始一个重复组）。",
        "survey 表第 6 行：“end group”与第 4 行的“begin repeat”不配对。",
        "survey 表第 8 行：“begin group”没有对应的结束行。",
    ]


# --- what is wrong, with sheet and row ----------------------------------------------------------------------------


def test_a_misspelt_type_gets_a_suggestion() -> None:
    result = read(
        """
        | survey  |                 |      |       |
        |         | type            | name | label |
        |         | integer         | a    | A     |
        |         | integr          | b    | B     |
        |         | selct_one yn    | c    | C     |
        |         | 整型数          | d    | D     |
        |         | 签字            | e    | E     |
        | choices |                 |      |       |
        |         | list_name       | name | label |
        |         | yn              | yes  | 是    |
        """
    )
    assert result.problems == [
        Problem("survey", 3, "type", "survey 表第 3 行：类型“integr”无法识别，是否是“integer”？"),
        Problem("survey", 4, "type", "survey 表第 4 行：类型“selct_one yn”无法识别，是否是“select_one yn”？"),
        Problem("survey", 5, "type", "survey 表第 5 行：类型“整型数”无法识别，是否是“整数”？"),
        Problem("survey", 6, "type", "survey 表第 6 行：类型“签字”无法识别。支持的类型见模板里的“说明”表。"),
    ]


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("image", "聊天里不能收集图片、音视频、文件、签名或条码"),
        ("audio", "聊天里不能收集图片、音视频、文件、签名或条码"),
        ("file", "聊天里不能收集图片、音视频、文件、签名或条码"),
        ("barcode", "聊天里不能收集图片、音视频、文件、签名或条码"),
        ("geopoint", "聊天里不能收集定位"),
        ("time", "只支持日期，不支持时间"),
        ("dateTime", "只支持日期，不支持时间"),
        ("start", "这是手机表单自动记录的设备信息，聊天里没有"),
        ("phonenumber", "这是手机表单自动记录的设备信息，聊天里没有"),
        ("range", "聊天里不能用滑块，请改用整数题并加校验"),
        ("rank yn", "聊天里不能排序，请改用多选题"),
        ("select_one_from_file towns.csv", "选项必须写在 choices 表里，不能来自外部文件"),
        ("select_one yn or_other", "请在选项里加一个“其他”，再加一道文本题让人说明"),
    ],
)
def test_an_unsupported_type_is_refused_with_its_row(written: str, reason: str) -> None:
    result = read(
        f"""
        | survey  |           |      |       |
        |         | type      | name | label |
        |         | text      | a    | A     |
        |         | {written} | b    | B     |
        | choices |           |      |       |
        |         | list_name | name | label |
        |         | yn        | yes  | 是    |
        """
    )
    assert result.problems == [Problem("survey", 3, "type", f"survey 表第 3 行：类型“{written}”暂不支持：{reason}。")]


def test_unknown_reference_names_the_closest_question() -> None:
    assert messages(
        """
        | survey |         |      |       |                |
        |        | type    | name | label | relevant       |
        |        | integer | age  | 年龄  |                |
        |        | text    | job  | 职业  | ${agee} >= 16 and ${zzz} = 1 |
        """
    ) == [
        "survey 表第 3 行：“relevant”里的 ${agee} 找不到对应的题目，是否是 ${age}？",
        "survey 表第 3 行：“relevant”里的 ${zzz} 找不到对应的题目。",
    ]


def test_a_later_question_may_be_referred_to() -> None:
    first, _ = fields_of(
        """
        | survey |         |      |       |            |
        |        | type    | name | label | constraint |
        |        | integer | a    | A     | . <= ${b}  |
        |        | integer | b    | B     |            |
        """
    )
    assert first.constraint == ". <= ${b}"


def test_a_bad_expression_names_the_character() -> None:
    assert messages(
        """
        | survey |         |      |       |            |             |
        |        | type    | name | label | 校验       | 计算        |
        |        | integer | a    | A     | . >= and 3 |             |
        |        | integer | b    | B     | . == 3     |             |
        |        | calculate | c  |       |            | sum(${a})   |
        """
    ) == [
        "survey 表第 2 行：“校验”里的表达式“. >= and 3”第 6 个字符处有误：这里不该出现“and”。",
        "survey 表第 3 行：“校验”里的表达式“. == 3”第 3 个字符处有误：请把“==”改成“=”。",
        "survey 表第 4 行：“计算”里的表达式“sum(${a})”第 1 个字符处有误：不认识函数 sum()。",
    ]


def test_a_missing_choice_list() -> None:
    assert messages(
        """
        | survey  |                  |      |       |
        |         | type             | name | label |
        |         | select_one placs | a    | A     |
        |         | select_one other | b    | B     |
        |         | select_one       | c    | C     |
        | choices |                  |      |       |
        |         | list_name        | name | label |
        |         | places           | x    | 甲村  |
        """
    ) == [
        "survey 表第 2 行：选项列表“placs”在 choices 表里找不到，是否是“places”？",
        "survey 表第 3 行：选项列表“other”在 choices 表里找不到。",
        "survey 表第 4 行：类型“select_one”后面要写选项列表名，如“select_one 村组”或“单选 村组”。",
    ]


def test_no_choices_sheet_at_all() -> None:
    assert messages(
        """
        | survey |               |      |       |
        |        | type          | name | label |
        |        | select_one yn | a    | A     |
        """
    ) == ["survey 表第 2 行：选项列表“yn”在 choices 表里找不到。"]


def test_choice_problems() -> None:
    assert messages(
        """
        | survey  |               |        |       |
        |         | type          | name   | label |
        |         | select_one yn | a      | A     |
        | choices |               |        |       |
        |         | list_name     | name   | label |
        |         | yn            | yes    | 是    |
        |         | yn            | yes    | 对    |
        |         | yn            | no way | 否    |
        |         | yn            | maybe  |       |
        |         |               | never  | 从不  |
        |         | yn            |        | 不知道 |
        """
    ) == [
        "choices 表第 3 行：选项列表“yn”里的选项值“yes”与第 2 行重复。",
        "choices 表第 4 行：选项值“no way”不能包含空格。",
        "choices 表第 5 行：选项“maybe”缺少显示文字（label）。",
        "choices 表第 6 行：缺少选项列表名（list_name）。",
        "choices 表第 7 行：缺少选项值（name）。",
    ]


def test_names_must_be_unique_and_well_formed() -> None:
    assert messages(
        """
        | survey |             |        |       |
        |        | type        | name   | label |
        |        | integer     | age    | 年龄  |
        |        | integer     | age    | 年龄2 |
        |        | text        | 2name  | 姓名  |
        |        | text        | my name | 姓名 |
        |        | text        |        | 住址  |
        |        | begin group | age    | 组    |
        |        | end group   |        |       |
        |        | text        | 户主_姓名 | 户主 |
        """
    ) == [
        "survey 表第 3 行：字段名“age”与第 2 行重复。",
        "survey 表第 4 行：字段名“2name”不合规：须以字母或下划线开头，只能包含字母、数字和 - _ . 。",
        "survey 表第 5 行：字段名“my name”不合规：须以字母或下划线开头，只能包含字母、数字和 - _ . 。",
        "survey 表第 6 行：缺少字段名（name）。",
        "survey 表第 7 行：字段名“age”与第 2 行重复。",
    ]


def test_row_level_problems() -> None:
    assert messages(
        """
        | survey |           |      |       |          |         |           |         |
        |        | type      | name | label | required | default | read_only | save_to |
        |        | integer   | a    |       | maybe    | abc     |           |         |
        |        |           | b    | B     |          |         |           |         |
        |        | date      | c    | C     |          | 2024-13-01 | sometimes |      |
        |        | select_one yn | d | D    |          | yes maybe |         |         |
        |        | note      | e    | E     |          |         |           | e_field |
        |        | text      | f    | F     |          |         |           | 1bad    |
        |        | calculate | g    |       |          |         |           |         |
        | choices |          |      |       |          |         |           |         |
        |        | list_name | name | label |          |         |           |         |
        |        | yn        | yes  | 是    |          |         |           |         |
        """
    ) == [
        "survey 表第 2 行：缺少题目（label）。",
        "survey 表第 2 行：“required”只能填 是/否（yes/no），现在是“maybe”。",
        "survey 表第 2 行：默认值“abc”不是有效的整数答案。",
        "survey 表第 3 行：这一行写了字段名或题目，但没有填类型。",
        "survey 表第 4 行：默认值“2024-13-01”不是有效的日期答案。",
        "survey 表第 4 行：“read_only”只能填 是/否（yes/no），现在是“sometimes”。",
        "survey 表第 5 行：默认值“yes maybe”不是选项列表“yn”里的选项值。",
        "survey 表第 6 行：说明和确认题没有可以写入台账的答案，请清空台账字段。",
        "survey 表第 7 行：台账字段“1bad”不合规：须以字母或下划线开头，只能包含字母、数字和 - _ . 。",
        "survey 表第 8 行：计算题必须填写计算公式（calculation）。",
    ]


def test_defaults_literal_or_dynamic() -> None:
    fields = fields_of(
        """
        | survey |                 |      |       |                 |
        |        | type            | name | label | default         |
        |        | integer         | a    | A     | -3              |
        |        | decimal         | b    | B     | 2.5             |
        |        | date            | c    | C     | today()         |
        |        | select_multiple yn | d | D    | yes no          |
        |        | yes_no          | e    | E     | 是              |
        |        | integer         | f    | F     | ${a} + 1        |
        | choices |                |      |       |                 |
        |        | list_name       | name | label |                 |
        |        | yn              | yes  | 是    |                 |
        |        | yn              | no   | 否    |                 |
        """
    )
    assert [f.default for f in fields] == ["-3", "2.5", "today()", "yes no", "是", "${a} + 1"]


def test_refused_columns_are_named_per_row() -> None:
    assert messages(
        """
        | survey |              |      |       |              |            |
        |        | type         | name | label | repeat_count | media::image |
        |        | begin repeat | kids | 子女  | 3            |            |
        |        | text         | kid  | 姓名  |              | kid.png    |
        |        | end repeat   |      |       |              |            |
        """
    ) == [
        "survey 表第 2 行：“repeat_count”列暂不支持，请清空这一列。",
        "survey 表第 3 行：“media::image”列暂不支持，请清空这一列。",
    ]


def test_columns_misspelt_or_twice() -> None:
    result = read(
        """
        | survey |         |      |       |         |        |      |
        |        | type    | name | label | requird | 字段名 | 备注说明 |
        |        | integer | a    | A     | yes     | a2     | 村里自己看 |
        """
    )
    assert result.problems == [
        Problem("survey", 1, "requird", "survey 表第 1 行：列名“requird”无法识别，是否是“required”？"),
        Problem("survey", 1, "字段名", "survey 表第 1 行：列“字段名”和“name”是同一列，请只保留一个。"),
    ]


# --- the workbook as a whole --------------------------------------------------------------------------------------


def test_settings_give_code_title_and_version() -> None:
    form = read(
        """
        | survey   |            |           |      |
        |          | type       | name      | label |
        |          | integer    | a         | A    |
        | settings |            |           |      |
        |          | 表单名称   | 表单编号  | 版本 |
        |          | 低保月报   | dibao_2024 | 3    |
        """
    ).form
    assert (form.code, form.title, form.version, form.headline_field) == ("dibao_2024", "低保月报", "3", None)


@pytest.mark.parametrize(
    ("file_name", "code", "title"),
    [
        ("低保 月报(2024).xlsx", "低保_月报_2024", "低保 月报(2024)"),
        ("Text and Integer.xlsx", "text_and_integer", "Text and Integer"),
    ],
)
def test_without_settings_the_file_name_is_used(file_name: str, code: str, title: str) -> None:
    md = """
        | survey |         |      |       |
        |        | type    | name | label |
        |        | integer | a    | A     |
    """
    form = read(md, file_name=file_name).form
    assert (form.code, form.title, form.version) == (code, title, "")


def test_bytes_without_a_name_need_a_form_id() -> None:
    data = workbook(
        """
        | survey |         |      |       |
        |        | type    | name | label |
        |        | integer | a    | A     |
        """
    )
    assert read_form(data).problems == [
        Problem("settings", None, None, "settings 表：请填写表单编号（form_id），如 dibao_monthly。")
    ]


def test_whole_file_problems() -> None:
    assert read_form(b"PK not really a zip").problems == [
        Problem("", None, None, "无法读取这个文件。请上传 Excel 的 .xlsx 文件（旧版 .xls 请先另存为 .xlsx）。")
    ]
    no_survey = "| choices |\n| | list_name | name | label |"
    assert messages(no_survey) == ["表格里没有 survey 工作表（题目表），请按模板填写。"]
    assert messages("| survey |\n| | type | label |\n| | integer | A |") == ["survey 表第 1 行：缺少“name”列。"]
    assert messages("| survey |\n| | type | name | label |") == ["survey 表：没有任何题目。"]


def test_cells_are_read_as_strings_first() -> None:
    book = Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(["type", "name", "label", "required", "default"])
    survey.append(["select_one nums", "n", 2024.0, True, 1.0])
    survey.append(["date", "d", "日期", False, datetime(2024, 11, 30)])
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", "label"])
    choices.append(["nums", 1, "一"])
    choices.append(["nums", 2.0, "二"])
    buffer = io.BytesIO()
    book.save(buffer)
    result = read_form(buffer.getvalue(), file_name="cells.xlsx")
    assert result.problems == []
    number, day = result.form.fields
    assert (number.label, number.required, number.default) == ("2024", True, "1")
    assert number.choices == (Choice("1", "一"), Choice("2", "二"))
    assert (day.required, day.default) == (False, "2024-11-30")


# --- the blank template -------------------------------------------------------------------------------------------


def test_blank_template_reads_back_without_problems() -> None:
    data = blank_template()
    result = read_form(data)
    assert result.problems == []
    form = result.form
    assert (form.code, form.title) == ("example_form", "示例表单")
    types = {field.type for field in form.fields}
    assert types == set(FieldType)
    assert [r.name for r in form.repeats] == ["new_members"]
    sheets = load_workbook(io.BytesIO(data), read_only=True)
    assert sheets.sheetnames == ["survey", "choices", "settings", "说明"]
    assert next(sheets["survey"].iter_rows(max_row=1, values_only=True))[:3] == ("类型", "字段名", "题目")


def test_fields_from_excel_round_trip_and_old_dicts_stay_as_they_were() -> None:
    for field in read_form(blank_template()).form.fields:
        assert Field.from_dict(field.to_dict()) == field
    old = Field("households", "户数", FieldType.INTEGER).to_dict()
    assert "relevant" not in old and "save_to" not in old
    assert Field.from_dict(old).to_dict() == old


def test_group_and_question_conditions_together_stay_within_the_limits() -> None:
    many = " or ".join(["${a} = 1"] * 30)  # 119 parts each; fine alone, too many together
    result = read(
        f"""
        | survey |             |      |       |          |
        |        | type        | name | label | relevant |
        |        | integer     | a    | A     |          |
        |        | begin group | g    | G     | {many}   |
        |        | integer     | b    | B     | {many}   |
        |        | end group   |      |       |          |
        """
    )
    assert [(p.row, p.column) for p in result.problems] == [(4, "relevant")]
    assert "表达式太长太复杂" in result.problems[0].message


# --- messages that say what is really wrong -----------------------------------------------------------------------


def test_pyxform_aliases_of_message_columns_are_understood() -> None:
    fields = fields_of(
        """
        | survey |         |      |       |          |             |              |                       |
        |        | type    | name | label | required | requiredMsg | constraint   | bind::jr:constraintMsg |
        |        | integer | a    | 户数  | yes      | 请填写户数  | . >= 0       | 户数不能为负数        |
        |        | integer | b    | 人数  | yes      | 请填写人数  |              |                       |
        """
    )
    assert [(f.required_message, f.constraint_message) for f in fields] == [
        ("请填写户数", "户数不能为负数"),
        ("请填写人数", ""),
    ]
    chinese = fields_of(
        """
        | survey |         |      |       |          |                        |
        |        | type    | name | label | required | requiredMsg::Chinese (zh) |
        |        | integer | a    | 户数  | yes      | 户数必填               |
        """
    )
    assert chinese[0].required_message == "户数必填"
    bound = fields_of(
        """
        | survey |         |      |       |                |                      |
        |        | type    | name | label | bind::required | bind::jr:requiredMsg |
        |        | integer | a    | 户数  | yes            | 请填写户数           |
        """
    )
    assert (bound[0].required, bound[0].required_message) == (True, "请填写户数")
    others = fields_of(
        """
        | survey |         |      |       |                      |                |      |
        |        | type    | name | label | constraining message | bind::relevant | rows |
        |        | integer | a    | 户数  |                      |                | 3    |
        |        | integer | b    | 人数  | 人数不对             | ${a} > 0       |      |
        """
    )
    assert [(f.constraint_message, f.relevant) for f in others] == [("", ""), ("人数不对", "${a} > 0")]


def test_a_choice_list_whose_rows_lack_labels_is_not_called_missing() -> None:
    assert messages(
        """
        | survey  |               |      |       |
        |         | type          | name | label |
        |         | select_one yn | a    | A     |
        | choices |               |      |       |
        |         | list_name     | name | label |
        |         | yn            | yes  |       |
        |         | yn            | no   |       |
        """
    ) == [
        "choices 表第 2 行：选项“yes”缺少显示文字（label）。",
        "choices 表第 3 行：选项“no”缺少显示文字（label）。",
    ]


def test_a_misspelt_sheet_is_named_with_the_sheet_it_should_be() -> None:
    assert messages(
        """
        | survey    |           |          |
        |           | type      | name     | label |
        |           | integer   | a        | A     |
        | stettings |           |          |
        |           | form_title | form_id |
        |           | 低保月报  | dibao    |
        """
    ) == ["工作表“stettings”无法识别，是否是“settings”？请改正工作表名称（名称不对的工作表不会被读取）。"]
    assert messages(
        """
        | survy   |           |      |       |
        |         | type      | name | label |
        |         | integer   | a    | A     |
        | choises |           |      |       |
        |         | list_name | name | label |
        |         | yn        | yes  | 是    |
        """
    ) == [
        "工作表“survy”无法识别，是否是“survey”？请改正工作表名称（名称不对的工作表不会被读取）。",
        "工作表“choises”无法识别，是否是“choices”？请改正工作表名称（名称不对的工作表不会被读取）。",
    ]


def test_sheets_of_other_names_are_not_read() -> None:
    form = read(
        """
        | survey |         |      |       |
        |        | type    | name | label |
        |        | integer | a    | A     |
        | 说明   |         |      |       |
        |        | 随便写  | 什么 |       |
        | Sheet1 |         |      |       |
        |        | x       |      |       |
        """
    ).form
    assert [field.name for field in form.fields] == ["a"]


def test_begin_loop_and_end_loop_are_both_unsupported() -> None:
    assert messages(
        """
        | survey  |                       |      |       |
        |         | type                  | name | label |
        |         | integer               | a    | A     |
        |         | begin loop over kinds | l    | 每种  |
        |         | integer               | n    | 数量  |
        |         | end loop              |      |       |
        | choices |                       |      |       |
        |         | list_name             | name | label |
        |         | kinds                 | x    | 甲    |
        """
    ) == [
        "survey 表第 3 行：类型“begin loop over kinds”暂不支持：本系统只支持分组（group）和重复组（repeat）。",
        "survey 表第 5 行：类型“end loop”暂不支持：本系统只支持分组（group）和重复组（repeat）。",
    ]


def test_a_looped_group_is_a_repeat_as_in_pyxform() -> None:
    form = read(
        """
        | survey |                    |      |       |
        |        | type               | name | label |
        |        | begin looped group | kids | 子女  |
        |        | text               | kid  | 姓名  |
        |        | end looped group   |      |       |
        """
    ).form
    assert [(field.name, field.repeat) for field in form.fields] == [("kid", "kids")]


def test_a_cell_longer_than_excel_allows_is_a_problem_not_a_label() -> None:
    book = Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(["type", "name", "label"])
    survey.append(["integer", "a", "长" * 40_000])
    buffer = io.BytesIO()
    book.save(buffer)  # openpyxl cuts at 32,767; a file made by other means may not
    rebuilt = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(rebuilt, "w") as target:
        for member in source.infolist():
            content = source.read(member.filename)
            target.writestr(member.filename, content.replace(("长" * 32_767).encode(), ("长" * 40_000).encode()))
    problems = read_form(rebuilt.getvalue(), file_name="长.xlsx").problems
    assert [p.message for p in problems] == [
        "survey 表第 2 行：单元格超过 32767 个字（Excel 一个单元格的上限）。",
        "survey 表第 2 行：缺少题目（label）。",
    ]
