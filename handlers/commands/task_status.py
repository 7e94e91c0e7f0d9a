"""/进度, /催报, /汇总, /统计: how a department's task stands, and reminding or summing it up now."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Select, func, select

from handlers.core.context import Context
from handlers.core.deadline_text import format_deadline, time_left
from handlers.review import flow
from handlers.tasks import burden
from handlers.tasks.progress import progress, question_total, reached_questions, status_name
from handlers.tasks.reminders import remind_missing
from handlers.tasks.review_waits import minutes_waited, waiting_steps
from handlers.tasks.summary_push import gets_workbook, push_summary
from handlers.texts import commands as t
from handlers.texts import review as rt
from handlers.texts import take as tt
from ledger_store import audit
from ledger_store.models import Assignment, AssignmentStatus, Person, ReportTask, ReviewPolicy, Role, Submission
from ledger_store.org import unit_path


def tasks_in_sight(person: Person) -> Select[tuple[ReportTask]]:
    """The tasks a person's /进度, /催报 and /汇总 reach, newest first: their department's, every task for an admin."""
    query = select(ReportTask).order_by(ReportTask.id.desc())
    if not person.has_role(Role.ADMIN):
        query = query.where(ReportTask.department_id == person.department_id)
    return query


def find_task(ctx: Context, person: Person, reference: str) -> tuple[ReportTask | None, str]:
    """A task of the person's department (any task for an admin) by #id, id, title fragment or latest."""
    tasks = list(ctx.session.scalars(tasks_in_sight(person).limit(200)))
    if not tasks:
        return None, t.NO_TASKS_ANYWHERE if person.has_role(Role.ADMIN) else t.NO_TASKS_YET
    reference = reference.strip().lstrip("#＃")
    if not reference:
        return tasks[0], ""
    found = next((task for task in tasks if str(task.id) == reference or reference in task.title), None)
    if found is None:
        return None, t.unknown_task(reference, [t.task_label(task.id, task.title) for task in tasks[:3]])
    return found, ""


def show_progress(ctx: Context, person: Person, args: str) -> list[str]:
    """/进度 [任务]: reported x/y and who is missing; with review also the count in each state and the units
    waiting on a reviewer, the longest waiting first."""
    task, problem = find_task(ctx, person, args)
    if task is None:
        return [problem]
    state = progress(task)
    reviewed = task.review != ReviewPolicy.NONE
    deadline, left = format_deadline(ctx, task.deadline), time_left(ctx, task.deadline)
    lines = [t.progress_header(task.title, task.id, len(state.submitted), state.total, deadline, left, reviewed)]
    if reviewed:
        lines.append(t.state_counts(counts_by_state(task)))
        lines += waiting_lines(ctx, task, len(state.waiting))
    if not state.unfinished:
        lines.append(t.ALL_APPROVED if reviewed else t.ALL_SUBMITTED)
    generated = generated_count(ctx, task)
    if generated:
        lines.append(tt.generated_units(generated))
    if state.missing:
        lines += missing_lines(ctx, task, state.missing)
    return ["\n".join(lines)]


def generated_count(ctx: Context, task: ReportTask) -> int:
    """How many of the task's units were generated from the ledgers (取数)."""
    query = (
        select(func.count())
        .select_from(Submission)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .where(Assignment.task_id == task.id, Submission.generated.is_(True))
    )
    return ctx.session.scalar(query) or 0


def counts_by_state(task: ReportTask) -> list[tuple[str, int]]:
    """(state, units in it) for every state a reviewed task's unit can be in (待验收 only with 审核 区级)."""
    states = [AssignmentStatus.PENDING, AssignmentStatus.IN_PROGRESS, AssignmentStatus.REVIEWING]
    if task.review == ReviewPolicy.TOWN_AND_DEPARTMENT:
        states.append(AssignmentStatus.ACCEPTING)
    states += [AssignmentStatus.RETURNED, AssignmentStatus.SUBMITTED]
    counts = Counter(AssignmentStatus(a.status) for a in task.assignments)
    return [(status_name(task, state), counts[state]) for state in states]


def waiting_lines(ctx: Context, task: ReportTask, waiting: int) -> list[str]:
    """The units waiting on a reviewer, the longest waiting first: who reviews each and for how long it waited."""
    steps = waiting_steps(ctx, task, limit=t.LISTED_MISSING)
    if not steps:
        return []
    lines = [t.WAITING_HEADER]
    for step in steps:
        assignment = step.assignment
        waited = rt.waited(minutes_waited(ctx, step))
        reviewer = flow.reviewer_label(step)
        path = unit_path(assignment.org_unit)
        lines.append(t.progress_waiting_line(path, assignment.filler.name, reviewer, step.stage > 0, waited))
    if waiting > len(steps):
        lines.append(t.more_waiting(waiting - len(steps), task.id))
    return lines


def missing_lines(ctx: Context, task: ReportTask, missing: list[Assignment]) -> list[str]:
    """未报: the units whose filler owes an answer and how far each got (a returned one says so)."""
    lines = [t.MISSING_HEADER]
    total = question_total(task.form_version)
    listed = missing[: t.LISTED_MISSING]
    reached = reached_questions(ctx, listed)
    for assignment in listed:
        number = reached.get(assignment.id)
        if assignment.status == AssignmentStatus.RETURNED:
            where = rt.STATE_RETURNED
        elif number is None:
            where = t.STATE_NOT_STARTED
        elif number > total:
            where = t.STATE_ALL_ANSWERED
        else:
            where = t.state_in_progress(number, total)
        lines.append(t.progress_missing_line(unit_path(assignment.org_unit), assignment.filler.name, where))
    if len(missing) > t.LISTED_MISSING:
        lines.append(t.more_missing(len(missing) - t.LISTED_MISSING, task.id))
    return lines


def remind(ctx: Context, person: Person, args: str) -> list[str]:
    """/催报 [任务]: remind every filler who has not submitted, now."""
    task, problem = find_task(ctx, person, args)
    return [problem] if task is None else [remind_task(ctx, person, task)]


def remind_task(ctx: Context, person: Person, task: ReportTask) -> str:
    """Remind every filler of the task who has not submitted, at most once a minute each (the chat's /催报 and the
    dashboard's button alike); audited when anyone was reminded. Returns the sentence saying what happened."""
    stamp = ctx.local_now().strftime("manual-%Y%m%d%H%M")
    if not progress(task).missing:
        return t.NOTHING_TO_REMIND
    reminded = remind_missing(ctx, task, stamp)
    if not reminded:
        return t.JUST_REMINDED
    units = [a.org_unit.name for a in reminded]
    audit.record(
        ctx.session,
        at=ctx.now(),
        actor_id=person.id,
        action="remind",
        entity="report_task",
        entity_id=task.id,
        new={"units": len(units)},
    )
    return t.reminded(len(units), units, task.id)


def summarise(ctx: Context, person: Person, args: str) -> list[str]:
    """/汇总 [任务]: build the summary now and send it to the asker as a file."""
    task, problem = find_task(ctx, person, args)
    if task is None:
        return [problem]
    state = progress(task)
    push_summary(ctx, task, [person], None)
    if not gets_workbook(task, person):
        return [t.digest_queued(task.title, len(state.submitted), state.total)]
    return [t.summary_queued(task.title, len(state.submitted), state.total)]


def show_burden(ctx: Context, person: Person, args: str) -> list[str]:
    """/统计 [任务]: how much the reports asked of the grassroots and what the ledgers spared them."""
    if not args.strip():
        return burden.show_recent(ctx, person)
    task, problem = find_task(ctx, person, args)
    return [problem] if task is None else burden.show_task(ctx, task)
