"""The form-filling state machine: one question at a time, validated, with back, skip, edit and review."""

from __future__ import annotations

import re

from sqlalchemy import select

from handlers import form_prompts, prefill, recurrence, reporting, roster
from handlers.context import Context
from handlers.form_state import UNCHANGED, FormState, number_at, question_numbers, refresh, roster_starts
from handlers.forms.answers import Invalid, parse_answer, to_json
from handlers.forms.fields import Field, FieldType
from handlers.forms.registry import fields_of
from handlers.numbers import parse_number
from handlers.texts import conversation as t
from handlers.texts import prefill as pt
from ledger_store.models import Assignment, AssignmentStatus, ChatFocus, Conversation, Person

CANCEL = frozenset({"取消", "暂停", "退出", "稍后再填"})
BACK = frozenset({"上一题", "上一个", "上一步", "返回"})
SKIP = frozenset({"跳过", "略过", "不填"})
VIEW = frozenset({"查看", "查看答案", "看看"})
HELP = frozenset({"帮助", "help", "?", "？"})
RESUME = frozenset({"开始", "继续", "开始填写", "继续填写"})
SUBMIT_WORD = "提交"
SUBMIT = frozenset({SUBMIT_WORD, "确认", "确定", "确认提交", "提交报送"})
CONFIRM_PREFILL = UNCHANGED  # confirming the values taken from a ledger
KEEP = UNCHANGED | SKIP
EDIT = re.compile(r"^(?:修改|改)\s*第?\s*(?P<number>.+?)\s*[题个]?$")


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
    if reporting.is_closed(ctx, task):
        return [t.task_closed(task.title, reporting.format_deadline(ctx, task.deadline))]
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
        opening = t.started(task.title, total, reporting.format_deadline(ctx, task.deadline))
        body = move_forward(ctx, conversation, settle(ctx, conversation, fields), 0)
    else:
        state = settle(ctx, conversation, fields)
        opening = t.resumed(task.title, min(number_at(fields, state.next_stop(conversation.position)), total))
        body = prompt(ctx, conversation, state, jumped=True)
    if assignment.status == AssignmentStatus.PENDING:
        assignment.status = AssignmentStatus.IN_PROGRESS
    focus = focus_of(ctx, person)
    focus.conversation_id = conversation.id
    focus.choosing = None
    return [opening + "\n\n" + body]


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
        numbers = question_numbers(state.fields)
        header = t.question_header(title, numbers[field.name], len(numbers))
        return header + "\n" + roster.prompt(conversation, state, field.repeat)
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


