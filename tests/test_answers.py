"""Replies to form questions: what is accepted, how it is echoed and stored, and what a refusal says."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from handlers.forms.answers import Invalid, describe_expected, format_answer, from_json, parse_answer, to_json
from handlers.forms.fields import Choice, Field, FieldType

TODAY = date(2024, 11, 27)

HOUSEHOLDS = Field("households", "户数", FieldType.INTEGER, unit="户", minimum=Decimal(0), maximum=Decimal(10000))
PEOPLE = Field("people", "人数", FieldType.INTEGER)
AREA = Field("area", "耕地面积", FieldType.DECIMAL, unit="亩", minimum=Decimal(0), maximum=Decimal("99.5"))
AMOUNT = Field("amount", "金额", FieldType.DECIMAL, unit="元")
NOTE = Field("note", "备注", FieldType.TEXT, min_length=2, max_length=10)
FREE_TEXT = Field("free", "情况说明", FieldType.TEXT)
VISITED = Field("visited", "走访日期", FieldType.DATE)
KINDS = (Choice("tp", "脱贫户"), Choice("jc", "监测户"), Choice("yb", "一般户"), Choice("qt", "其他，请说明"))
KIND = Field("kind", "户类型", FieldType.SELECT_ONE, choices=KINDS)
KINDS_MANY = Field("kinds", "帮扶类型", FieldType.SELECT_MULTIPLE, choices=KINDS)
INSURED = Field("insured", "是否参保", FieldType.YES_NO)
ID_NUMBER = Field("id_number", "身份证号", FieldType.ID_NUMBER)
MOBILE = Field("mobile", "联系电话", FieldType.MOBILE)
ALL_FIELDS = (HOUSEHOLDS, AREA, NOTE, VISITED, KIND, KINDS_MANY, INSURED, ID_NUMBER, MOBILE)


@pytest.mark.parametrize(
    ("field", "text", "expected"),
    [
        (HOUSEHOLDS, "37", 37),
        (HOUSEHOLDS, " 37户 ", 37),
        (HOUSEHOLDS, "３７", 37),
        (HOUSEHOLDS, "三十七", 37),
        (HOUSEHOLDS, "0", 0),
        (HOUSEHOLDS, "10000", 10000),
        (HOUSEHOLDS, "1万", 10000),
        (HOUSEHOLDS, "12.0", 12),
        (PEOPLE, "-3", -3),
        (AREA, "3.5", Decimal("3.5")),
        (AREA, "3.50亩", Decimal("3.5")),
        (AREA, "三点五", Decimal("3.5")),
        (AMOUNT, "1.5万元", Decimal("15000")),
        (AMOUNT, "1,234.56", Decimal("1234.56")),
        (NOTE, "  已入户走访  ", "已入户走访"),
        (VISITED, "2024-11-30", date(2024, 11, 30)),
        (VISITED, "昨天", date(2024, 11, 26)),
        (VISITED, "11月3日", date(2024, 11, 3)),
        (KIND, "2", "jc"),
        (KIND, "２", "jc"),
        (KIND, "2.", "jc"),
        (KIND, "监测户", "jc"),
        (KIND, "监测", "jc"),
        (KIND, "其他", "qt"),
        (KIND, "其他，请说明", "qt"),
        (KIND, "三", "yb"),
        (KINDS_MANY, "1 3", ["tp", "yb"]),
        (KINDS_MANY, "3、1", ["tp", "yb"]),
        (KINDS_MANY, "3，1,1", ["tp", "yb"]),
        (KINDS_MANY, "监测；脱贫户", ["tp", "jc"]),
        (KINDS_MANY, "2;4", ["jc", "qt"]),
        (KINDS_MANY, "13", ["tp", "yb"]),
        (KINDS_MANY, "4321", ["tp", "jc", "yb", "qt"]),
        (KINDS_MANY, "其他，请说明", ["qt"]),
        (KINDS_MANY, "一般户", ["yb"]),
        (ID_NUMBER, "110102199101010078", "110102199101010078"),
        (ID_NUMBER, "44011320141005001X", "44011320141005001X"),
        (ID_NUMBER, "44011320141005001x", "44011320141005001X"),
        (ID_NUMBER, "４４０１１３２０１４１００５００１ｘ", "44011320141005001X"),
        (MOBILE, "13812341234", "13812341234"),
        (MOBILE, "+86 138-1234-1234", "13812341234"),
    ],
)
def test_accepts_and_types_answers(field: Field, text: str, expected: object) -> None:
    value = parse_answer(field, text, TODAY)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("是", True),
        ("是的", True),
        ("对", True),
        ("有", True),
        ("已", True),
        ("yes", True),
        ("Y", True),
        ("1", True),
        ("１", True),
        ("是。", True),
        ("否", False),
        ("不是", False),
        ("没有", False),
        ("无", False),
        ("未", False),
        ("no", False),
        ("N", False),
        ("2", False),
        ("0", False),
    ],
)
def test_yes_no_words(text: str, expected: bool) -> None:
    assert parse_answer(INSURED, text, TODAY) is expected


@pytest.mark.parametrize(
    ("field", "text", "mentions"),
    [
        (HOUSEHOLDS, "abc", ["“abc”不是数字", "整数"]),
        (HOUSEHOLDS, "3.5", ["3.5 不是整数"]),
        (HOUSEHOLDS, "10001", ["不能超过 10000"]),
        (HOUSEHOLDS, "1.5万", ["不能超过 10000"]),
        (HOUSEHOLDS, "-1", ["不能小于 0"]),
        (HOUSEHOLDS, "37人", ["不是数字"]),
        (AREA, "一百", ["不能超过 99.5"]),
        (AREA, "很多", ["不是数字", "12.5"]),
        (NOTE, "好", ["至少要 2 个字"]),
        (NOTE, "这段备注写得实在是太长了", ["不能超过 10 个字", "现在 12 个字"]),
        (VISITED, "2月30日", ["不是有效的日期", "2024-11-30"]),
        (VISITED, "上周", ["不是有效的日期"]),
        (KIND, "7", ["没有第 7 项", "1 脱贫户", "4 其他，请说明"]),
        (KIND, "0", ["没有第 0 项"]),
        (KIND, "贫困户", ["“贫困户”不在选项中", "2 监测户"]),
        (KIND, "户", ["对应多个选项", "脱贫户、监测户、一般户"]),
        (KIND, "1 2", ["只能选一项"]),
        (KINDS_MANY, "1 9", ["没有第 9 项"]),
        (KINDS_MANY, "15", ["没有第 15 项"]),
        (KINDS_MANY, "脱贫户 外出户", ["“外出户”不在选项中"]),
        (INSURED, "好吧", ["“好吧”无法识别", "“是”或“否”"]),
        (INSURED, "3", ["无法识别"]),
        (ID_NUMBER, "36042619910102009X", ["身份证号校验位不对，请核对后重新填写。"]),
        (ID_NUMBER, "360426199113010079", ["出生日期不对"]),
        (ID_NUMBER, "11010219910101007", ["位数不对", "18 位", "17 位"]),
        (ID_NUMBER, "11010219910101007Y", ["非法字符"]),
        (MOBILE, "1381234123", ["位数不对", "11 位", "10 位"]),
        (MOBILE, "12812341234", ["不是有效的手机号"]),
        (MOBILE, "电话号码", ["只能填数字"]),
    ],
)
def test_refusals_say_what_was_wrong(field: Field, text: str, mentions: list[str]) -> None:
    result = parse_answer(field, text, TODAY)
    assert isinstance(result, Invalid)
    for words in mentions:
        assert words in result.reason


@pytest.mark.parametrize("field", [*ALL_FIELDS, FREE_TEXT, PEOPLE])
@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_reply_is_refused_with_the_expected_format(field: Field, text: str) -> None:
    result = parse_answer(field, text, TODAY)
    assert isinstance(result, Invalid)
    assert "还没有填写内容" in result.reason
    assert describe_expected(field) in result.reason


def test_id_number_with_a_future_birth_date_is_refused() -> None:
    result = parse_answer(ID_NUMBER, "44011320141005001X", date(2014, 10, 1))
    assert isinstance(result, Invalid)
    assert "出生日期" in result.reason


@pytest.mark.parametrize(
    ("field", "text"),
    [
        (HOUSEHOLDS, "身份证110102199101010078"),
        (INSURED, "110102199101010078"),
        (INSURED, "13812341234"),
        (KIND, "13812341234"),
        (VISITED, "找 13812341234"),
        (ID_NUMBER, "110102199101010079"),
        (MOBILE, "12812341234"),
    ],
)
def test_refusals_never_repeat_a_whole_id_number_or_mobile(field: Field, text: str) -> None:
    result = parse_answer(field, text, TODAY)
    assert isinstance(result, Invalid)
    for secret in ("110102199101010078", "110102199101010079", "13812341234", "12812341234"):
        assert secret not in result.reason


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        (HOUSEHOLDS, 37, "37户"),
        (PEOPLE, 12, "12"),
        (AREA, Decimal("3.50"), "3.5亩"),
        (AMOUNT, Decimal("15000.0"), "15000元"),
        (AMOUNT, Decimal("0.05"), "0.05元"),
        (NOTE, "已入户", "已入户"),
        (FREE_TEXT, "户主电话13812341234", "户主电话138****1234"),
        (VISITED, date(2024, 11, 30), "2024年11月30日"),
        (KIND, "jc", "监测户"),
        (KIND, "gone", "gone"),
        (KINDS_MANY, ["tp", "yb"], "脱贫户、一般户"),
        (INSURED, True, "是"),
        (INSURED, False, "否"),
        (ID_NUMBER, "110102199101010078", "1101**********0078"),
        (MOBILE, "13812341234", "138****1234"),
    ],
)
def test_echoes_answers_for_chat(field: Field, value: object, shown: str) -> None:
    assert format_answer(field, value) == shown


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        (
            Field("n", "数量", FieldType.INTEGER, minimum=Decimal(0), maximum=Decimal(10000)),
            "请填写整数（0～10000）",
        ),
        (HOUSEHOLDS, "请填写整数（0～10000），单位：户"),
        (PEOPLE, "请填写整数"),
        (Field("n", "数量", FieldType.INTEGER, minimum=Decimal(1)), "请填写整数（不小于1）"),
        (AREA, "请填写数字，可带小数（0～99.5），单位：亩"),
        (Field("t", "说明", FieldType.TEXT, max_length=200), "请填写文字，不超过200字"),
        (NOTE, "请填写文字，至少2字，不超过10字"),
        (FREE_TEXT, "请填写文字"),
        (VISITED, "请填写日期，如 2024-11-30"),
        (KIND, "请回复选项序号或名称"),
        (KINDS_MANY, "请回复选项序号或名称，可多选，用空格或顿号分隔"),
        (INSURED, "请回复“是”或“否”"),
        (ID_NUMBER, "请填写18位身份证号"),
        (MOBILE, "请填写11位手机号"),
    ],
)
def test_describes_the_expected_format(field: Field, expected: str) -> None:
    assert describe_expected(field) == expected


@pytest.mark.parametrize(
    ("field", "text", "stored"),
    [
        (HOUSEHOLDS, "37", 37),
        (AREA, "3.5", "3.5"),
        (AMOUNT, "1.5万", "15000"),
        (NOTE, "已入户", "已入户"),
        (VISITED, "2024-11-30", "2024-11-30"),
        (KIND, "2", "jc"),
        (KINDS_MANY, "3 1", ["tp", "yb"]),
        (INSURED, "否", False),
        (ID_NUMBER, "44011320141005001x", "44011320141005001X"),
        (MOBILE, "138 1234 1234", "13812341234"),
    ],
)
def test_answers_survive_a_json_round_trip(field: Field, text: str, stored: object) -> None:
    value = parse_answer(field, text, TODAY)
    data = to_json(field, value)
    assert data == stored
    loaded = from_json(field, json.loads(json.dumps(data)))
    assert loaded == value
    assert type(loaded) is type(value)


@pytest.mark.parametrize(
    ("field", "data"),
    [
        (HOUSEHOLDS, "37"),
        (HOUSEHOLDS, True),
        (AREA, 3.5),
        (VISITED, 20241130),
        (KINDS_MANY, "tp"),
        (KINDS_MANY, ["tp", 2]),
        (INSURED, 1),
        (ID_NUMBER, 110102199101010078),
    ],
)
def test_loading_stored_data_of_the_wrong_shape_fails_loudly(field: Field, data: object) -> None:
    with pytest.raises(TypeError) as raised:
        from_json(field, data)
    assert "110102199101010078" not in str(raised.value)
