"""What XLSForm expression values mean here: comparisons, arithmetic and functions over typed answers.

Answers arrive typed: int, Decimal, str, date, bool (yes/no questions), list[str] (select_multiple) and None for
an unanswered question. The rules follow XPath 1.0 where they can:

- Unanswered is XLSForm's empty string: `${x} = ''` is true and `${x} != ''` false; it equals nothing else, every
  ordering comparison (< <= > >=) with it is false, and arithmetic with it gives None (XPath's NaN).
- A number compares with a string as numbers ('5' = 5); a string that is no number makes the comparison false.
- A date compares with a date or a 'YYYY-MM-DD' string as dates, and with a number as days since 1970-01-01;
  date - date is a number of days, date + n and date - n are dates.
- A yes/no answer (bool) equals 'yes', 'true', '1' and 是 when true, and 'no', 'false', '0' and 否 when false.
- A select_multiple answer is its values separated by spaces, as in XLSForm; use selected() to test one.
- Two strings are equal only when identical; they order as numbers when both are numbers, as dates when both
  are dates, and otherwise alphabetically.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from decimal import Decimal

from handlers.forms.expression_regex import regex_matches
from ledger_store.values.words import yes_or_no

COMPARISONS = frozenset({"=", "!=", "<", "<=", ">", ">="})
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_EPOCH = date(1970, 1, 1)


def normalize(value: object) -> object:
    """An answer in the types above: floats become Decimal, datetimes dates, tuples lists."""
    if isinstance(value, float | Decimal):
        return Decimal(repr(value) if isinstance(value, float) else value) if math.isfinite(value) else None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, tuple):
        return list(value)
    return value


def to_boolean(value: object) -> bool:
    """XPath boolean(): unanswered, empty, zero and no selection are false."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, int | Decimal):
        return value != 0
    if isinstance(value, str | list):
        return len(value) > 0
    return True


def to_number(value: object) -> Decimal | None:
    """XPath number(): None where XPath gives NaN."""
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, int | Decimal):
        return Decimal(value) if Decimal(value).is_finite() else None
    if isinstance(value, date):
        return Decimal((value - _EPOCH).days)
    text = to_string(value).strip()
    return Decimal(text) if _NUMBER.fullmatch(text) else None


