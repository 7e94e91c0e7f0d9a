"""Resident ID numbers (GB 11643-1999, 18 characters) and mainland mobile numbers, typed or from a cell."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from ledger_store.values.problems import Problem, Refused

ID_LENGTH = 18
MOBILE_LENGTH = 11
_EARLIEST_BIRTH_YEAR = 1900
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"  # indexed by the weighted sum mod 11
_CHECK_CHARACTERS = frozenset(_ID_CHECK)
# How a spreadsheet shows a number too long for its 15 significant digits (5.00118197507142E+17): an ID number
# typed into a number cell, whose last digits are gone.
_AS_NUMBER = re.compile(r"[0-9](?:\.[0-9]+)?E\+?1[0-9]")
_MOBILE_SEPARATORS = re.compile(r"[\s\-()]")
_MOBILE_COUNTRY_CODE = re.compile(r"^(?:\+86|0086|86)(?=[0-9]{11}$)")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")


def normalize_id_number(text: str) -> str:
    """The ID number as stored: full-width characters to ASCII, spaces removed, a final x as X."""
    if len(text) == ID_LENGTH and text.isascii() and text[:-1].isdigit() and text[-1] in _CHECK_CHARACTERS:
        return text
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text)).upper()


def id_number_problem(text: str, today: date | None = None) -> Problem | None:
    """None for a valid ID number (as normalised), else why not; with `today`, a birth date after it is refused."""
    return _id_problem(normalize_id_number(text), today)


def read_id_number(text: str, today: date | None = None) -> str | Refused:
    """The ID number as stored, or why it is refused (`part` is the number as normalised)."""
    number = normalize_id_number(text)
    problem = _id_problem(number, today)
    return number if problem is None else Refused(problem, number)


def _id_problem(number: str, today: date | None) -> Problem | None:
    """What is wrong with a normalised ID number, if anything."""
    if _AS_NUMBER.fullmatch(number):
        return Problem.STORED_AS_NUMBER
    if not re.fullmatch(r"[0-9X]*", number):
        return Problem.BAD_CHARACTER
    if len(number) != ID_LENGTH:
        return Problem.WRONG_LENGTH
    if "X" in number[:-1]:
        return Problem.BAD_CHARACTER
    if not _is_birth_date(number[6:14], today):
        return Problem.BAD_BIRTH_DATE
    if id_check_character(number[:17]) != number[17]:
        return Problem.BAD_CHECK_DIGIT
    return None


def id_check_character(first_17: str) -> str:
    """The check character (0-9 or X) for the first 17 digits of a resident ID number (GB 11643-1999)."""
    total = sum(int(digit) * weight for digit, weight in zip(first_17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def _is_birth_date(digits: str, today: date | None) -> bool:
    """Whether YYYYMMDD is a real day from 1900 on and, if today is given, not in the future."""
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return False
    return born.year >= _EARLIEST_BIRTH_YEAR and (today is None or born <= today)


def normalize_mobile(text: str) -> str:
    """The mobile number as stored: ASCII digits only, without spaces, dashes or a +86/86/0086 prefix."""
    if len(text) == MOBILE_LENGTH and text.isascii() and text.isdigit():  # as stored already
        return text
    cleaned = _MOBILE_SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    return _MOBILE_COUNTRY_CODE.sub("", cleaned, count=1)


def mobile_problem(text: str) -> Problem | None:
    """None for a mainland mobile number (11 digits, 13x-19x, as normalised), else why not."""
    return _mobile_problem(normalize_mobile(text))


def read_mobile(text: str) -> str | Refused:
    """The mobile number as stored, or why it is refused (`part` is the number as normalised)."""
    number = normalize_mobile(text)
    problem = _mobile_problem(number)
    return number if problem is None else Refused(problem, number)


def _mobile_problem(number: str) -> Problem | None:
    """What is wrong with a normalised mobile number, if anything."""
    if not re.fullmatch(r"[0-9]*", number):
        return Problem.BAD_CHARACTER
    if len(number) != MOBILE_LENGTH:
        return Problem.WRONG_LENGTH
    if not _MOBILE.fullmatch(number):
        return Problem.BAD_MOBILE_PREFIX
    return None
