"""The review of one submission: a round starts at 提交, each stage's reviewer approves or returns, the last
approval makes the answers count (ledger write-back, the summary), and a return reopens questions for the filler.

A decision is claimed with one conditional UPDATE (`decision IS NULL`): of two reviewers answering the same step
at once exactly one wins, on every database, and the other is told who decided.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select, update

from handlers.core.context import Context
from handlers.forms.fields import Field
from handlers.forms.form_state import question_numbers
from handlers.forms.registry import fields_of
from handlers.ledgers import prefill, roster_write_back
from handlers.review import policy
from handlers.review.content import canonical, changed_fields, digest
from handlers.review.requests import request_text
from handlers.tasks.summary_push import send_complete_summary, summary_recipients
from handlers.texts import review as t
from handlers.texts.reporting import task_name
from ledger_store import audit
from ledger_store.models import (
    Assignment,
    AssignmentStatus,
    ChatFocus,
    Conversation,
    Person,
    ReportTask,
    ReviewDecision,
    ReviewStep,
    Role,
    Submission,
)
from ledger_store.org import unit_path
from ledger_store.outbox import Buttons, Option, enqueue

# A review request's buttons are named rv<step id>: letters and digits only, as every platform's card ids allow.
TOKEN_PREFIX = "rv"
# A step's decision as claim() writes it (and who decided, loaded again after).
DECISION = ("decision", "decided_by_id", "decided_at", "reason", "reopened", "decided_by")
BUTTONS = (Option(t.APPROVE_BUTTON, t.APPROVE_BUTTON), Option(t.RETURN_BUTTON, t.RETURN_BUTTON))


def reviewer_label(step: ReviewStep) -> str:
    """Who a step waits on, as people read it: 朱沱镇, or 区民政局."""
    department = step.assignment.task.department.name
    return t.reviewer_name(step.reviewer_unit.name if step.reviewer_unit else None, department)


def latest_step(ctx: Context, assignment_id: int) -> ReviewStep | None:
    """The assignment's latest review step (highest round, then stage)."""
    query = (
        select(ReviewStep)
        .where(ReviewStep.assignment_id == assignment_id)
        .order_by(ReviewStep.round.desc(), ReviewStep.stage.desc())
        .limit(1)
    )
    return ctx.session.scalar(query)


def previous_round(ctx: Context, step: ReviewStep) -> ReviewStep | None:
    """The returned step that ended the round before, for the ★ marks."""
    if step.round <= 1:
        return None
    query = (
        select(ReviewStep)
        .where(ReviewStep.assignment_id == step.assignment_id, ReviewStep.round == step.round - 1)
        .order_by(ReviewStep.stage.desc())
        .limit(1)
    )
    return ctx.session.scalar(query)


def submitted(ctx: Context, person: Person, assignment: Assignment, submission: Submission) -> str:
    """Start a review round for a stored submission and ask its reviewer; returns the filler's reply.

    The first round begins with the town (or the department); a round after a return goes back to the stage,
    and where it can the person, that returned it, with the changed answers marked.
    """
    task = assignment.task
    before = latest_step(ctx, assignment.id)
    content = canonical(assignment, submission)
    again = before is not None and before.decision == ReviewDecision.RETURNED
    if again:
        stage, unit_id = before.stage, before.reviewer_unit_id
        if unit_id is not None and not any(p.id != person.id for p in policy.reviewers_in(ctx, unit_id)):
            unit_id = None  # the town has no reviewer left: the department takes it
    else:
        stage = 0
        unit = policy.first_reviewer(ctx, task, assignment.org_unit, person.id)
        unit_id = None if unit is None else unit.id
    step = ReviewStep(
        assignment_id=assignment.id,
        submission_id=submission.id,
        round=(before.round + 1) if before is not None else 1,
        stage=stage,
        reviewer_unit_id=unit_id,
        submitted_by_id=person.id,
        submitted_at=ctx.now(),
        content=content,
        digest=digest(content),
        changed=changed_fields(before.content, content) if again else None,
    )
    ctx.session.add(step)
    ctx.session.flush()
    assignment.status = AssignmentStatus.REVIEWING if stage == 0 else AssignmentStatus.ACCEPTING
    returner = before.decided_by if again else None
    ask(
        ctx,
        step,
        before if again else None,
        only=returner if returner is not None and may_decide(ctx, returner, step) else None,
    )
    audit.record(ctx.session, at=ctx.now(), actor_id=person.id, action="submit_for_review", entity="assignment",
                 entity_id=assignment.id, new={"round": step.round, "stage": stage, "digest": step.digest})  # fmt: skip
    name = task_name(task.title, task.id)
    return t.resubmitted(name, reviewer_label(step)) if again else t.submitted_for_review(name, reviewer_label(step))


