"""Skip logic, calculations, defaults and constraints: which questions a form asks and what it fills in itself."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from handlers.forms import expression_values as v
from handlers.forms.answers import Invalid, from_json, parse_answer, to_json
from handlers.forms.expressions import Expression, parse_expression
from handlers.forms.fields import Field, FieldType
from handlers.texts import validation as vt

# As the Excel reader decides it: a default that refers to answers or calls a function is an expression.
_DYNAMIC_DEFAULT = re.compile(r"\$\{|[A-Za-z][A-Za-z-]*\(")
_NEVER_ASKED = frozenset({FieldType.NOTE, FieldType.CALCULATE})

# Replies that mean "nothing has changed": confirming values from a ledger or a roster row, keeping an earlier one.
UNCHANGED = frozenset(
    {"确认", "确定", "无变化", "没有变化", "没变化", "没变", "不变", "都对", "对", "好", "好的", "ok"}
)


def is_askable(field: Field) -> bool:
    """A question the person answers: not a note, a calculation or a read-only field."""
    return field.type not in _NEVER_ASKED and not field.read_only


def roster_starts(fields: Sequence[Field]) -> dict[str, int]:
    """Repeat name -> index of its first question: where the form stops once for the whole roster (花名册)."""
    starts: dict[str, int] = {}
    for index, field in enumerate(fields):
        if field.repeat and is_askable(field):
            starts.setdefault(field.repeat, index)
    return starts


def is_stop(fields: Sequence[Field], index: int) -> bool:
    """A place the form stops: an askable question outside rosters, or the first field of a roster."""
    field = fields[index]
    if field.repeat:
        return roster_starts(fields).get(field.repeat) == index
    return is_askable(field)


def is_computed(field: Field) -> bool:
    """A field the form fills in itself: a calculation, or a read-only field with a calculation or default."""
    return field.type == FieldType.CALCULATE or (field.read_only and bool(field.calculation or field.default))


def is_passed_on_the_way(field: Field) -> bool:
    """Shown, never asked, when the form moves past it: a note or a read-only field."""
    return field.type == FieldType.NOTE or (field.read_only and field.type != FieldType.CALCULATE)


def question_numbers(fields: Sequence[Field]) -> dict[str, int]:
    """Field name -> N of 第N题 for every askable question.

    The numbers count the form's askable questions whether skip logic asks them or not, so a question keeps
    its number (and 修改 N keeps its meaning) while answers change; a skipped-over question leaves a gap.
    """
    askable = [field.name for index, field in enumerate(fields) if is_stop(fields, index)]
    return {name: number for number, name in enumerate(askable, start=1)}


def number_at(fields: Sequence[Field], position: int) -> int:
    """The N of the first askable question at or after `position`; the number of questions plus one after the last."""
    numbers = question_numbers(fields)
    return next((numbers[f.name] for f in fields[position:] if f.name in numbers), len(numbers) + 1)


@dataclass(frozen=True)
class FormState:
    """A conversation's answers after skip logic and calculations, and the fields the form does not ask now."""

    fields: Sequence[Field]
    answers: dict[str, object]  # as stored (to_json), calculated values included
    skipped: list[str]
    irrelevant: frozenset[str]
    today: date
    prefilled: frozenset[str] = frozenset()  # answers taken from a ledger, passed over when moving forward
    rosters_done: frozenset[str] = frozenset()  # repeats whose roster the person has finished

    def values(self) -> dict[str, object]:
        """The typed answers by name, as expressions see them."""
        return typed_values(self.fields, self.answers)

    def asks(self, index: int) -> bool:
        """Is the field at `index` a question the person is asked now?"""
        return is_stop(self.fields, index) and self.fields[index].name not in self.irrelevant

    def next_stop(self, start: int) -> int:
        """The first question asked at or after `start`; len(fields) (the review) when there is none."""
        return next((i for i in range(start, len(self.fields)) if self.asks(i)), len(self.fields))

    def next_to_ask(self, start: int) -> int:
        """Like `next_stop`, passing over the questions a ledger answered (they are confirmed together)."""
        stop = self.next_stop(start)
        while stop < len(self.fields) and self.fields[stop].name in self.prefilled:
            stop = self.next_stop(stop + 1)
        return stop

    def previous_stop(self, before: int) -> int | None:
        """The last question asked before `before`, if any."""
        return next((i for i in range(min(before, len(self.fields)) - 1, -1, -1) if self.asks(i)), None)

    def passed(self, start: int, stop: int) -> list[int]:
        """The positions of the notes and read-only fields shown when the form moves from `start` to `stop`."""
        shown = [i for i in range(start, stop) if is_passed_on_the_way(self.fields[i]) and not self.fields[i].repeat]
        return [i for i in shown if self.fields[i].name not in self.irrelevant]

    def previous_group(self, index: int) -> str:
        """The group of the last field shown before `index` in form order ("" when none)."""
        for field in reversed(self.fields[:index]):
            if field.name not in self.irrelevant and (is_askable(field) or is_passed_on_the_way(field)):
                return field.group
        return ""

    def open_fields(self) -> list[Field]:
        """Questions asked now and neither answered nor skipped."""
        done = {*self.answers, *self.skipped, *self.irrelevant}
        return [
            field
            for index, field in enumerate(self.fields)
            if is_stop(self.fields, index)
            and field.name not in done
            and not (field.repeat and field.repeat in self.rosters_done)
        ]

    def default_value(self, field: Field) -> object | None:
        """The typed answer a question's default stands for now, if it has one."""
        return default_value(field, self.values(), self.today)

    def refusal(self, field: Field, value: object) -> str | None:
        """Why the form's constraint refuses `value` for `field`; None when it accepts it."""
        if not field.constraint:
            return None
        values = {**self.values(), field.name: value}
        if _expression(field.constraint).is_true(values, value, today=self.today):
            return None
        return field.constraint_message or vt.constraint_failed()


