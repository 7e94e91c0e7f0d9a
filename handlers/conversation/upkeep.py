"""A message while a ledger upkeep is open (/登记, /更新, /核实): the upkeep takes every reply that is not a slash
command; 结束, 取消 or /取消 leaves it. Other slash commands work as always, the upkeep staying open."""

from __future__ import annotations

from handlers.conversation import upkeep_register, upkeep_update, upkeep_verify
from handlers.conversation.upkeep_state import close, is_event, key_label, ledger_of, open_session, start, units_of
from handlers.core.context import Context
from handlers.core.words import CANCEL, HELP
from handlers.texts import upkeep as t
from ledger_store.models import Ledger, Person

LEAVE = CANCEL | {"结束", "完成"}
REGISTER = "register"


def is_open(ctx: Context, person: Person) -> bool:
    """Has the person an upkeep open?"""
    return open_session(ctx, person) is not None


def begin_register(ctx: Context, person: Person, ledger: Ledger) -> list[str]:
    """Open a registration of a new record and ask its first question."""
    replaced = start(ctx, person, REGISTER, upkeep_register.new_state(ledger))
    generated = key_label(ledger) if is_event(ledger) else None
    opening = t.register_started(ledger.title, len(upkeep_register.questions(ledger)), generated)
    first = upkeep_register.prompt(ctx, ledger, upkeep_register.new_state(ledger))
    return [(t.ABANDONED_BEFORE + "\n" if replaced else "") + opening + "\n\n" + first]


def answer(ctx: Context, person: Person, typed: str, word: str) -> list[str] | None:
    """The upkeep's reply to a message, or None when no upkeep is open or the message is another command."""
    found = open_session(ctx, person)
    if found is None:
        return None
    if word.startswith("/") and word[1:].strip() not in LEAVE:
        return None
    units = units_of(ctx, person)
    ledger = None if found.kind == upkeep_verify.KIND else ledger_of(ctx.session, found.state)
    if isinstance(units, str) or (ledger is None and found.kind != upkeep_verify.KIND):
        close(ctx, found)
        return [units if isinstance(units, str) else t.LEDGER_GONE]
    if word.lstrip("/").strip() in LEAVE:
        said = upkeep_verify.stopped(found) if ledger is None else t.left(ledger.title)
        close(ctx, found)
        return [said]
    if word in HELP:
        return [t.UPKEEP_HELP]
    if found.kind == REGISTER:
        return upkeep_register.answer(ctx, person, found, ledger, units, word, typed)
    if found.kind == upkeep_update.KIND:
        return upkeep_update.answer(ctx, person, found, ledger, units, word, typed)
    return upkeep_verify.answer(ctx, person, found, units, word, typed)