def ask(ctx: Context, step: ReviewStep, previous: ReviewStep | None, only: Person | None = None) -> None:
    """Push the review request to the step's reviewers (or to `only`, the one who returned it), with buttons."""
    text = request_text(ctx, step, previous)
    buttons = Buttons(f"{TOKEN_PREFIX}{step.id}", BUTTONS)
    for reviewer in [only] if only is not None else told(ctx, step):
        key = f"review:{step.id}:{reviewer.id}"
        enqueue(ctx.session, person_id=reviewer.id, dedupe_key=key, now=ctx.now(), text=text, buttons=buttons)


def told(ctx: Context, step: ReviewStep) -> list[Person]:
    """Who is asked to review a step: the unit's reviewers, or the department's issuers (never the submitter)."""
    if step.reviewer_unit_id is not None:
        people = policy.reviewers_in(ctx, step.reviewer_unit_id)
    else:
        people = summary_recipients(ctx, step.assignment.task)
    return [person for person in people if person.id != step.submitted_by_id]


def may_decide(ctx: Context, person: Person, step: ReviewStep) -> bool:
    """May this person decide this step? A reviewer of its unit, or for the department its issuers and admins."""
    if person.id == step.submitted_by_id or not person.active:
        return False
    if step.reviewer_unit_id is not None:
        return person.has_role(Role.REVIEWER) and person.org_unit_id == step.reviewer_unit_id
    if person.has_role(Role.ADMIN):
        return True
    task = step.assignment.task
    return (
        person.has_role(Role.ISSUER) and person.department_id == task.department_id
    ) or person.id == task.issued_by_id


def waiting_for(ctx: Context, person: Person) -> list[ReviewStep]:
    """Every step waiting on this person, oldest first: their town's steps for a reviewer, their department's
    (and those of tasks they issued) for an issuer, every department's for an admin; never their own submission."""
    query = in_reach(person, ReviewStep, decided=False)
    if query is None:
        return []
    query = query.order_by(ReviewStep.submitted_at, ReviewStep.id)
    return [step for step in ctx.session.scalars(query) if may_decide(ctx, person, step)]


def waiting_ids(ctx: Context, person: Person, among: list[int] | None = None) -> list[int]:
    """The ids of the steps waiting on this person, oldest first, found as waiting_for finds them but without
    loading them; or, given `among`, those of them still waiting, in their order (one query a thousand)."""
    query = in_reach(person, ReviewStep.id, decided=False)
    if query is None or not person.active:
        return []
    if among is None:
        return list(ctx.session.scalars(query.order_by(ReviewStep.submitted_at, ReviewStep.id)))
    found: set[int] = set()
    for start in range(0, len(among), 1000):
        found.update(ctx.session.scalars(query.where(ReviewStep.id.in_(among[start : start + 1000]))))
    return [step_id for step_id in among if step_id in found]


def steps_by_id(ctx: Context, step_ids: list[int]) -> dict[int, ReviewStep]:
    """The steps with these ids (one query a thousand)."""
    found: dict[int, ReviewStep] = {}
    for start in range(0, len(step_ids), 1000):
        query = select(ReviewStep).where(ReviewStep.id.in_(step_ids[start : start + 1000]))
        found.update((step.id, step) for step in ctx.session.scalars(query))
    return found


def last_decided(ctx: Context, person: Person) -> ReviewStep | None:
    """The step of this person's reach decided last (by anyone): what a 通过 or 退回 that finds nothing waiting
    was most likely about, since another reviewer may have answered it a moment before."""
    query = in_reach(person, ReviewStep, decided=True)
    if query is None:
        return None
    return ctx.session.scalar(query.order_by(ReviewStep.decided_at.desc(), ReviewStep.id.desc()).limit(1))


def in_reach(person: Person, what: Any, decided: bool) -> Select[Any] | None:
    """SELECT `what` from the steps of this person's reach (see reach) not submitted by them, decided or still
    waiting; None for someone who reviews nothing."""
    mine = reach(person)
    if not mine:
        return None
    state = ReviewStep.decision.is_not(None) if decided else ReviewStep.decision.is_(None)
    return (
        select(what)
        .join(Assignment, Assignment.id == ReviewStep.assignment_id)
        .where(state, ReviewStep.submitted_by_id != person.id, or_(*mine))
    )


