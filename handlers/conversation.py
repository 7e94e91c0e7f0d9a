"""The form-filling state machine: one question at a time, validated, with back, skip, edit and review."""

from __future__ import annotations

import re

from sqlalchemy import select

from handlers import reporting
from handlers.context import Context
from handlers.forms.answers import Invalid, describe_expected, format_answer, from_json, parse_answer, to_json
from handlers.forms.fields import Field, FieldType
from handlers.forms.registry import fields_of
from handlers.messages import ButtonClick, Option, Reply
from handlers.numbers import parse_number
from handlers.texts import conversation as t
from handlers.texts.validation import NO, YES
from ledger_store.models import Assignment, AssignmentStatus, ChatFocus, Conversation, Person

CANCEL = frozenset({"取消", "暂停", "退出", "稍后再填"})
BACK = frozenset({"上一题", "上一个", "上一步", "返回"})
SKIP = frozenset({"跳过", "略过", "不填"})
VIEW = frozenset({"查看", "查看答案", "看看"})
HELP = frozenset({"帮助", "help", "?", "？"})
RESUME = frozenset({"开始", "继续", "开始填写", "继续填写"})
SUBMIT_WORD = "提交"
SUBMIT = frozenset({SUBMIT_WORD, "确认", "确定", "确认提交", "提交报送"})
EDIT = re.compile(r"^(?:修改|改)\s*第?\s*(?P<number>.+?)\s*[题个]?$")


def question_token(conversation: Conversation) -> str:
    """Names the question a conversation is on, so a button offered for it can be told from a stale one."""
    return f"c{conversation.id}p{conversation.position}"


def offer_buttons(ctx: Context, person: Person, texts: list[str]) -> list[Reply]:
    """Replies, the last one carrying buttons for a choice or yes/no question, or 提交 on the review."""
    replies = [Reply(text) for text in texts]
    current = focused_conversation(ctx, person)
    if current is None or not replies:
        return replies
    fields = fields_of(current.assignment.task.form_version)
    if current.position >= len(fields):
        if open_fields(current, fields):
            return replies
        options = (Option(SUBMIT_WORD, t.SUBMIT_BUTTON),)
        return [*replies[:-1], Reply(replies[-1].text, options=options, token=question_token(current))]
    field = fields[current.position]
    if field.type == FieldType.YES_NO:
        options = (Option(YES, YES), Option(NO, NO))
    elif field.type in (FieldType.SELECT_ONE, FieldType.SELECT_MULTIPLE):
        options = tuple(Option(str(i), choice.label) for i, choice in enumerate(field.choices, start=1))
    else:
        return replies
    multiple = field.type == FieldType.SELECT_MULTIPLE
    last = Reply(replies[-1].text, options=options, multiple=multiple, token=question_token(current))
    return [*replies[:-1], last]


def click(ctx: Context, person: Person, button: ButtonClick) -> list[str]:
    """A button press answers the question it was offered for; a press on an old question is declined."""
    current = focused_conversation(ctx, person)
    if current is not None and question_token(current) == button.token:
        return answer(ctx, person, current, button.value)
    if current is None:
        return [t.STALE_BUTTON]
    return [t.STALE_BUTTON + "\n\n" + prompt(ctx, current)]


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
    fields = fields_of(task.form_version)
    if conversation is None:
        conversation = Conversation(
            person_id=person.id,
            assignment=assignment,
            position=0,
            editing=False,
            answers={},
            skipped=[],
            updated_at=ctx.now(),
        )
        ctx.session.add(conversation)
        ctx.session.flush()
        opening = t.started(task.title, len(fields), reporting.format_deadline(ctx, task.deadline))
    else:
        opening = t.resumed(task.title, min(conversation.position, len(fields) - 1) + 1)
    if assignment.status == AssignmentStatus.PENDING:
        assignment.status = AssignmentStatus.IN_PROGRESS
    focus = focus_of(ctx, person)
    focus.conversation_id = conversation.id
    focus.choosing = None
    return [opening + "\n\n" + prompt(ctx, conversation)]


def prompt(ctx: Context, conversation: Conversation) -> str:
    """What the person should answer next: a question, or the review of all answers."""
    fields = fields_of(conversation.assignment.task.form_version)
    if conversation.position >= len(fields):
        return review(conversation, fields)
    return question(conversation, fields, conversation.position)


def question(conversation: Conversation, fields: list[Field], index: int) -> str:
    """One question with its hint, options and the expected format."""
    field = fields[index]
    title = conversation.assignment.task.title
    lines = [
        t.question_header(title, index + 1, len(fields)),
        field.label + ("" if field.required else t.OPTIONAL),
    ]
    if field.hint:
        lines.append(t.HINT_PREFIX + field.hint)
    if field.type in (FieldType.SELECT_ONE, FieldType.SELECT_MULTIPLE):
        lines.extend(f"{number}. {choice.label}" for number, choice in enumerate(field.choices, start=1))
    lines.append(describe_expected(field))
    if field.name in conversation.answers:
        lines.append(t.current_answer(format_answer(field, from_json(field, conversation.answers[field.name]))))
    return "\n".join(lines)


