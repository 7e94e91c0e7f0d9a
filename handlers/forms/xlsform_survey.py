"""The survey sheet of an XLSForm: rows to fields, groups flattened, repeats named, every problem with its row."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from handlers.forms.expressions import Expression, ExpressionError, is_valid_name, parse_expression
from handlers.forms.fields import Choice, Field, FieldType
from handlers.forms.xlsform_sheets import REFUSED, Problem, Sheet, problem
from handlers.forms.xlsform_types import (
    BEGIN_GROUP,
    BEGIN_REPEAT,
    END_GROUP,
    END_REPEAT,
    SELECT_TYPES,
    QuestionType,
    TypeRefused,
    read_type,
)
from handlers.texts import forms as t
from ledger_store.values.words import yes_or_no

# XLSForm's own spellings of a yes/no column (required, read_only), besides the words a yes/no answer takes.
_COLUMN_YES = frozenset({"true()", "必填"})
_COLUMN_NO = frozenset({"false()", ""})
_DYNAMIC = re.compile(r"\$\{|[A-Za-z][A-Za-z-]*\(")  # a default that refers to answers or calls a function
_UNANSWERED = frozenset({FieldType.NOTE, FieldType.CALCULATE})


@dataclass(frozen=True)
class Repeat:
    """A roster: questions asked once per member (person, household ...), named by `name`."""

    name: str
    label: str
    fields: tuple[str, ...]


@dataclass
class _Frame:
    """An open group or repeat."""

    kind: str  # BEGIN_GROUP or BEGIN_REPEAT
    written: str
    row: int
    name: str
    label: str
    relevant: str
    fields: list[str] = field(default_factory=list)


def read_survey(
    sheet: Sheet, lists: dict[str, tuple[Choice, ...]] | None, problems: list[Problem]
) -> tuple[list[Field], list[Repeat], dict[str, int]]:
    """The fields, repeats and each field's row of a survey sheet; `lists` is None when choices were unreadable."""
    reader = _SurveyReader(sheet, lists, problems)
    fields, repeats = reader.read()
    return fields, repeats, reader.names


