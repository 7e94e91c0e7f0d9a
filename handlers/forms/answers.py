"""Turn a chat reply into the typed answer to one form field, and echo, store and load that answer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from handlers.core.masking import mask_id_number, mask_mobile, mask_sensitive
from handlers.core.words import fold
from handlers.forms.fields import Field, FieldType
from handlers.texts import validation as t
from ledger_store.values import read_value
from ledger_store.values.problems import Problem, Refused
from ledger_store.values.words import word_key

ACKNOWLEDGE_WORDS = frozenset(
    {"确认", "确定", "好", "好的", "知道了", "知道", "已阅", "已读", "收到", "明白", "了解", "同意", "是", "是的", "嗯"}
    | {"ok", "okay", "yes", "y", "1", "√", "✓", "✔"}
)
# How to_json stores a calculated number; any other calculated value is stored as text.
_STORED_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?")
_ECHO_LENGTH = 20


@dataclass(frozen=True)
class Invalid:
    """A refused answer."""

    reason: str  # Chinese sentence telling the person what to type instead


def parse_answer(field: Field, text: str, today: date) -> object | Invalid:
    """The typed value of a reply to `field`, or Invalid with a reason the person can act on.

    A text answer is kept as typed (trimmed): `退出，已入户核实。` stays so. Every other answer is read in its
    folded form, so full-width digits, letters and spaces work in numbers, options, dates, ID numbers and mobiles.
    """
    stripped = text.strip() if field.type == FieldType.TEXT else fold(text)
    if not stripped:
        return Invalid(t.empty_answer(describe_expected(field)))
    if field.type == FieldType.ACKNOWLEDGE:
        return True if word_key(stripped) in ACKNOWLEDGE_WORDS else Invalid(t.not_acknowledged(_echo(stripped)))
    value = read_value(field.type.value, stripped, today, field.choices, field.unit)
    if isinstance(value, Refused):
        return _refused(field, value, stripped)
    if field.type in (FieldType.INTEGER, FieldType.DECIMAL, FieldType.TEXT):
        return limits_problem(field, value) or value
    return value


def format_answer(field: Field, value: object) -> str:
    """How an answer is shown in chat: 37户, 2024年11月30日, 脱贫户、监测户, 是, 1101**********0078."""
    match field.type:
        case FieldType.INTEGER | FieldType.DECIMAL:
            return _plain(Decimal(value)) + field.unit
        case FieldType.DATE:
            return f"{value.year}年{value.month}月{value.day}日"
        case FieldType.SELECT_ONE:
            return _label(field, value)
        case FieldType.SELECT_MULTIPLE:
            return "、".join(_label(field, item) for item in value)
        case FieldType.YES_NO:
            return t.YES if value else t.NO
        case FieldType.ACKNOWLEDGE:
            return t.ACKNOWLEDGED
        case FieldType.CALCULATE if not isinstance(value, str):
            return _plain(Decimal(value)) + field.unit
        case FieldType.ID_NUMBER:
            return mask_id_number(value)
        case FieldType.MOBILE:
            return mask_mobile(value)
    return mask_sensitive(value)


def describe_expected(field: Field) -> str:
    """The line under a question that says what to type, e.g. 请填写整数（0～10000）."""
    match field.type:
        case FieldType.INTEGER | FieldType.DECIMAL:
            start = t.EXPECT_INTEGER if field.type is FieldType.INTEGER else t.EXPECT_DECIMAL
            minimum = None if field.minimum is None else _plain(field.minimum)
            maximum = None if field.maximum is None else _plain(field.maximum)
            return start + t.number_range(minimum, maximum) + t.unit_suffix(field.unit)
        case FieldType.TEXT:
            return t.EXPECT_TEXT + t.text_length(field.min_length, field.max_length)
    return _EXPECTED[field.type]


def to_json(field: Field, value: object) -> object:
    """The answer as stored: decimals as strings, dates as ISO strings, calculated values as text."""
    match field.type:
        case FieldType.DECIMAL:
            return format(value, "f")
        case FieldType.CALCULATE:
            return value if isinstance(value, str) else _plain(Decimal(value))
        case FieldType.DATE:
            return value.isoformat()
        case FieldType.SELECT_MULTIPLE:
            return list(value)
    return value


def from_json(field: Field, data: object) -> object:
    """Inverse of `to_json`; raises TypeError or ValueError when the stored data has the wrong shape."""
    match field.type:
        case FieldType.INTEGER:
            return _require(field, data, int)
        case FieldType.DECIMAL:
            return Decimal(_require(field, data, str))
        case FieldType.DATE:
            return date.fromisoformat(_require(field, data, str))
        case FieldType.SELECT_MULTIPLE:
            return [_require(field, item, str) for item in _require(field, data, list)]
        case FieldType.YES_NO | FieldType.ACKNOWLEDGE:
            return _require(field, data, bool)
        case FieldType.CALCULATE:
            return _calculated(_require(field, data, str))
    return _require(field, data, str)


def _refused(field: Field, refused: Refused, text: str) -> Invalid:
    """What the person is told about a refused answer; the reason never repeats an ID or mobile number."""
    labels = [choice.label for choice in field.choices]
    match refused.problem:
        case Problem.NOT_A_NUMBER:
            return Invalid(t.not_a_number(_echo(text), field.type == FieldType.INTEGER))
        case Problem.NOT_AN_INTEGER:
            return Invalid(t.not_an_integer(refused.part))
        case Problem.TOO_LARGE:  # the form's own limit, when it has one, is the more useful answer
            return limits_problem(field, Decimal(refused.part)) or Invalid(t.BEYOND_STORABLE)
        case Problem.NOT_A_DATE | Problem.NO_SUCH_DAY:
            return Invalid(t.not_a_date(_echo(text)))
        case Problem.NOT_YES_NO:
            return Invalid(t.not_yes_no(_echo(text)))
        case Problem.UNKNOWN_OPTION:
            return Invalid(t.unknown_option(_echo(refused.part), labels))
        case Problem.NO_SUCH_OPTION_NUMBER:
            return Invalid(t.no_such_option_number(int(refused.part), labels))
        case Problem.AMBIGUOUS_OPTION:
            return Invalid(t.ambiguous_option(_echo(refused.part), list(refused.matches)))
        case Problem.ONLY_ONE_OPTION:
            return Invalid(t.only_one_option(labels))
    if field.type == FieldType.MOBILE:
        return Invalid(t.mobile_refused(refused.problem, len(refused.part)))
    return Invalid(t.id_number_refused(refused.problem, len(refused.part)))


def limits_problem(field: Field, value: Any) -> Invalid | None:
    """Why a number is outside the field's minimum and maximum, or a text outside its lengths; None when it fits."""
    if isinstance(value, str):
        if field.min_length and len(value) < field.min_length:
            return Invalid(t.text_too_short(field.min_length, len(value)))
        if field.max_length and len(value) > field.max_length:
            return Invalid(t.text_too_long(field.max_length, len(value)))
        return None
    if field.maximum is not None and value > field.maximum:
        return Invalid(t.too_large(_plain(field.maximum) + field.unit))
    if field.minimum is not None and value < field.minimum:
        return Invalid(t.too_small(_plain(field.minimum) + field.unit))
    return None


