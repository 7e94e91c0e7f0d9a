"""Read a form a department wrote in Excel (XLSForm, with Chinese headers allowed) into a form definition.

Like pyxform, every cell is read as a stripped string first and typed later, and every problem names its sheet
and row in a Chinese sentence. What a chat form cannot ask is refused, never dropped. A workbook with any problem
gives no form: the department fixes the file and uploads it again.
"""

from __future__ import annotations

import difflib
import io
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import load_workbook

from handlers.forms.fields import Choice, Field
from handlers.forms.xlsform_sheets import (
    CHOICES,
    SETTINGS,
    SHEET_KINDS,
    SURVEY,
    Problem,
    Sheet,
    problem,
    read_sheet,
)
from handlers.forms.xlsform_survey import Repeat, read_survey
from handlers.forms.xlsform_template import blank_template
from handlers.texts import files as file_texts
from handlers.texts import forms as t
from ledger_store.sheet_files import DAMAGED_FILE
from ledger_store.xlsx_archive import CHAT, UnsafeWorkbook, check_workbook

__all__ = ["FormDefinition", "FormResult", "Problem", "Repeat", "blank_template", "read_form"]

# Given a form's fields, what is wrong with their links to ledgers, by field name.
LinkCheck = Callable[[Sequence[Field]], Mapping[str, str]]
MAX_CODE_LENGTH = 64  # forms.code in the database
MAX_TITLE_LENGTH = 100  # forms.title


@dataclass(frozen=True)
class FormDefinition:
    """A form read from a workbook: its code, title, version and questions in order."""

    code: str
    title: str
    version: str
    fields: tuple[Field, ...]
    repeats: tuple[Repeat, ...] = ()
    headline_field: str | None = None


@dataclass(frozen=True)
class FormResult:
    """The form, or None with the problems to fix first."""

    form: FormDefinition | None
    problems: list[Problem] = field(default_factory=list)


def read_form(source: str | Path | bytes, *, file_name: str = "", check_links: LinkCheck | None = None) -> FormResult:
    """Read an .xlsx XLSForm from a path or bytes; `file_name` names bytes when settings give no form_id or title.

    `check_links` sees the fields of a form without other problems and names what is wrong with their 台账字段
    (save_to), by field name; those problems are reported at the field's row like every other.
    """
    problems: list[Problem] = []
    sheets: dict[str, Sheet] = {}
    others: list[str] = []  # sheets of no known kind
    try:
        if isinstance(source, str | Path):
            file_name = file_name or Path(source).name
            check_workbook(Path(source), CHAT)  # before reading a file of any size into memory
            data = Path(source).read_bytes()
        else:
            data = source
            check_workbook(data, CHAT)
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            for worksheet in workbook.worksheets:
                kind = SHEET_KINDS.get(worksheet.title.strip().casefold())
                if kind is None:
                    others.append(worksheet.title)
                elif kind not in sheets:
                    sheets[kind] = read_sheet(worksheet, kind, problems)
            order = [worksheet.title for worksheet in workbook.worksheets]
        finally:
            workbook.close()
    except UnsafeWorkbook as error:
        return FormResult(None, [Problem("", None, None, file_texts.unsafe_workbook(error.reason, error.limit))])
    except DAMAGED_FILE:
        return FormResult(None, [Problem("", None, None, t.UNREADABLE_FILE)])
    misspelt = _misspelt_sheets(others, sheets, problems)
    form = _read(sheets, Path(file_name).stem, problems, check_links, missing_reported=misspelt)
    problems.sort(key=lambda p: (order.index(p.sheet) if p.sheet in order else len(order), p.row or 0))
    return FormResult(None if problems else form, problems)


def _misspelt_sheets(titles: list[str], sheets: dict[str, Sheet], problems: list[Problem]) -> set[str]:
    """Report each unknown sheet whose name is close to a sheet the workbook lacks (stettings for settings);
    returns the kinds so named. Other unknown sheets (a guide, notes) are not read, as in pyxform."""
    wanted = {name: kind for name, kind in SHEET_KINDS.items() if kind not in sheets}
    named = set()
    for title in titles:
        close = difflib.get_close_matches(title.strip().casefold(), list(wanted), n=1, cutoff=0.75)
        if close:
            problems.append(Problem(title, None, None, t.misspelt_sheet(title, close[0])))
            named.add(wanted[close[0]])
    return named