def answer(ctx: Context, person: Person, conversation: Conversation, text: str) -> list[str]:
    """Apply one message to the conversation: a control word or an answer to the current question."""
    fields = fields_of(conversation.assignment.task.form_version)
    title = conversation.assignment.task.title
    word = text.strip()
    if reporting.is_closed(ctx, conversation.assignment.task):
        focus_of(ctx, person).conversation_id = None
        return [t.task_closed(title, reporting.format_deadline(ctx, conversation.assignment.task.deadline))]
    conversation.updated_at = ctx.now()
    state = settle(ctx, conversation, fields)
    conversation.position = state.next_stop(conversation.position)
    field = fields[conversation.position] if conversation.position < len(fields) else None

    if word in CANCEL:
        focus_of(ctx, person).conversation_id = None
        return [t.parked(title)]
    if word in RESUME:
        return [prompt(ctx, conversation, state)]
    if word in HELP:
        return [t.form_help(title) + "\n\n" + prompt(ctx, conversation, state)]
    if word in VIEW:
        return [view(ctx, conversation, state)]
    if word in BACK:
        return [go_back(ctx, conversation, state)]
    if field is not None and field.repeat and not prefill.is_confirming(conversation):
        reply, finished = roster.answer(ctx, conversation, state, field.repeat, word)
        return [advance(ctx, conversation, fields) if finished else reply]
    edit = EDIT.match(word)
    if edit:
        return [edit_question(ctx, conversation, state, edit.group("number"))]
    if prefill.is_confirming(conversation) and not conversation.editing:
        return confirm_prefilled(ctx, person, conversation, state, word)
    suggested = None if field is None else prefill.suggested_value(conversation, field)
    if field is not None and suggested is not None and word in KEEP and field.name not in conversation.answers:
        return [accept(ctx, conversation, state, field, suggested)]
    if word in SUBMIT and not confirms(field, word, state):
        return submit(ctx, person, conversation, state)
    if field is None:
        return [t.REVIEW_EXPECTS + "\n\n" + prompt(ctx, conversation, state)]

    if word in SKIP:
        if field.name in conversation.answers:
            return [advance(ctx, conversation, fields)]
        default = state.default_value(field)
        if default is not None:
            return [accept(ctx, conversation, state, field, default)]
        if field.required:
            refusal = field.required_message or t.cannot_skip()
            return [refusal + "\n\n" + current_question(conversation, state)]
        conversation.skipped = sorted({*conversation.skipped, field.name})
        return [advance(ctx, conversation, fields)]

    parsed = parse_answer(field, word, state.today)
    if isinstance(parsed, Invalid):
        return [parsed.reason + "\n\n" + current_question(conversation, state)]
    return [accept(ctx, conversation, state, field, parsed)]


def submit(ctx: Context, person: Person, conversation: Conversation, state: FormState) -> list[str]:
    """Submit when every question asked is answered; otherwise say how many are left."""
    remaining = state.open_fields()
    if remaining:
        return [t.not_finished(len(remaining)) + "\n\n" + prompt(ctx, conversation, state)]
    return reporting.submit(ctx, person, conversation, state)


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


def accept(ctx: Context, conversation: Conversation, state: FormState, field: Field, value: object) -> str:
    """Store an answer the form's constraint allows and move on; otherwise ask again, saying why."""
    refusal = state.refusal(field, value)
    if refusal is not None:
        return refusal + "\n\n" + current_question(conversation, state)
    conversation.answers = {**conversation.answers, field.name: to_json(field, value)}
    conversation.skipped = [name for name in conversation.skipped if name != field.name]
    fields = list(state.fields)
    filled = prefill.fill_from_key(ctx, conversation, fields, field) if field.save_to else []
    following = advance(ctx, conversation, fields)
    return pt.filled_from_key(filled) + "\n\n" + following if filled else following


def advance(ctx: Context, conversation: Conversation, fields: list[Field]) -> str:
    """Move to the next question; after an edit, back to the first open question (or the review)."""
    state = settle(ctx, conversation, fields)
    if not conversation.editing:
        return move_forward(ctx, conversation, state, conversation.position + 1)
    conversation.editing = False
    remaining = state.open_fields()
    conversation.position = fields.index(remaining[0]) if remaining else len(fields)
    return prompt(ctx, conversation, state)


def move_forward(ctx: Context, conversation: Conversation, state: FormState, start: int) -> str:
    """Go to the first question asked at or after `start`, showing the notes passed on the way."""
    stop = state.next_to_ask(start)
    conversation.position = stop
    return "\n\n".join([*form_prompts.passing(state, start, stop), prompt(ctx, conversation, state)])


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
    number = parse_number(raw)
    if number is None or number != int(number):
        return t.EDIT_NEEDS_NUMBER + "\n\n" + prompt(ctx, conversation, state)
    if not 1 <= number <= len(numbers):
        return t.edit_out_of_range(len(numbers)) + "\n\n" + prompt(ctx, conversation, state)
    index = next(i for i, field in enumerate(state.fields) if numbers.get(field.name) == number)
    if not state.asks(index):
        return t.edit_not_asked(int(number)) + "\n\n" + prompt(ctx, conversation, state)
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