_EXPECTED = {
    FieldType.DATE: t.EXPECT_DATE,
    FieldType.SELECT_ONE: t.EXPECT_SELECT_ONE,
    FieldType.SELECT_MULTIPLE: t.EXPECT_SELECT_MULTIPLE,
    FieldType.YES_NO: t.EXPECT_YES_NO,
    FieldType.ACKNOWLEDGE: t.EXPECT_ACKNOWLEDGE,
    FieldType.ID_NUMBER: t.EXPECT_ID_NUMBER,
    FieldType.MOBILE: t.EXPECT_MOBILE,
}


def _label(field: Field, value: str) -> str:
    """The label of an option value; the value itself if the form no longer has that option."""
    return next((choice.label for choice in field.choices if choice.value == value), value)


def _plain(number: Decimal) -> str:
    """A number without exponent or trailing zeros: 15000, 3.5, 0."""
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


def _calculated(text: str) -> int | Decimal | str:
    """A stored calculated value: a number when to_json wrote one, otherwise the text."""
    if not _STORED_NUMBER.fullmatch(text):
        return text
    return Decimal(text) if "." in text else int(text)


def _echo(text: str) -> str:
    """A reply quoted back in a reason: ID and mobile numbers masked, long replies shortened."""
    masked = mask_sensitive(text.strip())
    return masked if len(masked) <= _ECHO_LENGTH else masked[:_ECHO_LENGTH] + "…"


def _require(field: Field, data: object, kind: type) -> object:
    """The stored data if it has the expected JSON type; the message leaves out the data itself."""
    if isinstance(data, kind) and (kind is bool or not isinstance(data, bool)):
        return data
    raise TypeError(
        f"stored answer to {field.name!r} ({field.type.value}) is {type(data).__name__}, not {kind.__name__}"
    )
