"""The form-filling state machine: the form a person is on, the question it asks, and moving through it.

What one message does where the form stands is in handlers.conversation.answering.
"""

from __future__ import annotations

from sqlalchemy import select

from handlers.conversation import form_prompts, roster
from handlers.core.context import Context
from handlers.core.deadline_text import format_deadline
from handlers.forms.answers import to_json
from handlers.forms.fields import Field
from handlers.forms.form_state import FormState, number_at, question_numbers, refresh, roster_starts
from handlers.forms.registry import fields_of
from handlers.ledgers import prefill
from handlers.review import flow
from handlers.tasks import deadlines, recurrence
from handlers.tasks.assignments import is_closed
from handlers.texts import conversation as t
from handlers.texts import prefill as pt
from handlers.texts import review as rt
from ledger_store.models import Assignment, AssignmentStatus, ChatFocus, Conversation, Person


def focus_of(ctx: Context, person: Person) -> ChatFocus:
    """The person's focus row, created on first use."""
    focus = ctx.session.get(ChatFocus, person.id)
    if focus is None:
        focus = ChatFocus(person_id=person.id)
        ctx.session.add(focus)
    return focus


def focused_conversation(ctx: Context, person: Person) -> Conversation | None:
    """The conversation the person's next plain message answers, if any."""
    focus = ctx.session.get(ChatFocus, person.id)
    if focus is None or focus.conversation_id is None:
        return None
    return ctx.session.get(Conversation, focus.conversation_id)


def start(ctx: Context, person: Person, assignment: Assignment) -> list[str]:
    """Open (or resume) the form of an assignment and ask the current question."""
    conversation = ctx.session.scalar(
        select(Conversation).where(Conversation.person_id == person.id, Conversation.assignment_id == assignment.id)
    )
    task = assignment.task
    if is_closed(ctx, assignment):
        return [deadlines.closed_reply(ctx, task)]
    fields = fields_of(task.form_version)
    total = len(question_numbers(fields))
    if conversation is None:
        conversation = Conversation(
            person_id=person.id,
            assignment=assignment,
            position=0,
            editing=False,
            answers={},
            skipped=[],
            started_at=ctx.now(),
            updated_at=ctx.now(),
        )
        ctx.session.add(conversation)
        ctx.session.flush()
        prefill.fill_from_unit(ctx, conversation, fields)
        prefill.fill_from_previous(conversation, fields, recurrence.previous_answers(ctx, assignment))
        opening = t.started(task.title, total, format_deadline(ctx, task.deadline))
        body = move_forward(ctx, conversation, settle(ctx, conversation, fields), 0)
    else:
        state = settle(ctx, conversation, fields)
        confirming = prefill.is_confirming(conversation) and not conversation.editing
        number = min(number_at(fields, state.next_stop(conversation.position)), total)
        opening = t.resumed(task.title, None if confirming else number)
        if assignment.status == AssignmentStatus.RETURNED:
            opening = returned_opening(ctx, conversation, fields)
        body = prompt(ctx, conversation, state, jumped=True)
    if assignment.status == AssignmentStatus.PENDING:
        assignment.status = AssignmentStatus.IN_PROGRESS
    focus = focus_of(ctx, person)
    focus.conversation_id = conversation.id
    focus.choosing = None
    return [opening + "\n\n" + body]


def returned_opening(ctx: Context, conversation: Conversation, fields: list[Field]) -> str:
    """Opening a returned form: why it came back and which questions to answer again."""
    step = flow.latest_step(ctx, conversation.assignment_id)
    labels = flow.reopened_labels(fields, conversation.reopened or [])
    reason = step.reason if step is not None and step.reason else ""
    return rt.returned_opening(f"《{conversation.assignment.task.title}》", reason, labels)


def form_state(ctx: Context, conversation: Conversation, fields: list[Field]) -> FormState:
    """The conversation's answers after skip logic and calculations, as of today."""
    prefilled = frozenset(prefill.offered(conversation))
    today = ctx.local_now().date()
    return refresh(fields, conversation.answers, conversation.skipped, today, prefilled, roster.done(conversation))


def settle(ctx: Context, conversation: Conversation, fields: list[Field]) -> FormState:
    """Apply skip logic and calculations to the stored answers, storing what changed."""
    state = form_state(ctx, conversation, fields)
    if state.answers != conversation.answers:
        conversation.answers = state.answers
    if state.skipped != conversation.skipped:
        conversation.skipped = state.skipped
    return state


