"""An XLSForm worksheet as rows of stripped strings, with English and Chinese column headers resolved."""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from handlers.texts import files as file_texts
from handlers.texts import forms as t
from ledger_store.characters import without_unstorable
from ledger_store.xlsx_cells import MAX_CELL_CHARS

SURVEY, CHOICES, SETTINGS = "survey", "choices", "settings"
SHEET_KINDS = {
    "survey": SURVEY,
    "问卷": SURVEY,
    "choices": CHOICES,
    "选项": CHOICES,
    "settings": SETTINGS,
    "设置": SETTINGS,
}
MAX_ROWS = 5000  # rows read per sheet; a form with more is refused, not cut short
MAX_COLUMNS = 200  # columns beyond are not read
TRANSLATABLE = frozenset({"label", "hint", "constraint_message", "required_message"})
REFUSED = "refused"  # key of a known XLSForm column this system does not support

# Column key -> the headers that mean it (compared after NFKC, collapsing spaces and casefolding). The English
# ones include pyxform's aliases (pyxform/aliases.py: survey_header), e.g. requiredMsg and bind::jr:requiredMsg.
_HEADERS = {
    SURVEY: {
        "type": ("type", "类型", "题型"),
        "name": ("name", "字段名", "名称"),
        "label": ("label", "caption", "题目", "标题"),
        "hint": ("hint", "提示"),
        "required": ("required", "bind::required", "必填"),
        "required_message": (
            "required_message",
            "required message",
            "requiredmsg",
            "jr:requiredmsg",
            "bind::jr:requiredmsg",
            "必填提示",
        ),
        "constraint": ("constraint", "bind::constraint", "校验", "约束"),
        "constraint_message": (
            "constraint_message",
            "constraint message",
            "constraining message",
            "jr:constraintmsg",
            "bind::jr:constraintmsg",
            "校验提示",
            "约束提示",
        ),
        "relevant": ("relevant", "relevance", "bind::relevant", "显示条件"),
        "default": ("default", "默认值"),
        "calculation": ("calculation", "calculate", "bind::calculate", "计算"),
        "read_only": ("read_only", "readonly", "bind::readonly", "只读"),
        "choice_filter": ("choice_filter", "选项筛选"),
        "save_to": ("save_to", "台账字段"),
        "unit": ("unit", "单位"),
        # Shown by phone apps only (the look of a question, an app's error text, a text box's height).
        "ignored": (
            "appearance",
            "control::appearance",
            "guidance_hint",
            "autoplay",
            "control::autoplay",
            "style",
            "rows",
            "control::rows",
            "noapperrorstring",
            "no_app_error_string",
            "bind::jr:noapperrorstring",
            "备注",
        ),
        REFUSED: ("repeat_count", "jr:count", "count", "parameters", "trigger", "image", "big-image", "audio", "video"),
    },
    CHOICES: {
        "list_name": ("list_name", "list name", "选项列表"),
        "name": ("name", "value", "名称", "字段名", "选项值"),
        "label": ("label", "caption", "题目", "标题", "选项文字"),
    },
    SETTINGS: {
        "form_title": ("form_title", "set form title", "表单名称"),
        "form_id": ("form_id", "set form id", "表单编号"),
        "version": ("version", "版本"),
    },
}
_REFUSED_PREFIXES = ("bind", "instance", "body", "control", "media")
_CHINESE = re.compile(r"chinese|中文|汉语|漢語|简体|繁體|繁体|(?<![a-z])zh(?![a-z])")
_INVISIBLE = str.maketrans({"\u00a0": " ", "\u200b": None, "\ufeff": None})


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a workbook: where it is and a Chinese sentence saying what to change."""

    sheet: str  # the sheet's title as written; "" for the file as a whole
    row: int | None  # spreadsheet row number
    column: str | None  # the column header as written
    message: str  # Chinese, starting with the place, e.g. survey 表第 7 行：…

    def __str__(self) -> str:
        return self.message


def problem(sheet: str, row: int | None, column: str | None, sentence: str) -> Problem:
    """A Problem whose message starts with its sheet and row."""
    return Problem(sheet, row, column, t.at(sheet, row, sentence))


@dataclass(frozen=True)
class Column:
    """A recognised column: its header as written, what it means, and the language of a translated column."""

    header: str
    key: str
    language: str
    index: int


@dataclass
class Sheet:
    """A worksheet's rows of stripped strings, read through its recognised columns."""

    title: str
    kind: str
    header_row: int
    columns: dict[str, list[Column]] = field(default_factory=dict)  # key -> columns, preferred first
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (row number, cells)

    def has(self, key: str) -> bool:
        """Does the sheet have a column for `key`?"""
        return key in self.columns

    def header(self, key: str) -> str:
        """The header of the preferred column for `key`, or the key itself."""
        return self.columns[key][0].header if key in self.columns else key

    def text(self, cells: list[str], key: str) -> str:
        """The cell for `key`: for translated columns the Chinese one first, then untranslated, then others."""
        return next((cells[c.index] for c in self.columns.get(key, ()) if c.index < len(cells) and cells[c.index]), "")


