"""Read the conditions typed after /查询 台账: 家庭月人均收入<600, 保障类别=A类、B类, 享受补贴 包含 …, 联系电话 为空."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from handlers.forms.answers import Invalid
from handlers.texts import ledgers as t
from handlers.texts.validation import NUMBER_PROBLEMS
from ledger_store.ledger_query import OPERATORS, ORDERING, Condition, Operator
from ledger_store.ledgers import UNIT_HEADER, is_sensitive
from ledger_store.models import Ledger
from ledger_store.values.choices import choices_of, read_choices
from ledger_store.values.dates import read_date
from ledger_store.values.numbers import read_number
from ledger_store.values.personal import normalize_id_number, normalize_mobile, read_id_number, read_mobile
from ledger_store.values.problems import Problem, Refused
from ledger_store.values.words import read_yes_no

# Whole-number fields are compared as 64-bit integers in SQL; a larger parameter raises in every database driver.
LARGEST_WHOLE_NUMBER = 2**63 - 1
# Signs NFKC leaves alone (it already turns ＞＜＝！～， into ASCII).
_SIGNS = str.maketrans({"≥": ">=", "≤": "<=", "≠": "!=", "〜": "~"})
# What people write between a field and its value; the longest match wins, so 不等于 is not 等于.
OPERATOR_WORDS: dict[str, Operator] = {
    "=": Operator.EQUAL, "==": Operator.EQUAL, ":": Operator.EQUAL, "等于": Operator.EQUAL,
    "!=": Operator.NOT_EQUAL, "<>": Operator.NOT_EQUAL, "不等于": Operator.NOT_EQUAL, "不是": Operator.NOT_EQUAL,
    ">": Operator.GREATER, "大于": Operator.GREATER, "超过": Operator.GREATER, "高于": Operator.GREATER,
    "多于": Operator.GREATER, "晚于": Operator.GREATER,
    ">=": Operator.GREATER_EQUAL, "大于等于": Operator.GREATER_EQUAL, "不少于": Operator.GREATER_EQUAL,
    "不低于": Operator.GREATER_EQUAL, "不小于": Operator.GREATER_EQUAL, "不早于": Operator.GREATER_EQUAL,
    "<": Operator.LESS, "小于": Operator.LESS, "低于": Operator.LESS, "少于": Operator.LESS, "早于": Operator.LESS,
    "<=": Operator.LESS_EQUAL, "小于等于": Operator.LESS_EQUAL, "不超过": Operator.LESS_EQUAL,
    "不高于": Operator.LESS_EQUAL, "不大于": Operator.LESS_EQUAL, "不多于": Operator.LESS_EQUAL,
    "不晚于": Operator.LESS_EQUAL,
    "~": Operator.CONTAINS, "包含": Operator.CONTAINS, "含": Operator.CONTAINS, "包括": Operator.CONTAINS,
    "不包含": Operator.NOT_CONTAINS, "不含": Operator.NOT_CONTAINS, "不包括": Operator.NOT_CONTAINS,
    "为空": Operator.EMPTY, "是空": Operator.EMPTY,
    "非空": Operator.PRESENT, "不为空": Operator.PRESENT, "不是空": Operator.PRESENT,
}  # fmt: skip
_OPERATOR = re.compile("|".join(re.escape(word) for word in sorted(OPERATOR_WORDS, key=len, reverse=True)))
_UNARY = (Operator.EMPTY, Operator.PRESENT)
_TEXT_KINDS = ("text", "id_number", "mobile")  # a list of these is always split: names hold no commas
_NUMBER_KINDS = ("id_number", "mobile")
_DIGIT_GROUP = re.compile(r"[0-9][0-9-]*[Xx]?")  # after NFKC: 138 0013 8000 is one mobile written in groups
_SEPARATORS = re.compile(r"[,、;]+")  # after NFKC, so ， and ； are included
# 字段=空, 字段=非空, 字段!=空 …
_EMPTINESS = {
    (Operator.EQUAL, t.EMPTY): Operator.EMPTY,
    (Operator.EQUAL, t.PRESENT): Operator.PRESENT,
    (Operator.NOT_EQUAL, t.EMPTY): Operator.PRESENT,
    (Operator.NOT_EQUAL, t.PRESENT): Operator.EMPTY,
}
# On several choices, = means "this option is among those selected".
_ON_SEVERAL = {Operator.EQUAL: Operator.CONTAINS, Operator.NOT_EQUAL: Operator.NOT_CONTAINS}


@dataclass
class Conditions:
    """What a query asks for: field conditions, and the unit names of each 单位=… (any of them, each a subtree)."""

    fields: list[Condition] = field(default_factory=list)
    units: list[list[str]] = field(default_factory=list)


def parse_conditions(ledger: Ledger, words: list[str], today: date, *, masked: bool = False) -> Conditions | str:
    """The conditions in `words` (split at spaces), or the sentence saying what to write instead.

    `masked`: the asker sees sensitive fields masked, so may only ask whether they are empty; anything else
    (包含 above all) would let repeated counts recover a masked number digit by digit.
    """
    headers = {normal(key): item for item in ledger.fields for key in (item["label"], item["name"])}
    words = [normal(word) for word in words]
    found, index = Conditions(), 0
    while index < len(words):
        start, word = index, words[index]
        header = max((key for key in [*headers, UNIT_HEADER] if word.startswith(key)), key=len, default=None)
        if header is None:
            return _not_understood(words, index, [item["label"] for item in ledger.fields])
        rest, index = word[len(header) :], index + 1
        if not rest and index < len(words):
            rest, index = words[index], index + 1
        operator_word = _OPERATOR.match(rest)
        if operator_word is None:
            return t.bad_condition(" ".join(words[start:index]))
        operator, value = OPERATOR_WORDS[operator_word.group()], rest[operator_word.end() :].strip()
        if not value and operator not in _UNARY and index < len(words):
            value, index = words[index], index + 1
        if value and header in headers and headers[header]["type"] in _NUMBER_KINDS:
            while index < len(words) and _DIGIT_GROUP.fullmatch(words[index]):
                value, index = value + words[index], index + 1
        if header == UNIT_HEADER:
            if operator is not Operator.EQUAL or not _split(value):
                return t.UNIT_EQUAL_ONLY
            found.units.append(_split(value))
            continue
        shown = " ".join(words[start:index])
        condition = _condition(headers[header], operator, operator_word.group(), value, shown, today, masked)
        if isinstance(condition, Invalid):
            return condition.reason
        found.fields.append(condition)
    return found


def normal(text: str) -> str:
    """Full-width letters, digits and signs as ASCII, ≥ ≤ ≠ as >= <= !=."""
    return unicodedata.normalize("NFKC", text).translate(_SIGNS).strip()


def _not_understood(words: list[str], index: int, labels: list[str]) -> str:
    """An unknown field when an operator follows the words, otherwise no condition at all."""
    word = words[index]
    inside = _OPERATOR.search(word)
    if inside is not None and inside.start() > 0:
        return t.unknown_field(word[: inside.start()], labels)
    if inside is None and index + 1 < len(words) and _OPERATOR.match(words[index + 1]):
        return t.unknown_field(word, labels)
    return t.bad_condition(word)


def _condition(
    item: dict[str, Any], operator: Operator, typed: str, value: str, shown: str, today: date, masked: bool
) -> Condition | Invalid:
    """One field's condition with its values typed, or why it cannot be asked."""
    kind, label = item["type"], item["label"]
    if (operator, value) in _EMPTINESS:
        operator, value = _EMPTINESS[operator, value], ""
    if masked and is_sensitive(item) and operator not in _UNARY:
        return Invalid(t.sensitive_condition(label))
    if kind == "select_multiple":
        operator = _ON_SEVERAL.get(operator, operator)
    if operator not in OPERATORS[kind]:
        return Invalid(t.operator_not_allowed(label, kind, typed, _examples(item)))
    if operator in _UNARY:
        return Invalid(t.bad_condition(shown)) if value else Condition(item["name"], operator)
    if not value:
        return Invalid(t.missing_value(shown, _example(item, typed)))
    values = _values(item, operator, value, today, _example(item, typed))
    if isinstance(values, Invalid):
        return values
    if operator in ORDERING and len(values) > 1:
        return Invalid(t.one_value_only(typed, _example(item, typed)))
    return Condition(item["name"], operator, tuple(values))


