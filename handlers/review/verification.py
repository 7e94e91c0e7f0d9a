"""Checking sign-offs against the data: each approved unit's content is computed again from the stored submission
and its digest compared with the one signed (`python -m bot verify-digest`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from handlers.review.content import canonical, digest
from handlers.tasks.progress import state_name
from handlers.tasks.signoff import steps_of_task, valid_round
from handlers.texts import signoff as t
from handlers.texts.reporting import task_name
from ledger_store.models import ReportTask, ReviewPolicy, Submission
from ledger_store.org import unit_path


@dataclass(frozen=True)
class DigestCheck:
    """One unit: the digest its standing approval signed and the one its stored submission gives now."""

    unit: str
    state: str
    signed: str | None = None  # None: the unit has no standing approval
    recomputed: str | None = None

    @property
    def agrees(self) -> bool | None:
        """True or False for a signed unit, None for one not approved."""
        return None if self.signed is None else self.signed == self.recomputed


@dataclass(frozen=True)
class Verification:
    """The checks of one task (or one of its units)."""

    task: str
    checks: list[DigestCheck]


def verify(session: Session, task_id: int, unit: str | None = None) -> Verification | str:
    """Recompute every approved unit's digest of the task (or of the one unit named); a sentence when it cannot."""
    task = session.get(ReportTask, task_id)
    if task is None:
        return t.digest_task_missing(task_id)
    name = task_name(task.title, task.id)
    if task.review == ReviewPolicy.NONE:
        return t.digest_task_unreviewed(name)
    assignments = [a for a in task.assignments if unit is None or unit in (a.org_unit.name, unit_path(a.org_unit))]
    if not assignments:
        return t.digest_unit_missing(name, unit or "")
    steps = steps_of_task(session, task.id)
    submissions = {
        submission.assignment_id: submission
        for submission in session.scalars(
            select(Submission)
            .where(Submission.assignment_id.in_([a.id for a in assignments]))
            .options(selectinload(Submission.answers), selectinload(Submission.roster_rows))
        )
    }
    checks = []
    for assignment in assignments:
        standing = valid_round(steps.get(assignment.id, []))
        path, state = unit_path(assignment.org_unit), state_name(task, assignment)
        submission = submissions.get(assignment.id)
        if standing is None or submission is None:
            checks.append(DigestCheck(path, state))
            continue
        again = digest(canonical(assignment, submission))
        checks.append(DigestCheck(path, state, standing.final.digest, again))
    return Verification(name, checks)


def report_lines(verification: Verification) -> list[str]:
    """What verify-digest prints: a heading, per unit both digests and 一致 / 不一致, and the counts."""
    lines = [t.digest_heading(verification.task)]
    for check in verification.checks:
        if check.signed is None:
            lines.append(t.digest_unsigned(check.unit, check.state))
        else:
            lines.append(t.digest_check(check.unit, check.signed, check.recomputed or ""))
    agreeing = sum(check.agrees is True for check in verification.checks)
    differing = sum(check.agrees is False for check in verification.checks)
    unsigned = sum(check.agrees is None for check in verification.checks)
    lines.append(t.digest_totals(agreeing, differing, unsigned))
    return lines
