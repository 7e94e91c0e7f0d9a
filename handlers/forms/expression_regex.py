"""regex() in expressions without the risk of a pattern that runs for minutes: Python's re has no timeout.

Refused: patterns longer than MAX_PATTERN_LENGTH, a repeated group that itself repeats or has alternatives
((a+)+, (a|ab)*), and more than MAX_UNBOUNDED_REPEATS open-ended repeats; answers longer than
MAX_SUBJECT_LENGTH never match. Together these keep the worst case of one match small.
"""

from __future__ import annotations

import re

MAX_PATTERN_LENGTH = 200
MAX_SUBJECT_LENGTH = 500
MAX_UNBOUNDED_REPEATS = 3
REGEX_REASONS = {
    "pattern_too_long": f"the pattern is longer than {MAX_PATTERN_LENGTH} characters",
    "pattern_invalid": "the pattern is no valid regular expression",
    "pattern_nested": "a repeated group contains a repeat or an alternative (|), which can take very long",
    "pattern_too_many_repeats": f"the pattern has more than {MAX_UNBOUNDED_REPEATS} open-ended repeats",
}
_BOUND = re.compile(r"\{([0-9]*)(,([0-9]*))?\}")
_LARGEST_BOUNDED_REPEAT = 50


def regex_matches(subject: str, pattern: str) -> bool:
    """regex(): does the pattern occur in the text (as in ODK; anchor with ^ and $ for a whole match)."""
    if len(subject) > MAX_SUBJECT_LENGTH or regex_problem(pattern) is not None:
        return False
    return re.search(pattern, subject) is not None


def regex_problem(pattern: str) -> str | None:
    """A key of REGEX_REASONS when a pattern is refused; Python's re has no timeout, so risky shapes are refused."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return "pattern_too_long"
    try:
        re.compile(pattern)
    except re.error:
        return "pattern_invalid"
    open_groups = [False]  # per open group: does it contain a repeat or an alternative?
    unbounded = 0
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
        elif c == "[":
            i = _class_end(pattern, i)
        else:
            i += 1
        if c == "(":
            open_groups.append(False)
            continue
        if c == "|":
            open_groups[-1] = True
            continue
        risky = open_groups.pop() if c == ")" and len(open_groups) > 1 else False
        repeat, endless, i = _quantifier(pattern, i)
        if repeat and risky and endless:
            return "pattern_nested"
        unbounded += endless
        open_groups[-1] = open_groups[-1] or risky or repeat
    return "pattern_too_many_repeats" if unbounded > MAX_UNBOUNDED_REPEATS else None


def _quantifier(pattern: str, i: int) -> tuple[bool, bool, int]:
    """(is there a quantifier at i, is it open-ended, index after it and any lazy/possessive mark)."""
    if i < len(pattern) and pattern[i] in "*+?":
        endless = pattern[i] != "?"
        end = i + 1
    elif (bound := _BOUND.match(pattern, i)) is not None:
        upper = bound.group(3) if bound.group(2) else bound.group(1)
        endless = not upper or int(upper) > _LARGEST_BOUNDED_REPEAT
        end = bound.end()
    else:
        return False, False, i
    return True, endless, end + 1 if pattern[end : end + 1] in ("?", "+") else end


def _class_end(pattern: str, start: int) -> int:
    """The index after a [...] character class starting at `start`."""
    i = start + 1
    if pattern[i : i + 1] == "^":
        i += 1
    if pattern[i : i + 1] == "]":
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i + 1
