"""What every upkeep in chat (/登记, /更新, /核实) shares: the open session, the speaker's units, finding a ledger by
name, and a ledger field asked as a form question (the forms' own validators read the reply)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from handlers.core.context import Context
from handlers.forms.answers import describe_expected, format_answer
from handlers.forms.fields import Field, FieldType
from handlers.ledgers.links import all_ledgers
from handlers.texts import upkeep as t
from ledger_store.ledgers import field_map, from_json, get_ledger, is_unit_ledger, masked_value
from ledger_store.models import Ledger, LedgerRecord, LedgerSession, Person, Role
from ledger_store.org import subtree_ids
from ledger_store.values.choices import choices_of

EVENT = "event"
TEXT_LIMIT = 500  # characters of a text value typed in chat
KEY_LIMIT = 64  # characters a record key holds (ledger_records.key)


UPKEEP_KINDS = ("register", "update", "verify")  # a ledger_sessions row of another kind is not an upkeep


def open_session(ctx: Context, person: Person) -> LedgerSession | None:
    """The person's open upkeep, or None (a definition waiting for 确认修改 shares the table and is not one)."""
    found = ctx.session.get(LedgerSession, person.id)
    return found if found is not None and found.kind in UPKEEP_KINDS else None


def start(ctx: Context, person: Person, kind: str, state: dict[str, Any]) -> bool:
    """Open an upkeep (replacing one left open); True when an earlier one was replaced."""
    now = ctx.now()
    found = ctx.session.get(LedgerSession, person.id)  # an upkeep, or a definition change nobody confirmed
    if found is None:
        ctx.session.add(LedgerSession(person_id=person.id, kind=kind, state=state, started_at=now, updated_at=now))
        ctx.session.flush()
        return False
    found.kind, found.state, found.started_at, found.updated_at = kind, state, now, now
    return True


def save(ctx: Context, found: LedgerSession, state: dict[str, Any]) -> None:
    """Store the upkeep's new state (a new dict, so the JSON column sees the change)."""
    found.state, found.updated_at = dict(state), ctx.now()


def close(ctx: Context, found: LedgerSession) -> None:
    """End the upkeep."""
    ctx.session.delete(found)
    ctx.session.flush()


def units_of(ctx: Context, person: Person) -> frozenset[int] | str:
    """The units whose records a filler keeps: hers and those below it; the refusal for anyone else."""
    if not person.has_role(Role.FILLER) or person.org_unit_id is None:
        return t.FILLERS_ONLY
    return frozenset(subtree_ids(ctx.session, person.org_unit_id))


def ledger_named(session: Session, name: str, command: str) -> Ledger | str:
    """The ledger with this code or title, or the one title containing `name`; else the sentence to send."""
    ledgers = all_ledgers(session)
    titles = [ledger.title for ledger in ledgers]
    if not name:
        return t.usage(command, titles)
    exact = [ledger for ledger in ledgers if name in (ledger.code, ledger.title)]
    if exact:
        return exact[0]
    partial = [ledger for ledger in ledgers if name in ledger.title]
    if len(partial) == 1:
        return partial[0]
    if partial:
        return t.ambiguous_ledger(name, [ledger.title for ledger in partial])
    return t.unknown_ledger(name[:20], titles)


def ledger_of(session: Session, state: dict[str, Any]) -> Ledger | None:
    """The ledger an upkeep works on (None once it is gone)."""
    return get_ledger(session, state["ledger"])


def is_event(ledger: Ledger) -> bool:
    """Are the ledger's records events whose key the bot generates?"""
    return ledger.entity_kind == EVENT


def key_label(ledger: Ledger) -> str:
    """The label of the ledger's key field (身份证号, 案件编号)."""
    return field_map(ledger)[ledger.key_field]["label"]


def as_question(ledger_field: dict[str, Any]) -> Field:
    """A ledger field as a form question, so the forms' validators read the reply."""
    kind = FieldType(ledger_field["type"])
    limit = TEXT_LIMIT if kind is FieldType.TEXT else None
    return Field(ledger_field["name"], ledger_field["label"], kind, required=ledger_field["required"],
                 max_length=limit, choices=choices_of(ledger_field["choices"]))  # fmt: skip


def question_lines(ledger_field: dict[str, Any], number: int, total: int) -> list[str]:
    """A field asked: where the upkeep stands, the label (选填 when optional), the options, what to type."""
    question = as_question(ledger_field)
    optional = "" if ledger_field["required"] else t.OPTIONAL
    lines = [t.question_header(number, total), ledger_field["label"] + optional]
    lines += [f"{index}. {choice.label}" for index, choice in enumerate(question.choices, start=1)]
    return [*lines, describe_expected(question)]


def shown(ledger_field: dict[str, Any], data: Any) -> str | None:
    """A stored value as chat shows it (ID numbers and mobiles masked), None when there is none."""
    if data is None:
        return None
    return format_answer(as_question(ledger_field), from_json(ledger_field, data))


def record_name(ledger: Ledger, record: LedgerRecord) -> str:
    """What names a record in chat: its name (the first text field, masked if sensitive), else its key masked."""
    fields = field_map(ledger)
    if is_unit_ledger(ledger):
        return record.key
    for field in ledger.fields:
        value = record.values.get(field["name"])
        if field["type"] == "text" and field["name"] != ledger.key_field and value:
            return str(masked_value(field, value))
    return shown(fields[ledger.key_field], record.key) or record.key


def confirmed_day(ctx: Context, record: LedgerRecord, name: str) -> str | None:
    """The local day a value was last confirmed, e.g. 2025-11-02."""
    stamp = record.value_times.get(name)
    return None if stamp is None else ctx.to_local(datetime.fromisoformat(stamp)).date().isoformat()
