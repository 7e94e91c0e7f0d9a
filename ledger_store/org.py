"""Queries over the organisation: people by platform id, unit paths, subtrees, who fills and who issues."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger_store.models import Department, Level, OrgUnit, Person, PersonRole, PlatformIdentity, Role

# The simulator speaks as the person's account, so it needs no identity rows.
SIMULATOR = "simulator"
# A unit without a stored kind (made before kinds were kept, or synced from WeCom) is known by its name's ending;
# 社区 before 区, as a community's name ends with both.
KIND_ENDINGS = ("社区", "街道", "网格", "村", "镇", "乡", "区")


def lock_department(session: Session, department_id: int) -> None:
    """Hold the department's row until the transaction ends: two of its issuers checking for a task or recurrence
    like the one they are about to create take turns, so the second sees the first's."""
    session.execute(select(Department.id).where(Department.id == department_id).with_for_update())


def find_person(session: Session, platform: str, user_id: str) -> Person | None:
    """The active person behind a platform user id, or None when nobody is registered under it."""
    if platform == SIMULATOR:
        query = select(Person).where(Person.account == user_id)
    else:
        query = (
            select(Person)
            .join(PlatformIdentity, PlatformIdentity.person_id == Person.id)
            .where(PlatformIdentity.platform == platform, PlatformIdentity.user_id == user_id)
        )
    person = session.scalar(query)
    return person if person is not None and person.active else None


def platform_user_ids(session: Session, person_ids: set[int], platform: str) -> dict[int, str]:
    """Person id -> the id to address them on `platform`, for those who have one there (one query)."""
    if not person_ids:
        return {}
    if platform == SIMULATOR:
        query = select(Person.id, Person.account).where(Person.id.in_(person_ids))
    else:
        query = select(PlatformIdentity.person_id, PlatformIdentity.user_id).where(
            PlatformIdentity.person_id.in_(person_ids), PlatformIdentity.platform == platform
        )
    return dict(session.execute(query).all())


def unit_path(unit: OrgUnit) -> str:
    """Names from the top of the tree down to `unit`, joined with '/'."""
    names = []
    node: OrgUnit | None = unit
    while node is not None:
        names.append(node.name)
        node = node.parent
    return "/".join(reversed(names))


def unit_kind(unit: OrgUnit) -> str | None:
    """The unit's level word (村, 社区, 镇, 乡, 街道, 区, 网格): as imported, else read off its name, else None."""
    if unit.kind:
        return unit.kind
    return next((ending for ending in KIND_ENDINGS if unit.name.endswith(ending)), None)


def all_units(session: Session) -> list[OrgUnit]:
    """Every org unit, ordered by id (the order they were created in)."""
    return list(session.scalars(select(OrgUnit).order_by(OrgUnit.id)))


def descendants(session: Session, unit: OrgUnit) -> list[OrgUnit]:
    """All units below `unit`, breadth first."""
    units = all_units(session)
    children: dict[int | None, list[OrgUnit]] = {}
    for candidate in units:
        children.setdefault(candidate.parent_id, []).append(candidate)
    found, frontier = [], [unit.id]
    while frontier:
        next_frontier = []
        for parent_id in frontier:
            for child in children.get(parent_id, []):
                found.append(child)
                next_frontier.append(child.id)
        frontier = next_frontier
    return found


def subtree_ids(session: Session, unit_id: int) -> set[int]:
    """The unit's id and the ids of every unit below it, one query a level (a thousand parents a query).

    A village's is one or two small queries: every ledger write-back asks for it, and reading the whole tree
    (12,000 units in a district of 10,000 villages) each time made a town's 全部通过 spend most of its time here.
    """
    found, frontier = {unit_id}, [unit_id]
    while frontier:
        children: list[int] = []
        for start in range(0, len(frontier), 1000):
            below = select(OrgUnit.id).where(OrgUnit.parent_id.in_(frontier[start : start + 1000]))
            children += session.scalars(below)
        frontier = [child for child in children if child not in found]
        found.update(frontier)
    return found


def people_with_role(session: Session, role: Role) -> list[Person]:
    """Active people holding `role`."""
    query = (
        select(Person)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(PersonRole.role == role, Person.active.is_(True))
        .order_by(Person.id)
    )
    return list(session.scalars(query))


def fillers_by_unit(session: Session) -> dict[int, int]:
    """Unit id -> person id of the unit's filler, for each unit that has one (the first registered when several)."""
    query = (
        select(Person.org_unit_id, Person.id)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(PersonRole.role == Role.FILLER, Person.active.is_(True), Person.org_unit_id.is_not(None))
        .order_by(Person.id)
    )
    result: dict[int, int] = {}
    for unit_id, person_id in session.execute(query):
        result.setdefault(unit_id, person_id)
    return result


def towns_with_fillers(session: Session) -> list[OrgUnit]:
    """Every town or street that has a filler: where a task goes when no scope is named."""
    fillers = fillers_by_unit(session)
    return [unit for unit in all_units(session) if unit.level == Level.TOWN and unit.id in fillers]


def issuing_unit(session: Session, department_id: int) -> OrgUnit | None:
    """The unit a department issues within: None for a department of the whole district (or not yet placed)."""
    department = session.get(Department, department_id)
    if department is None or department.org_unit_id is None:
        return None
    unit = session.get(OrgUnit, department.org_unit_id)
    return unit if unit is not None and unit.parent_id is not None else None


def default_targets(session: Session, department_id: int) -> list[OrgUnit]:
    """Where a department's task goes when it names no scope.

    A district department's goes to every town and street with a filler; a department under a town (镇民政办)
    sends to the units directly below its town that have one.
    """
    home = issuing_unit(session, department_id)
    if home is None:
        return towns_with_fillers(session)
    fillers = fillers_by_unit(session)
    return [unit for unit in all_units(session) if unit.parent_id == home.id and unit.id in fillers]


def issuers_of_department(session: Session, department_id: int) -> list[Person]:
    """Active issuers belonging to a department."""
    return [p for p in people_with_role(session, Role.ISSUER) if p.department_id == department_id]