def reach(person: Person) -> list[ColumnElement[bool]]:
    """SQL conditions (any of them) for the steps a person reviews, on review_steps joined to assignments: what
    may_decide allows, but for the submitter and the active flag; empty for someone who reviews nothing."""
    mine: list[ColumnElement[bool]] = []
    if person.has_role(Role.REVIEWER) and person.org_unit_id is not None:
        mine.append(ReviewStep.reviewer_unit_id == person.org_unit_id)
    if person.has_role(Role.ADMIN):
        mine.append(ReviewStep.reviewer_unit_id.is_(None))
    elif person.has_role(Role.ISSUER) or person.department_id is not None:
        theirs = ReportTask.issued_by_id == person.id
        if person.has_role(Role.ISSUER):
            theirs = or_(theirs, ReportTask.department_id == person.department_id)
        tasks = select(ReportTask.id).where(theirs)
        mine.append(and_(ReviewStep.reviewer_unit_id.is_(None), Assignment.task_id.in_(tasks)))
    return mine


def claim(ctx: Context, step: ReviewStep, person: Person, decision: ReviewDecision, **values: object) -> bool:
    """Record the decision unless someone decided first; True when this one won."""
    ctx.session.flush()
    result = ctx.session.execute(
        update(ReviewStep)
        .where(ReviewStep.id == step.id, ReviewStep.decision.is_(None))
        .values(decision=decision.value, decided_by_id=person.id, decided_at=ctx.now(), **values)
        .execution_options(synchronize_session=False)
    )
    # A locking read: under REPEATABLE READ (MariaDB) a plain one would still show the step undecided to the loser,
    # from the snapshot its transaction began with, and the loser could not be told who decided.
    ctx.session.refresh(step, DECISION, with_for_update=True)
    return result.rowcount == 1


def lock_tasks(ctx: Context, task_ids: Iterable[int]) -> None:
    """Take the rows of these tasks, in id order: approvals and submissions of one task take turns, so the last one
    sees all the others and sends the summary (two last ones at once would each see the other unit still waiting).

    This needs READ COMMITTED, which ledger_store.db sets on MariaDB too: under REPEATABLE READ the last one could
    read from a snapshot older than the other's approval. Should a summary still be missed, the scheduler sends the
    summary the task owes (deadlines.owed_summaries) at its next tick.
    """
    ids = sorted(set(task_ids))
    if ids:
        ctx.session.execute(
            select(ReportTask.id).where(ReportTask.id.in_(ids)).order_by(ReportTask.id).with_for_update()
        )


def everyone_approved(ctx: Context, task: ReportTask) -> bool:
    """Has every unit of the task been approved (or submitted, without review)?

    Asked of the database, not of the assignments this session loaded before: another reviewer's approval may have
    been committed since. When it says yes, the assignments are loaded again, for the summary to count them all.
    """
    waiting = select(Assignment.id).where(
        Assignment.task_id == task.id, Assignment.status != AssignmentStatus.SUBMITTED
    )
    if ctx.session.scalar(waiting.limit(1)) is not None:
        return False
    ctx.session.scalars(
        select(Assignment).where(Assignment.task_id == task.id).execution_options(populate_existing=True)
    ).all()
    return True


def too_late(ctx: Context, step: ReviewStep) -> str:
    """To someone whose decision lost: who decided, and when."""
    assignment = step.assignment
    when = ctx.to_local(step.decided_at).strftime("%m月%d日%H:%M") if step.decided_at else ""
    by = step.decided_by.name if step.decided_by else ""
    return t.already_decided(assignment.org_unit.name, task_name(assignment.task.title, assignment.task_id), by,
                             step.decision or "", when)  # fmt: skip


def approve(ctx: Context, person: Person, step: ReviewStep) -> str:
    """通过, with the reviewer's reply: what happened, and how many more wait on them."""
    if not approve_step(ctx, person, step):
        return too_late(ctx, step)
    assignment = step.assignment
    task = assignment.task
    following = task.department.name if policy.has_next_stage(task, step.reviewer_unit_id) else None
    left = len(waiting_ids(ctx, person))
    return t.approved_reply(unit_path(assignment.org_unit), task_name(task.title, task.id), following, left)


