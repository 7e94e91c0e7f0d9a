"""Where an open form stands, as one value: what a message means there, and the help, depend on it."""

from __future__ import annotations

from enum import StrEnum

from handlers.conversation import roster
from handlers.forms.form_state import FormState
from handlers.ledgers import prefill
from ledger_store.models import Conversation


class Stage(StrEnum):
    """A stage of an open form; the words that work at each are listed in texts.conversation.STAGE_WORDS."""

    CONFIRMING = "confirming"  # the values a ledger offered, confirmed all at once
    QUESTION = "question"
    ROSTER_ROW = "roster_row"  # a roster row offered from a ledger, to check
    ROSTER_LIST = "roster_list"  # the roster's rows, to finish or change
    ROSTER_EDIT = "roster_edit"  # a roster row being filled in, field by field (added or changed)
    REVIEW = "review"  # every question answered: submit or change one


def form_stage(conversation: Conversation, state: FormState) -> Stage:
    """The stage of an open form, read as `conversation.prompt` shows it."""
    if prefill.is_confirming(conversation) and not conversation.editing:
        return Stage.CONFIRMING
    if conversation.position >= len(state.fields):
        return Stage.REVIEW
    repeat = state.fields[conversation.position].repeat
    if not repeat:
        return Stage.QUESTION
    data = roster.seen_state(conversation, repeat) or {}
    if data.get("edit") is not None:
        return Stage.ROSTER_EDIT
    return Stage.ROSTER_ROW if data.get("cursor") is not None else Stage.ROSTER_LIST
