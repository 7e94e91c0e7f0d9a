"""Turn a chat reply into the typed answer to one form field, and echo, store and load that answer."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from handlers.forms.fields import STORABLE_LIMIT, Choice, Field, FieldType
from handlers.forms.idcard import id_number_problem, mobile_problem, normalize_id_number, normalize_mobile
from handlers.masking import mask_id_number, mask_mobile, mask_sensitive
from handlers.numbers import parse_number
from handlers.texts import validation as t
from handlers.timeparse import parse_date
from handlers.words import fold

# Compared after full-width to ASCII, lower-casing and dropping trailing punctuation. 1/2 follow the
# 1. 是 2. 否 order people know from choice questions; 0 is 否 as in most paper forms.
YES_WORDS = frozenset({"是", "是的", "对", "对的", "有", "有的", "已", "已经", "yes", "y", "1", "√", "✓", "✔"})
NO_WORDS = frozenset({"否", "不是", "不", "不对", "没有", "没", "无", "未", "还没有", "no", "n", "2", "0", "×", "✗"})
ACKNOWLEDGE_WORDS = frozenset(
    {"确认", "确定", "好", "好的", "知道了", "知道", "已阅", "已读", "收到", "明白", "了解", "同意", "是", "是的", "嗯"}
    | {"ok", "okay", "yes", "y", "1", "√", "✓", "✔"}
)
# How to_json stores a calculated number; any other calculated value is stored as text.
_STORED_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?")
_SEPARATORS = re.compile(r"[\s、,;]+")  # after NFKC, so ， and ； are included
_TRAILING_PUNCTUATION = "。.!~"
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
    return _PARSERS[field.type](field, stripped, today)


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


def _parse_integer(field: Field, text: str, today: date) -> object:
    """A whole number within the field's limits."""
    return _parse_number(field, text, integer=True)


def _parse_decimal(field: Field, text: str, today: date) -> object:
    """A number within the field's limits."""
    return _parse_number(field, text, integer=False)


def _parse_number(field: Field, text: str, integer: bool) -> int | Decimal | Invalid:
    """A number, optionally followed by the field's unit, checked against minimum and maximum."""
    number = parse_number(text, field.unit)
    if number is None:
        return Invalid(t.not_a_number(_echo(text), integer))
    if integer and number != number.to_integral_value():
        return Invalid(t.not_an_integer(_plain(number)))
    problem = limits_problem(field, number)
    if problem is None and abs(number) >= STORABLE_LIMIT:
        problem = Invalid(t.BEYOND_STORABLE)
    return problem or (int(number) if integer else number)


def _parse_text(field: Field, text: str, today: date) -> str | Invalid:
    """The stripped text within the field's length limits."""
    return limits_problem(field, text) or text


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


def _parse_date(field: Field, text: str, today: date) -> date | Invalid:
    """A calendar day."""
    day = parse_date(text, today)
    return Invalid(t.not_a_date(_echo(text))) if day is None else day


def _parse_select_one(field: Field, text: str, today: date) -> str | Invalid:
    """The value of the one option named by number, label or part of a label."""
    found = _find_choice(field, text)
    if isinstance(found, Choice):
        return found.value
    tokens = _split(text)
    if len(tokens) > 1 and all(isinstance(_find_choice(field, token), Choice) for token in tokens):
        return Invalid(t.only_one_option(_labels(field)))
    return found


def _parse_select_multiple(field: Field, text: str, today: date) -> list[str] | Invalid:
    """The values of all options named, in form order and without repeats."""
    whole = _exact_label(field, text)  # a label may itself contain a separator
    if whole is not None:
        return [whole.value]
    chosen: set[str] = set()
    for token in _split(text):
        found = _find_choice(field, token)
        if isinstance(found, Invalid):
            run = _digit_run(field, token)
            if run is None:
                return found
            chosen.update(choice.value for choice in run)
        else:
            chosen.add(found.value)
    return [choice.value for choice in field.choices if choice.value in chosen]


def _parse_yes_no(field: Field, text: str, today: date) -> bool | Invalid:
    """True for the words in YES_WORDS, False for those in NO_WORDS."""
    key = _fold(text)
    if key in YES_WORDS:
        return True
    if key in NO_WORDS:
        return False
    return Invalid(t.not_yes_no(_echo(text)))


def _parse_acknowledge(field: Field, text: str, today: date) -> bool | Invalid:
    """True for the words in ACKNOWLEDGE_WORDS: the person has read and confirms."""
    if _fold(text) in ACKNOWLEDGE_WORDS:
        return True
    return Invalid(t.not_acknowledged(_echo(text)))


