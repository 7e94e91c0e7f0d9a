"""The entry point of the engine: who is speaking, and is it a command, a choice or an answer."""

from __future__ import annotations

from handlers.chat import buttons
from handlers.commands import issue, ledger_define, review, take
from handlers.commands import table as commands
from handlers.commands.form_import import import_form
from handlers.conversation import answering, machine, todos, upkeep
from handlers.core.context import Context
from handlers.core.messages import Incoming, Reply, masked
from handlers.core.words import fold
from handlers.forms.form_state import number_at
from handlers.forms.registry import fields_of
from handlers.ledgers import prefill
from handlers.tasks.progress import question_total
from handlers.texts import commands as t
from handlers.texts import conversation as ct
from handlers.texts import files as file_texts
from handlers.texts import form_import as ft
from ledger_store.ledger_book import is_ledger_book
from ledger_store.models import ChatFocus, Person, Role
from ledger_store.org import find_person


def handle(ctx: Context, incoming: Incoming) -> list[Reply]:
    """Turn one incoming message into the replies for its sender (pushes go to the outbox)."""
    return handle_for(ctx, incoming)[1]


def handle_for(ctx: Context, incoming: Incoming) -> tuple[Person | None, list[Reply]]:
    """The sender (None when unregistered) and the replies to them.

    This is the one way out for direct replies: whatever a handler put in them, an ID number or a mobile leaves
    masked (the outbox does the same for pushes).
    """
    person = find_person(ctx.session, incoming.platform, incoming.user_id)
    if person is None:
        return None, [Reply(t.UNREGISTERED)]
    return person, [masked(reply) for reply in buttons.offer_buttons(ctx, person, respond(ctx, person, incoming))]


def respond(ctx: Context, person: Person, incoming: Incoming) -> list[str]:
    """The reply texts for a known person: a button click, a command, a choice or an answer.

    Words are recognised in the folded text (／帮助, ２); an answer goes on as typed, so text is stored as typed.
    """
    focus = ctx.session.get(ChatFocus, person.id)
    current = machine.focused_conversation(ctx, person)
    offered = todos.take_offer(focus, current)
    if incoming.button is not None:
        if review.is_review_button(incoming.button.token):
            return review.click(ctx, person, incoming.button.token, incoming.button.value)
        return buttons.click(ctx, person, incoming.button)
    if incoming.unsupported:
        return [t.UNKNOWN_MESSAGE_TYPE]
    if incoming.file_too_large:
        return [file_texts.file_too_large(incoming.file_too_large)]
    typed = incoming.text.strip()
    text = fold(typed)
    if not text and incoming.file_bytes is not None:
        return received_file(ctx, person, incoming)
    if not text:
        return [t.FILES_NOT_YET if incoming.file_name else t.EMPTY_MESSAGE]
    # A question the bot just asked (issue a lookalike task? generate from the ledgers?) is answered before anything
    # else; see commands/issue.py and commands/take.py.
    waited = issue.answer_pending(ctx, person, text, in_form=current is not None)
    if waited is None:
        waited = take.answer_pending(ctx, person, text)
    if waited is not None:
        return with_resume_hint(ctx, person, waited)
    # 确认修改 / 放弃修改 for a ledger definition that would lose data; see commands/ledger_define.py.
    confirmed = ledger_define.answer_pending(ctx, person, text)
    if confirmed is not None:
        return with_resume_hint(ctx, person, confirmed)
    # A reviewer's 通过 / 退回 …, working through /审核 (in a form too) or on the one submission waiting on them.
    reviewed = review.answer(ctx, person, typed, in_form=current is not None)
    if reviewed is not None:
        return with_resume_hint(ctx, person, reviewed)
    # An open ledger upkeep (/登记, /更新, /核实) takes every reply but the other slash commands.
    kept = upkeep.answer(ctx, person, typed, text)
    if kept is not None:
        return with_resume_hint(ctx, person, kept)
    if offered:
        switched = todos.switch(ctx, person, current, offered, text)
        if switched is not None:
            return switched
    matched = commands.match(text, in_form=current is not None)
    if matched is not None:
        command, args = matched
        if command is not None and command.typed:
            args = commands.typed_arguments(typed)
        replies = commands.unknown(args) if command is None else commands.run(ctx, person, command, args)
        return with_resume_hint(ctx, person, replies)
    if current is not None:
        return answering.answer(ctx, person, current, typed)
    if focus is not None and focus.choosing:
        return todos.choose(ctx, person, focus, text)
    return todos.outside_form(ctx, person, text)


def received_file(ctx: Context, person: Person, incoming: Incoming) -> list[str]:
    """A workbook at a roster is the edited roster; one with a 台账 sheet a ledger definition; from an issuer, a form
    to import; other files cannot be used."""
    name = incoming.file_name or ""
    current = machine.focused_conversation(ctx, person)
    if current is not None and name.lower().endswith((".xlsx", ".xlsm")):
        reply = machine.roster_workbook(ctx, current, incoming.file_bytes)
        if reply is not None:
            return [reply]
    if name.lower().endswith((".xlsx", ".xlsm")) and is_ledger_book(incoming.file_bytes):
        return [ledger_define.received_book(ctx, person, incoming.file_bytes, name)]
    may_import = person.has_role(Role.ISSUER) or person.has_role(Role.ADMIN)
    if not may_import:
        return [t.FILES_NOT_YET]
    if not name.lower().endswith((".xlsx", ".xlsm")):
        return [ft.NOT_A_WORKBOOK]
    return [import_form(ctx, incoming.file_bytes, name, person).message()]


def with_resume_hint(ctx: Context, person: Person, replies: list[str]) -> list[str]:
    """After a command typed mid-form, remind where the form stands."""
    current = machine.focused_conversation(ctx, person)
    if current is None or not replies or upkeep.is_open(ctx, person):
        return replies
    version = current.assignment.task.form_version
    fields = fields_of(version)
    confirming = prefill.is_confirming(current) and not current.editing
    number = None if confirming else number_at(fields, current.position)
    hint = ct.resume_hint(version.form.title, number, question_total(version))
    return [*replies[:-1], replies[-1] + "\n" + hint]
