"""One message applied where a form stands: help, view and resume anywhere, 取消 and 上一题 outside a roster row
being filled in, then the handler of the stage (the ledger's values, a question, a roster, the review)."""

from __future__ import annotations

from collections.abc import Callable

from handlers.conversation import form_prompts, roster
from handlers.conversation.machine import accept, advance, current_question, focus_of, prompt, roster_lines, settle
from handlers.conversation.stages import Stage, form_stage
from handlers.conversation.submit import submit_answers
from handlers.core.context import Context
from handlers.core.numbers import position, whole_number
from handlers.core.words import BACK, CANCEL, EDIT, HELP, RESUME, SKIP, SUBMIT, VIEW, fold
from handlers.forms.answers import Invalid, parse_answer
from handlers.forms.fields import Field, FieldType
from handlers.forms.form_state import UNCHANGED, FormState, question_numbers
from handlers.forms.registry import fields_of
from handlers.ledgers import prefill
from handlers.tasks import deadlines
from handlers.tasks.assignments import is_closed, open_assignments
from handlers.texts import conversation as t
from handlers.texts import prefill as pt
from handlers.texts import reporting as rt
from ledger_store.models import Conversation, Person, ReportTask

CONFIRM_PREFILL = UNCHANGED  # confirming the values taken from a ledger
KEEP = UNCHANGED | SKIP


def answer(ctx: Context, person: Person, conversation: Conversation, typed: str) -> list[str]:
    """Apply one message, as typed, to the conversation: a control word, or an answer where the form stands.

    Words are recognised in the folded text; a text answer is stored as it was typed.
    """
    task = conversation.assignment.task
    if is_closed(ctx, conversation.assignment):
        return [closed(ctx, person, task)]
    word = fold(typed)
    fields = fields_of(task.form_version)
    conversation.updated_at = ctx.now()
    state = settle(ctx, conversation, fields)
    conversation.position = state.next_stop(conversation.position)
    stage = form_stage(conversation, state)
    if word in HELP:
        return [t.stage_help(task.title, stage) + "\n\n" + prompt(ctx, conversation, state)]
    if word in RESUME:
        return [prompt(ctx, conversation, state)]
    if word in VIEW:
        return [view(ctx, conversation, state)]
    # While a roster row is filled in, 取消 and 上一题 belong to the row: they leave it, not the form. The ledger's
    # values are confirmed before any question, so 上一题 there only asks for the confirmation.
    if stage is not Stage.ROSTER_EDIT and word in CANCEL:
        focus_of(ctx, person).conversation_id = None
        return [t.parked(task.title)]
    if stage not in (Stage.ROSTER_EDIT, Stage.CONFIRMING) and word in BACK:
        return [go_back(ctx, conversation, state)]
    return _BY_STAGE[stage](ctx, person, conversation, state, word, typed)


def closed(ctx: Context, person: Person, task: ReportTask) -> str:
    """The form's task stopped taking answers: say when and whom to contact, and point to the tasks still open."""
    focus_of(ctx, person).conversation_id = None
    lines = [deadlines.closed_reply(ctx, task)]
    others = open_assignments(ctx, person)
    if others:
        lines.append(rt.more_todo(len(others)))
    return "\n".join(lines)


def answer_confirming(
    ctx: Context, person: Person, conversation: Conversation, state: FormState, word: str, typed: str
) -> list[str]:
    """At the values a ledger offered: 确认 them all, or 修改 N one of them."""
    edit = EDIT.match(word)
    if edit:
        return [edit_question(ctx, conversation, state, edit.group("number"))]
    return confirm_prefilled(ctx, person, conversation, state, word)


def answer_question(
    ctx: Context, person: Person, conversation: Conversation, state: FormState, word: str, typed: str
) -> list[str]:
    """At a question: 修改 N, keeping a suggested value, 提交, 跳过, or the answer itself."""
    field = state.fields[conversation.position]
    edit = EDIT.match(word)
    if edit:
        return [edit_question(ctx, conversation, state, edit.group("number"))]
    suggested = prefill.suggested_value(conversation, field)
    if suggested is not None and word in KEEP and field.name not in conversation.answers:
        return [accept(ctx, conversation, state, field, suggested)]
    if word in SUBMIT and not confirms(field, word, state):
        return submit(ctx, person, conversation, state)
    if word in SKIP:
        return [skip(ctx, conversation, state, field)]
    parsed = parse_answer(field, typed, state.today)
    if isinstance(parsed, Invalid):
        return [parsed.reason + "\n\n" + current_question(conversation, state)]
    return [accept(ctx, conversation, state, field, parsed)]


def answer_roster(
    ctx: Context, person: Person, conversation: Conversation, state: FormState, word: str, typed: str
) -> list[str]:
    """At a roster: the roster takes the message; once it is finished, the form goes on."""
    repeat = state.fields[conversation.position].repeat
    reply, finished = roster.answer(ctx, conversation, state, repeat, word, typed)
    return [advance(ctx, conversation, list(state.fields)) if finished else reply]


def answer_review(
    ctx: Context, person: Person, conversation: Conversation, state: FormState, word: str, typed: str
) -> list[str]:
    """At the review of all answers: 提交, or 修改 N."""
    edit = EDIT.match(word)
    if edit:
        return [edit_question(ctx, conversation, state, edit.group("number"))]
    if word in SUBMIT:
        return submit(ctx, person, conversation, state)
    return [t.REVIEW_EXPECTS + "\n\n" + prompt(ctx, conversation, state)]