class _SurveyReader:
    """Walks the survey rows once, keeping the open groups and repeats on a stack."""

    def __init__(self, sheet: Sheet, lists: dict[str, tuple[Choice, ...]] | None, problems: list[Problem]) -> None:
        self.sheet = sheet
        self.lists = lists
        self.problems = problems
        self.fields: list[Field] = []
        self.repeats: list[Repeat] = []
        self.stack: list[_Frame] = []
        self.names: dict[str, int] = {}  # name -> first row
        self.expressions: list[tuple[int, str, Expression]] = []  # (row, header, expression) to check references

    def read(self) -> tuple[list[Field], list[Repeat]]:
        for number, cells in self.sheet.rows:
            self.row(number, cells)
        for frame in self.stack:
            self.report(frame.row, "type", t.never_closed(frame.written))
        self.check_references()
        return self.fields, self.repeats

    def report(self, row: int, key: str | None, sentence: str) -> None:
        column = None if key is None else self.sheet.header(key)
        self.problems.append(problem(self.sheet.title, row, column, sentence))

    def row(self, number: int, cells: list[str]) -> None:
        written = self.sheet.text(cells, "type")
        if not written:
            if self.sheet.text(cells, "name") or self.sheet.text(cells, "label"):
                self.report(number, "type", t.MISSING_TYPE)
            return
        for column in self.sheet.columns.get(REFUSED, ()):
            if cells[column.index]:
                self.problems.append(
                    problem(self.sheet.title, number, column.header, t.unsupported_column(column.header))
                )
        if self.sheet.text(cells, "choice_filter"):
            self.report(number, "choice_filter", t.CHOICE_FILTER)
        meaning = read_type(written)
        if isinstance(meaning, TypeRefused):
            self.report(number, "type", meaning.sentence)
            self.check_name(number, self.sheet.text(cells, "name"), required=False)
        elif meaning.kind in (BEGIN_GROUP, BEGIN_REPEAT):
            self.begin(number, cells, written, meaning.kind)
        elif meaning.kind in (END_GROUP, END_REPEAT):
            self.end(number, written, BEGIN_GROUP if meaning.kind == END_GROUP else BEGIN_REPEAT)
        else:
            self.question(number, cells, meaning)

    def begin(self, number: int, cells: list[str], written: str, kind: str) -> None:
        name = self.sheet.text(cells, "name")
        self.check_name(number, name)
        outer = next((frame for frame in self.stack if frame.kind == BEGIN_REPEAT), None)
        if kind == BEGIN_REPEAT and outer is not None:
            self.report(number, "type", t.nested_repeat(outer.row))
        relevant = self.expression(number, cells, "relevant")
        label = self.sheet.text(cells, "label") or name
        self.stack.append(_Frame(kind, written, number, name, label, relevant))

    def end(self, number: int, written: str, kind: str) -> None:
        if not self.stack:
            self.report(number, "type", t.end_without_begin(written))
            return
        frame = self.stack[-1]
        if frame.kind != kind:
            self.report(number, "type", t.mismatched_end(written, frame.written, frame.row))
            return
        self.stack.pop()
        if kind == BEGIN_REPEAT:
            self.repeats.append(Repeat(frame.name, frame.label, tuple(frame.fields)))

    def question(self, number: int, cells: list[str], meaning: QuestionType) -> None:
        field_type = meaning.field_type
        name = self.sheet.text(cells, "name")
        self.check_name(number, name)
        label = self.sheet.text(cells, "label")
        if not label and field_type is not FieldType.CALCULATE:
            self.report(number, "label", t.MISSING_LABEL)
        choices = self.choices(number, meaning.list_name) if field_type in SELECT_TYPES else ()
        calculation = self.expression(number, cells, "calculation")
        if field_type is FieldType.CALCULATE and not self.sheet.text(cells, "calculation"):
            self.report(number, "calculation" if self.sheet.has("calculation") else "type", t.MISSING_CALCULATION)
        save_to = self.sheet.text(cells, "save_to")
        if save_to and field_type in (FieldType.NOTE, FieldType.ACKNOWLEDGE):
            self.report(number, "save_to", t.NO_ANSWER_TO_SAVE)
        elif save_to and not is_valid_name(save_to):
            self.report(number, "save_to", t.bad_save_to(save_to))
        own_relevant = self.expression(number, cells, "relevant")
        conditions = [frame.relevant for frame in self.stack if frame.relevant] + [own_relevant]
        relevant = self.combine(number, [condition for condition in conditions if condition])
        repeat = next((frame for frame in reversed(self.stack) if frame.kind == BEGIN_REPEAT), None)
        new = Field(
            name=name,
            label=label,
            type=field_type,
            required=self.yes_no(number, cells, "required") and field_type not in _UNANSWERED,
            hint=self.sheet.text(cells, "hint"),
            unit=self.sheet.text(cells, "unit"),
            choices=choices,
            relevant=relevant,
            constraint=self.expression(number, cells, "constraint"),
            constraint_message=self.sheet.text(cells, "constraint_message"),
            required_message=self.sheet.text(cells, "required_message"),
            default=self.default(number, cells, field_type, meaning.list_name, choices),
            calculation=calculation,
            read_only=self.yes_no(number, cells, "read_only"),
            group=" / ".join(frame.label for frame in self.stack if frame.kind == BEGIN_GROUP),
            repeat=repeat.name if repeat else "",
            repeat_label=(repeat.label or repeat.name) if repeat else "",
            save_to=save_to,
        )
        self.fields.append(new)
        if repeat is not None:
            repeat.fields.append(name)

    def combine(self, number: int, conditions: list[str]) -> str:
        """The group and question conditions joined by `and`, checked again: together they may exceed the limits."""
        if len(conditions) < 2:
            return "".join(conditions)
        combined = " and ".join(f"({condition})" for condition in conditions)
        try:
            parse_expression(combined)
        except ExpressionError as error:
            reason = t.expression_reason(error.code, error.details)
            self.report(
                number, "relevant", t.bad_expression(self.sheet.header("relevant"), combined, error.position, reason)
            )
            return ""
        return combined

    def check_name(self, number: int, name: str, required: bool = True) -> None:
        if not name:
            if required:
                self.report(number, "name", t.MISSING_NAME)
        elif not is_valid_name(name):
            self.report(number, "name", t.bad_name(name))
        elif name in self.names:
            self.report(number, "name", t.duplicate_name(name, self.names[name]))
        else:
            self.names[name] = number

    def choices(self, number: int, list_name: str) -> tuple[Choice, ...]:
        if self.lists is None:
            return ()
        if list_name not in self.lists:
            close = difflib.get_close_matches(list_name, list(self.lists), n=1, cutoff=0.6)
            self.report(number, "type", t.unknown_list(list_name, close[0] if close else None))
            return ()
        return self.lists[list_name]

    def yes_no(self, number: int, cells: list[str], key: str) -> bool:
        value = self.sheet.text(cells, key)
        folded = value.casefold()
        flag = True if folded in _COLUMN_YES else False if folded in _COLUMN_NO else yes_or_no(value)
        if flag is None:
            self.report(number, key, t.bad_yes_no(self.sheet.header(key), value))
        return bool(flag)

    def expression(self, number: int, cells: list[str], key: str) -> str:
        """The expression text of a cell, checked to parse; "" after reporting one that does not."""
        text = self.sheet.text(cells, key)
        if not text:
            return ""
        header = self.sheet.header(key)
        try:
            self.expressions.append((number, header, parse_expression(text)))
        except ExpressionError as error:
            reason = t.expression_reason(error.code, error.details)
            self.report(number, key, t.bad_expression(header, text, error.position, reason))
            return ""
        return text

    def default(
        self, number: int, cells: list[str], field_type: FieldType, list_name: str, choices: tuple[Choice, ...]
    ) -> str:
        """The default as written: an expression when it refers to answers or calls a function, else a literal."""
        text = self.sheet.text(cells, "default")
        if not text or _DYNAMIC.search(text):
            return self.expression(number, cells, "default")
        values = {choice.value for choice in choices}
        if field_type in SELECT_TYPES and choices and not set(text.split()) <= values:
            self.report(number, "default", t.unknown_default_choice(text, list_name))
        elif not _literal_fits(field_type, text):
            self.report(number, "default", t.bad_default(text, t.TYPE_NAMES[field_type.value]))
        return text

    def check_references(self) -> None:
        for number, header, expression in self.expressions:
            for name in sorted(expression.references() - set(self.names)):
                close = difflib.get_close_matches(name, list(self.names), n=1, cutoff=0.6)
                sentence = t.unknown_reference(header, name, close[0] if close else None)
                self.problems.append(problem(self.sheet.title, number, header, sentence))


def _literal_fits(field_type: FieldType, text: str) -> bool:
    """Is a literal default a valid answer of a type whose answers have a fixed form?"""
    try:
        match field_type:
            case FieldType.INTEGER:
                return re.fullmatch(r"[+-]?[0-9]+", text) is not None
            case FieldType.DECIMAL:
                return Decimal(text).is_finite()
            case FieldType.DATE:
                return isinstance(date.fromisoformat(text), date)
            case FieldType.YES_NO:
                return yes_or_no(text) is not None
    except (InvalidOperation, ValueError):
        return False
    return True
