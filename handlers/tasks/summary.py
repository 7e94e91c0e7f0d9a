"""The summary workbook of a task: 汇总 with a row per target unit and totals, 未报送 with who is missing, and for
a reviewed task 审核签字 with who approved each unit, when, and the digest of what they signed."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy import select

from handlers.core.context import Context
from handlers.forms.answers import format_answer, from_json
from handlers.forms.fields import NUMERIC_TYPES, Field, FieldType
from handlers.forms.registry import fields_of
from handlers.tasks import signoff
from handlers.tasks.burden import Review, Totals, add_up, add_up_reviews, minutes, reviews
from handlers.tasks.progress import state_name
from handlers.tasks.review_waits import Holdup, holdups
from handlers.tasks.summary_charts import chart_fields, town_figures
from handlers.tasks.towns import towns_of_task
from handlers.texts import burden as bt
from handlers.texts import charts as chart_texts
from handlers.texts import reporting as t
from handlers.texts import signoff as signoff_texts
from handlers.texts import summary as s
from handlers.texts import take as take_texts
from ledger_store.file_names import stamped_name
from ledger_store.models import (
    FILLER_OWES,
    Assignment,
    AssignmentStatus,
    Ledger,
    ReportTask,
    ReviewPolicy,
    RosterRow,
    Submission,
)
from ledger_store.org import unit_path
from ledger_store.xlsx_cells import cell, number_cell, row_cells, sheet_title

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
BOLD = Font(bold=True)
HEADER_ALIGNMENT = Alignment(horizontal="center", vertical="center", wrap_text=True)


@dataclass(frozen=True)
class Summary:
    """A built summary: the file to send and the one-line digest to send with it."""

    file_name: str
    content: bytes
    digest: str


def build_summary(ctx: Context, task: ReportTask, answers: dict[int, tuple[Submission, dict[str, object]]]) -> Summary:
    """Write the workbook for `task` from the submitted answers (by assignment id)."""
    all_fields = fields_of(task.form_version)
    fields = columns(all_fields)
    rosters = {field.repeat: field.repeat_label for field in all_fields if field.repeat}
    header = [s.NUMBER, s.UNIT, s.FILLER, s.SUBMITTED_AT, *[column_title(f) for f in fields]]
    header += [s.roster_count(label) for label in rosters.values()]
    totals: dict[str, Decimal] = {f.name: Decimal(0) for f in fields if f.type in NUMERIC_TYPES}
    roster_totals = dict.fromkeys(rosters, 0)
    rows = []
    answers = {
        a.id: answers[a.id] for a in task.assignments if a.id in answers and a.status == AssignmentStatus.SUBMITTED
    }
    sources = Sources(ctx, task, answers)
    notes: dict[tuple[int, int], str] = {}
    for number, assignment in enumerate(task.assignments, start=1):
        submission, values = answers.get(assignment.id, (None, {}))
        for index, field in enumerate(fields):
            note = sources.note(assignment.id, field.name)
            if note is not None:
                notes[(number - 1, 4 + index)] = note
        if submission is not None:
            when = ctx.to_local(submission.submitted_at).replace(tzinfo=None)
        else:
            when = s.NOT_SUBMITTED if task.review == ReviewPolicy.NONE else state_name(task, assignment)
        row = [number, unit_path(assignment.org_unit), assignment.filler.name, when]
        for field in fields:
            value = values.get(field.name)
            if field.name in totals and value is not None:
                totals[field.name] += Decimal(value)
            row.append(cell_value(field, value))
        for repeat in rosters:
            kept = None if submission is None else sum(r.status != "removed" for r in roster_rows(submission, repeat))
            roster_totals[repeat] += kept or 0
            row.append(kept)
        rows.append(row)
    total_row: list[object] = ["", s.TOTAL, "", ""]
    total_row += [number_cell(totals[f.name]) if f.name in totals else None for f in fields]
    total_row += list(roster_totals.values())
    missing = [a for a in task.assignments if a.status != AssignmentStatus.SUBMITTED]
    missing_rows = [missing_row(number, a) for number, a in enumerate(missing, start=1)]
    others = [SheetData(s.MISSING_SHEET, [s.NUMBER, s.UNIT, s.FILLER, s.STATUS], missing_rows)]
    if task.review != ReviewPolicy.NONE:
        signed = signoff.signoff_rows(ctx, task)
        others.append(SheetData(signoff_texts.SIGNOFF_SHEET, signoff.HEADER, signed, signoff.DATE_FORMATS))
    others += [roster_sheet(task, answers, all_fields, repeat, label, sources) for repeat, label in rosters.items()]
    if sources.rows:
        others.append(SheetData(take_texts.SOURCE_SHEET, take_texts.SOURCE_HEADER, sources.rows, {4: "yyyy-mm-dd"}))
    reviewed = reviews(ctx, [task]) if task.review != ReviewPolicy.NONE else None
    figures = add_up((submission for submission, _ in answers.values()), reviewed)
    spared = burden_sheet(task, answers, figures, reviewed)
    if spared is not None:
        others.append(spared)
    if task.assignments:
        charted = chart_fields(fields, task.form_version.headline_field)
        submitted = {key: values for key, (_, values) in answers.items()}
        towns = town_figures(task.assignments, towns_of_task(ctx.session, task.id), submitted, charted)
        others.append(SheetData(chart_texts.SHEET, towns.header, towns.rows, charts=towns.draw))
    content = write_workbook(header, rows, total_row, {4: "yyyy-mm-dd hh:mm"} | date_formats(fields), others, notes)
    held = holdups(ctx, task) if task.review != ReviewPolicy.NONE else []
    line = digest(task, fields, totals, missing, held)
    if figures.prefilled:
        line += "；" + bt.digest_part(figures.prefilled, figures.asked)
    return Summary(file_name(ctx, task), content, line)


def file_name(ctx: Context, task: ReportTask) -> str:
    """低保月报汇总_任务12_20241128-100503.xlsx: the title (made safe and short), the task number, the local time."""
    return stamped_name(task.title, ctx.local_now(), s.file_tag(task.id))


@dataclass(frozen=True)
class SheetData:
    """A plain sheet of the workbook: its title, header, rows and the number formats of its date columns."""

    title: str
    header: list[str]
    rows: list[list[object]]
    formats: dict[int, str] = dataclass_field(default_factory=dict)  # 0-based column -> number format
    notes: dict[tuple[int, int], str] = dataclass_field(default_factory=dict)  # (row, column), 0-based -> comment
    charts: Callable[[WriteOnlyWorksheet], None] | None = None  # draws charts over the sheet's own cells


class Sources:
    """Where the generated answers of a task came from (取数): a comment for each such cell, and the 来源 sheet."""

    def __init__(self, ctx: Context, task: ReportTask, answers: dict[int, tuple[Submission, dict[str, object]]]):
        self.notes: dict[tuple[int, str], str] = {}
        self.rows: list[list[object]] = []
        generated = [(a, answers[a.id][0]) for a in task.assignments if a.id in answers and answers[a.id][0].generated]
        if not generated:
            return
        titles = {code: title for code, title in ctx.session.execute(select(Ledger.code, Ledger.title))}
        labels = {
            f.repeat or f.name: (f.repeat_label if f.repeat else f.label or f.name)
            for f in fields_of(task.form_version)
        }
        for assignment, submission in generated:
            for row in submission.answers:
                if row.ledger_code is None or row.as_of is None or row.field_name not in labels:
                    continue
                ledger, as_of = titles.get(row.ledger_code, row.ledger_code), ctx.to_local(row.as_of).date()
                self.notes[(assignment.id, row.field_name)] = take_texts.source_note(ledger, as_of.isoformat())
                path = unit_path(assignment.org_unit)
                self.rows.append([len(self.rows) + 1, path, labels[row.field_name], ledger, as_of])

    def note(self, assignment_id: int, name: str) -> str | None:
        """The comment on a unit's cell of a question (or its roster rows), when the ledgers gave it."""
        return self.notes.get((assignment_id, name))


