"""A filler's tasks outside a form: listing them, choosing or switching by number, resuming, saying what closed."""

from __future__ import annotations

from sqlalchemy import select

from handlers.conversation import machine
from handlers.conversation.stages import form_stage
from handlers.core.context import Context
from handlers.core.deadline_text import format_deadline, time_left
from handlers.core.numbers import position
from handlers.core.words import CANCEL, CONTINUE, RESUME
from handlers.forms.registry import fields_of
from handlers.review import flow
from handlers.tasks import deadlines
from handlers.tasks.assignments import open_assignments
from handlers.tasks.progress import question_total, reached_questions
from handlers.texts import commands as t
from handlers.texts import conversation as ct
from handlers.texts import review as rt
from handlers.texts.reporting import task_name
from ledger_store.models import WAITING_REVIEW, Assignment, AssignmentStatus, ChatFocus, Conversation, Person


def list_open(ctx: Context, person: Person) -> list[str]:
    """The person's open tasks; with several open, the next message may pick one by number (in a form too)."""
    assignments = open_assignments(ctx, person)
    if not assignments:
        return nothing_open(ctx, person)
    current = machine.focused_conversation(ctx, person)
    reached = reached_questions(ctx, assignments)
    lines = []
    for number, assignment in enumerate(assignments, start=1):
        task = assignment.task
        name, deadline, left = (
            task_name(task.title, task.id),
            format_deadline(ctx, task.deadline),
            time_left(ctx, task.deadline),
        )
        if assignment.status == AssignmentStatus.RETURNED:
            returned = flow.latest_step(ctx, assignment.id)
            line = t.todo_returned_line(number, name, deadline, left, None if returned is None else returned.reason)
        else:
            answered = reached.get(assignment.id, 1) - 1
            line = t.todo_line(number, name, deadline, left, answered, question_total(task.form_version))
        lines.append(line + t.BEING_FILLED if current is not None and current.assignment_id == assignment.id else line)
    focus = machine.focus_of(ctx, person)
    choosing = len(assignments) > 1
    focus.choosing = [a.id for a in assignments] if choosing else None
    if current is not None:
        return [t.todo_list_in_form(lines, choosing)]
    return [t.todo_list(lines, choosing)]


def nothing_open(ctx: Context, person: Person) -> list[str]:
    """No open task: the tasks that closed lately without the person's report and whom to contact, if any."""
    closed = deadlines.recently_closed(ctx, person)
    if not closed:
        return [t.NO_OPEN_TASKS]
    return ["\n".join([*(deadlines.closed_reply(ctx, task) for task in closed), t.NO_OTHER_OPEN_TASKS])]


def outside_form(ctx: Context, person: Person, word: str) -> list[str]:
    """A plain message with no form open: 继续 resumes the form left last; anything else starts or lists tasks.

    A person who left a form (取消) is told how to resume rather than dropped back into it by any word, and a
    second 取消 does not resume it.
    """
    parked = parked_conversations(ctx, person)
    if word in CANCEL:
        return [t.nothing_to_cancel(parked[0].assignment.task.title if parked else None)]
    if parked and word in CONTINUE:
        return machine.start(ctx, person, parked[0].assignment)
    if parked and word not in RESUME:
        if parked[0].assignment.status == AssignmentStatus.RETURNED:
            conversation = parked[0]
            opening = machine.returned_opening(ctx, conversation, fields_of(conversation.assignment.task.form_version))
            return [opening + "\n" + rt.RESTART_RETURNED]
        return [t.parked_hint(parked[0].assignment.task.title)]
    assignments = open_assignments(ctx, person)
    if not assignments:
        return under_review(ctx, person) or nothing_open(ctx, person)
    if len(assignments) == 1:
        return machine.start(ctx, person, assignments[0])
    return list_open(ctx, person)