def to_string(value: object) -> str:
    """XPath string(): unanswered is '', yes/no is 'yes'/'no', a selection its values joined by spaces."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return _plain(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return " ".join(to_string(item) for item in value)
    return str(value)


def to_date(value: object) -> date | None:
    """A date, or a string that starts with YYYY-MM-DD, as a date."""
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def compare(operator: str, left: object, right: object) -> bool:
    """The result of = != < <= > >= under the rules in the module docstring."""
    left, right = _scalar(left), _scalar(right)
    if operator in ("=", "!="):
        return _equal(left, right) == (operator == "=")
    order = _order(left, right)
    if order is None:
        return False
    return {"<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0}[operator]


def arithmetic(operator: str, left: object, right: object) -> object:
    """The result of + - * div mod; None when an operand is no number or on division by zero."""
    left, right = _scalar(left), _scalar(right)
    try:
        shifted = _date_arithmetic(operator, left, right)
        if shifted is not None:
            return shifted
        x, y = to_number(left), to_number(right)
        if x is None or y is None or (operator in ("div", "mod") and y == 0):
            return None
        results = {
            "+": lambda: x + y,
            "-": lambda: x - y,
            "*": lambda: x * y,
            "div": lambda: x / y,
            "mod": lambda: x % y,
        }
        return _tidy(results[operator]())
    except ArithmeticError:  # a date out of range, or a number beyond Decimal's limits
        return None


def _date_arithmetic(operator: str, left: object, right: object) -> date | int | None:
    """date - date in days, date + n and date - n; None when the operation is not one of these."""
    if isinstance(left, date) and operator == "-" and (other := to_date(right)) is not None:
        return (left - other).days
    if isinstance(left, date) and operator in ("+", "-") and (days := _whole(right)) is not None:
        return left + timedelta(days=days if operator == "+" else -days)
    if isinstance(right, date) and operator == "+" and (days := _whole(left)) is not None:
        return right + timedelta(days=days)
    return None


def negate(value: object) -> int | Decimal | None:
    """Unary minus."""
    number = to_number(_scalar(value))
    return None if number is None else _tidy(-number)


def call(function: str, arguments: list[object]) -> object:
    """The value of a function other than if() and today(), which need the evaluator."""
    match function, arguments:
        case "regex", [subject, pattern]:
            return regex_matches(to_string(subject), to_string(pattern))
        case "string-length", [text]:
            return len(to_string(text))
        case "selected", [selection, value]:
            return to_string(value) in _items(selection)
        case "count-selected", [selection]:
            return len(_items(selection))
        case "number", [value]:
            number = to_number(_scalar(value))
            return None if number is None else _tidy(number)
        case "int", [value]:
            number = to_number(_scalar(value))
            return None if number is None else int(number)
        case "concat", _:
            return "".join(to_string(argument) for argument in arguments)
        case "coalesce", [first, second]:
            return second if first is None or first in ("", []) else first
        case "not", [value]:
            return not to_boolean(value)
        case "true", []:
            return True
        case "false", []:
            return False
    raise ValueError(f"cannot call {function}() with {len(arguments)} arguments")


def _items(selection: object) -> list[str]:
    """The values of a selection: a list, or a string of values separated by spaces."""
    if isinstance(selection, list):
        return [to_string(item) for item in selection]
    return to_string(selection).split()


def _scalar(value: object) -> object:
    """A selection as its space-separated string, so it compares like XLSForm's."""
    return to_string(value) if isinstance(value, list) else value


def to_flag(value: object) -> bool | None:
    """A value read as yes or no (a yes/no answer's words: 是, 否, yes, true, 1, 没有 …), None when it is neither."""
    if isinstance(value, bool):
        return value
    return yes_or_no(to_string(value))


def _equal(left: object, right: object) -> bool:
    """= under the module's rules."""
    if isinstance(left, bool) or isinstance(right, bool):
        flag, other = (left, right) if isinstance(left, bool) else (right, left)
        return other is not None and to_flag(other) is flag
    if left is None or right is None:
        return to_string(left) == to_string(right)
    if isinstance(left, str) and isinstance(right, str):
        return left == right
    return _order(left, right) == 0


def _order(left: object, right: object) -> int | None:
    """-1, 0 or 1 comparing two answered values; None when they cannot be compared."""
    if left is None or right is None:
        return None
    numeric = (int, Decimal)  # bool is an int too
    if isinstance(left, date) or isinstance(right, date):
        if isinstance(left, numeric) or isinstance(right, numeric):
            return _cmp(to_number(left), to_number(right))
        return _cmp(to_date(left), to_date(right))
    if isinstance(left, numeric) or isinstance(right, numeric):
        return _cmp(to_number(left), to_number(right))
    numbers = to_number(left), to_number(right)
    if None not in numbers:
        return _cmp(*numbers)
    days = to_date(left), to_date(right)
    if None not in days:
        return _cmp(*days)
    return _cmp(str(left), str(right))


def _cmp(left: object, right: object) -> int | None:
    """-1, 0 or 1; None when either side is missing."""
    if left is None or right is None:
        return None
    return (left > right) - (left < right)


def _whole(value: object) -> int | None:
    """A value as a whole number of days, None when it is no whole number."""
    number = None if isinstance(value, date) else to_number(value)
    if number is None or number != number.to_integral_value():
        return None
    return int(number)


def _tidy(number: Decimal) -> int | Decimal:
    """An int when the number is whole, otherwise the Decimal without trailing zeros."""
    return int(number) if number == number.to_integral_value() else number.normalize()


def _plain(number: Decimal) -> str:
    """A Decimal without exponent or trailing zeros: 15000, 3.5."""
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")
