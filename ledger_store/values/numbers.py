"""Numbers as people write them, in chat or in a cell: ASCII or full-width digits, Chinese numerals, 万, 亿."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from ledger_store.values.problems import Problem, Refused

# Stored answers are NUMERIC(20, 4): whole parts up to 15 digits fit on every database (PostgreSQL and MariaDB
# refuse more, so one value beyond it would make every write fail). A number this large or larger is refused.
STORABLE_LIMIT = Decimal(10) ** 15
_DIGITS = {
    "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "三": 3, "叁": 3, "四": 4, "肆": 4, "五": 5, "伍": 5,
    "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9,
}  # fmt: skip
_ZEROS = frozenset("零〇")
_SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_BIG_UNITS = {"万": 10**4, "亿": 10**8}
_MULTIPLIERS = {"": 1, "十": 10, "百": 100, "千": 1000, "万": 10**4, "亿": 10**8, "万亿": 10**12}
_PLAIN = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_ARABIC = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?")
_FRACTION = re.compile(r"([0-9零〇一二三四五六七八九]+)(万亿|[十百千万亿]?)")
_SIGN = re.compile(r"([+\-]|负|正)?\s*(.*)", re.DOTALL)

# Token kinds: a Chinese digit, 零, an Arabic number, a unit below 万, and 万/亿.
_DIGIT, _ZERO, _ARABIC_NUMBER, _SMALL, _BIG = "digit", "zero", "arabic", "small", "big"


def parse_number(text: str, unit: str = "") -> Decimal | None:
    """The exact value of a typed number such as "1,234", "３７户", "一千二百", "1.5万", or None."""
    if _PLAIN.fullmatch(text):  # most cells of an import: nothing to normalise or tokenize
        return _canonical(Decimal(text))
    body = unicodedata.normalize("NFKC", text).replace("−", "-").strip()
    unit = unicodedata.normalize("NFKC", unit).strip()
    if unit and body.endswith(unit):
        body = body[: -len(unit)].rstrip()
    match = _SIGN.fullmatch(body)
    sign, body = match.group(1), match.group(2)
    value = _parse_unsigned(body)
    if value is None:
        return None
    if sign in ("-", "负"):
        value = -value
    return _canonical(value)


def read_number(text: str, *, integer: bool, unit: str = "") -> int | Decimal | Refused:
    """A number (whole when `integer`), optionally followed by `unit`: 350, 三百五十, 1.5万, 3.0 as a whole 3."""
    if integer and text.isascii() and text.isdigit():  # most cells of an import
        return int(text)
    number = parse_number(text, unit)
    if number is None:
        return Refused(Problem.NOT_A_NUMBER, text)
    if integer and number != number.to_integral_value():
        return Refused(Problem.NOT_AN_INTEGER, format(number, "f"))
    return int(number) if integer else number


def read_storable_number(text: str, *, integer: bool, unit: str = "") -> int | Decimal | Refused:
    """`read_number`, refusing a number a stored value cannot hold (at or beyond STORABLE_LIMIT either way)."""
    number = read_number(text, integer=integer, unit=unit)
    if not isinstance(number, Refused) and abs(number) >= STORABLE_LIMIT:
        return Refused(Problem.TOO_LARGE, str(number) if isinstance(number, int) else format(number, "f"))
    return number


def _canonical(value: Decimal) -> Decimal:
    """Whole numbers without a fraction part (15000, not 15000.0); others without trailing zeros."""
    if value == value.to_integral_value():
        return Decimal(int(value))
    return value.normalize()


def _parse_unsigned(body: str) -> Decimal | None:
    """A number without sign; 点 splits a Chinese whole part from its fraction digits."""
    if not body:
        return None
    if "点" not in body:
        tokens = _tokenize(body)
        return None if tokens is None else _evaluate(tokens)
    whole_text, fraction_text = body.split("点", 1)
    fraction = _FRACTION.fullmatch(fraction_text)
    whole_tokens = _tokenize(whole_text) if whole_text else None
    if fraction is None or whole_tokens is None:
        return None
    whole = _evaluate(whole_tokens)
    if whole is None or whole != whole.to_integral_value():
        return None
    digits = "".join(str(_DIGITS.get(c, 0)) if not c.isdigit() else c for c in fraction.group(1))
    return (whole + Decimal("0." + digits)) * _MULTIPLIERS[fraction.group(2)]


def _tokenize(body: str) -> list[tuple[str, Decimal, bool]] | None:
    """Split into (kind, value, is_single_character) tokens, or None on anything unknown."""
    tokens: list[tuple[str, Decimal, bool]] = []
    position = 0
    while position < len(body):
        char = body[position]
        arabic = _ARABIC.match(body, position)
        if arabic:
            literal = arabic.group()
            tokens.append((_ARABIC_NUMBER, Decimal(literal.replace(",", "")), len(literal) == 1))
            position = arabic.end()
            continue
        if char in _DIGITS:
            tokens.append((_DIGIT, Decimal(_DIGITS[char]), True))
        elif char in _ZEROS:
            tokens.append((_ZERO, Decimal(0), True))
        elif char in _SMALL_UNITS:
            tokens.append((_SMALL, Decimal(_SMALL_UNITS[char]), True))
        elif char in _BIG_UNITS:
            tokens.append((_BIG, Decimal(_BIG_UNITS[char]), True))
        else:
            return None
        position += 1
    return tokens


def _evaluate(tokens: list[tuple[str, Decimal, bool]]) -> Decimal | None:
    """Combine tokens: digit strings (二〇二四), positional numerals (一千零五) and multipliers (1.5万)."""
    if all(kind in (_DIGIT, _ZERO) for kind, _, _ in tokens):
        return Decimal("".join(str(int(value)) for _, value, _ in tokens))
    finished = Decimal(0)  # everything up to the last 亿
    ten_thousands = Decimal(0)  # the 万 group after it
    group = Decimal(0)  # the part below 万 being read
    pending: Decimal | None = None
    pending_single = False
    after_zero = False
    previous_unit: Decimal | None = None  # the unit right before the pending number
    last_small: Decimal | None = None
    for kind, value, single in tokens:
        if kind == _ZERO:
            if pending is not None:
                return None
            after_zero, previous_unit = True, None
        elif kind in (_DIGIT, _ARABIC_NUMBER):
            if pending is not None:
                return None
            pending, pending_single = value, single
        elif kind == _SMALL:
            if pending is None and value == 10:
                pending = Decimal(1)  # 十二 means 一十二
            if pending is None or (last_small is not None and value >= last_small):
                return None
            group += pending * value
            pending, last_small, previous_unit, after_zero = None, value, value, False
        else:
            amount = group + (pending or 0)
            if value == _BIG_UNITS["万"]:
                if amount == 0 or ten_thousands:
                    return None
                ten_thousands = amount * value
            else:
                amount += ten_thousands
                if amount == 0 or finished:
                    return None
                finished, ten_thousands = amount * value, Decimal(0)
            group, pending, last_small, previous_unit, after_zero = Decimal(0), None, None, value, False
    if pending is not None:
        if pending_single and previous_unit is not None and previous_unit >= 100 and not after_zero:
            pending *= previous_unit // 10  # colloquial 一千二 = 1200, 三万五 = 35000
        elif previous_unit is not None and pending >= previous_unit:
            return None
        group += pending
    return finished + ten_thousands + group