def skip(ctx: Context, conversation: Conversation, state: FormState, field: Field) -> str:
    """跳过: keep the answer there is, take the default, or leave an optional question empty."""
    if field.name in conversation.answers:
        return advance(ctx, conversation, list(state.fields))
    default = state.default_value(field)
    if default is not None:
        return accept(ctx, conversation, state, field, default)
    if field.required:
        refusal = field.required_message or t.cannot_skip()
        return refusal + "\n\n" + current_question(conversation, state)
    conversation.skipped = sorted({*conversation.skipped, field.name})
    return advance(ctx, conversation, list(state.fields))


StageHandler = Callable[[Context, Person, Conversation, FormState, str, str], list[str]]
_BY_STAGE: dict[Stage, StageHandler] = {
    Stage.CONFIRMING: answer_confirming,
    Stage.QUESTION: answer_question,
    Stage.ROSTER_ROW: answer_roster,
    Stage.ROSTER_LIST: answer_roster,
    Stage.ROSTER_EDIT: answer_roster,
    Stage.REVIEW: answer_review,
}


def submit(ctx: Context, person: Person, conversation: Conversation, state: FormState) -> list[str]:
    """Submit when every question asked is answered; otherwise say how many are left."""
    remaining = state.open_fields()
    if remaining:
        return [t.not_finished(len(remaining)) + "\n\n" + prompt(ctx, conversation, state)]
    moved = moved_away(ctx, conversation, state)
    if moved is not None:
        return [moved]
    return submit_answers(ctx, person, conversation, state)


def moved_away(ctx: Context, conversation: Conversation, state: FormState) -> str | None:
    """A key (a question's or a roster row's) naming a record that moved to another unit since it was answered:
    the key question is asked again, or the roster shown without those rows; None when all are still the unit's."""
    fields = list(state.fields)
    moved = prefill.moved_key(ctx, conversation, fields)
    if moved is not None:
        field, refusal = moved
        conversation.answers = {name: value for name, value in conversation.answers.items() if name != field.name}
        conversation.position, conversation.editing = fields.index(field), True
        return refusal + "\n\n" + prompt(ctx, conversation, settle(ctx, conversation, fields))
    for repeat in list(conversation.rosters or {}):
        dropped = roster.drop_moved(ctx, conversation, fields, repeat)
        if dropped is not None:
            conversation.position = next(i for i, field in enumerate(fields) if field.repeat == repeat)
            conversation.editing = True  # once the roster is done again, back to the review
            return dropped + "\n\n" + prompt(ctx, conversation, settle(ctx, conversation, fields))
    return None


def confirm_prefilled(
    ctx: Context, person: Person, conversation: Conversation, state: FormState, word: str
) -> list[str]:
    """The answer to the values taken from the ledger: 确认 goes on to what is left (or submits)."""
    if word not in CONFIRM_PREFILL and word not in SUBMIT:
        return [pt.CONFIRM_PREFILL_FIRST + "\n\n" + prompt(ctx, conversation, state)]
    prefill.set_confirming(conversation, False)
    remaining = state.open_fields()
    if not remaining:
        return submit(ctx, person, conversation, state)
    conversation.position = state.fields.index(remaining[0])
    return [prompt(ctx, conversation, state)]


def confirms(field: Field | None, word: str, state: FormState) -> bool:
    """Is the word (确认, 确定 …) the answer to an acknowledge question rather than a request to submit?"""
    if field is None or field.type != FieldType.ACKNOWLEDGE:
        return False
    return not isinstance(parse_answer(field, word, state.today), Invalid)


def go_back(ctx: Context, conversation: Conversation, state: FormState) -> str:
    """Step back to the previous question asked (from the review: to the last one)."""
    previous = state.previous_stop(conversation.position)
    if previous is None:
        return t.AT_FIRST_QUESTION + "\n\n" + prompt(ctx, conversation, state)
    conversation.position = previous
    conversation.editing = False
    return prompt(ctx, conversation, state, jumped=True)


def edit_question(ctx: Context, conversation: Conversation, state: FormState, raw: str) -> str:
    """Jump to question N; once it is answered the form returns to where it was."""
    numbers = question_numbers(state.fields)
    if whole_number(raw) is None:
        return t.EDIT_NEEDS_NUMBER + "\n\n" + prompt(ctx, conversation, state)
    number = position(raw, len(numbers))
    if number is None:
        return t.edit_out_of_range(len(numbers)) + "\n\n" + prompt(ctx, conversation, state)
    index = next(i for i, field in enumerate(state.fields) if numbers.get(field.name) == number)
    if not state.asks(index):
        return t.edit_not_asked(number) + "\n\n" + prompt(ctx, conversation, state)
    conversation.editing = True
    conversation.position = index
    return prompt(ctx, conversation, state, jumped=True)


def view(ctx: Context, conversation: Conversation, state: FormState) -> str:
    """The answers given so far, then the current question again."""
    title = conversation.assignment.task.title
    if conversation.position >= len(state.fields) or (prefill.is_confirming(conversation) and not conversation.editing):
        return prompt(ctx, conversation, state)
    if not conversation.answers:
        body = t.NOTHING_ANSWERED_YET
    else:
        lines = form_prompts.answer_lines(state, roster_lines(conversation, state))
        body = "\n".join([t.answers_so_far(title), *lines])
    return body + "\n\n" + prompt(ctx, conversation, state)
