"""One roster row filled in field by field (after 添加 or 修改): each answer checked, and the ways out.

While a row is filled in, the roster's state holds `edit` ([row, field]) and `undo` (the row as it was, or None
for a row being added). 取消 drops the change (a row being added is not added), 完成 keeps what is filled in (a
new row only with its required fields), and 上一题 goes back a field (out of the row from its first field).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from handlers.core.words import BACK, CANCEL
from handlers.forms.answers import Invalid, describe_expected, format_answer, from_json, parse_answer, to_json
from handlers.forms.fields import Field
from handlers.forms.form_state import FormState, is_relevant
from handlers.ledgers.roster_write_back import ADDED, CHANGED, KEPT, PENDING, REMOVED
from handlers.texts import conversation as ct
from handlers.texts import roster as t

FINISH = frozenset({"完成", "好了", "下一步", "核对完了", "完毕"})
SKIP = frozenset({"跳过", "不改", "不变"})
KeyCheck = Callable[[object], str | None]  # why a key typed in a row may not be used (another unit's record)


def prompt(label: str, data: dict[str, Any], fields: list[Field]) -> str:
    """The field of the row being filled in, with its current value and the way out."""
    row, position = data["edit"]
    shown_field = _field_prompt(label, data["rows"][row], row, fields[position], position, len(fields))
    return shown_field + "\n" + t.edit_footer(_is_adding(data))


def fill_in(
    data: dict[str, Any],
    fields: list[Field],
    state: FormState,
    word: str,
    typed: str,
    key: str | None,
    key_check: KeyCheck | None = None,
) -> str | None:
    """One message while a row is filled in: a way out, or an answer; what to say before the prompt, if anything."""
    row_index, position = data["edit"]
    row, field = data["rows"][row_index], fields[position]
    if word in CANCEL:
        return _cancel_edit(data)
    if word in FINISH:
        return _leave_row(data, fields, state)
    if word in BACK:
        previous = _previous_field(fields, row, position, state)
        if previous is None:
            return _leave_row(data, fields, state)
        data["edit"] = [row_index, previous]
        return None
    refusal = None
    if word in SKIP:
        if field.required and field.name not in row["values"]:
            refusal = ct.cannot_skip()
    else:
        parsed = parse_answer(field, typed, state.today)
        refusal = parsed.reason if isinstance(parsed, Invalid) else state.refusal(field, parsed)
        duplicate = _duplicate(data, row_index, field, parsed) if refusal is None and field.name == key else None
        if duplicate is not None:
            refusal = t.duplicate_row(duplicate)
        if refusal is None and field.name == key and key_check is not None:
            refusal = key_check(parsed)
        if refusal is None:
            row["values"][field.name] = to_json(field, parsed)
    if refusal is not None:
        return refusal
    position = _next_field(fields, row, position + 1, state)
    if position < len(fields):
        data["edit"] = [row_index, position]
        return None
    data["edit"] = None
    data.pop("undo", None)
    if row["origin"] is not None:
        row["status"] = KEPT if row["values"] == row["origin"] else CHANGED
    elif row["status"] == REMOVED:
        row["status"] = ADDED  # a removed row filled in again is back on the list
    row.pop("reason", None)
    next_pending(data)
    return None


def _cancel_edit(data: dict[str, Any]) -> str:
    """取消 while a row is filled in: a row being added is not added; a changed row is as it was before."""
    row_index, _ = data["edit"]
    adding = _is_adding(data)
    undo = data.pop("undo", None)
    data["edit"] = None
    if adding:
        del data["rows"][row_index]
    elif undo is not None:
        data["rows"][row_index] = undo
    next_pending(data)
    return t.ADD_CANCELLED if adding else t.edit_cancelled(row_index + 1)


def _leave_row(data: dict[str, Any], fields: list[Field], state: FormState) -> str:
    """完成 (or 上一题 at its first field) while a row is filled in: keep what is filled in, if it makes a row.

    A row being added joins the roster once its required fields are filled in, and is dropped otherwise; a row
    left unchanged keeps its status (a row offered from the ledger still waits to be checked).
    """
    row_index, _ = data["edit"]
    row = data["rows"][row_index]
    adding = _is_adding(data)
    undo = data.pop("undo", None)
    data["edit"] = None
    if adding:
        missing = _missing_required(fields, row, state)
        if missing or not row["values"]:
            del data["rows"][row_index]
        next_pending(data)
        if not row["values"]:
            return t.ADD_CANCELLED
        return t.row_not_added(missing) if missing else t.row_added(row_index + 1)
    unchanged = undo is not None and row["values"] == undo["values"]
    if unchanged:
        row["status"] = undo["status"]
    elif row["origin"] is not None:
        row["status"] = KEPT if row["values"] == row["origin"] else CHANGED
    if row["status"] != REMOVED:
        row.pop("reason", None)
    next_pending(data)
    return t.row_unchanged(row_index + 1) if unchanged else t.row_saved(row_index + 1)


def _is_adding(data: dict[str, Any]) -> bool:
    """Is the row being filled in one that 添加 started (not yet on the roster)?

    A roster state saved before rows had `undo` counts a new row without values as being added.
    """
    if "undo" in data:
        return data["undo"] is None
    row = data["rows"][data["edit"][0]]
    return row["status"] == ADDED and not row["values"]


def _missing_required(fields: list[Field], row: dict[str, Any], state: FormState) -> list[str]:
    """The labels of the required fields the row asks (as its answers stand) and has no value for."""
    missing, position = [], _next_field(fields, row, 0, state)
    while position < len(fields):
        if fields[position].required and fields[position].name not in row["values"]:
            missing.append(fields[position].label)
        position = _next_field(fields, row, position + 1, state)
    return missing


def _previous_field(fields: list[Field], row: dict[str, Any], position: int, state: FormState) -> int | None:
    """The field of the row asked before `position` (conditions as its answers stand), if any."""
    asked, current = [], _next_field(fields, row, 0, state)
    while current < position:
        asked.append(current)
        current = _next_field(fields, row, current + 1, state)
    return asked[-1] if asked else None


def _next_field(fields: list[Field], row: dict[str, Any], start: int, state: FormState) -> int:
    """The next field of the row whose condition holds (conditions see the form's and the row's answers)."""
    own = {f.name: from_json(f, row["values"][f.name]) for f in fields if f.name in row["values"]}
    values = {**state.values(), **own}
    return next((i for i in range(start, len(fields)) if is_relevant(fields[i], values, state.today)), len(fields))


def _duplicate(data: dict[str, Any], row_index: int, field: Field, value: object) -> int | None:
    """The number of another row (not removed) with the same first answer (the key), if any."""
    stored = to_json(field, value)
    for number, row in enumerate(data["rows"], start=1):
        if number - 1 != row_index and row["status"] != REMOVED and row["values"].get(field.name) == stored:
            return number
    return None


def next_pending(data: dict[str, Any]) -> None:
    """Move the review to the next row still to check, or to the list."""
    data["cursor"] = next((i for i, row in enumerate(data["rows"]) if row["status"] == PENDING), None)


def _field_prompt(label: str, row: dict[str, Any], index: int, field: Field, position: int, total: int) -> str:
    """One field of the row being edited, with its current value."""
    lines = [t.edit_header(label, index + 1, position + 1, total)]
    lines.append(field.label + ("" if field.required else ct.OPTIONAL))
    if field.hint:
        lines.append(ct.HINT_PREFIX + field.hint)
    if field.choices:
        lines += [f"{number}. {choice.label}" for number, choice in enumerate(field.choices, start=1)]
    lines.append(describe_expected(field))
    if field.name in row["values"]:
        lines.append(ct.current_answer(shown(field, row["values"])))
    return "\n".join(lines)


def shown(field: Field, values: dict[str, Any]) -> str:
    """A row's value as chat shows it (ID numbers and mobiles masked)."""
    return t.EMPTY if field.name not in values else format_answer(field, from_json(field, values[field.name]))
