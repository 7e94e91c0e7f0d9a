"""Hide the middle of ID numbers and mobile numbers before they reach a chat, a log or the audit table.

The one implementation: ledger_store uses it for audit rows, handlers and bot re-use it through handlers.core.masking.
"""

from __future__ import annotations

import re
from typing import Any

_DIGIT = "[0-9０-９]"
# Only digits bound a number: an ID glued to letters (an account, a file name) is still an ID.
_ID_IN_TEXT = re.compile(rf"(?<!{_DIGIT}){_DIGIT}{{17}}[0-9０-９XxＸｘ](?!{_DIGIT})")
_MOBILE_IN_TEXT = re.compile(
    rf"(?<!{_DIGIT})(?P<prefix>[+＋]?(?:86|８６)[\s-]?)?"
    rf"(?P<number>[1１][3-9３-９]{_DIGIT}(?:[\s-]?{_DIGIT}{{4}}){{2}})(?!{_DIGIT})"
)


def mask_id_number(number: str) -> str:
    """Keep the first and last four characters: 1101**********0078."""
    return _mask(number.strip(), keep_start=4, keep_end=4)


def mask_mobile(number: str) -> str:
    """Keep the first three and last four digits: 138****1234."""
    return _mask(re.sub(r"[\s-]", "", number), keep_start=3, keep_end=4)


def mask_sensitive(text: str) -> str:
    """The text with every 18-character ID number and every mainland mobile number masked."""
    text = _ID_IN_TEXT.sub(lambda match: mask_id_number(match.group()), text)
    return _MOBILE_IN_TEXT.sub(lambda match: (match.group("prefix") or "") + mask_mobile(match.group("number")), text)


def mask_payload(value: Any) -> Any:
    """A JSON-like value with mask_sensitive applied to every string in it, keys included, at any depth.

    A number that reads as a mobile (13912345678 kept as an integer) becomes its masked text.
    """
    if isinstance(value, str):
        return mask_sensitive(value)
    if isinstance(value, int) and not isinstance(value, bool):
        written = str(value)
        masked = mask_sensitive(written)
        return value if masked == written else masked
    if isinstance(value, dict):
        return {mask_payload(key): mask_payload(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_payload(item) for item in value]
    return value


def mask_user_id(user_id: str) -> str:
    """Keep the first and last two characters of a platform account: zh*******ua."""
    return _mask(user_id.strip(), keep_start=2, keep_end=2)


def _mask(text: str, keep_start: int, keep_end: int) -> str:
    """Stars in the middle; a string too short to keep both ends is starred entirely."""
    hidden = len(text) - keep_start - keep_end
    if hidden <= 0:
        return "*" * len(text)
    return text[:keep_start] + "*" * hidden + text[-keep_end:]
