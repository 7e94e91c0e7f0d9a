"""Numbers that pick something in chat: a question, a todo, a roster row ("修改 3", "删除三")."""

from __future__ import annotations

from ledger_store.values.numbers import parse_number


def whole_number(text: str) -> int | None:
    """A typed whole number ("3", "３", "三", "1万"), or None for anything else (a fraction, a word, nothing)."""
    number = parse_number(text) if text.strip() else None
    if number is None or number != number.to_integral_value():
        return None
    return int(number)


LARGEST_ID = 2**63 - 1  # what an id column (BIGINT) holds


def typed_id(text: str) -> int | None:
    """A task's or review step's number as typed or carried by a button ("12", "１２"), or None when it is not a
    number an id column can hold: a 400-digit one names no row and must never reach the database."""
    digits = text.strip()
    if not digits.isdigit() or len(digits) > len(str(LARGEST_ID)):
        return None
    number = int(digits)
    return number if number <= LARGEST_ID else None


def position(text: str, count: int) -> int | None:
    """The 1-based position "N" names among `count` items (修改 3, 删除三, a todo number), or None when out of range."""
    number = whole_number(text)
    return number if number is not None and 1 <= number <= count else None
