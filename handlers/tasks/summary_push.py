"""Sending a task's summary: to whom, the workbook only inside the department, once per event."""

from __future__ import annotations

import logging

from handlers.core.context import Context
from handlers.tasks.submissions import answers_by_assignment
from handlers.tasks.summary import Summary, build_summary
from handlers.texts import reporting as t
from ledger_store.file_names import store_named
from ledger_store.models import (
    Person,
    ReportTask,
)
from ledger_store.org import issuers_of_department
from ledger_store.outbox import enqueue

log = logging.getLogger(__name__)


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
