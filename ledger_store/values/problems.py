"""Why a text is not a value of its type: a code each entry point turns into its own Chinese sentence."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Problem(StrEnum):
    """The reasons a value is refused, the same for chat answers, imports, roster workbooks and query conditions."""

    NOT_A_NUMBER = "not_a_number"
    NOT_AN_INTEGER = "not_an_integer"
    TOO_LARGE = "too_large"  # beyond what a stored answer or ledger value can hold
    NOT_A_DATE = "not_a_date"
    NO_SUCH_DAY = "no_such_day"  # written like a date, but the calendar has no such day (2月30日)
    NOT_YES_NO = "not_yes_no"
    UNKNOWN_OPTION = "unknown_option"
    NO_SUCH_OPTION_NUMBER = "no_such_option_number"
    AMBIGUOUS_OPTION = "ambiguous_option"
    ONLY_ONE_OPTION = "only_one_option"
    WRONG_LENGTH = "wrong_length"
    BAD_CHARACTER = "bad_character"
    BAD_BIRTH_DATE = "bad_birth_date"
    BAD_CHECK_DIGIT = "bad_check_digit"
    STORED_AS_NUMBER = "stored_as_number"  # an ID number a spreadsheet kept as a number, its last digits lost
    BAD_MOBILE_PREFIX = "bad_mobile_prefix"


@dataclass(frozen=True)
class Refused:
    """A refused value: the problem, the part it is about, and for an ambiguous option the labels it matched.

    `part` is the number read (not an integer, too large), the option word or number (choices), or the number as
    normalised (ID numbers and mobiles, so a reason can say how many digits it has without repeating it).
    """

    problem: Problem
    part: str = ""
    matches: tuple[str, ...] = ()
