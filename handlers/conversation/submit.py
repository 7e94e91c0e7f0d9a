"""Submitting a form: answers stored with burden figures, written back to the ledgers, the summary when all are in."""

from __future__ import annotations

from handlers.core.context import Context
from handlers.forms.form_state import FormState
from handlers.ledgers import prefill
from handlers.ledgers import roster_write_back as roster_results
from handlers.tasks.assignments import open_assignments
from handlers.tasks.submissions import typed_answer
from handlers.tasks.summary_push import (
    send_complete_summary,
)
from handlers.texts import reporting as t
from ledger_store import audit
from ledger_store.models import (
    AssignmentStatus,
    ChatFocus,
    Conversation,
    Person,
    Submission,
)


def submit_answers(ctx: Context, person: Person, conversation: Conversation, state: FormState) -> list[str]:
    """Store the answers as a submission with its burden figures, write linked answers back to the ledgers,
    close the conversation, and push the summary if all are in."""
    assignment = conversation.assignment
    task = assignment.task
    fields = list(state.fields)
    burden = prefill.burden(conversation, state)
    asked, prefilled, confirmed = roster_results.burden(conversation)
    submission = Submission(
        assignment_id=assignment.id,
        submitted_by_id=person.id,
        submitted_at=ctx.now(),
        started_at=conversation.started_at,
        asked_count=burden.asked + asked,
        prefilled_count=burden.prefilled + prefilled,
        confirmed_count=burden.confirmed + confirmed,
    )
    submission.answers = [
        typed_answer(field, conversation.answers[field.name]) for field in fields if field.name in conversation.answers
    ]
    submission.roster_rows = roster_results.submitted_rows(conversation)
    ctx.session.add(submission)
    prefill.write_back(ctx, person, assignment, fields, state.answers)
    roster_results.write_back(ctx, person.id, conversation, fields)
    assignment.status = AssignmentStatus.SUBMITTED
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
        old={"status": AssignmentStatus.IN_PROGRESS.value},
        new={"status": AssignmentStatus.SUBMITTED.value, "answers": dict(conversation.answers)},
    )
    ctx.session.delete(conversation)
    ctx.session.flush()
    replies = [t.submitted(t.task_name(task.title, task.id))]
    remaining = open_assignments(ctx, person)
    if remaining:
        replies.append(t.more_todo(len(remaining)))
    # Also after the deadline's summary: the last late answer completes the task and the full summary follows.
    if all(a.status == AssignmentStatus.SUBMITTED for a in task.assignments):
        send_complete_summary(ctx, task)
    return ["\n".join(replies)]
