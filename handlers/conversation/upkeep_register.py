"""/登记: a new record of the speaker's unit, asked field by field, summarised, and saved on 确认.

A person ledger asks its key (身份证号) first: a key the unit holds already is offered to /更新, another unit's
key is refused in record_scope's words. An event ledger's key is generated when the record is saved
(TJ-20261205-001): the ledger's prefix, the local day, and the next number of that day, retried past a number
another cadre took at the same moment.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from sqlalchemy import select

from handlers.conversation import upkeep_update
from handlers.conversation.upkeep_state import (
    KEY_LIMIT,
    as_question,
    close,
    is_event,
    key_label,
    question_lines,
    record_name,
    save,
    shown,
)
from handlers.core.context import Context
from handlers.core.words import EDIT, SKIP, SUBMIT, VIEW
from handlers.forms.answers import Invalid, parse_answer
from handlers.ledgers.record_scope import Standing, refusal, standing_of
from handlers.texts import upkeep as t
from ledger_store.ledgers import KeyTaken, field_map, from_json, get_record, normalize_key, to_json, write_values
from ledger_store.models import Ledger, LedgerRecord, LedgerSession, Person

# Key prefixes of the standard event ledgers; any other takes the initials of its code (fire_hazards -> FH).
KEY_PREFIXES = {"mediation_cases": "TJ", "fire_hazards": "XH"}
_KEY_NUMBER = re.compile(r"[0-9]+")
_TRIES = 50


def new_state(ledger: Ledger) -> dict[str, Any]:
    """The state of a registration just begun."""
    return {"ledger": ledger.code, "key": None, "answers": {}, "skipped": [], "position": 0, "editing": False}


def questions(ledger: Ledger) -> list[dict[str, Any]]:
    """The fields asked, in order: the key first unless the bot generates it."""
    key = field_map(ledger)[ledger.key_field]
    rest = [field for field in ledger.fields if field["name"] != ledger.key_field]
    return rest if is_event(ledger) else [key, *rest]


def today_field(ledger: Ledger) -> str | None:
    """An event's first required date field (登记日期, 发现日期): today unless told otherwise."""
    if not is_event(ledger):
        return None
    return next((f["name"] for f in ledger.fields if f["type"] == "date" and f["required"]), None)


def prompt(ctx: Context, ledger: Ledger, state: dict[str, Any]) -> str:
    """The current question, or the summary once every question is answered."""
    asked = questions(ledger)
    if state["position"] >= len(asked):
        return t.summary(ledger.title, answer_lines(ledger, state))
    field = asked[state["position"]]
    lines = question_lines(field, state["position"] + 1, len(asked))
    if field["name"] == today_field(ledger):
        lines.append(t.TODAY_HINT)
    current = shown(field, given(ledger, field, state))
    if current is not None:
        lines.append(t.current_value(current, None))
    return "\n".join(lines)


def given(ledger: Ledger, field: dict[str, Any], state: dict[str, Any]) -> Any:
    """The answer given to a field so far, as stored (None: not yet)."""
    return state["key"] if field["name"] == ledger.key_field else state["answers"].get(field["name"])


def answer_lines(ledger: Ledger, state: dict[str, Any]) -> list[str]:
    """'N. label：answer' for every question."""
    lines = []
    for number, field in enumerate(questions(ledger), start=1):
        lines.append(f"{number}. {field['label']}：{shown(field, given(ledger, field, state)) or t.NOT_GIVEN}")
    return lines


def answer(
    ctx: Context, person: Person, found: LedgerSession, ledger: Ledger, units: frozenset[int], word: str, typed: str
) -> list[str]:
    """One message of a registration: a control word, an answer, or at the summary 确认 / 修改 N."""
    state = dict(found.state)
    asked = questions(ledger)
    if state["position"] >= len(asked):
        return at_summary(ctx, person, found, ledger, units, state, word)
    field = asked[state["position"]]
    is_key = field["name"] == ledger.key_field
    if is_key and word == t.UPDATE_WORD and state.get("existing"):
        return upkeep_update.begin(ctx, person, ledger, state["existing"], units)
    if word in VIEW:
        return ["\n".join(answer_lines(ledger, state)) + "\n\n" + prompt(ctx, ledger, state)]
    if word in SKIP:
        return [skip(ctx, found, ledger, state, field)]
    question = as_question(field)
    if is_key and question.max_length:
        question = replace(question, max_length=KEY_LIMIT)
    parsed = parse_answer(question, typed, ctx.local_now().date())
    if isinstance(parsed, Invalid):
        return [parsed.reason + "\n\n" + prompt(ctx, ledger, state)]
    if is_key:
        return [take_key(ctx, found, ledger, units, state, field, parsed)]
    state["answers"] = {**state["answers"], field["name"]: to_json(field, parsed)}
    state["skipped"] = [name for name in state["skipped"] if name != field["name"]]
    return [advance(ctx, found, ledger, state)]


def take_key(
    ctx: Context,
    found: LedgerSession,
    ledger: Ledger,
    units: frozenset[int],
    state: dict[str, Any],
    field: dict[str, Any],
    value: object,
) -> str:
    """A typed key: a new one is kept; the unit's own is offered to /更新; another unit's is refused."""
    record = get_record(ctx.session, ledger, value)
    standing = standing_of(record, units)
    if standing in (Standing.OWN, Standing.LEFT):
        state["existing"] = record.key
        save(ctx, found, state)
        return t.already_here(ledger.title, field["label"], record_name(ledger, record))
    refused = refusal(ledger, standing)
    if refused is not None:
        return refused + "\n\n" + prompt(ctx, ledger, state)
    state["key"], state["existing"] = normalize_key(ledger, value), None
    return advance(ctx, found, ledger, state)