def write_workbook(
    header: list[str],
    rows: list[list[object]],
    total_row: list[object],
    date_columns: dict[int, str],
    others: list[SheetData],
    notes: dict[tuple[int, int], str] | None = None,
) -> bytes:
    """The .xlsx bytes: 汇总 (header, a row per unit, bold totals), then the other sheets (未报送 …).

    Written in write-only mode, which streams rows instead of keeping a cell object for each value: sheet
    settings and column widths must therefore be known before the first row goes out. Every cell, the headers
    (question labels people wrote) and sheet titles (roster names) too, goes through the safe cell writer.
    """
    workbook = Workbook(write_only=True)
    summary_sheet = workbook.create_sheet(sheet_title(s.SUMMARY_SHEET))
    prepare_sheet(summary_sheet, [header, *rows, total_row])
    summary_sheet.append(header_cells(summary_sheet, header))
    formats = {column - 1: number_format for column, number_format in date_columns.items()}
    for number, row in enumerate(rows):
        summary_sheet.append(noted(summary_sheet, row_cells(summary_sheet, row, formats), number, notes or {}))
    summary_sheet.append([cell(summary_sheet, value, font=BOLD) for value in total_row])
    for data in others:
        sheet = workbook.create_sheet(sheet_title(data.title, workbook.sheetnames))
        prepare_sheet(sheet, [data.header, *data.rows])
        sheet.append(header_cells(sheet, data.header))
        for number, row in enumerate(data.rows):
            sheet.append(noted(sheet, row_cells(sheet, row, data.formats), number, data.notes))
        if data.charts is not None:
            data.charts(sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def noted(
    sheet: WriteOnlyWorksheet, cells: list[object], number: int, notes: dict[tuple[int, int], str]
) -> list[object]:
    """The row's cells, those with a note (a generated answer's source) as cells carrying it as a comment."""
    for (row, column), text in notes.items():
        if row == number:
            made = cells[column] if isinstance(cells[column], Cell) else cell(sheet, cells[column])
            made.comment = Comment(text, take_texts.NOTE_AUTHOR)
            cells[column] = made
    return cells


def roster_rows(submission: Submission, repeat: str) -> list[RosterRow]:
    """The submitted rows of one roster, in order."""
    return [row for row in submission.roster_rows if row.repeat == repeat]


def roster_sheet(
    task: ReportTask,
    answers: dict[int, tuple[Submission, dict[str, object]]],
    fields: list[Field],
    repeat: str,
    label: str,
    sources: Sources,
) -> SheetData:
    """The detail sheet of a roster: every row of every unit, with what the filler did to it (or 取自台账)."""
    own = [field for field in fields if field.repeat == repeat and field.type != FieldType.NOTE]
    header = [s.NUMBER, s.UNIT, s.FILLER, *[column_title(field) for field in own], s.ROW_STATUS]
    rows: list[list[object]] = []
    notes: dict[tuple[int, int], str] = {}
    for assignment in task.assignments:
        submission = answers.get(assignment.id, (None, {}))[0]
        note = sources.note(assignment.id, repeat)
        for row in [] if submission is None else roster_rows(submission, repeat):
            if note is not None:
                notes[(len(rows), len(header) - 1)] = note
            cells = [cell_value(f, from_json(f, row.values[f.name]) if f.name in row.values else None) for f in own]
            path = unit_path(assignment.org_unit)
            rows.append([len(rows) + 1, path, assignment.filler.name, *cells, s.ROW_STATUS_NAMES[row.status]])
    return SheetData(s.roster_sheet_title(label), header, rows, notes=notes)


def burden_sheet(
    task: ReportTask,
    answers: dict[int, tuple[Submission, dict[str, object]]],
    figures: Totals,
    reviewed: dict[int, Review] | None = None,
) -> SheetData | None:
    """填报负担: per submitted unit, the questions asked, values from the ledger, kept unchanged, minutes taken;
    for a reviewed task also the returns, the questions they reopened and the hours from first 提交 to 通过."""
    rows: list[list[object]] = []
    shown: list[Review] = []
    for assignment in task.assignments:
        submission = answers.get(assignment.id, (None, {}))[0]
        if submission is None or submission.asked_count is None:
            continue
        review = None if reviewed is None else reviewed.get(assignment.id)
        shown += [review] if review is not None else []
        taken = minutes(submission, review)
        counts = [submission.asked_count, submission.prefilled_count, submission.confirmed_count]
        path = unit_path(assignment.org_unit)
        row = [len(rows) + 1, path, assignment.filler.name, *counts, None if taken is None else round(taken, 1)]
        if reviewed is not None:
            row += review_cells(review)
        rows.append(row)
    if not rows:
        return None
    total_row: list[object] = ["", s.TOTAL, "", figures.asked, figures.prefilled, figures.confirmed, None]
    header = [s.NUMBER, s.UNIT, s.FILLER, bt.ASKED, bt.PREFILLED, bt.CONFIRMED, bt.MINUTES]
    if reviewed is not None:
        review_totals = add_up_reviews(shown)
        total_row += [review_totals.returns, review_totals.reopened, None]
        header += [bt.RETURNS, bt.REOPENED, bt.HOURS_TO_APPROVAL]
    rows.append(total_row)
    return SheetData(bt.SHEET, header, rows)


def review_cells(review: Review | None) -> list[object]:
    """Returns, questions reopened and hours from first 提交 to final 通过 of one submission."""
    if review is None:
        return [None, None, None]
    taken = review.minutes_to_approval
    return [review.returns, review.reopened, None if taken is None else round(taken / 60, 1)]


def missing_row(number: int, assignment: Assignment) -> list[object]:
    """A row of 未报送: number, unit, filler and where the unit stands (未开始, 填写中, 待审核, 已退回 …)."""
    return [number, unit_path(assignment.org_unit), assignment.filler.name, state_name(assignment.task, assignment)]


def digest(task: ReportTask, fields: list[Field], totals: dict[str, Decimal], missing: list, held: list[Holdup]) -> str:
    """《低保月报》（任务#12）：20/20 已报，本月新增低保户合计 37 户 (and who is missing, when someone is: the units
    whose filler owes an answer, and the reviewers holding the others up)."""
    total = len(task.assignments)
    headline = None
    by_name = {f.name: f for f in fields}
    field = by_name.get(task.form_version.headline_field or "")
    if field is not None and field.name in totals:
        headline = t.headline_total(field.label, str(number_cell(totals[field.name])), field.unit)
    line = t.summary_digest(t.task_name(task.title, task.id), total - len(missing), total, headline)
    owed = [a.org_unit.name for a in missing if a.status in FILLER_OWES]
    if owed:
        line += "；" + t.missing_units(owed)
    if held:
        line += "；" + t.held_by_reviewers([t.reviewer_holdup(h.holder, h.people, h.count) for h in held])
    return line


def columns(fields: list[Field]) -> list[Field]:
    """The fields that get a column: every one that stores an answer (a note none; a roster has its own sheet)."""
    return [field for field in fields if field.type != FieldType.NOTE and not field.repeat]


def column_title(field: Field) -> str:
    """Header text: the label (the name for an unlabelled calculation), with the unit in brackets."""
    label = field.label or field.name
    return f"{label}（{field.unit}）" if field.unit else label


def cell_value(field: Field, value: object) -> object:
    """A typed answer as a spreadsheet value: numbers stay numbers (calculated ones too), dates stay dates."""
    if value is None:
        return None
    if field.type in NUMERIC_TYPES or (field.type == FieldType.CALCULATE and not isinstance(value, str)):
        return number_cell(Decimal(value))
    if field.type == FieldType.DATE:
        return value
    if field.type in (FieldType.TEXT, FieldType.ID_NUMBER, FieldType.MOBILE, FieldType.CALCULATE):
        return str(value)
    return format_answer(field, value)


def date_formats(fields: list[Field]) -> dict[int, str]:
    """Column number -> date format for the date questions (after the 4 fixed columns)."""
    return {5 + i: "yyyy-mm-dd" for i, f in enumerate(fields) if f.type == FieldType.DATE}


def header_cells(sheet: WriteOnlyWorksheet, header: list[str]) -> list[Cell]:
    """The header row: bold, filled, centred and wrapped."""
    return [cell(sheet, title, font=BOLD, fill=HEADER_FILL, alignment=HEADER_ALIGNMENT) for title in header]


def prepare_sheet(sheet: WriteOnlyWorksheet, rows: list[list[object]]) -> None:
    """Frozen header and widths that fit the longest value of each column (of every row to be written)."""
    sheet.freeze_panes = "A2"
    for column, values in enumerate(zip(*rows, strict=True), start=1):
        width = max(display_width(value) for value in values)
        sheet.column_dimensions[get_column_letter(column)].width = min(max(width + 2, 6), 50)


def display_width(value: object) -> int:
    """Approximate column width: CJK characters count double."""
    if value is None:
        return 0
    if isinstance(value, date):
        return 16
    text = str(value)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
