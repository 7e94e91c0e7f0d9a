"""Rosters (花名册): a repeat group filled as a list of rows, pre-filled from a ledger and checked row by row.

The form stops once for a whole roster. A roster whose key question is linked to a ledger (残疾人台账.身份证号)
starts with every record of the unit in that ledger; the filler confirms each row (or all at once), changes,
removes or adds rows, or sends back the edited workbook. The state lives in `Conversation.rosters[repeat]`:
rows (values as stored, the ledger's values as `origin`, a status, a removed row's reason), the row under review
and the row being edited (filled in field by field, see handlers.conversation.roster_rows). Only records of the
filler's own unit are offered, and a key of another unit's record, typed in a row or sent in the workbook, is refused
(handlers.ledgers.record_scope).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from functools import partial
from typing import Any

from handlers.conversation import roster_rows
from handlers.conversation.roster_book import read_roster_workbook, roster_workbook
from handlers.conversation.roster_rows import (
    ADDED,
    CHANGED,
    FINISH,
    KEPT,
    PENDING,
    REMOVED,
    KeyCheck,
    next_pending,
    shown,
)
from handlers.core.context import Context
from handlers.core.masking import mask_sensitive
from handlers.core.numbers import position
from handlers.forms.answers import to_json
from handlers.forms.fields import Field
from handlers.forms.form_state import UNCHANGED, FormState, is_askable
from handlers.ledgers import record_scope
from handlers.ledgers.links import Link, links_of, roster_key_link, to_form_value
from handlers.texts import record_scope as st
from handlers.texts import roster as t
from ledger_store.file_names import content_digest, stamped_name, store_named
from ledger_store.ledgers import from_json as ledger_value
from ledger_store.ledgers import records_in_units, values_with_shared
from ledger_store.models import Conversation, StoredFile
from ledger_store.outbox import enqueue

CONFIRM = UNCHANGED | {"是"}
CONFIRM_ALL = frozenset({"全部确认", "都确认", "全部无变化", "都没变", "都对"})
ADD = frozenset({"添加", "新增", "加一行", "增加"})
WORKBOOK = frozenset({"表格", "excel", "Excel", "EXCEL", "花名册", "要表格"})
EDIT_ROW = re.compile(r"^(?:修改|改)\s*第?\s*(?P<number>.*?)\s*行?$")
REMOVE_VERBS = ("删除", "删掉", "删")
# After the verb: a row (3, 三, 第3行) and a reason, each after a space: 删除 3 迁往外地, 删除第三行 去世. Read from
# the text as typed (full-width digits and spaces too), so the reason is kept as it was written.
ROW_AND_REASON = re.compile(
    r"^(?:第\s*)?(?P<number>[0-9０-９]+|[零〇一二两三四五六七八九十百]+)\s*行?(?:\s+(?P<reason>.*))?$"
)
MAX_ROWS = 1000  # records a roster takes from a ledger


def roster_fields(fields: Sequence[Field], repeat: str) -> list[Field]:
    """The questions of one roster row, in form order."""
    return [field for field in fields if field.repeat == repeat and is_askable(field)]


def state_of(conversation: Conversation, repeat: str) -> dict[str, Any] | None:
    """A copy of the roster's state, to change and save; None before the form first reached it."""
    data = seen_state(conversation, repeat)
    return None if data is None else copy.deepcopy(data)


def seen_state(conversation: Conversation, repeat: str) -> dict[str, Any] | None:
    """The roster's state to read only (no copy: up to 1000 rows, read several times a message)."""
    return (conversation.rosters or {}).get(repeat)


def save(conversation: Conversation, repeat: str, data: dict[str, Any]) -> None:
    """Store the roster's state (a new dict, so the JSON column sees the change)."""
    conversation.rosters = {**(conversation.rosters or {}), repeat: data}


def done(conversation: Conversation) -> frozenset[str]:
    """The rosters the person has finished."""
    return frozenset(name for name, data in (conversation.rosters or {}).items() if data.get("done"))


def key_link(ctx: Context, fields: Sequence[Field], repeat: str) -> Link | None:
    """The roster's link to a ledger key (its 身份证号 question), if it has one."""
    return roster_key_link(ctx.session, fields, repeat)


