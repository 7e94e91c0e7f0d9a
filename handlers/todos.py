"""A filler's open tasks: listing them, choosing one by number, starting the only one."""

from __future__ import annotations

from handlers import conversation, reporting
from handlers.context import Context
from handlers.numbers import parse_number
from handlers.texts import commands as t
from ledger_store.models import ChatFocus, Person


def list_open(ctx: Context, person: Person) -> list[str]:
    """The person's open tasks; outside a form with several open, the next number picks one."""
    assignments = reporting.open_assignments(ctx, person)
    if not assignments:
        return [t.NO_OPEN_TASKS]
    reached = reporting.reached_questions(ctx, assignments)
    lines = []
    for number, assignment in enumerate(assignments, start=1):
        task = assignment.task
        lines.append(
            t.todo_line(
                number,
                task.title,
                reporting.format_deadline(ctx, task.deadline),
                reporting.time_left(ctx, task.deadline),
                reached.get(assignment.id, 1) - 1,
                reporting.question_total(task.form_version),
            )
        )
    focus = conversation.focus_of(ctx, person)
    choosing = focus.conversation_id is None and len(assignments) > 1
    focus.choosing = [a.id for a in assignments] if choosing else None
    return [t.todo_list(lines, choosing)]


def start_or_choose(ctx: Context, person: Person) -> list[str]:
    """A plain message outside any form: start the only open task, or list them to choose from."""
    assignments = reporting.open_assignments(ctx, person)
    if len(assignments) == 1:
        return conversation.start(ctx, person, assignments[0])
    return list_open(ctx, person)


def choose(ctx: Context, person: Person, focus: ChatFocus, text: str) -> list[str]:
    """The answer to 'which task?': a number from the list, or 取消."""
    if text in conversation.CANCEL:
        focus.choosing = None
        return [t.CHOICE_CANCELLED]
    open_ids = {a.id: a for a in reporting.open_assignments(ctx, person)}
    options = [open_ids[i] for i in focus.choosing or [] if i in open_ids]
    number = parse_number(text)
    if number is not None and number == int(number) and 1 <= number <= len(options):
        return conversation.start(ctx, person, options[int(number) - 1])
    if not options:
        focus.choosing = None
        return [t.NO_OPEN_TASKS]
    return [t.choose_again(len(options))]
