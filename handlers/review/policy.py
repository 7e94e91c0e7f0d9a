"""Who reviews a task's submissions: the policy words of /发布, and the review stages of one unit's submission.

A village's (community's, grid's) submission goes to the reviewers (审核员) placed in the nearest town or street
above it; a town's own submission, or one whose town has no reviewer, goes to the issuing department. With
`审核 区级` the department accepts (验收) after the town. A reviewer never reviews their own submission: a town
whose only reviewer submitted it hands it to the department.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import select

from handlers.core.context import Context
from ledger_store.models import Level, OrgUnit, Person, PersonRole, ReportTask, ReviewPolicy, Role

NO_REVIEW = re.compile(r"(?:^|\s)(?:不审核|免审核|无需审核)(?=\s|$)")
DISTRICT_TOO = re.compile(r"(?:^|\s)审核\s*[:：]?\s*(?:区级|部门|区级验收|部门验收)(?=\s|$)")
DEFAULT = ReviewPolicy.TOWN


def split_policy(args: str) -> tuple[str, ReviewPolicy]:
    """The /发布 arguments without the review words, and the policy they name (review by the town by default)."""
    if NO_REVIEW.search(args):
        return " ".join(NO_REVIEW.sub(" ", args).split()), ReviewPolicy.NONE
    if DISTRICT_TOO.search(args):
        return " ".join(DISTRICT_TOO.sub(" ", args).split()), ReviewPolicy.TOWN_AND_DEPARTMENT
    return args, DEFAULT


def town_above(unit: OrgUnit) -> OrgUnit | None:
    """The nearest town or street strictly above a unit below town level; None for a town or the district."""
    if unit.level in (Level.TOWN, Level.DISTRICT):
        return None
    node = unit.parent
    while node is not None and node.level != Level.TOWN:
        node = node.parent
    return node


def reviewers_in(ctx: Context, unit_id: int) -> list[Person]:
    """The active reviewers placed in a unit."""
    query = (
        select(Person)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(PersonRole.role == Role.REVIEWER, Person.active.is_(True), Person.org_unit_id == unit_id)
        .order_by(Person.id)
    )
    return list(ctx.session.scalars(query))


def reviewing_units(ctx: Context, units: Iterable[OrgUnit]) -> set[int]:
    """The ids of the units among these that have an active reviewer (one query)."""
    ids = {unit.id for unit in units}
    if not ids:
        return set()
    query = (
        select(Person.org_unit_id)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(PersonRole.role == Role.REVIEWER, Person.active.is_(True), Person.org_unit_id.in_(ids))
    )
    return set(ctx.session.scalars(query.distinct()))


def first_reviewer(ctx: Context, task: ReportTask, unit: OrgUnit, submitter_id: int) -> OrgUnit | None:
    """The unit whose reviewers take a submission first; None: the task's department does."""
    town = town_above(unit)
    if town is None:
        return None
    return town if any(person.id != submitter_id for person in reviewers_in(ctx, town.id)) else None


def has_next_stage(task: ReportTask, reviewer_unit_id: int | None) -> bool:
    """After a town approves, does the department accept too (审核 区级)?"""
    return task.review == ReviewPolicy.TOWN_AND_DEPARTMENT and reviewer_unit_id is not None


def falling_back(ctx: Context, policy: ReviewPolicy, units: list[OrgUnit]) -> list[OrgUnit]:
    """The units below town level whose town has no reviewer: the department reviews them (and /发布 says so)."""
    if policy == ReviewPolicy.NONE:
        return []
    towns = {unit.id: town for unit in units if (town := town_above(unit)) is not None}
    staffed = reviewing_units(ctx, towns.values())
    return [unit for unit in units if unit.id in towns and towns[unit.id].id not in staffed]
