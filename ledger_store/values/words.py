"""Yes and no as people write them, in chat or in a cell, and the folded form words are compared in."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from ledger_store.values.problems import Problem, Refused

# Compared after `word_key`. 1/2 follow the 1. 是 2. 否 order people know from choice questions; 0 is 否 as in
# most paper forms; TRUE/FALSE is how a spreadsheet writes a yes/no cell.
YES_WORDS = frozenset({"是", "是的", "对", "对的", "有", "有的", "已", "已经", "yes", "y", "true", "1", "√", "✓", "✔"})
NO_WORDS = frozenset(
    {"否", "不是", "不", "不对", "没有", "没", "无", "未", "还没有", "no", "n", "false", "2", "0", "×", "✗"}
)
_TRAILING_PUNCTUATION = "。.!~"


@lru_cache(maxsize=4096)  # the same few words and option labels, cell after cell of an import
def word_key(text: str) -> str:
    """Comparable form of a word: full-width to ASCII, lower case, no surrounding space or final 。."""
    return unicodedata.normalize("NFKC", text).strip().rstrip(_TRAILING_PUNCTUATION).strip().casefold()


def read_yes_no(text: str) -> bool | Refused:
    """True for the words in YES_WORDS, False for those in NO_WORDS."""
    key = word_key(text)
    if key in YES_WORDS:
        return True
    if key in NO_WORDS:
        return False
    return Refused(Problem.NOT_YES_NO, text)


def yes_or_no(text: str) -> bool | None:
    """`read_yes_no` as True, False or None."""
    flag = read_yes_no(text)
    return None if isinstance(flag, Refused) else flag
