"""ID numbers and mobile numbers: checking them, and never showing them whole."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.core.masking import mask_id_number, mask_mobile, mask_sensitive
from ledger_store.masking import mask_payload
from ledger_store.values.personal import (
    id_check_character,
    id_number_problem,
    mobile_problem,
    normalize_id_number,
    normalize_mobile,
)
from ledger_store.values.problems import Problem


@pytest.mark.parametrize(
    "text",
    [
        "110102199101010078",
        "44011320141005001X",
        "44011320141005001x",
        " 110102199101010078 ",
        "１１０１０２１９９１０１０１００７８",
        "4401 1320 1410 0500 1x",
    ],
)
def test_accepts_valid_id_numbers(text: str) -> None:
    assert id_number_problem(text) is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("36042619910102009X", Problem.BAD_CHECK_DIGIT),
        ("110102199101010079", Problem.BAD_CHECK_DIGIT),
        ("360426199113010079", Problem.BAD_BIRTH_DATE),
        ("110102199102300071", Problem.BAD_BIRTH_DATE),
        ("110102180001010071", Problem.BAD_BIRTH_DATE),
        ("11010219910101007", Problem.WRONG_LENGTH),
        ("1101021991010100781", Problem.WRONG_LENGTH),
        ("", Problem.WRONG_LENGTH),
        ("11010219910101007A", Problem.BAD_CHARACTER),
        ("1101021991010100-8", Problem.BAD_CHARACTER),
        ("X10102199101010078", Problem.BAD_CHARACTER),
    ],
)
def test_names_what_is_wrong_with_an_id_number(text: str, problem: Problem) -> None:
    assert id_number_problem(text) == problem


def test_birth_date_in_the_future_is_refused_when_today_is_given() -> None:
    assert id_number_problem("44011320141005001X", today=date(2014, 10, 4)) == Problem.BAD_BIRTH_DATE
    assert id_number_problem("44011320141005001X", today=date(2014, 10, 5)) is None


@pytest.mark.parametrize(
    ("first_17", "expected"),
    [("11010219910101007", "8"), ("44011320141005001", "X"), ("36042619910102009", "3")],
)
def test_check_character_follows_gb_11643(first_17: str, expected: str) -> None:
    assert id_check_character(first_17) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" 44011320141005001x ", "44011320141005001X"),
        ("１１０１０２１９９１０１０１００７８", "110102199101010078"),
        ("４４０１１３２０１４１００５００１ｘ", "44011320141005001X"),
    ],
)
def test_normalizes_id_numbers(text: str, expected: str) -> None:
    assert normalize_id_number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 13812345678", "13812345678"),
        ("+86-138-1234-5678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("１９９１２３４５６７８", "19912345678"),
    ],
)
def test_accepts_and_normalizes_mobiles(text: str, expected: str) -> None:
    assert mobile_problem(text) is None
    assert normalize_mobile(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("1381234567", Problem.WRONG_LENGTH),
        ("138123456789", Problem.WRONG_LENGTH),
        ("12812345678", Problem.BAD_MOBILE_PREFIX),
        ("23812345678", Problem.BAD_MOBILE_PREFIX),
        ("010-12345678", Problem.BAD_MOBILE_PREFIX),
        ("138abcd5678", Problem.BAD_CHARACTER),
    ],
)
def test_refuses_what_is_not_a_mobile(text: str, problem: Problem) -> None:
    assert mobile_problem(text) == problem


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("110102199101010078", "1101**********0078"),
        ("44011320141005001X", "4401**********001X"),
        ("123", "***"),
    ],
)
def test_masks_id_numbers(number: str, masked: str) -> None:
    assert mask_id_number(number) == masked


@pytest.mark.parametrize(
    ("number", "masked"), [("13812341234", "138****1234"), ("138 1234 1234", "138****1234"), ("12", "**")]
)
def test_masks_mobiles(number: str, masked: str) -> None:
    assert mask_mobile(number) == masked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("身份证110102199101010078，电话13812341234", "身份证1101**********0078，电话138****1234"),
        ("id=44011320141005001x;", "id=4401**********001x;"),
        ("打 +86 138 1234 1234 找我", "打 +86 138****1234 找我"),
        ("mobile:138-1234-1234.", "mobile:138****1234."),
        ("共37户，金额12000元", "共37户，金额12000元"),
        ("订单 1234567890123456789012", "订单 1234567890123456789012"),
        ("account-110102199101010078x2", "account-1101**********0078x2"),
    ],
)
def test_masks_every_id_number_and_mobile_in_free_text(text: str, expected: str) -> None:
    assert mask_sensitive(text) == expected


def test_every_string_of_a_payload_is_masked_at_any_depth() -> None:
    payload = {"answers": {"id": "110102199101010078", "people": [{"tel": "13812341234"}, 3]}, "13812341234": None}
    assert mask_payload(payload) == {
        "answers": {"id": "1101**********0078", "people": [{"tel": "138****1234"}, 3]},
        "138****1234": None,
    }
