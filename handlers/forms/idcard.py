"""Check resident ID numbers (GB 11643-1999, 18 characters) and mainland mobile numbers."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from handlers.texts import validation as t
from ledger_store.ledgers import id_check_character

ID_LENGTH = 18
MOBILE_LENGTH = 11
_EARLIEST_BIRTH_YEAR = 1900
_MOBILE_SEPARATORS = re.compile(r"[\s\-()]")
_MOBILE_COUNTRY_CODE = re.compile(r"^(?:\+86|0086|86)(?=[0-9]{11}$)")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")


def normalize_id_number(text: str) -> str:
    """The ID number as stored: full-width characters to ASCII, spaces removed, a final x as X."""
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text)).upper()


def id_number_problem(text: str, today: date | None = None) -> str | None:
    """None for a valid ID number, else a short reason: 位数不对, 含有非法字符, 出生日期不对 or 校验位不对.

    With `today`, a birth date after today is refused too.
    """
    number = normalize_id_number(text)
    if not re.fullmatch(r"[0-9X]*", number):
        return t.BAD_CHARACTER
    if len(number) != ID_LENGTH:
        return t.WRONG_LENGTH
    if "X" in number[:-1]:
        return t.BAD_CHARACTER
    if not _is_birth_date(number[6:14], today):
        return t.BAD_BIRTH_DATE
    if id_check_character(number[:17]) != number[17]:
        return t.BAD_CHECK_DIGIT
    return None


def _is_birth_date(digits: str, today: date | None) -> bool:
    """Whether YYYYMMDD is a real day from 1900 on and, if today is given, not in the future."""
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return False
    return born.year >= _EARLIEST_BIRTH_YEAR and (today is None or born <= today)


def normalize_mobile(text: str) -> str:
    """The mobile number as stored: ASCII digits only, without spaces, dashes or a +86/86/0086 prefix."""
    cleaned = _MOBILE_SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    return _MOBILE_COUNTRY_CODE.sub("", cleaned, count=1)


def mobile_problem(text: str) -> str | None:
    """None for a mainland mobile number, else a short reason: 含有非法字符, 位数不对 or 号段不对."""
    number = normalize_mobile(text)
    if not re.fullmatch(r"[0-9]*", number):
        return t.BAD_CHARACTER
    if len(number) != MOBILE_LENGTH:
        return t.WRONG_LENGTH
    if not _MOBILE.fullmatch(number):
        return t.BAD_MOBILE_PREFIX
    return None


def is_mobile(text: str) -> bool:
    """Whether the text is a mainland mobile number (11 digits, 13x-19x), tolerating spaces, dashes, +86."""
    return mobile_problem(text) is None