def review(conversation: Conversation, fields: list[Field]) -> str:
    """All answers, numbered, with how to submit or change one."""
    lines = [t.review_header(conversation.assignment.task.title), *answer_lines(conversation, fields)]
    lines.append(t.REVIEW_FOOTER)
    return "\n".join(lines)


def answer_lines(conversation: Conversation, fields: list[Field]) -> list[str]:
    """'N. label：answer' for every question."""
    lines = []
    for number, field in enumerate(fields, start=1):
        stored = conversation.answers.get(field.name)
        shown = t.NOT_ANSWERED if stored is None else format_answer(field, from_json(field, stored))
        lines.append(f"{number}. {field.label}：{shown}")
    return lines


def answer(ctx: Context, person: Person, conversation: Conversation, text: str) -> list[str]:
    """Apply one message to the conversation: a control word or an answer to the current question."""
    fields = fields_of(conversation.assignment.task.form_version)
    title = conversation.assignment.task.title
    word = text.strip()
    conversation.updated_at = ctx.now()

    if word in CANCEL:
        focus_of(ctx, person).conversation_id = None
        return [t.parked(title)]
    if word in RESUME:
        return [prompt(ctx, conversation)]
    if word in HELP:
        return [t.form_help(title) + "\n\n" + prompt(ctx, conversation)]
    if word in VIEW:
        return [view(conversation, fields)]
    if word in BACK:
        return [go_back(ctx, conversation, fields)]
    if word in SUBMIT:
        remaining = open_fields(conversation, fields)
        if remaining:
            return [t.not_finished(len(remaining)) + "\n\n" + prompt(ctx, conversation)]
        return reporting.submit(ctx, person, conversation, fields)
    edit = EDIT.match(word)
    if edit:
        return [edit_question(ctx, conversation, fields, edit.group("number"))]
    if conversation.position >= len(fields):
        return [t.REVIEW_EXPECTS + "\n\n" + prompt(ctx, conversation)]

    field = fields[conversation.position]
    if word in SKIP:
        if field.required and field.name not in conversation.answers:
            return [t.cannot_skip() + "\n\n" + question(conversation, fields, conversation.position)]
        if field.name not in conversation.answers:
            conversation.skipped = sorted({*conversation.skipped, field.name})
        return [advance(ctx, conversation, fields)]

    parsed = parse_answer(field, word, ctx.local_now().date())
    if isinstance(parsed, Invalid):
        return [t.invalid(parsed.reason) + "\n\n" + question(conversation, fields, conversation.position)]
    conversation.answers = {**conversation.answers, field.name: to_json(field, parsed)}
    conversation.skipped = [name for name in conversation.skipped if name != field.name]
    return [advance(ctx, conversation, fields)]


def advance(ctx: Context, conversation: Conversation, fields: list[Field]) -> str:
    """Move to the next question; after an edit, back to the first open question (or the review)."""
    if conversation.editing:
        conversation.editing = False
        remaining = open_fields(conversation, fields)
        conversation.position = fields.index(remaining[0]) if remaining else len(fields)
    else:
        conversation.position += 1
    return prompt(ctx, conversation)


def open_fields(conversation: Conversation, fields: list[Field]) -> list[Field]:
    """Questions neither answered nor skipped."""
    done = {*conversation.answers, *conversation.skipped}
    return [field for field in fields if field.name not in done]


def go_back(ctx: Context, conversation: Conversation, fields: list[Field]) -> str:
    """Step back one question (from the review: to the last question)."""
    if conversation.position == 0:
        return t.AT_FIRST_QUESTION + "\n\n" + prompt(ctx, conversation)
    conversation.position = min(conversation.position, len(fields)) - 1
    conversation.editing = False
    return prompt(ctx, conversation)


def edit_question(ctx: Context, conversation: Conversation, fields: list[Field], raw: str) -> str:
    """Jump to question N; once it is answered the form returns to where it was."""
    number = parse_number(raw)
    if number is None or number != int(number):
        return t.EDIT_NEEDS_NUMBER + "\n\n" + prompt(ctx, conversation)
    if not 1 <= number <= len(fields):
        return t.edit_out_of_range(len(fields)) + "\n\n" + prompt(ctx, conversation)
    conversation.editing = True
    conversation.position = int(number) - 1
    return question(conversation, fields, conversation.position)


def view(conversation: Conversation, fields: list[Field]) -> str:
    """The answers given so far, then the current question again."""
    title = conversation.assignment.task.title
    if not conversation.answers:
        body = t.NOTHING_ANSWERED_YET
    else:
        body = "\n".join([t.answers_so_far(title), *answer_lines(conversation, fields)])
    if conversation.position >= len(fields):
        return review(conversation, fields)
    return body + "\n\n" + question(conversation, fields, conversation.position)