def skip(ctx: Context, found: LedgerSession, ledger: Ledger, state: dict[str, Any], field: dict[str, Any]) -> str:
    """跳过: today for an event's date, nothing for an optional field; a required one cannot be skipped."""
    if field["name"] == today_field(ledger):
        state["answers"] = {**state["answers"], field["name"]: ctx.local_now().date().isoformat()}
        return advance(ctx, found, ledger, state)
    if field["required"]:
        return t.CANNOT_SKIP + "\n\n" + prompt(ctx, ledger, state)
    state["answers"] = {name: data for name, data in state["answers"].items() if name != field["name"]}
    state["skipped"] = sorted({*state["skipped"], field["name"]})
    return advance(ctx, found, ledger, state)


def advance(ctx: Context, found: LedgerSession, ledger: Ledger, state: dict[str, Any]) -> str:
    """On to the next question (back to the summary after 修改 N), stored, and asked."""
    state["position"] = len(questions(ledger)) if state["editing"] else state["position"] + 1
    state["editing"] = False
    save(ctx, found, state)
    return prompt(ctx, ledger, state)


def at_summary(
    ctx: Context,
    person: Person,
    found: LedgerSession,
    ledger: Ledger,
    units: frozenset[int],
    state: dict[str, Any],
    word: str,
) -> list[str]:
    """确认 saves; 修改 N goes back to question N."""
    edit = EDIT.match(word)
    if edit and edit.group("number").isdigit() and 1 <= int(edit.group("number")) <= len(questions(ledger)):
        state["position"], state["editing"] = int(edit.group("number")) - 1, True
        save(ctx, found, state)
        return [prompt(ctx, ledger, state)]
    if word not in SUBMIT:
        return [t.SUMMARY_EXPECTS + "\n\n" + prompt(ctx, ledger, state)]
    fields = field_map(ledger)
    values = {name: from_json(fields[name], data) for name, data in state["answers"].items() if name in fields}
    asked = [field for field in questions(ledger) if field["name"] != ledger.key_field]
    missing = [field for field in asked if field["required"] and field["name"] not in values]
    if missing:  # a field the definition made required after the answer was skipped
        state["position"] = questions(ledger).index(missing[0])
        save(ctx, found, state)
        return [t.CANNOT_SKIP + "\n\n" + prompt(ctx, ledger, state)]
    close(ctx, found)
    if is_event(ledger):
        key = save_event(ctx, person, ledger, values, units)
        return [t.registered(ledger.title, fields[ledger.key_field]["label"], key)]
    record = get_record(ctx.session, ledger, state["key"])
    if standing_of(record, units) is not Standing.NEW:
        return [refusal(ledger, standing_of(record, units)) or t.taken_meanwhile(key_label(ledger))]
    try:
        write_values(
            ctx.session,
            ledger,
            state["key"],
            person.org_unit_id,
            values,
            person.id,
            t.REGISTER_SOURCE,
            ctx.now(),
            units=units,
            new_only=True,
        )  # shared fields reach the person's other records in her units only
    except KeyTaken:  # another cadre registered the same key at the same moment
        return [t.taken_meanwhile(key_label(ledger))]
    if fields[ledger.key_field]["type"] == "text":
        return [t.registered(ledger.title, key_label(ledger), state["key"])]
    return [t.registered_person(ledger.title, key_label(ledger))]


def save_event(ctx: Context, person: Person, ledger: Ledger, values: dict[str, Any], units: frozenset[int]) -> str:
    """Write a new event under the next free key of the day; a number taken meanwhile is passed over."""
    unit, prefix = person.org_unit_id, f"{key_prefix(ledger)}-{ctx.local_now():%Y%m%d}-"
    number = last_number(ctx, ledger, prefix) + 1
    for _ in range(_TRIES):
        key = f"{prefix}{number:03d}"
        number += 1
        if get_record(ctx.session, ledger, key) is not None:
            continue
        try:  # another cadre's event of the same key at the same moment passes this number over
            write_values(ctx.session, ledger, key, unit, values, person.id, t.REGISTER_SOURCE, ctx.now(), units=units,
                         new_only=True)  # fmt: skip
        except KeyTaken:
            continue
        return key
    raise RuntimeError(f"ledger {ledger.code}: no free key after {prefix}{number - _TRIES:03d}")


def key_prefix(ledger: Ledger) -> str:
    """The letters before a generated key: TJ for 矛盾调解, else the initials of the code."""
    initials = "".join(part[0] for part in re.split(r"[_.-]+", ledger.code) if part).upper()
    return KEY_PREFIXES.get(ledger.code, initials[:4] or "JL")


def last_number(ctx: Context, ledger: Ledger, prefix: str) -> int:
    """The highest number of the day's keys so far (0 for none)."""
    keys = ctx.session.scalars(
        select(LedgerRecord.key).where(LedgerRecord.ledger_id == ledger.id, LedgerRecord.key.startswith(prefix))
    )
    numbers = [int(key[len(prefix) :]) for key in keys if _KEY_NUMBER.fullmatch(key[len(prefix) :])]
    return max(numbers, default=0)
