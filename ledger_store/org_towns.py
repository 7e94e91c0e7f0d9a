"""Each org unit's town (镇街) as a SQL derived table, so pages can count and page units by town in the database."""

from __future__ import annotations

from sqlalchemy import Subquery, case, select
from sqlalchemy.orm import aliased

from ledger_store.models import Level, OrgUnit


def unit_towns() -> Subquery:
    """Rows (unit_id, town_id, parent_id, parent_name, grand_id): a town is its own town; a village's is its parent;
    a grid's its grandparent; a unit above or beside the towns counts as its own."""
    unit, parent, grand = aliased(OrgUnit), aliased(OrgUnit), aliased(OrgUnit)
    town = case(
        (unit.level == Level.TOWN.value, unit.id),
        (parent.level == Level.TOWN.value, parent.id),
        (grand.level == Level.TOWN.value, grand.id),
        else_=unit.id,
    )
    return (
        select(
            unit.id.label("unit_id"),
            town.label("town_id"),
            parent.id.label("parent_id"),
            parent.name.label("parent_name"),
            grand.id.label("grand_id"),
        )
        .select_from(unit)
        .outerjoin(parent, parent.id == unit.parent_id)
        .outerjoin(grand, grand.id == parent.parent_id)
        .subquery("unit_towns")
    )