def refresh(
    fields: Sequence[Field],
    answers: Mapping[str, object],
    skipped: list[str],
    today: date,
    prefilled: frozenset[str] = frozenset(),
    rosters_done: frozenset[str] = frozenset(),
) -> FormState:
    """Drop the answers and skips of questions no longer asked, and (re)compute the calculated values.

    One pass in form order sees the answers settled so far; passes repeat while something still changes, for
    expressions that refer to later fields. The cap stops a calculation that refers to itself.
    """
    current = dict(answers)
    irrelevant: frozenset[str] = frozenset()
    for _ in range(len(fields) + 1):
        settled, irrelevant = _settle_once(fields, current, today)
        if settled == current:
            break
        current = settled
    kept = [name for name in skipped if name not in irrelevant]
    return FormState(fields, current, kept, irrelevant, today, prefilled, rosters_done)


def _settle_once(
    fields: Sequence[Field], answers: Mapping[str, object], today: date
) -> tuple[dict[str, object], frozenset[str]]:
    """One pass of `refresh`."""
    values = typed_values(fields, answers)
    settled: dict[str, object] = {}
    irrelevant = set()
    for field in fields:
        if field.relevant and not _expression(field.relevant).is_true(values, today=today):
            irrelevant.add(field.name)
            values.pop(field.name, None)
        elif field.repeat:
            continue  # a roster's rows are kept apart (Conversation.rosters), one set of answers per row
        elif is_computed(field):
            value = computed_value(field, values, today)
            if value is None:
                values.pop(field.name, None)
            else:
                values[field.name] = value
                settled[field.name] = to_json(field, value)
        elif field.name in answers:
            settled[field.name] = answers[field.name]
    return settled, frozenset(irrelevant)


def is_relevant(field: Field, values: Mapping[str, object], today: date) -> bool:
    """Does the field's condition (显示条件) hold for these typed values?"""
    return not field.relevant or _expression(field.relevant).is_true(values, today=today)


def typed_values(fields: Sequence[Field], answers: Mapping[str, object]) -> dict[str, object]:
    """The stored answers as typed values, by field name."""
    return {field.name: from_json(field, answers[field.name]) for field in fields if field.name in answers}


def computed_value(field: Field, values: Mapping[str, object], today: date) -> object | None:
    """The value a calculation or read-only field has for these answers."""
    if field.calculation:
        return coerce(field, _expression(field.calculation).evaluate(values, today=today), today)
    return default_value(field, values, today)


def default_value(field: Field, values: Mapping[str, object], today: date) -> object | None:
    """The typed answer a field's default stands for: a literal, or an expression evaluated on the answers."""
    if not field.default:
        return None
    if _DYNAMIC_DEFAULT.search(field.default):
        return coerce(field, _expression(field.default).evaluate(values, today=today), today)
    return coerce(field, field.default, today)


def coerce(field: Field, value: object, today: date) -> object | None:
    """An expression's value (or a literal default) as a typed answer to `field`; None when it is none."""
    value = v.normalize(value)
    if value is None or value == "" or value == []:
        return None
    match field.type:
        case FieldType.CALCULATE:
            return _calculated(value)
        case FieldType.DATE:
            return v.to_date(value)
        case FieldType.YES_NO | FieldType.ACKNOWLEDGE:
            flag = v.to_flag(value)
            return flag if field.type == FieldType.YES_NO or flag else None
        case FieldType.SELECT_ONE:
            text = v.to_string(value).strip()
            return text if any(choice.value == text for choice in field.choices) else None
        case FieldType.SELECT_MULTIPLE:
            chosen = set(value) if isinstance(value, list) else set(v.to_string(value).split())
            return [choice.value for choice in field.choices if choice.value in chosen] or None
        case FieldType.NOTE:
            return None
    parsed = parse_answer(field, v.to_string(value), today)
    return None if isinstance(parsed, Invalid) else parsed


def _calculated(value: object) -> int | Decimal | str:
    """A calculation's value: a number, or text (yes/no as 是/否, dates and selections as XLSForm writes them)."""
    if isinstance(value, bool):
        return vt.YES if value else vt.NO
    if isinstance(value, int | Decimal):
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() else number.normalize()
    return v.to_string(value)


@lru_cache(maxsize=1024)
def _expression(text: str) -> Expression:
    """The parsed expression; forms are checked when they are read, so this parses."""
    return parse_expression(text)
