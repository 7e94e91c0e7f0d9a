"""Reports generated, not asked (取数): a task the ledgers answer whole is done at once, and no filler hears of it.

Each unit's assignment is marked done by a generated submission (Submission.generated): submitted by the issuer,
each answer carrying the ledger it came from and when its value was last confirmed (Answer.ledger_code, .as_of).
A roster's rows are kept as its rows, with status 取自台账, and its source as one answer row named after the roster
that holds no value (the summary reads only the form's own field names from answers).

No review step: a ledger value was approved when it entered the ledger (a reviewed report's write-back, the unit's
own upkeep, the owning department's import), and generating only copies it. Nothing is written back either, since
nothing new was learnt. The summary workbook is built at once and sent, each generated cell marked with its source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from handlers.core.context import Context
from handlers.forms.fields import Field
from handlers.forms.form_state import refresh
from handlers.forms.registry import fields_of
from handlers.ledgers.coverage import Coverage
from handlers.tasks.issuing import Terms, issue_task
from handlers.tasks.submissions import typed_answer
from handlers.tasks.summary_push import push_summary, send_complete_summary
from ledger_store import audit
from ledger_store.models import (
    Answer,
    Assignment,
    AssignmentStatus,
    Department,
    FormVersion,
    Person,
    ReportTask,
    ReviewPolicy,
    RosterRow,
    Submission,
)

FROM_LEDGER = "ledger"  # the status of a roster row taken from a ledger, as the summary names it (取自台账)


def generate_task(
    ctx: Context,
    issuer: Person,
    department: Department,
    version: FormVersion,
    deadline: datetime,
    covered: Sequence[Coverage],
    terms: Terms,
    on_demand: bool = False,
) -> ReportTask:
    """Create the task with every unit's answers taken from the ledgers, and send its summary.

    Every coverage must be full. The summary goes to the department's issuers and the issuer, like any complete
    task's; `on_demand` (/取数) sends it to the issuer alone.
    """
    if not all(unit.full for unit in covered):
        raise ValueError("only a task the ledgers answer whole is generated")
    units = [unit.unit for unit in covered]
    task = issue_task(ctx, issuer, version, deadline, units, replace(terms, review=ReviewPolicy.NONE),
                      department_id=department.id, notify=False)  # fmt: skip
    fields = fields_of(version)
    by_unit = {unit.unit.id: unit for unit in covered}
    for assignment in task.assignments:
        store_generated(ctx, issuer, assignment, fields, by_unit[assignment.org_unit_id])
    audit.record(ctx.session, at=ctx.now(), actor_id=issuer.id, action="generate", entity="report_task",
                 entity_id=task.id, new={"units": [unit.name for unit in units]})  # fmt: skip
    if on_demand:
        push_summary(ctx, task, [issuer], "complete")
        task.summary_sent_at = ctx.now()
    else:
        send_complete_summary(ctx, task)
    return task


def store_generated(
    ctx: Context, issuer: Person, assignment: Assignment, fields: list[Field], unit: Coverage
) -> Submission:
    """The unit's generated submission (answers with their sources, roster rows); the assignment counts as done."""
    state = refresh(fields, {name: taken.stored for name, taken in unit.answers.items()}, [], ctx.local_now().date())
    answers = []
    for field in fields:
        if field.name not in state.answers:
            continue
        row = typed_answer(field, state.answers[field.name])
        taken = unit.answers.get(field.name)
        if taken is not None:
            row.ledger_code, row.as_of = taken.ledger_code, taken.as_of
        answers.append(row)
    rows = []
    for repeat, roster in unit.rosters.items():
        answers.append(Answer(field_name=repeat, ledger_code=roster.ledger_code, as_of=roster.as_of))
        rows += [RosterRow(repeat=repeat, position=number, status=FROM_LEDGER, values=values)
                 for number, values in enumerate(roster.rows, start=1)]  # fmt: skip
    submission = Submission(
        assignment_id=assignment.id,
        submitted_by_id=issuer.id,
        submitted_at=ctx.now(),
        generated=True,
        asked_count=0,
        prefilled_count=len(unit.answers) + sum(len(roster.rows) for roster in unit.rosters.values()),
        confirmed_count=0,
    )
    submission.answers.extend(answers)
    submission.roster_rows.extend(rows)
    ctx.session.add(submission)
    assignment.status = AssignmentStatus.SUBMITTED
    assignment.submitted_at = assignment.accepted_at = ctx.now()
    ctx.session.flush()
    return submission