def cell_text(value: object) -> str:
    """A cell as a stripped string, as pyxform reads it: 3.0 is "3", a date is YYYY-MM-DD, TRUE stays TRUE."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return without_unstorable(str(value)).translate(_INVISIBLE).strip()


def read_sheet(worksheet: Any, kind: str, problems: list[Problem]) -> Sheet:
    """The rows of a worksheet under its first non-blank row as header; header problems go to `problems`."""
    rows = worksheet.iter_rows(max_row=MAX_ROWS + 1, max_col=MAX_COLUMNS, values_only=True)
    sheet: Sheet | None = None
    raw_headers: list[str] = []
    for number, values in enumerate(rows, start=1):
        cells = [cell_text(value) for value in values]
        for index, text in enumerate(cells):
            if len(text) > MAX_CELL_CHARS:
                problems.append(problem(worksheet.title, number, None, file_texts.cell_too_long(MAX_CELL_CHARS) + "。"))
                cells[index] = ""
        if not any(cells):
            continue
        if number > MAX_ROWS:
            problems.append(problem(worksheet.title, number, None, t.too_many_rows(MAX_ROWS)))
            break
        if sheet is None:
            sheet = Sheet(worksheet.title, kind, number)
            raw_headers = cells
            continue
        cells += [""] * (len(raw_headers) - len(cells))
        sheet.rows.append((number, cells))
    if sheet is None:
        return Sheet(worksheet.title, kind, 1)
    _resolve_headers(sheet, raw_headers, problems)
    return sheet


def _resolve_headers(sheet: Sheet, headers: list[str], problems: list[Problem]) -> None:
    """Fill sheet.columns from the header row; report duplicate and misspelt headers."""
    seen: dict[tuple[str, str], str] = {}
    found: list[Column] = []
    for index, header in enumerate(headers):
        if not header:
            continue
        key, language = _meaning(header, sheet.kind)
        filled = any(cells[index] for _, cells in sheet.rows if index < len(cells))
        if key is None:
            suggestion = _close_header(header, sheet.kind)
            if suggestion and filled:
                problems.append(problem(sheet.title, sheet.header_row, header, t.unknown_column(header, suggestion)))
            continue
        if key in ("ignored", REFUSED):
            if key == REFUSED:
                found.append(Column(header, REFUSED, header, index))
            continue
        if (key, language) in seen:
            first = seen[(key, language)]
            problems.append(problem(sheet.title, sheet.header_row, header, t.duplicate_column(header, first)))
            continue
        seen[(key, language)] = header
        found.append(Column(header, key, language, index))
    for column in sorted(found, key=_preference):
        sheet.columns.setdefault(column.key, []).append(column)


def _meaning(header: str, kind: str) -> tuple[str | None, str]:
    """(column key or None, language) of a header such as "label::Chinese (zh)", "label:english" or "题目"."""
    text = " ".join(unicodedata.normalize("NFKC", header).split())
    whole = _key(text, kind)
    if whole is not None:  # a header that is an alias as a whole, such as bind::jr:requiredMsg
        return whole, ""
    base, separator, language = text.partition("::")
    if not separator:
        base, separator, language = text.partition(":")
    key = _key(base.strip(), kind)
    if separator and key in TRANSLATABLE:
        return key, language.strip()
    if separator and kind == SURVEY and (key in ("ignored", REFUSED) or base.strip().casefold() in _REFUSED_PREFIXES):
        return key or REFUSED, ""
    return _key(text, kind), ""


def _key(text: str, kind: str) -> str | None:
    """The column key a header names on a sheet of `kind`."""
    folded = text.casefold()
    if kind == SURVEY and folded.startswith("$"):  # KoboToolbox's own bookkeeping columns
        return "ignored"
    return next((key for key, names in _HEADERS[kind].items() if folded in names), None)


def _close_header(header: str, kind: str) -> str | None:
    """A known header close enough to be what a misspelt one meant."""
    names = [name for key, names in _HEADERS[kind].items() if key not in ("ignored", REFUSED) for name in names]
    close = difflib.get_close_matches(header.casefold(), names, n=1, cutoff=0.75)
    return close[0] if close else None


def _preference(column: Column) -> tuple[int, int]:
    """Chinese columns first, then untranslated ones, then other languages, each in sheet order."""
    if column.language and _CHINESE.search(column.language.casefold()):
        return 0, column.index
    return (1 if not column.language else 2), column.index
