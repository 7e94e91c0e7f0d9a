"""What a person reads of a form: one question, the notes passed on the way to it, the list of answers."""

from __future__ import annotations

from collections.abc import Mapping

from handlers.forms.answers import describe_expected, format_answer, from_json
from handlers.forms.fields import Field, FieldType
from handlers.forms.form_state import FormState, is_askable, question_numbers
from handlers.texts import conversation as t


def question(title: str, state: FormState, index: int, *, jumped: bool = False, suggestion: str | None = None) -> str:
    """One question with its hint, options, expected format, and its current answer, a suggestion or its default.

    The group heading shows where the group changes in form order, and after a jump (上一题, 修改 N, 继续),
    where the person may have lost track of the section they are in.
    """
    field = state.fields[index]
    numbers = question_numbers(state.fields)
    lines = []
    if field.group and (jumped or field.group != state.previous_group(index)):
        lines.append(t.group_heading(field.group))
    lines += [
        t.question_header(title, numbers[field.name], len(numbers)),
        field.label + ("" if field.required else t.OPTIONAL),
    ]
    if field.hint:
        lines.append(t.HINT_PREFIX + field.hint)
    if field.type in (FieldType.SELECT_ONE, FieldType.SELECT_MULTIPLE):
        lines.extend(f"{number}. {choice.label}" for number, choice in enumerate(field.choices, start=1))
    lines.append(describe_expected(field))
    current = shown_answer(state, field)
    if current is None and suggestion is not None:
        lines.append(suggestion)
    elif current is None:
        default = state.default_value(field)
        current = None if default is None else format_answer(field, default)
    if current is not None:
        lines.append(t.current_answer(current))
    return "\n".join(lines)


def passing(state: FormState, start: int, stop: int) -> list[str]:
    """The notes and read-only fields between two positions, each as the person reads it."""
    texts = []
    for index in state.passed(start, stop):
        field = state.fields[index]
        shown = shown_answer(state, field)
        if field.type != FieldType.NOTE and shown is None:
            continue  # a read-only field with nothing to show yet
        lines = [t.group_heading(field.group)] if field.group and field.group != state.previous_group(index) else []
        lines.append(field.label if shown is None else t.computed_line(field.label, shown))
        if field.hint:
            lines.append(t.HINT_PREFIX + field.hint)
        texts.append("\n".join(lines))
    return texts


def review(title: str, state: FormState, rosters: Mapping[str, str]) -> str:
    """All answers, numbered, with how to submit or change one; `rosters` says how each roster reads."""
    return "\n".join([t.review_header(title), *answer_lines(state, rosters), t.REVIEW_FOOTER])


def answer_lines(state: FormState, rosters: Mapping[str, str]) -> list[str]:
    """'N. label：answer' for every question asked (a roster once), and the values the form fills in itself."""
    numbers = question_numbers(state.fields)
    lines = []
    for field in state.fields:
        if field.name in state.irrelevant or field.type == FieldType.NOTE:
            continue
        if field.repeat:
            if field.name in numbers:
                shown = rosters.get(field.repeat, t.NOT_ANSWERED)
                lines.append(f"{numbers[field.name]}. {field.repeat_label}：{shown}")
            continue
        shown = shown_answer(state, field)
        if is_askable(field):
            lines.append(f"{numbers[field.name]}. {field.label}：{t.NOT_ANSWERED if shown is None else shown}")
        elif field.label and shown is not None:
            lines.append(t.computed_line(field.label, shown))
    return lines


def shown_answer(state: FormState, field: Field) -> str | None:
    """The stored answer to `field` as chat shows it, or None."""
    stored = state.answers.get(field.name)
    return None if stored is None else format_answer(field, from_json(field, stored))
