"""Submitting a form: answers stored with burden figures; then to review, or written back and summed up at once."""

from __future__ import annotations

from sqlalchemy import select

from handlers.core.context import Context
from handlers.forms.form_state import FormState
from handlers.ledgers import prefill
from handlers.ledgers import roster_write_back as roster_results
from handlers.review import flow
from handlers.tasks.assignments import open_assignments
from handlers.tasks.submissions import typed_answer
from handlers.texts import reporting as t
from ledger_store import audit
from ledger_store.models import (
    ChatFocus,
    Conversation,
    Person,
    ReviewPolicy,
    Submission,
)


def submit_answers(ctx: Context, person: Person, conversation: Conversation, state: FormState) -> list[str]:
    """Store the answers as the assignment's submission; without review they count now (ledger write-back, the
    summary when all are in), with review the round goes to the reviewer and the conversation is kept until the
    last approval (it holds what the write-back needs, and a return reopens it)."""
    assignment = conversation.assignment
    task = assignment.task
    # First, before any ledger write (the order approvals take too): two last units submitting at once take turns,
    # so the second sees the first and sends the summary.
    flow.lock_tasks(ctx, [assignment.task_id])
    submission = store_submission(ctx, person, conversation, state)
    assignment.submitted_at = ctx.now()
    focus = ctx.session.get(ChatFocus, person.id)
    if focus is not None:
        focus.conversation_id = None
    audit.record(
        ctx.session,
        at=ctx.now(),
        actor_id=person.id,
        action="submit",
        entity="assignment",
        entity_id=assignment.id,
        old={"status": assignment.status},
        new={"status": "submitted", "answers": dict(conversation.answers)},
    )
    reviewed = task.review != ReviewPolicy.NONE
    if reviewed:
        conversation.reopened = None
        replies = [flow.submitted(ctx, person, assignment, submission)]
    else:
        flow.count(ctx, assignment, person, conversation)
        replies = [t.submitted(t.task_name(task.title, task.id))]
    remaining = open_assignments(ctx, person)
    if remaining:
        replies.append(t.more_todo(len(remaining)))
    return ["\n".join(replies)]


def store_submission(ctx: Context, person: Person, conversation: Conversation, state: FormState) -> Submission:
    """The submission with the conversation's answers and roster rows: a new one, or after a return the same one
    with its answers replaced (each round's content stays in its review step); the burden figures are the first
    round's, what filling the form took."""
    assignment = conversation.assignment
    fields = list(state.fields)
    answers = [typed_answer(f, conversation.answers[f.name]) for f in fields if f.name in conversation.answers]
    submission = ctx.session.scalar(select(Submission).where(Submission.assignment_id == assignment.id))
    if submission is None:
        burden = prefill.burden(conversation, state)
        asked, prefilled, confirmed = roster_results.burden(conversation)
        submission = Submission(
            assignment_id=assignment.id,
            submitted_by_id=person.id,
            started_at=conversation.started_at,
            asked_count=burden.asked + asked,
            prefilled_count=burden.prefilled + prefilled,
            confirmed_count=burden.confirmed + confirmed,
        )
        ctx.session.add(submission)
    else:
        submission.answers.clear()
        submission.roster_rows.clear()
        ctx.session.flush()  # the old rows go before the new ones take their (submission, field) keys
    submission.submitted_by_id = person.id
    submission.submitted_at = ctx.now()
    submission.answers.extend(answers)
    submission.roster_rows.extend(roster_results.submitted_rows(conversation))
    ctx.session.flush()
    return submission
