"""Submitted answers as rows: each typed value in the column of its type, and read back per assignment."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from handlers.core.context import Context
from handlers.forms.answers import from_json
from handlers.forms.fields import NUMERIC_TYPES, Field, FieldType
from handlers.forms.registry import fields_of
from ledger_store.models import (
    Answer,
    ReportTask,
    Submission,
)
from ledger_store.values.numbers import STORABLE_LIMIT


def typed_answer(field: Field, stored: object) -> Answer:
    """An Answer row with the value in the column of its type (a calculated value: number or text).

    A calculated number too large for the number column (see STORABLE_LIMIT) is kept as its text.
    """
    value = from_json(field, stored)
    row = Answer(field_name=field.name)
    if field.type == FieldType.CALCULATE and not isinstance(value, str) and abs(value) >= STORABLE_LIMIT:
        row.text_value = str(value)
    elif field.type in NUMERIC_TYPES or (field.type == FieldType.CALCULATE and not isinstance(value, str)):
        row.number_value = value
    elif field.type == FieldType.DATE:
        row.date_value = value
    elif field.type in (FieldType.YES_NO, FieldType.ACKNOWLEDGE):
        row.bool_value = value
    elif field.type == FieldType.SELECT_MULTIPLE:
        row.choices_value = list(value)
    else:
        row.text_value = value
    return row


def answer_value(field: Field, row: Answer) -> object:
    """The typed value of a stored Answer."""
    if field.type == FieldType.INTEGER:
        return int(row.number_value) if row.number_value is not None else None
    if field.type == FieldType.DECIMAL:
        return row.number_value
    if field.type == FieldType.CALCULATE:
        return row.text_value if row.number_value is None else row.number_value
    if field.type == FieldType.DATE:
        return row.date_value
    if field.type in (FieldType.YES_NO, FieldType.ACKNOWLEDGE):
        return row.bool_value
    if field.type == FieldType.SELECT_MULTIPLE:
        return row.choices_value
    return row.text_value


def answers_by_assignment(ctx: Context, task: ReportTask) -> dict[int, tuple[Submission, dict[str, object]]]:
    """Each submitted assignment's submission and its typed answers by field name."""
    fields = {field.name: field for field in fields_of(task.form_version)}
    submissions = ctx.session.scalars(
        select(Submission)
        .where(Submission.assignment_id.in_([a.id for a in task.assignments]))
        .options(selectinload(Submission.answers), selectinload(Submission.roster_rows))  # not one query a unit
    )
    result = {}
    for submission in submissions:
        values = {
            row.field_name: answer_value(fields[row.field_name], row)
            for row in submission.answers
            if row.field_name in fields
        }
        result[submission.assignment_id] = (submission, values)
    return result