def approve_step(ctx: Context, person: Person, step: ReviewStep) -> bool:
    """Approve one step unless someone decided it first (False then): the next stage is asked, or the answers
    count now; the filler is told either way."""
    lock_tasks(ctx, [step.assignment.task_id])
    if not claim(ctx, step, person, ReviewDecision.APPROVED):
        return False
    assignment = step.assignment
    task = assignment.task
    name = task_name(task.title, task.id)
    signed = {"round": step.round, "stage": step.stage, "digest": step.digest}
    audit.record(
        ctx.session,
        at=ctx.now(),
        actor_id=person.id,
        action="approve",
        entity="assignment",
        entity_id=assignment.id,
        new=signed,
    )
    where = reviewer_label(step)
    if policy.has_next_stage(task, step.reviewer_unit_id):
        following = ReviewStep(
            assignment_id=assignment.id, submission_id=step.submission_id, round=step.round, stage=step.stage + 1,
            reviewer_unit_id=None, submitted_by_id=step.submitted_by_id, submitted_at=ctx.now(),
            content=step.content, digest=step.digest, changed=step.changed,
        )  # fmt: skip
        ctx.session.add(following)
        ctx.session.flush()
        assignment.status = AssignmentStatus.ACCEPTING
        ask(ctx, following, previous_round(ctx, following))
        notice = t.approved_notice(name, person.name, where, final=False)
    else:
        finish(ctx, assignment, step)
        notice = t.approved_notice(name, person.name, where, final=True)
    enqueue(ctx.session, person_id=step.submitted_by_id, dedupe_key=f"reviewed:{step.id}", now=ctx.now(), text=notice)
    return True


def finish(ctx: Context, assignment: Assignment, step: ReviewStep) -> None:
    """The last approval: the answers count (see count)."""
    count(ctx, assignment, step.submitted_by, conversation_of(ctx, assignment.id))


def count(ctx: Context, assignment: Assignment, submitter: Person, conversation: Conversation | None) -> None:
    """The unit's answers count now, at the last approval or at a 提交 without review: they go into the ledgers
    (as given by `submitter`), the conversation that held them closes, and the summary goes out when all are in."""
    if conversation is not None:
        fields = fields_of(assignment.task.form_version)
        prefill.write_back(ctx, submitter, assignment, fields, conversation.answers)
        roster_write_back.write_back(ctx, submitter.id, conversation, fields)
        ctx.session.execute(
            update(ChatFocus).where(ChatFocus.conversation_id == conversation.id).values(conversation_id=None)
        )
        ctx.session.delete(conversation)
    assignment.status = AssignmentStatus.SUBMITTED
    assignment.accepted_at = ctx.now()
    ctx.session.flush()
    # Also after the deadline's summary: the last late answer completes the task and the full summary follows.
    if everyone_approved(ctx, assignment.task):
        send_complete_summary(ctx, assignment.task)


def conversation_of(ctx: Context, assignment_id: int) -> Conversation | None:
    """The conversation that holds a submitted assignment's answers until they count."""
    query = select(Conversation).where(Conversation.assignment_id == assignment_id).order_by(Conversation.id.desc())
    return ctx.session.scalar(query.limit(1))


def reopened_labels(fields: list[Field], names: Iterable[str]) -> list[str]:
    """第3题 户数 for each reopened question (a roster by its name), in the form's order."""
    numbers, wanted = question_numbers(fields), set(names)
    return [
        t.question_label(numbers[f.name], f.repeat_label if f.repeat else f.label)
        for f in fields
        if f.name in wanted and f.name in numbers
    ]


def return_step(ctx: Context, person: Person, step: ReviewStep, reason: str, reopened: list[str]) -> str:
    """退回: the filler is told why and asked only the reopened questions (all, when none are named)."""
    if not claim(ctx, step, person, ReviewDecision.RETURNED, reason=reason, reopened=reopened or None):
        return too_late(ctx, step)
    assignment = step.assignment
    task = assignment.task
    fields = fields_of(task.form_version)
    numbers = question_numbers(fields)
    conversation = conversation_of(ctx, assignment.id)
    if conversation is not None:
        conversation.reopened = list(reopened)
        indexes = [i for i, field in enumerate(fields) if field.name in reopened]
        conversation.position = indexes[0] if indexes else len(fields)
        conversation.editing = bool(indexes)
        conversation.updated_at = ctx.now()
    assignment.status = AssignmentStatus.RETURNED
    labels = reopened_labels(fields, reopened)
    name = task_name(task.title, task.id)
    notice = t.returned_notice(name, person.name, reviewer_label(step), reason, labels, step.round)
    enqueue(ctx.session, person_id=step.submitted_by_id, dedupe_key=f"reviewed:{step.id}", now=ctx.now(), text=notice)
    audit.record(ctx.session, at=ctx.now(), actor_id=person.id, action="return", entity="assignment",
                 entity_id=assignment.id, new={"round": step.round, "stage": step.stage, "reason": reason,
                                               "reopened": list(reopened)})  # fmt: skip
    return t.returned_reply(unit_path(assignment.org_unit), name, [numbers[n] for n in reopened if n in numbers])
