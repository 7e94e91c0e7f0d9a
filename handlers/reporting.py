"""Report tasks: issuing, submitting, progress, reminders and the summary pushed when all have answered."""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, insert, or_, select
from sqlalchemy.orm import selectinload

from handlers.conversation import roster_results
from handlers.core.context import Context
from handlers.forms.answers import from_json
from handlers.forms.fields import NUMERIC_TYPES, Field, FieldType
from handlers.forms.form_state import FormState, number_at, question_numbers
from handlers.forms.registry import fields_of
from handlers.ledgers import prefill
from handlers.tasks.summary import Summary, build_summary
from handlers.texts import reporting as t
from ledger_store import audit
from ledger_store.file_names import store_named
from ledger_store.models import (
    Answer,
    Assignment,
    AssignmentStatus,
    ChatFocus,
    Conversation,
    FormVersion,
    OrgUnit,
    Person,
    ReportTask,
    Submission,
)
from ledger_store.org import fillers_by_unit, issuers_of_department
from ledger_store.outbox import Push, enqueue, enqueue_many, taken_keys
from ledger_store.values.numbers import STORABLE_LIMIT

WEEKDAYS = "一二三四五六日"
log = logging.getLogger(__name__)


def format_deadline(ctx: Context, deadline: datetime) -> str:
    """A stored deadline as people read it: 11月30日（周六）18:00, with the year when it is not this one."""
    local = ctx.to_local(deadline)
    year = "" if local.year == ctx.local_now().year else f"{local.year}年"
    return f"{year}{local.month}月{local.day}日（周{WEEKDAYS[local.weekday()]}）{local:%H:%M}"