def enter(ctx: Context, conversation: Conversation, fields: Sequence[Field], repeat: str) -> None:
    """The first time the form reaches a roster: take the unit's records from the linked ledger as rows."""
    if seen_state(conversation, repeat) is not None:
        return
    rows = []
    key = key_link(ctx, fields, repeat)
    if key is not None:
        links = [link for link in links_of(ctx.session, fields) if link.field.repeat == repeat]
        units = record_scope.units_of(ctx, conversation.assignment)
        records = records_in_units(ctx.session, key.ledger, units, MAX_ROWS)
        # a shared field (姓名, 联系电话) another ledger holds for the person is offered too, from the filler's units
        stored = values_with_shared(ctx.session, key.ledger, records, units)
        for record in records:
            values = _row_from_record(links, key, record.key, stored[record.key])
            rows.append({"values": values, "origin": dict(values), "status": PENDING})
    save(conversation, repeat, {"rows": rows, "cursor": 0 if rows else None, "edit": None, "done": False})


def prompt(conversation: Conversation, state: FormState, repeat: str) -> str:
    """What the person should answer at the roster: a field of the row being edited, a row to check, the list."""
    data = seen_state(conversation, repeat) or {"rows": [], "cursor": None, "edit": None}
    fields = roster_fields(state.fields, repeat)
    label = fields[0].repeat_label if fields else repeat
    if data["edit"] is not None:
        return roster_rows.prompt(label, data, fields)
    if data["cursor"] is not None:
        row = data["rows"][data["cursor"]]
        pending = sum(1 for r in data["rows"] if r["status"] == PENDING)
        lines = [t.row_header(label, data["cursor"] + 1, len(data["rows"]), pending)]
        lines += [f"{field.label}：{shown(field, row['values'])}" for field in fields]
        return "\n".join([*lines, t.ROW_FOOTER])
    return listing(label, data["rows"], fields)


def step(conversation: Conversation, repeat: str) -> str:
    """Where the roster stands (rows, row under review, row being edited), for telling stale buttons apart."""
    data = seen_state(conversation, repeat) or {"rows": [], "cursor": None, "edit": None}
    edit = "" if data["edit"] is None else f"e{data['edit'][0]}.{data['edit'][1]}"
    return f"r{len(data['rows'])}.{data['cursor']}{edit}"


def buttons(conversation: Conversation, repeat: str) -> tuple[str, ...]:
    """The words worth a button where the roster stands: a row to check, or the list (none while editing)."""
    data = seen_state(conversation, repeat)
    if data is None or data["edit"] is not None:
        return ()
    if data["cursor"] is not None:
        return ("确认", "修改", "删除", "全部确认")
    return ("完成", "添加", "表格") if data["rows"] else ("添加", "完成")


def listing(label: str, rows: list[dict[str, Any]], fields: list[Field]) -> str:
    """Every row with its status, and how to go on."""
    if not rows:
        return t.empty_roster(label)
    lines = [t.list_header(label, len([r for r in rows if r["status"] != REMOVED]), _counts(rows))]
    for number, row in enumerate(rows[: t.LISTED_ROWS], start=1):
        cells = " ".join(shown(field, row["values"]) for field in fields if field.name in row["values"])
        lines.append(f"{number}. {cells}（{t.row_status(row['status'], row.get('reason'))}）")
    if len(rows) > t.LISTED_ROWS:
        lines.append(t.more_rows(len(rows) - t.LISTED_ROWS))
    return "\n".join([*lines, t.LIST_FOOTER])


