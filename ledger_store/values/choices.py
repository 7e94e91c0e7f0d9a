"""Options as people name them, in chat or in a cell: by label, by number (3, 三, or 134 for three of them), by
value, or by a part of a label only one option has."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ledger_store.values.numbers import parse_number
from ledger_store.values.problems import Problem, Refused
from ledger_store.values.words import word_key

_SEPARATORS = re.compile(r"[\s、,;]+")  # after NFKC, so ， and ； are included
_MAX_NUMBERED = 999  # an option number has at most three digits


@dataclass(frozen=True)
class Choice:
    """One option of a choice question or ledger field: a stable value and the label people see."""

    value: str
    label: str


def choices_of(stored: Iterable[Mapping[str, str]]) -> tuple[Choice, ...]:
    """Options as a ledger definition or a stored form keeps them ({"value": …, "label": …})."""
    return tuple(Choice(item["value"], item["label"]) for item in stored)


def read_choice(choices: Sequence[Choice], text: str) -> str | Refused:
    """The value of the one option the text names; naming several is refused (ONLY_ONE_OPTION)."""
    found = find_choice(choices, text)
    if isinstance(found, Choice):
        return found.value
    tokens = split_words(text)
    if len(tokens) > 1 and all(isinstance(find_choice(choices, token), Choice) for token in tokens):
        return Refused(Problem.ONLY_ONE_OPTION, text)
    return found


def read_choices(choices: Sequence[Choice], text: str) -> list[str] | Refused:
    """The values of every option named (separated by spaces, 、, commas or semicolons), in the options' order."""
    whole = _exact_label(choices, text)  # a label may itself contain a separator
    if whole is not None:
        return [whole.value]
    chosen: set[str] = set()
    for token in split_words(text):
        found = find_choice(choices, token)
        if isinstance(found, Refused):
            run = _digit_run(choices, token)
            if run is None:
                return found
            chosen.update(choice.value for choice in run)
        else:
            chosen.add(found.value)
    return [choice.value for choice in choices if choice.value in chosen]


def find_choice(choices: Sequence[Choice], token: str) -> Choice | Refused:
    """The option a word names: exact label, 1-based number, exact value, unique part of a label, Chinese number."""
    key = word_key(token)
    exact = _exact_label(choices, token)
    if exact is not None:
        return exact
    if not key:
        return Refused(Problem.UNKNOWN_OPTION, token)
    if re.fullmatch(r"[0-9]{1,3}", key):
        return _choice_by_number(choices, int(key))
    by_value = next((choice for choice in choices if word_key(choice.value) == key), None)
    if by_value is not None:
        return by_value
    partial = [choice for choice in choices if key in word_key(choice.label)]
    if len(partial) == 1:
        return partial[0]
    if partial:
        return Refused(Problem.AMBIGUOUS_OPTION, token, tuple(choice.label for choice in partial))
    number = parse_number(key)  # 三 for the third option, once no label contains 三
    if number is not None and 1 <= number <= _MAX_NUMBERED and number == number.to_integral_value():
        return _choice_by_number(choices, int(number))
    return Refused(Problem.UNKNOWN_OPTION, token)


def split_words(text: str) -> list[str]:
    """Words separated by spaces, 、, commas or semicolons (full-width or not)."""
    return [token for token in _SEPARATORS.split(unicodedata.normalize("NFKC", text)) if token]


def _exact_label(choices: Sequence[Choice], text: str) -> Choice | None:
    """The option whose label is exactly the text, ignoring width, case and trailing punctuation."""
    key = word_key(text)
    return next((choice for choice in choices if word_key(choice.label) == key), None)


def _choice_by_number(choices: Sequence[Choice], number: int) -> Choice | Refused:
    """The option at a 1-based position."""
    if 1 <= number <= len(choices):
        return choices[number - 1]
    return Refused(Problem.NO_SUCH_OPTION_NUMBER, str(number))


def _digit_run(choices: Sequence[Choice], token: str) -> list[Choice] | None:
    """134 read as options 1, 3 and 4, when there are at most nine options and 134 is no option itself."""
    key = word_key(token)
    count = len(choices)
    if count > 9 or len(key) > count or not re.fullmatch(r"[0-9]{2,}", key):
        return None
    if not all(1 <= int(digit) <= count for digit in key):
        return None
    return [choices[int(digit) - 1] for digit in key]
