"""A roster as an Excel workbook: sent to the filler to edit, and read back row by row with the chat's own checks."""

from __future__ import annotations

import io
from collections.abc import Callable, Collection
from datetime import date
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from handlers.forms.answers import Invalid, from_json, parse_answer, to_json
from handlers.forms.fields import Field, FieldType
from handlers.tasks.summary import cell_value
from handlers.texts import files as file_texts
from handlers.texts import roster as t
from ledger_store.sheet_files import DAMAGED_FILE, cell_text
from ledger_store.xlsx_archive import CHAT, UnsafeWorkbook, check_workbook
from ledger_store.xlsx_cells import MAX_CELL_CHARS, cell, row_cells, sheet_title

MAX_LISTED = 30  # problems listed in one reply
MAX_ROWS = 5000  # rows read from one workbook
MAX_COLUMNS = CHAT.columns  # columns read from one workbook


def roster_workbook(fields: list[Field], rows: list[dict[str, Any]]) -> bytes:
    """The rows still on the roster, one column per question, every value as a person would type it."""
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title(fields[0].repeat_label or "花名册")
    sheet.append([cell(sheet, field.label) for field in fields])
    for row in rows:
        sheet.append(row_cells(sheet, [_cell(field, row["values"].get(field.name)) for field in fields]))
    for index, field in enumerate(fields):
        sheet.column_dimensions[get_column_letter(index + 1)].width = 22 if field.type == FieldType.ID_NUMBER else 14
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def read_roster_workbook(
    fields: list[Field],
    content: bytes,
    today: date,
    key: str | None,
    refuse_keys: Callable[[Collection[str]], dict[str, str]] | None = None,
) -> list[dict[str, Any]] | str:
    """The rows of an edited roster workbook (answers as stored), or the reply listing every bad cell.

    `refuse_keys` answers, for all the keys at once, why some may not be used (another unit's record).
    """
    try:
        check_workbook(content, CHAT)
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except UnsafeWorkbook as error:
        return file_texts.unsafe_workbook(error.reason, error.limit)
    except DAMAGED_FILE:
        return t.UNREADABLE
    try:
        sheet = book.worksheets[0]
        lines = list(sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 2, max_col=MAX_COLUMNS))
    except (*DAMAGED_FILE, IndexError):
        return t.UNREADABLE
    finally:
        book.close()
    if len(lines) > MAX_ROWS + 1:
        return t.too_many_rows(MAX_ROWS)
    header = [cell_text(value) for value in (lines[0] if lines else ())]
    columns = {}
    for field in fields:
        found = next((i for i, title in enumerate(header) if title.strip("*＊ ") in (field.label, field.name)), None)
        if found is not None:
            columns[field.name] = found
    missing = [field.label for field in fields if field.name not in columns and (field.required or field.name == key)]
    if missing:
        return t.missing_columns(missing)
    rows, problems, keys = [], [], {}
    for number, line in enumerate(lines[1:], start=2):
        cells = {name: cell_text(line[index]) if index < len(line) else "" for name, index in columns.items()}
        if not any(cells.values()):
            continue
        values = {}
        for field in fields:
            text = cells.get(field.name, "")
            if not text:
                if field.required:
                    problems.append(t.cell_problem(number, field.label, t.REQUIRED_CELL))
                continue
            if len(text) > MAX_CELL_CHARS:
                problems.append(t.cell_problem(number, field.label, file_texts.cell_too_long(MAX_CELL_CHARS)))
                continue
            parsed = parse_answer(field, text, today)
            if isinstance(parsed, Invalid):
                problems.append(t.cell_problem(number, field.label, parsed.reason))
            else:
                values[field.name] = to_json(field, parsed)
        if key and key in values:
            if values[key] in keys:
                problems.append(t.duplicate_in_file(number, keys[values[key]]))
            keys.setdefault(values[key], number)
        rows.append(values)
    if key and refuse_keys is not None and keys:
        label = next(field.label for field in fields if field.name == key)
        refused = refuse_keys(list(keys))
        problems += [t.cell_problem(row, label, refused[stored]) for stored, row in keys.items() if stored in refused]
    if problems:
        more = len(problems) - MAX_LISTED
        return t.workbook_refused(len(problems), problems[:MAX_LISTED], more if more > 0 else 0)
    return rows


def _cell(field: Field, stored: Any) -> Any:
    """A stored answer as a cell, as the summary writes it: numbers and dates typed, choices by label."""
    return None if stored is None else cell_value(field, from_json(field, stored))