def time_left(ctx: Context, deadline: datetime) -> str:
    """还剩… or 已逾期… relative to now."""
    seconds = int((deadline - ctx.now()).total_seconds())
    if seconds <= 0:
        seconds = -seconds
        return t.overdue(seconds // 86400, seconds % 86400 // 3600)
    return t.time_left(seconds // 86400, seconds % 86400 // 3600, seconds % 3600 // 60)


def open_assignments(ctx: Context, person: Person) -> list[Assignment]:
    """Assignments the person fills that are not submitted yet and still take answers, soonest deadline first."""
    query = (
        select(Assignment)
        .join(ReportTask, ReportTask.id == Assignment.task_id)
        .where(Assignment.filler_id == person.id, *_still_open(ctx))
        .order_by(ReportTask.deadline, Assignment.id)
    )
    return list(ctx.session.scalars(query))


def open_counts(ctx: Context, person_ids: set[int]) -> collections.Counter[int]:
    """Person id -> how many assignments they have open (as open_assignments counts them), in one query a chunk."""
    counts: collections.Counter[int] = collections.Counter()
    ids = sorted(person_ids)
    for start in range(0, len(ids), 1000):
        query = (
            select(Assignment.filler_id, func.count())
            .join(ReportTask, ReportTask.id == Assignment.task_id)
            .where(Assignment.filler_id.in_(ids[start : start + 1000]), *_still_open(ctx))
            .group_by(Assignment.filler_id)
        )
        counts.update(dict(ctx.session.execute(query).all()))
    return counts


def _still_open(ctx: Context) -> tuple[ColumnElement[bool], ...]:
    """SQL for "this assignment (joined to its task) is not submitted and its task still takes answers"."""
    still_taking = or_(ReportTask.accepts_late, ReportTask.deadline > ctx.now())
    return Assignment.status != AssignmentStatus.SUBMITTED, still_taking


def is_closed(ctx: Context, task: ReportTask) -> bool:
    """Has the task stopped taking answers (its deadline passed and it takes no late ones)?"""
    return not task.accepts_late and task.deadline <= ctx.now()


@dataclass(frozen=True)
class Terms:
    """How a task treats time: late answers, the hours before the deadline to remind at, its recurring period."""

    accepts_late: bool = True
    remind_hours: list[int] | None = None
    recurrence_id: int | None = None
    period: str | None = None


def issue_task(
    ctx: Context,
    issuer: Person,
    version: FormVersion,
    deadline: datetime,
    units: list[OrgUnit],
    terms: Terms = Terms(),
    department_id: int | None = None,
) -> ReportTask:
    """Create a task with one assignment per unit and queue the push to each unit's filler.

    The task belongs to `department_id` (an admin issues for a department), by default to the issuer's own.
    """
    department_id = department_id or issuer.department_id
    if department_id is None:
        raise ValueError("a task belongs to a department")
    if not units:
        raise ValueError("a task goes to at least one unit")
    fillers = fillers_by_unit(ctx.session)
    task = ReportTask(
        title=version.form.title,
        form_version=version,
        department_id=department_id,
        issued_by_id=issuer.id,
        issued_at=ctx.now(),
        deadline=deadline,
        accepts_late=terms.accepts_late,
        remind_hours=terms.remind_hours,
        recurrence_id=terms.recurrence_id,
        period=terms.period,
    )
    ctx.session.add(task)
    ctx.session.flush()
    total = question_total(version)
    others = open_counts(ctx, {fillers[unit.id] for unit in units})  # a person fills for one unit only
    rows = [
        {"task_id": task.id, "org_unit_id": unit.id, "filler_id": fillers[unit.id], "status": AssignmentStatus.PENDING}
        for unit in units
    ]
    # One multi-row INSERT (not 10,000 ORM objects): a district task may go to every village and grid.
    ids = ctx.session.scalars(insert(Assignment).returning(Assignment.id, sort_by_parameter_order=True), rows).all()
    ctx.session.expire(task, ["assignments"])
    pushes, shown_deadline, name = [], format_deadline(ctx, deadline), t.task_name(task.title, task.id)
    for assignment_id, row in zip(ids, rows, strict=True):
        filler_id = row["filler_id"]
        text = t.task_assigned(task.department.name, name, shown_deadline, total, others[filler_id])
        pushes.append(Push(filler_id, f"assigned:{assignment_id}", text))
    enqueue_many(ctx.session, pushes, ctx.now())
    audit.record(
        ctx.session,
        at=ctx.now(),
        actor_id=issuer.id,
        action="issue",
        entity="report_task",
        entity_id=task.id,
        new={
            "title": task.title,
            "department": task.department.name,
            "form_version": version.id,
            "deadline": deadline.isoformat(),
            "units": [unit.name for unit in units],
        },
    )
    return task


def submit(ctx: Context, person: Person, conversation: Conversation, state: FormState) -> list[str]:
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
    prefill.write_back(ctx, person, assignment, fields, state)
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


def send_complete_summary(ctx: Context, task: ReportTask) -> bool:
    """Queue the summary of a task everyone has reported to its department; False when it cannot be built.

    The submission that completed the task stands either way: a summary that fails is logged, the task stays
    owed a summary (`owed_summaries`), and the scheduler builds it again at each tick until it goes out.
    """
    answers = answers_by_assignment(ctx, task)
    try:
        summary = build_summary(ctx, task, answers)
    except Exception:
        log.exception("the summary of task %s could not be built; the scheduler will try again", task.id)
        return False
    queue_summary(ctx, task, summary, summary_recipients(ctx, task), "complete")
    task.summary_sent_at = ctx.now()
    return True


def typed_answer(field: Field, stored: object) -> Answer:
    """An Answer row with the value in the column of its type (a calculated value: number or text).

    A calculated number too large for the number column (see STORABLE_LIMIT) is kept as its text.
    """
    value = from_json(field, stored)
    row = Answer(field_name=field.name)
    if field.type == FieldType.CALCULATE and not isinstance(value, str) and abs(value) >= STORABLE_LIMIT:
        row.text_value = str(value)
    elif field.type in NUMERIC_TYPES or (field.type == FieldType.CALCULATE and not isinstance(value, str)):
        row.number_value = value
    elif field.type == FieldType.DATE:
        row.date_value = value
    elif field.type in (FieldType.YES_NO, FieldType.ACKNOWLEDGE):
        row.bool_value = value
    elif field.type == FieldType.SELECT_MULTIPLE:
        row.choices_value = list(value)
    else:
        row.text_value = value
    return row


def answer_value(field: Field, row: Answer) -> object:
    """The typed value of a stored Answer."""
    if field.type == FieldType.INTEGER:
        return int(row.number_value) if row.number_value is not None else None
    if field.type == FieldType.DECIMAL:
        return row.number_value
    if field.type == FieldType.CALCULATE:
        return row.text_value if row.number_value is None else row.number_value
    if field.type == FieldType.DATE:
        return row.date_value
    if field.type in (FieldType.YES_NO, FieldType.ACKNOWLEDGE):
        return row.bool_value
    if field.type == FieldType.SELECT_MULTIPLE:
        return row.choices_value
    return row.text_value


@dataclass(frozen=True)
class Progress:
    """Where a task stands."""

    submitted: list[Assignment]
    missing: list[Assignment]

    @property
    def total(self) -> int:
        """Number of target units."""
        return len(self.submitted) + len(self.missing)


def progress(task: ReportTask) -> Progress:
    """Submitted and missing assignments of a task."""
    done = [a for a in task.assignments if a.status == AssignmentStatus.SUBMITTED]
    missing = [a for a in task.assignments if a.status != AssignmentStatus.SUBMITTED]
    return Progress(done, missing)


def question_total(version: FormVersion) -> int:
    """How many questions a form asks (notes and calculations are not questions)."""
    return len(question_numbers(fields_of(version)))


def reached_questions(ctx: Context, assignments: list[Assignment]) -> dict[int, int]:
    """Assignment id -> N of the 第N题 its filler is on (questions + 1 at the review), once answers began."""
    conversations = ctx.session.scalars(
        select(Conversation).where(Conversation.assignment_id.in_([a.id for a in assignments]))
    )
    return {
        c.assignment_id: number_at(fields_of(c.assignment.task.form_version), c.position)
        for c in conversations
        if c.answers
    }


def remind_missing(ctx: Context, task: ReportTask, kind: str) -> list[Assignment]:
    """Queue a reminder to every filler who has not submitted; returns those newly reminded for `kind`."""
    return queue_reminders(ctx, task, progress(task).missing, lambda assignment: f"remind:{assignment.id}:{kind}")


def queue_reminders(
    ctx: Context, task: ReportTask, missing: list[Assignment], key: Callable[[Assignment], str], late: bool = False
) -> list[Assignment]:
    """One reminder to each missing filler (saying how far they got), once per key; returns those newly queued."""
    taken = taken_keys(ctx.session, [key(assignment) for assignment in missing])
    fresh = [assignment for assignment in missing if key(assignment) not in taken]  # a tick mostly finds none
    if not fresh:
        return []
    total = question_total(task.form_version)
    reached = reached_questions(ctx, fresh)
    deadline, left = format_deadline(ctx, task.deadline), time_left(ctx, task.deadline)
    sentence, name = t.late_reminder if late else t.reminder, t.task_name(task.title, task.id)
    pushes = []
    for assignment in fresh:
        number = reached.get(assignment.id)
        text = sentence(name, deadline, left, None if number is None else min(number, total), total)
        pushes.append(Push(assignment.filler_id, key(assignment), text))
    new = {push.dedupe_key for push in enqueue_many(ctx.session, pushes, ctx.now())}
    return [assignment for assignment in fresh if key(assignment) in new]


def summary_recipients(ctx: Context, task: ReportTask) -> list[Person]:
    """Who gets a task's summary: the department's issuers, and the person who issued it (an admin acting for them)."""
    recipients = issuers_of_department(ctx.session, task.department_id)
    issuer = task.issued_by
    if issuer is not None and issuer.active and all(person.id != issuer.id for person in recipients):
        recipients.append(issuer)
    return recipients


def push_summary(ctx: Context, task: ReportTask, recipients: list[Person], kind: str | None) -> None:
    """Build the summary workbook and queue it, with its digest, to each recipient (see `queue_summary`)."""
    queue_summary(ctx, task, build_summary(ctx, task, answers_by_assignment(ctx, task)), recipients, kind)


def queue_summary(ctx: Context, task: ReportTask, summary: Summary, recipients: list[Person], kind: str | None) -> None:
    """Queue a built summary, with its digest, to each recipient; the workbook only to the task's department.

    The workbook shows every answer whole (ID numbers, mobiles), so someone outside the department (an admin who
    issued for it) gets the digest and a line saying whom the workbook went to. `kind` keys the pushes so that
    one event (completion, the deadline) sends its summary once; None (on demand) keys them by the build, so that
    every build is sent.
    """
    inside = [person for person in recipients if gets_workbook(task, person)]
    stored = store_named(ctx.session, summary.file_name, summary.content, ctx.now()) if inside else None
    build = kind or (f"file-{stored.id}" if stored is not None else f"digest-{ctx.now():%Y%m%d%H%M%S%f}")
    for person in recipients:
        key = f"summary:{task.id}:{build}:{person.id}"
        if stored is not None and person in inside:
            enqueue(ctx.session, person_id=person.id, dedupe_key=key + ":text", now=ctx.now(), text=summary.digest)
            enqueue(ctx.session, person_id=person.id, dedupe_key=key + ":file", now=ctx.now(), file=stored)
        else:
            text = summary.digest + "\n" + t.workbook_kept(task.department.name)
            enqueue(ctx.session, person_id=person.id, dedupe_key=key + ":text", now=ctx.now(), text=text)


def gets_workbook(task: ReportTask, person: Person) -> bool:
    """Does the person receive the task's summary workbook (whole answers)? Only the task's department does."""
    return person.department_id == task.department_id


def answers_by_assignment(ctx: Context, task: ReportTask) -> dict[int, tuple[Submission, dict[str, object]]]:
    """Each submitted assignment's submission and its typed answers by field name."""
    fields = {field.name: field for field in fields_of(task.form_version)}
    submissions = ctx.session.scalars(
        select(Submission)
        .where(Submission.assignment_id.in_([a.id for a in task.assignments]))
        .options(selectinload(Submission.answers), selectinload(Submission.roster_rows))  # not one query a unit
    )
    result = {}
    for submission in submissions:
        values = {
            row.field_name: answer_value(fields[row.field_name], row)
            for row in submission.answers
            if row.field_name in fields
        }
        result[submission.assignment_id] = (submission, values)
    return result
