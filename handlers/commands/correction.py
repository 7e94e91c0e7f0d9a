"""/更正 任务号 单位 第N题 新值 [原因]: a department changes one answer of an approved submission.

Only the task's own department (its issuers) and admins may; another department's task gets the same words as a
task that does not exist. The new value is read by the question's own parser, so it is refused with the same
reason a filler would get. Rosters and record keys are refused; see handlers.review.correction for the rest.
"""

from __future__ import annotations

import difflib
import re

from handlers.core.context import Context
from handlers.core.masking import mask_sensitive
from handlers.core.numbers import typed_id
from handlers.core.words import fold
from handlers.forms.answers import Invalid, parse_answer
from handlers.forms.fields import Field
from handlers.forms.form_state import question_numbers
from handlers.forms.registry import fields_of
from handlers.ledgers.links import links_of
from handlers.review import correction, flow
from handlers.tasks.progress import state_name
from handlers.texts import signoff as t
from handlers.texts.reporting import task_name
from ledger_store.models import Assignment, AssignmentStatus, Person, ReportTask, ReviewDecision, ReviewPolicy, Role
from ledger_store.org import unit_path

TASK = re.compile(r"(?:任务)?[#＃]?(\d+)")
QUESTION = re.compile(r"第?(\d+)题?")


def run(ctx: Context, person: Person, args: str) -> list[str]:
    """/更正 …, with `args` as typed (the value of a text question and the reason are kept as written)."""
    typed = args.split()
    if len(typed) < 4:
        return [t.CORRECT_USAGE]
    number = TASK.fullmatch(fold(typed[0]))
    if number is None:
        return [t.CORRECT_USAGE]
    task_id = typed_id(number.group(1))
    task = ctx.session.get(ReportTask, task_id) if task_id is not None else None
    if task is None or not may_correct(person, task):
        return [t.correction_no_task(number.group(1))]
    name = task_name(task.title, task.id)
    if task.review == ReviewPolicy.NONE:
        return [t.correction_not_reviewed(name)]
    assignment = find_assignment(task, fold(typed[1]))
    if isinstance(assignment, str):
        return [assignment]
    reason = mask_sensitive(" ".join(typed[4:]).strip()) or None  # kept in the review step and the audit log
    if reason is not None and len(reason) > t.MAX_CORRECTION_REASON:
        return [t.correction_reason_too_long(t.MAX_CORRECTION_REASON)]
    asked = question(ctx, task, fold(typed[2]))
    if isinstance(asked, str):
        return [asked]
    field, question_number = asked
    step = flow.latest_step(ctx, assignment.id)
    if assignment.status != AssignmentStatus.SUBMITTED or step is None or step.decision != ReviewDecision.APPROVED:
        return [t.correction_not_approved(unit_path(assignment.org_unit), name, state_name(task, assignment))]
    value = parse_answer(field, typed[3], ctx.local_now().date())
    if isinstance(value, Invalid):
        return [t.correction_refused(question_number, value.reason)]
    wanted = correction.Correction(assignment, step, field, question_number, value, reason)
    return [correction.correct(ctx, person, wanted)]


def may_correct(person: Person, task: ReportTask) -> bool:
    """An admin, or an issuer of the task's department."""
    if person.has_role(Role.ADMIN):
        return True
    own = person.department_id is not None and person.department_id == task.department_id
    return own and person.has_role(Role.ISSUER)


def find_assignment(task: ReportTask, word: str) -> Assignment | str:
    """The task's assignment of the unit named (by name or path), or why there is none."""
    for assignment in task.assignments:
        if word in (assignment.org_unit.name, unit_path(assignment.org_unit)):
            return assignment
    names = [assignment.org_unit.name for assignment in task.assignments]
    close = difflib.get_close_matches(word, names, n=3, cutoff=0.4)
    return t.correction_unknown_unit(task_name(task.title, task.id), word, close)


def question(ctx: Context, task: ReportTask, word: str) -> tuple[Field, int] | str:
    """The field of 第N题, or why it cannot be corrected (no such question, a roster, a ledger record's key)."""
    fields = fields_of(task.form_version)
    numbers = question_numbers(fields)
    found = QUESTION.fullmatch(word)
    by_number = {number: name for name, number in numbers.items()}
    if found is None or int(found.group(1)) not in by_number:
        return t.correction_unknown_question(word, len(numbers))
    number = int(found.group(1))
    field = next(field for field in fields if field.name == by_number[number])
    if field.repeat:
        return t.correction_roster(number, field.repeat_label or field.label)
    if any(link.is_key and link.field.name == field.name for link in links_of(ctx.session, fields)):
        return t.correction_key(number, field.label)
    return field, number