def answer(
    ctx: Context, conversation: Conversation, state: FormState, repeat: str, word: str, typed: str
) -> tuple[str, bool]:
    """Apply one message to the roster (`word` folded, `typed` as typed); returns the reply and whether it is done."""
    dropped = drop_moved(ctx, conversation, state.fields, repeat)
    if dropped is not None:
        return dropped + "\n\n" + prompt(conversation, state, repeat), False
    data = state_of(conversation, repeat)
    fields = roster_fields(state.fields, repeat)
    if data is None or not fields:
        return "", True
    if data["edit"] is not None:
        key = key_link(ctx, state.fields, repeat)
        check = _key_check(ctx, conversation, key)
        lead = roster_rows.fill_in(data, fields, state, word, typed, key.field.name if key else None, check)
        save(conversation, repeat, data)
        shown = prompt(conversation, state, repeat)
        return (lead + "\n\n" + shown if lead else shown), False
    if word in WORKBOOK:
        send_workbook(ctx, conversation, fields, data)
        return t.WORKBOOK_SENT + "\n\n" + prompt(conversation, state, repeat), False
    data["done"] = False
    edit, remove = EDIT_ROW.match(word), _removal(typed)
    if isinstance(remove, str):
        return remove + "\n\n" + prompt(conversation, state, repeat), False
    number = None
    if edit is not None or remove is not None:
        row = edit.group("number") if edit else remove[0]
        number = _row_number(row, len(data["rows"])) if row else data["cursor"]
        if number is None:
            return t.bad_row_number(len(data["rows"])) + "\n\n" + prompt(conversation, state, repeat), False
    if edit is not None:
        data["edit"], data["undo"] = [number, 0], copy.deepcopy(data["rows"][number])
    elif remove is not None:
        data["rows"][number].update(status=REMOVED, reason=remove[1] or None)
        next_pending(data)
    elif word in CONFIRM and data["cursor"] is not None:
        data["rows"][data["cursor"]]["status"] = KEPT
        next_pending(data)
    elif word in CONFIRM_ALL:
        for row in data["rows"]:
            row["status"] = KEPT if row["status"] == PENDING else row["status"]
        data["cursor"] = None
    elif word in ADD:
        data["rows"].append({"values": {}, "origin": None, "status": ADDED})
        data["edit"], data["undo"] = [len(data["rows"]) - 1, 0], None
    elif word in FINISH or (word in CONFIRM and data["cursor"] is None):
        pending = sum(1 for row in data["rows"] if row["status"] == PENDING)
        if pending:
            return t.rows_left(pending) + "\n\n" + prompt(conversation, state, repeat), False
        data["done"] = True
        save(conversation, repeat, data)
        return "", True
    else:
        return t.ROSTER_HELP + "\n\n" + prompt(conversation, state, repeat), False
    save(conversation, repeat, data)
    return prompt(conversation, state, repeat), False


def send_workbook(ctx: Context, conversation: Conversation, fields: list[Field], data: dict[str, Any]) -> None:
    """Push the roster as an Excel workbook to edit and send back, every time it is asked for; asked for again
    with nothing changed, the file stored the last time goes again instead of a second copy (the roster's state
    keeps which file that was and how often it went)."""
    repeat = fields[0].repeat
    content = roster_workbook(fields, [row for row in data["rows"] if row["status"] != REMOVED])
    last = data.get("workbook")
    stored = ctx.session.get(StoredFile, last["file"]) if last else None
    if stored is None or content_digest(stored.content) != content_digest(content):
        name = stamped_name(fields[0].repeat_label or repeat, ctx.local_now(), t.WORKBOOK_TAG)
        stored, last = store_named(ctx.session, name, content, ctx.now()), None
    sends = (last["sends"] if last else 0) + 1
    save(conversation, repeat, {**data, "workbook": {"file": stored.id, "sends": sends}})
    # Keyed by the file and its sends: every request goes out, two in one second too.
    key = f"roster:{conversation.id}:{repeat}:{stored.id}:{sends}"
    enqueue(ctx.session, person_id=conversation.person_id, dedupe_key=key, now=ctx.now(), file=stored)


def receive_workbook(ctx: Context, conversation: Conversation, state: FormState, repeat: str, content: bytes) -> str:
    """An edited roster workbook sent back: every row checked as in chat; any bad cell and nothing changes."""
    dropped = drop_moved(ctx, conversation, state.fields, repeat)
    fields = roster_fields(state.fields, repeat)
    key = key_link(ctx, state.fields, repeat)
    name = key.field.name if key else None
    refuse = None
    if key is not None:
        units = record_scope.units_of(ctx, conversation.assignment)
        refuse = partial(record_scope.refused_keys, ctx, key.ledger, units=units)
    rows = read_roster_workbook(fields, content, state.today, name, refuse)
    reply = rows if isinstance(rows, str) else replace_rows(conversation, repeat, rows, name)
    return "\n\n".join([*filter(None, [dropped, reply]), prompt(conversation, state, repeat)])


def replace_rows(conversation: Conversation, repeat: str, rows: list[dict[str, Any]], key: str | None) -> str:
    """Rows read from an edited workbook take the roster's place; matched by key to what the ledger offered."""
    data = state_of(conversation, repeat) or {"rows": [], "cursor": None, "edit": None, "done": False}
    offered = [row for row in data["rows"] if row["origin"] is not None]
    by_key = {row["origin"].get(key): row for row in offered} if key else {}
    new_rows, seen = [], set()
    for values in rows:
        origin = by_key.get(values.get(key)) if key else None
        if origin is None:
            new_rows.append({"values": values, "origin": None, "status": ADDED})
            continue
        seen.add(values.get(key))
        status = KEPT if values == origin["origin"] else CHANGED
        new_rows.append({"values": values, "origin": origin["origin"], "status": status})
    new_rows += [{**row, "status": REMOVED} for row in offered if row["origin"].get(key) not in seen]
    save(conversation, repeat, {"rows": new_rows, "cursor": None, "edit": None, "done": False})
    return t.replaced(_counts(new_rows))