def choose(ctx: Context, person: Person, focus: ChatFocus, word: str) -> list[str]:
    """The answer to 'which task?' outside a form: a number from the list, or 取消."""
    if word in CANCEL:
        focus.choosing = None
        return [t.CHOICE_CANCELLED]
    if word in RESUME:  # 继续 still goes back to the form left last; 开始 lists the tasks again
        focus.choosing = None
        return outside_form(ctx, person, word)
    options = _still_open(ctx, person, focus.choosing or [])
    picked = _picked(options, word)
    if picked is not None:
        return machine.start(ctx, person, picked)
    if not options:
        focus.choosing = None
        return nothing_open(ctx, person)
    return [t.choose_again(len(options))]


def under_review(ctx: Context, person: Person) -> list[str]:
    """The person's reports waiting on a reviewer, which they cannot change meanwhile; empty when there are none."""
    query = (
        select(Assignment)
        .where(Assignment.filler_id == person.id, Assignment.status.in_(WAITING_REVIEW))
        .order_by(Assignment.submitted_at.desc(), Assignment.id.desc())
    )
    lines = []
    for assignment in ctx.session.scalars(query):
        step = flow.latest_step(ctx, assignment.id)
        if step is not None and step.decision is None:
            name = task_name(assignment.task.title, assignment.task_id)
            lines.append(rt.waiting_review(name, flow.reviewer_label(step)))
    return ["\n".join(lines)] if lines else []


def take_offer(focus: ChatFocus | None, current: Conversation | None) -> list[int]:
    """The tasks /待办 listed in the middle of a form; the offer holds for the next message only, so it is taken."""
    if focus is None or current is None or not focus.choosing:
        return []
    offered, focus.choosing = focus.choosing, None
    return offered


def switch(ctx: Context, person: Person, current: Conversation, offered: list[int], word: str) -> list[str] | None:
    """A number from the list /待办 showed mid-form opens that task (the current one is kept); None for others."""
    picked = _picked(_still_open(ctx, person, offered), word)
    if picked is None:
        return None
    if picked.id == current.assignment_id:
        return machine.start(ctx, person, picked)
    left = current.assignment.task.title
    replies = machine.start(ctx, person, picked)
    return [ct.switched_from(left) + "\n" + replies[0], *replies[1:]]


def stage_words(ctx: Context, person: Person) -> str | None:
    """What the person can say where they stand (for /帮助); None when nothing is open or left."""
    current = machine.focused_conversation(ctx, person)
    if current is not None:
        state = machine.form_state(ctx, current, fields_of(current.assignment.task.form_version))
        return ct.stage_help(current.assignment.task.title, form_stage(current, state))
    focus = ctx.session.get(ChatFocus, person.id)
    if focus is not None and focus.choosing:
        return t.CHOOSING_HELP
    parked = parked_conversations(ctx, person)
    if parked:
        return t.parked_hint(parked[0].assignment.task.title)
    return None


def parked_conversations(ctx: Context, person: Person) -> list[Conversation]:
    """Forms the person started and left (取消, or another task taken up) that still take answers, latest first."""
    focus = ctx.session.get(ChatFocus, person.id)
    focused = None if focus is None else focus.conversation_id
    open_ids = [a.id for a in open_assignments(ctx, person)]
    if not open_ids:
        return []
    query = (
        select(Conversation)
        .where(Conversation.person_id == person.id, Conversation.assignment_id.in_(open_ids))
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
    )
    return [found for found in ctx.session.scalars(query) if found.id != focused]


def _still_open(ctx: Context, person: Person, ids: list[int]) -> list[Assignment]:
    """The listed assignments that are still open, in the order they were listed."""
    open_ids = {a.id: a for a in open_assignments(ctx, person)}
    return [open_ids[i] for i in ids if i in open_ids]


def _picked(options: list[Assignment], word: str) -> Assignment | None:
    """The assignment a number names among the options, or None."""
    number = position(word, len(options))
    return None if number is None else options[number - 1]