def _values(item: dict[str, Any], operator: Operator, value: str, today: date, example: str) -> list[Any] | Invalid:
    """The typed values: the whole text when it is one value (1,000 or a label with a comma), else each listed."""
    if item["type"] in ("select_one", "select_multiple"):
        chosen = read_choices(choices_of(item["choices"]), value)
        return _choice_refused(item, chosen) if isinstance(chosen, Refused) else chosen
    if item["type"] not in _TEXT_KINDS:
        whole = _typed(item, operator, value, today, example)
        if not isinstance(whole, Invalid) or len(_split(value)) <= 1:
            return whole if isinstance(whole, Invalid) else [whole]
    typed = [_typed(item, operator, part, today, example) for part in _split(value)]
    refused = next((part for part in typed if isinstance(part, Invalid)), None)
    return refused or list(dict.fromkeys(typed))


def _typed(item: dict[str, Any], operator: Operator, value: str, today: date, example: str) -> Any:
    """One value in the field's type, or Invalid saying what to write instead."""
    kind, label = item["type"], item["label"]
    if kind in ("integer", "decimal"):
        number = read_number(value, integer=kind == "integer")
        if isinstance(number, Refused):
            return Invalid(t.not_a_number(value, label, kind == "integer", example))
        if kind == "integer" and abs(number) > LARGEST_WHOLE_NUMBER:
            return Invalid(t.number_too_large(value, label, example))
        return number
    if kind == "date":
        day = read_date(value, today)
        return Invalid(t.not_a_date(value, example)) if isinstance(day, Refused) else day
    if kind == "yes_no":
        flag = read_yes_no(value)
        return Invalid(t.not_yes_no(label)) if isinstance(flag, Refused) else flag
    if kind in _NUMBER_KINDS and operator in (Operator.CONTAINS, Operator.NOT_CONTAINS):
        return normalize_id_number(value) if kind == "id_number" else normalize_mobile(value)
    if kind in _NUMBER_KINDS:
        number = read_id_number(value, today) if kind == "id_number" else read_mobile(value)
        if isinstance(number, Refused):
            return Invalid(t.incomplete_number(value, label, NUMBER_PROBLEMS[number.problem]))
        return number
    return value


