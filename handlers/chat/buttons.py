"""Buttons (WeCom cards) on the bot's questions; a press answers the question it was offered for."""

from __future__ import annotations

from handlers.conversation import answering, machine, roster
from handlers.core.context import Context
from handlers.core.messages import ButtonClick, Reply
from handlers.core.words import SUBMIT_WORD
from handlers.forms.fields import FieldType
from handlers.forms.registry import fields_of
from handlers.texts import conversation as t
from handlers.texts.validation import CONFIRM, NO, YES
from ledger_store.models import Conversation, Person
from ledger_store.outbox import Buttons, Option


def question_token(current: Conversation) -> str:
    """Names the question a conversation is on, so a button offered for it can be told from a stale one.

    At a roster the token also names the row under review, so a 确认 pressed on an earlier row's card is stale.
    """
    fields = fields_of(current.assignment.task.form_version)
    position = current.position
    repeat = fields[position].repeat if position < len(fields) else ""
    return f"c{current.id}p{position}" + (roster.step(current, repeat) if repeat else "")


def offer_buttons(ctx: Context, person: Person, texts: list[str]) -> list[Reply]:
    """Replies, the last one carrying buttons for a choice, yes/no or confirm question, or 提交 on the review."""
    replies = [Reply(text) for text in texts]
    current = machine.focused_conversation(ctx, person)
    if current is None or not replies:
        return replies
    fields = fields_of(current.assignment.task.form_version)
    if current.position >= len(fields):
        if machine.form_state(ctx, current, fields).open_fields():
            return replies
        options = (Option(SUBMIT_WORD, t.SUBMIT_BUTTON),)
        return [*replies[:-1], Reply(replies[-1].text, Buttons(question_token(current), options))]
    field = fields[current.position]
    if field.repeat:
        words = roster.buttons(current, field.repeat)
        if not words:
            return replies
        options = tuple(Option(word, word) for word in words)
        return [*replies[:-1], Reply(replies[-1].text, Buttons(question_token(current), options))]
    if field.type == FieldType.YES_NO:
        options = (Option(YES, YES), Option(NO, NO))
    elif field.type == FieldType.ACKNOWLEDGE:
        options = (Option(CONFIRM, CONFIRM),)
    elif field.type in (FieldType.SELECT_ONE, FieldType.SELECT_MULTIPLE):
        options = tuple(Option(str(i), choice.label) for i, choice in enumerate(field.choices, start=1))
    else:
        return replies
    multiple = field.type == FieldType.SELECT_MULTIPLE
    last = Reply(replies[-1].text, Buttons(question_token(current), options, multiple))
    return [*replies[:-1], last]


def click(ctx: Context, person: Person, button: ButtonClick) -> list[str]:
    """A button press answers the question it was offered for; a press on an old question is declined."""
    current = machine.focused_conversation(ctx, person)
    if current is not None and question_token(current) == button.token:
        return answering.answer(ctx, person, current, button.value)
    if current is None:
        return [t.STALE_BUTTON]
    state = machine.form_state(ctx, current, fields_of(current.assignment.task.form_version))
    return [t.STALE_BUTTON + "\n\n" + machine.prompt(ctx, current, state)]