def _parse_id_number(field: Field, text: str, today: date) -> str | Invalid:
    """A valid 18-character ID number, normalised; the reason never repeats the number."""
    number = normalize_id_number(text)
    problem = id_number_problem(number, today)
    return number if problem is None else Invalid(t.id_number_refused(problem, len(number)))


def _parse_mobile(field: Field, text: str, today: date) -> str | Invalid:
    """A mainland mobile number as 11 digits; the reason never repeats the number."""
    number = normalize_mobile(text)
    problem = mobile_problem(number)
    return number if problem is None else Invalid(t.mobile_refused(problem, len(number)))


_PARSERS: dict[FieldType, Callable[[Field, str, date], object]] = {
    FieldType.INTEGER: _parse_integer,
    FieldType.DECIMAL: _parse_decimal,
    FieldType.TEXT: _parse_text,
    FieldType.DATE: _parse_date,
    FieldType.SELECT_ONE: _parse_select_one,
    FieldType.SELECT_MULTIPLE: _parse_select_multiple,
    FieldType.YES_NO: _parse_yes_no,
    FieldType.ACKNOWLEDGE: _parse_acknowledge,
    FieldType.ID_NUMBER: _parse_id_number,
    FieldType.MOBILE: _parse_mobile,
}
_EXPECTED = {
    FieldType.DATE: t.EXPECT_DATE,
    FieldType.SELECT_ONE: t.EXPECT_SELECT_ONE,
    FieldType.SELECT_MULTIPLE: t.EXPECT_SELECT_MULTIPLE,
    FieldType.YES_NO: t.EXPECT_YES_NO,
    FieldType.ACKNOWLEDGE: t.EXPECT_ACKNOWLEDGE,
    FieldType.ID_NUMBER: t.EXPECT_ID_NUMBER,
    FieldType.MOBILE: t.EXPECT_MOBILE,
}


def _find_choice(field: Field, token: str) -> Choice | Invalid:
    """The option a token names: exact label, then 1-based number, then unique part of a label."""
    key = _fold(token)
    exact = _exact_label(field, token)
    if exact is not None:
        return exact
    if not key:
        return Invalid(t.unknown_option(_echo(token), _labels(field)))
    if re.fullmatch(r"[0-9]{1,3}", key):
        return _choice_by_number(field, int(key))
    partial = [choice for choice in field.choices if key in _fold(choice.label)]
    if len(partial) == 1:
        return partial[0]
    if partial:
        return Invalid(t.ambiguous_option(_echo(token), [choice.label for choice in partial]))
    number = parse_number(key)  # 三 for the third option, once no label contains 三
    if number is not None and 1 <= number < 1000 and number == number.to_integral_value():
        return _choice_by_number(field, int(number))
    return Invalid(t.unknown_option(_echo(token), _labels(field)))


def _exact_label(field: Field, text: str) -> Choice | None:
    """The option whose label is exactly the text, ignoring width, case and trailing punctuation."""
    key = _fold(text)
    return next((choice for choice in field.choices if _fold(choice.label) == key), None)


def _choice_by_number(field: Field, number: int) -> Choice | Invalid:
    """The option at a 1-based position."""
    if 1 <= number <= len(field.choices):
        return field.choices[number - 1]
    return Invalid(t.no_such_option_number(number, _labels(field)))


def _digit_run(field: Field, token: str) -> list[Choice] | None:
    """134 read as options 1, 3 and 4, when there are at most nine options and 134 is no option itself."""
    key = _fold(token)
    count = len(field.choices)
    if count > 9 or len(key) > count or not re.fullmatch(r"[0-9]{2,}", key):
        return None
    if not all(1 <= int(digit) <= count for digit in key):
        return None
    return [field.choices[int(digit) - 1] for digit in key]


def _split(text: str) -> list[str]:
    """Tokens separated by spaces, 、, commas or semicolons (full-width or not)."""
    return [token for token in _SEPARATORS.split(unicodedata.normalize("NFKC", text)) if token]


def _fold(text: str) -> str:
    """Comparable form of a reply: full-width to ASCII, lower case, no surrounding space or final 。."""
    return unicodedata.normalize("NFKC", text).strip().rstrip(_TRAILING_PUNCTUATION).strip().casefold()


def _labels(field: Field) -> list[str]:
    """All option labels in form order."""
    return [choice.label for choice in field.choices]


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
