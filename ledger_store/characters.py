"""The one filter for characters nothing can hold, applied wherever text comes in and wherever a cell is written.

NUL and the other C0 controls (tab and line breaks stay), DEL, the C1 controls, lone surrogates and U+FFFE/U+FFFF:
PostgreSQL refuses NUL in text, a workbook cell (XML 1.0) refuses the rest, and a lone surrogate (a JSON "\\ud800"
from a platform's API) cannot even be encoded as UTF-8. Chat text, uploaded workbooks and CSV files, organisation
imports, contacts synced from a platform and every cell the bot writes all pass through `without_unstorable`.
"""

from __future__ import annotations

import re

UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def without_unstorable(text: str) -> str:
    """The text without the characters no database column or workbook cell can hold (tab and line breaks stay)."""
    return UNSTORABLE.sub("", text) if UNSTORABLE.search(text) else text