def _choice_refused(item: dict[str, Any], refused: Refused) -> Invalid:
    """Why an option named in a condition is none of the field's."""
    labels = [choice["label"] for choice in item["choices"]]
    if refused.problem is Problem.AMBIGUOUS_OPTION:
        return Invalid(t.ambiguous_choice(item["label"], refused.part, list(refused.matches)))
    return Invalid(t.unknown_choice(item["label"], refused.part, labels))


def _examples(item: dict[str, Any]) -> list[str]:
    """Conditions on this field that work, the most telling first."""
    label, kind, sample = item["label"], item["type"], _sample(item)
    if kind in ("integer", "decimal", "date"):
        return [f"{label}<{sample}", f"{label}>={sample}", f"{label}=空"]
    if kind == "select_one":
        several = ",".join(choice["label"] for choice in item["choices"][:2])
        return [f"{label}={sample}", f"{label}={several}", f"{label}!={sample}"]
    if kind == "select_multiple":
        return [f"{label} 包含 {sample}", f"{label} 不包含 {sample}", f"{label}=空"]
    if kind == "yes_no":
        return [f"{label}=是", f"{label}=否"]
    return [f"{label} 包含 {sample}", f"{label}=空", f"{label}=非空"]


def _example(item: dict[str, Any], typed: str) -> str:
    """A condition on this field with the operator as typed: 家庭人口>3, 家庭人口 不少于 3."""
    if typed.isascii():
        return f"{item['label']}{typed}{_sample(item)}"
    return f"{item['label']} {typed} {_sample(item)}"


def _sample(item: dict[str, Any]) -> str:
    """A value that fits the field, for examples."""
    if item["choices"]:
        return item["choices"][0]["label"]
    return {"integer": "3", "decimal": "600", "date": "2000-01-01", "yes_no": "是", "id_number": "500118",
            "mobile": "139"}.get(item["type"], "张")  # fmt: skip


def _split(value: str) -> list[str]:
    """The parts of a list such as A类,B类 or 松林村、汉东村."""
    return [part.strip() for part in _SEPARATORS.split(value) if part.strip()]