def prompt(ctx: Context, conversation: Conversation, state: FormState, *, jumped: bool = False) -> str:
    """What the person should answer next: a question, or the review of all answers."""
    title = conversation.assignment.task.title
    # The question the form stood on may no longer be asked (e.g. skip logic on today()): go on to the next.
    conversation.position = state.next_stop(conversation.position)
    if prefill.is_confirming(conversation) and not conversation.editing:
        return prefill.block(title, state, conversation, question_numbers(state.fields))
    if conversation.position >= len(state.fields):
        return form_prompts.review(title, state, roster_lines(conversation, state))
    field = state.fields[conversation.position]
    if field.repeat:
        roster.enter(ctx, conversation, state.fields, field.repeat)
        dropped = roster.drop_moved(ctx, conversation, state.fields, field.repeat)
        numbers = question_numbers(state.fields)
        header = t.question_header(title, numbers[field.name], len(numbers))
        body = header + "\n" + roster.prompt(conversation, state, field.repeat)
        return body if dropped is None else dropped + "\n\n" + body
    return current_question(conversation, state, jumped=jumped)


def roster_workbook(ctx: Context, conversation: Conversation, content: bytes) -> str | None:
    """An edited roster workbook, when the form stands at a roster; None when it does not."""
    fields = fields_of(conversation.assignment.task.form_version)
    state = settle(ctx, conversation, fields)
    conversation.position = state.next_stop(conversation.position)
    if conversation.position >= len(fields) or not fields[conversation.position].repeat:
        return None
    conversation.updated_at = ctx.now()
    return roster.receive_workbook(ctx, conversation, state, fields[conversation.position].repeat, content)


def roster_lines(conversation: Conversation, state: FormState) -> dict[str, str]:
    """Repeat name -> how its roster reads in the review."""
    return {name: roster.summary_line(conversation, name) for name in roster_starts(state.fields)}


def current_question(conversation: Conversation, state: FormState, *, jumped: bool = False) -> str:
    """The question the form is on, asked again (with the stale ledger value it suggests, if any)."""
    field = state.fields[conversation.position]
    suggestion = prefill.suggestion(conversation, field)
    title = conversation.assignment.task.title
    return form_prompts.question(title, state, conversation.position, jumped=jumped, suggestion=suggestion)


def accept(ctx: Context, conversation: Conversation, state: FormState, field: Field, value: object) -> str:
    """Store an answer the form's constraint allows and move on; otherwise ask again, saying why."""
    refusal = state.refusal(field, value) or prefill.key_refusal(ctx, conversation, list(state.fields), field, value)
    if refusal is not None:
        return refusal + "\n\n" + current_question(conversation, state)
    conversation.answers = {**conversation.answers, field.name: to_json(field, value)}
    conversation.skipped = [name for name in conversation.skipped if name != field.name]
    fields = list(state.fields)
    filled = prefill.fill_from_key(ctx, conversation, fields, field) if field.save_to else []
    following = advance(ctx, conversation, fields)
    return pt.filled_from_key(filled) + "\n\n" + following if filled else following


def advance(ctx: Context, conversation: Conversation, fields: list[Field]) -> str:
    """Move to the next question; after an edit, to the next question a return reopened, else back to the first
    open question (or the review)."""
    state = settle(ctx, conversation, fields)
    if conversation.reopened and conversation.position < len(fields):
        done = fields[conversation.position].name
        conversation.reopened = [name for name in conversation.reopened if name != done]
    if not conversation.editing:
        return move_forward(ctx, conversation, state, conversation.position + 1)
    reopened = [i for i, field in enumerate(fields) if field.name in (conversation.reopened or []) and state.asks(i)]
    if reopened:
        conversation.position = reopened[0]
        return prompt(ctx, conversation, state, jumped=True)
    conversation.editing = False
    remaining = state.open_fields()
    conversation.position = fields.index(remaining[0]) if remaining else len(fields)
    return prompt(ctx, conversation, state)


def move_forward(ctx: Context, conversation: Conversation, state: FormState, start: int) -> str:
    """Go to the first question asked at or after `start`, showing the notes passed on the way."""
    stop = state.next_to_ask(start)
    conversation.position = stop
    return "\n\n".join([*form_prompts.passing(state, start, stop), prompt(ctx, conversation, state)])
