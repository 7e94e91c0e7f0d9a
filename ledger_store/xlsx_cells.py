"""The one way a value becomes a spreadsheet cell: it never raises, and text a person wrote never becomes a formula.

Every workbook the bot writes (summaries, /导出, rosters, the ledger import's error rows, the blank template) goes
through `cell` / `row_cells` and `sheet_title`. Text loses the control characters the xlsx format cannot hold, is
cut at Excel's 32,767 characters, and is always written as text: openpyxl would otherwise store "=…" as a formula
and "#N/A" as an error value. Text that a spreadsheet would read as a formula once someone edits the cell (= + - @,
their full-width forms ＝ ＋ － ＠, a leading tab or line break) gets Excel's quotePrefix, which keeps the value
exactly as typed; no apostrophe is added to it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES

from ledger_store.characters import UNSTORABLE, without_unstorable

MAX_CELL_CHARS = 32_767  # Excel's limit for the text of one cell
MAX_TITLE_CHARS = 31  # Excel's limit for a sheet title
# The full-width forms are a precaution (Chinese input methods type them; whether every spreadsheet program takes
# ＝1+1 for a formula when the cell is edited is not settled): quotePrefix keeps the value and costs nothing.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
_TITLE_REPLACEMENTS = str.maketrans({"/": "／", "\\": "＼", "?": "？", "*": "＊", "[": "［", "]": "］", ":": "："})
_PLAIN_TYPES = (int, float, Decimal, bool, date, time, timedelta)
_ERROR_WORDS = frozenset(ERROR_CODES)  # #N/A, #DIV/0! ...: openpyxl would store them as error values


def clean_text(text: str) -> str:
    """Text without the characters a workbook cannot hold (see ledger_store.characters), at most 32,767 long."""
    return without_unstorable(text)[:MAX_CELL_CHARS]


def _read_as_formula(text: str) -> bool:
    """Would openpyxl or a spreadsheet take this text for something else (a formula, an error value)?"""
    return text.startswith(FORMULA_TRIGGERS) or text in _ERROR_WORDS


def cell_value(value: Any) -> Any:
    """`value` as something openpyxl writes without complaint: a number, date, bool, None or clean text."""
    if value is None or isinstance(value, str):
        return value if value is None else clean_text(value)
    if isinstance(value, float | Decimal) and not math.isfinite(value):
        return str(value)  # Excel has no NaN or infinity; as a number it would damage the file
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # openpyxl refuses aware datetimes; callers pass local time
    if isinstance(value, time) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    if isinstance(value, _PLAIN_TYPES):
        return value
    return clean_text(str(value))


def cell(sheet: Any, value: Any, **style: Any) -> Cell:
    """A cell of `sheet` holding `value` safely, with the given style attributes (font, fill, number_format …)."""
    value = cell_value(value)
    made = _text_cell(sheet, value) if isinstance(value, str) else WriteOnlyCell(sheet, value)
    for name, setting in style.items():
        setattr(made, name, setting)
    return made


def _text_cell(sheet: Any, text: str) -> Cell:
    """A cell holding clean `text` as text, marked to stay text when it would read as a formula or an error."""
    made = WriteOnlyCell(sheet, text)
    made.data_type = "s"
    if _read_as_formula(text):
        made.quotePrefix = True
    return made


def row_cells(sheet: Any, values: Sequence[Any], number_formats: dict[int, str] | None = None) -> list[Any]:
    """A row to append to `sheet`: plain values stay bare (fast in write-only mode), the rest become safe cells.

    `number_formats` maps a 0-based column index to the format of a date (or number) written there.
    """
    formats = number_formats or {}
    row: list[Any] = []
    for index, value in enumerate(values):
        kind = type(value)
        if kind is str:  # the common case first: a summary has hundreds of thousands of cells
            if UNSTORABLE.search(value) or len(value) > MAX_CELL_CHARS:
                value = clean_text(value)
            row.append(_text_cell(sheet, value) if _read_as_formula(value) else value)
        elif index in formats and value is not None:
            if kind is date or (kind is datetime and value.tzinfo is None):
                made = WriteOnlyCell(sheet, value)
                made.number_format = formats[index]
                row.append(made)
            else:
                row.append(cell(sheet, value, number_format=formats[index]))
        elif value is None or kind is int or kind is bool or (kind is Decimal and value.is_finite()):
            row.append(value)
        else:
            row.append(cell_value(value))
    return row


def number_cell(value: Decimal) -> int | Decimal:
    """Whole numbers as int, others as Decimal (openpyxl writes both as numbers)."""
    return int(value) if value == value.to_integral_value() else value.normalize()


def sheet_title(wanted: str, taken: Iterable[str] = ()) -> str:
    """A sheet title Excel accepts: no []:*?/\\ (their full-width forms instead), no controls, at most 31
    characters, not empty, not "History" (Excel reserves it), and different from every title in `taken`."""
    title = clean_text(wanted).translate(_TITLE_REPLACEMENTS).replace("\t", " ").replace("\r", " ").replace("\n", " ")
    title = title.strip().strip("'").strip() or "Sheet"
    if title.casefold() == "history":
        title += "_"
    title = title[:MAX_TITLE_CHARS]
    used = {name.casefold() for name in taken}
    candidate, number = title, 1
    while candidate.casefold() in used:
        number += 1
        suffix = f"({number})"
        candidate = title[: MAX_TITLE_CHARS - len(suffix)] + suffix
    return candidate