def drop_moved(ctx: Context, conversation: Conversation, fields: Sequence[Field], repeat: str) -> str | None:
    """Take off the roster every row whose record now belongs to another unit (moved by /迁移, or added there
    meanwhile), so the filler no longer sees it; the note naming the rows, or None when every row is still hers."""
    data, key = seen_state(conversation, repeat), key_link(ctx, fields, repeat)
    if data is None or key is None or not data["rows"]:
        return None
    name = key.field.name
    keys = [row["values"][name] for row in data["rows"] if name in row["values"]]
    refused = record_scope.refused_keys(ctx, key.ledger, keys, record_scope.units_of(ctx, conversation.assignment))
    if not refused:
        return None
    numbers = [number for number, row in enumerate(data["rows"], start=1) if row["values"].get(name) in refused]
    rows = [row for row in data["rows"] if row["values"].get(name) not in refused]
    # the row numbers shift: an edit in progress stops, and the word that came with this message is not applied
    kept = {"rows": rows, "cursor": None, "edit": None, "done": False}
    next_pending(kept)
    save(conversation, repeat, kept)
    return st.rows_moved_away(numbers)


def summary_line(conversation: Conversation, repeat: str) -> str:
    """The roster in the review: how many rows and what changed."""
    data = seen_state(conversation, repeat) or {"rows": []}
    rows = data["rows"]
    return t.review_line(len([r for r in rows if r["status"] != REMOVED]), _counts(rows))


def _row_from_record(links: list[Link], key: Link, record_key: str, values: dict[str, Any]) -> dict[str, Any]:
    """A roster row (answers as stored) from a ledger record."""
    row = {key.field.name: to_json(key.field, record_key)}
    for link in links:
        if link.is_key or link.ledger_field["name"] not in values:
            continue
        value = to_form_value(link, ledger_value(link.ledger_field, values[link.ledger_field["name"]]))
        if value is not None:
            row[link.field.name] = to_json(link.field, value)
    return row


def _removal(typed: str) -> tuple[str, str] | str | None:
    """(row as typed, or "" for the row under review; reason) of 删除 [行号] [原因]; a sentence when the row or
    the reason cannot be told apart (删除3去世) or the reason is too long; None when it is no removal (删错了)."""
    word = typed.strip()
    verb = next((verb for verb in REMOVE_VERBS if word.startswith(verb)), None)
    if verb is None:
        return None
    rest = word[len(verb) :]
    numbered = ROW_AND_REASON.match(rest.strip())
    if rest and not rest[0].isspace() and numbered is None:
        return t.REMOVE_HOW if rest[0].isdigit() or rest[0] == "第" else None
    if numbered is None and rest.strip()[:1].isdigit():
        return t.REMOVE_HOW  # a row number run into the reason: which row is not guessed
    row, reason = (numbered.group("number"), numbered.group("reason") or "") if numbered else ("", rest)
    reason = mask_sensitive(reason.strip())  # kept, as typed, in the ledger and the audit log
    if len(reason) > st.MAX_REASON:
        return st.reason_too_long(st.MAX_REASON)
    return row, reason


def _key_check(ctx: Context, conversation: Conversation, key: Link | None) -> KeyCheck | None:
    """How a key typed in a row is checked: a record of another unit is refused (see handlers.ledgers.record_scope)."""
    if key is None:
        return None

    def check(value: object) -> str | None:
        units = record_scope.units_of(ctx, conversation.assignment)
        return record_scope.refusal(key.ledger, record_scope.key_standing(ctx, key.ledger, value, units))

    return check


def _row_number(text: str, total: int) -> int | None:
    """Row N as typed (修改 3, 删除三) as an index, or None."""
    number = position(text, total)
    return None if number is None else number - 1


def _counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Status -> number of rows."""
    counts = dict.fromkeys((KEPT, CHANGED, ADDED, REMOVED, PENDING), 0)
    for row in rows:
        counts[row["status"]] += 1
    return counts
