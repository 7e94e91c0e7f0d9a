"""Each org unit's town (镇街) as one recursive SQL query over the org tree: the one definition every grouping by
town uses (the task page, the progress CSV, the summary's 分镇统计, the burden page), counted and paged in the
database."""

from __future__ import annotations

from sqlalchemy import String, Subquery, case, cast, func, literal_column, select
from sqlalchemy.orm import Session, aliased

from ledger_store.models import Level, OrgUnit

# The town key of a unit with no town at or above it (the district itself, a unit right below it): ids start at 1.
NO_TOWN = 0
PATH_LENGTH = 1000  # ten levels of 100-character names; MariaDB types a recursive column by its first row


def unit_towns() -> Subquery:
    """Rows (unit_id, town_id, path) for every unit: town_id is its nearest ancestor-or-self at Level.TOWN (NO_TOWN
    when there is none); path the names from that town down to the unit (朱沱镇/松林村/松林村第一网格), for a unit
    with no town the names below the top of the tree (the top by its own name)."""
    top, child, unit = aliased(OrgUnit), aliased(OrgUnit), aliased(OrgUnit)
    zero, one = literal_column("0"), literal_column("1")  # inline, so PostgreSQL types both parts of the CTE alike
    tree = (
        select(
            top.id.label("unit_id"),
            case((top.level == Level.TOWN.value, top.id), else_=NO_TOWN).label("town_id"),
            cast(top.name, String(PATH_LENGTH)).label("path"),
            zero.label("depth"),
        )
        .where(top.parent_id.is_(None))
        .cte("org_tree", recursive=True)
    )
    is_town = child.level == Level.TOWN.value
    starts_path = is_town | ((tree.c.depth == zero) & (tree.c.town_id == NO_TOWN))
    path = case((starts_path, child.name), else_=tree.c.path + "/" + child.name)
    tree = tree.union_all(
        select(
            child.id,
            case((is_town, child.id), else_=tree.c.town_id),
            cast(path, String(PATH_LENGTH)),
            tree.c.depth + one,
        ).join(tree, child.parent_id == tree.c.unit_id)
    )
    return (
        select(
            unit.id.label("unit_id"),
            func.coalesce(tree.c.town_id, NO_TOWN).label("town_id"),
            func.coalesce(tree.c.path, unit.name).label("path"),  # a unit on a cycle of parents has no top
        )
        .select_from(unit)
        .outerjoin(tree, tree.c.unit_id == unit.id)
        .subquery("unit_towns")
    )


def town_names(session: Session, town_ids: set[int]) -> dict[int, tuple[str, str | None]]:
    """Town id -> (its name, its parent's name), in one query."""
    town, parent = aliased(OrgUnit), aliased(OrgUnit)
    query = (
        select(town.id, town.name, parent.name)
        .outerjoin(parent, parent.id == town.parent_id)
        .where(town.id.in_(sorted(town_ids)))
    )
    return {town_id: (name, parent_name) for town_id, name, parent_name in session.execute(query)}
