"""Numbers as people type them in chat: digits of every width, Chinese numerals, 万 and units."""

from __future__ import annotations

from decimal import Decimal

import pytest

from handlers.core.numbers import position
from ledger_store.values.numbers import parse_number


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("37", "", "37"),
        ("  37  ", "", "37"),
        ("１２３", "", "123"),
        ("１２３．５", "", "123.5"),
        ("-3", "", "-3"),
        ("－3", "", "-3"),
        ("+2", "", "2"),
        ("1,234", "", "1234"),
        ("1，234", "", "1234"),
        ("1,234,567.89", "", "1234567.89"),
        ("0.1", "", "0.1"),
        ("3.50", "", "3.5"),
        ("零", "", "0"),
        ("三", "", "3"),
        ("十", "", "10"),
        ("十二", "", "12"),
        ("二十", "", "20"),
        ("三十七", "", "37"),
        ("两百", "", "200"),
        ("一百零五", "", "105"),
        ("一百一十", "", "110"),
        ("一千二百三十四", "", "1234"),
        ("两千零二十四", "", "2024"),
        ("二〇二四", "", "2024"),
        ("三点五", "", "3.5"),
        ("三点一四", "", "3.14"),
        ("负三", "", "-3"),
        ("一万二千", "", "12000"),
        ("一万二", "", "12000"),
        ("一千二", "", "1200"),
        ("三万五", "", "35000"),
        ("一亿二千万", "", "120000000"),
        ("1.5万", "", "15000"),
        ("3千", "", "3000"),
        ("2亿", "", "200000000"),
        ("1万2500", "", "12500"),
        ("-1.5万", "", "-15000"),
        ("37户", "户", "37"),
        ("37 户", "户", "37"),
        ("３７户", "户", "37"),
        ("1.5万元", "元", "15000"),
        ("1.5万元", "万元", "1.5"),
        ("37", "户", "37"),
    ],
)
def test_reads_numbers(text: str, unit: str, expected: str) -> None:
    value = parse_number(text, unit)
    assert isinstance(value, Decimal)
    assert str(value) == expected


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("", ""),
        ("   ", ""),
        ("abc", ""),
        ("三十几", ""),
        ("十十", ""),
        ("万", ""),
        ("百", ""),
        ("点五", ""),
        ("12,34", ""),
        ("3.", ""),
        ("1e3", ""),
        ("NaN", ""),
        ("--3", ""),
        ("1 234", ""),
        ("1.5万元", ""),
        ("37人", "户"),
        ("户", "户"),
    ],
)
def test_refuses_what_is_not_a_number(text: str, unit: str) -> None:
    assert parse_number(text, unit) is None


def test_decimal_arithmetic_is_exact() -> None:
    assert parse_number("0.1") + parse_number("0.2") == Decimal("0.3")
    assert parse_number("1.1万") == Decimal("11000")


@pytest.mark.parametrize(
    ("text", "count", "expected"),
    [("3", 3, 3), ("３", 3, 3), ("三", 3, 3), ("4", 3, None), ("0", 3, None), ("1.5", 3, None), ("", 3, None),
     ("第二", 3, None), (str(10**30), 3, None)],
)  # fmt: skip
def test_a_typed_position_is_a_whole_number_within_the_count(text, count, expected):
    assert position(text, count) == expected