def _read(
    sheets: dict[str, Sheet],
    stem: str,
    problems: list[Problem],
    check_links: LinkCheck | None,
    missing_reported: set[str] | frozenset[str] = frozenset(),
) -> FormDefinition | None:
    """The form from its sheets, adding what is wrong to `problems`."""
    survey = sheets.get(SURVEY)
    if survey is None:
        if SURVEY not in missing_reported:
            problems.append(Problem("", None, None, t.NO_SURVEY_SHEET))
        return None
    missing = [name for name in ("type", "name", "label") if not survey.has(name)]
    if missing:
        problems.append(problem(survey.title, survey.header_row, None, t.missing_columns(missing)))
        return None
    # A misspelt choices sheet was reported once; its lists are not reported again at every question.
    lists = None if CHOICES in missing_reported else _read_choices(sheets.get(CHOICES), problems)
    fields, repeats, rows = read_survey(survey, lists, problems)
    if not fields:
        problems.append(problem(survey.title, None, None, t.NO_QUESTIONS))
    elif check_links is not None and not problems:
        for name, sentence in check_links(fields).items():
            problems.append(problem(survey.title, rows.get(name), survey.header("save_to"), sentence))
    code, title, version = _read_settings(sheets.get(SETTINGS), stem, problems)
    return FormDefinition(code, title, version, tuple(fields), tuple(repeats))


def _read_choices(sheet: Sheet | None, problems: list[Problem]) -> dict[str, tuple[Choice, ...]] | None:
    """Choice lists by name; None when the sheet lacks a needed column (reported once, not per question)."""
    if sheet is None:
        return {}
    missing = [name for name in ("list_name", "name", "label") if not sheet.has(name)]
    if missing and sheet.rows:
        problems.append(problem(sheet.title, sheet.header_row, None, t.missing_columns(missing)))
        return None
    lists: dict[str, list[Choice]] = {}
    first_rows: dict[tuple[str, str], int] = {}
    for number, cells in sheet.rows:
        list_name, name, label = (sheet.text(cells, key) for key in ("list_name", "name", "label"))
        if not (list_name or name or label):
            continue
        if list_name:
            # The list exists even if every row of it has a problem: those rows are reported, the list is not missing.
            lists.setdefault(list_name, [])
        if not list_name:
            problems.append(problem(sheet.title, number, sheet.header("list_name"), t.MISSING_LIST_NAME))
        elif not name:
            problems.append(problem(sheet.title, number, sheet.header("name"), t.MISSING_CHOICE_NAME))
        elif len(name.split()) > 1:
            problems.append(problem(sheet.title, number, sheet.header("name"), t.choice_name_with_space(name)))
        elif (list_name, name) in first_rows:
            sentence = t.duplicate_choice(list_name, name, first_rows[(list_name, name)])
            problems.append(problem(sheet.title, number, sheet.header("name"), sentence))
        elif not label:
            problems.append(problem(sheet.title, number, sheet.header("label"), t.missing_choice_label(name)))
        else:
            first_rows[(list_name, name)] = number
            lists.setdefault(list_name, []).append(Choice(name, label))
    return {name: tuple(choices) for name, choices in lists.items()}


def _read_settings(sheet: Sheet | None, stem: str, problems: list[Problem]) -> tuple[str, str, str]:
    """(code, title, version): form_id or a slug of the file name, form_title or the file name, version."""
    if sheet is None:
        sheet = Sheet(SETTINGS, SETTINGS, 1)
    row, cells = sheet.rows[0] if sheet.rows else (None, [])
    title_text, form_id, version = (sheet.text(cells, key) for key in ("form_title", "form_id", "version"))
    code = form_id or _slug(stem) or _slug(title_text)
    title = title_text or stem or code
    if not code:
        problems.append(problem(sheet.title, row, None, t.MISSING_CODE))
    elif len(code) > MAX_CODE_LENGTH or len(code.split()) > 1:
        problems.append(problem(sheet.title, row, sheet.header("form_id"), t.bad_code(code)))
    if len(title) > MAX_TITLE_LENGTH:
        problems.append(problem(sheet.title, row, sheet.header("form_title"), t.title_too_long(len(title))))
    return code, title, version


def _slug(text: str) -> str:
    """A form code from a file name: 低保 月报(2024) -> 低保_月报_2024, Text and Integer -> text_and_integer."""
    return re.sub(r"\W+", "_", unicodedata.normalize("NFKC", text).casefold()).strip("_")[:MAX_CODE_LENGTH]
