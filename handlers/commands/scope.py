"""The units a /发布 reaches: named units, a unit's subtree (朱沱镇下辖) and scope words (全部, 各村, 各社区, 各镇街).

A scope word alone means everything the department reaches (the whole district for a district department, its town
for a town department); after a unit's name, that unit's subtree. Only units with a filler are targets. 各村 is
villages only, 各社区 communities only, by the level word the organisation import stored (OrgUnit.kind), or where
none is stored by the name's ending (…村, …社区).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from handlers.core.context import Context
from handlers.texts import commands as ct
from handlers.texts import ledgers as lt
from ledger_store.models import Department, OrgUnit, Person, Role
from ledger_store.org import all_units, default_targets, fillers_by_unit, issuing_unit, subtree_ids, unit_kind

SCOPE_SPLIT = re.compile(r"[\s、，,；;]+")
# Words meaning "every unit below": 朱沱镇下辖, or bare 全部 (everything the department reaches).
SUBTREE_WORDS = ("下辖", "所辖", "全部", "所有单位", "各单位")
# Words meaning "the units of these kinds below".
KIND_WORDS: dict[str, tuple[str, ...]] = {
    "各村": ("村",),
    "所有村": ("村",),
    "各社区": ("社区",),
    "所有社区": ("社区",),
    "各村社区": ("村", "社区"),
    "各村居": ("村", "社区"),
    "各镇街": ("镇", "乡", "街道"),
    "各乡镇街道": ("镇", "乡", "街道"),
    "各镇": ("镇", "乡"),
    "各乡镇": ("镇", "乡"),
    "各街道": ("街道",),
    "各网格": ("网格",),
}
# Longest first, so that 各村社区 is not read as 各村 after a unit named …社区.
SCOPE_WORDS = sorted((*SUBTREE_WORDS, *KIND_WORDS), key=len, reverse=True)


def target_units(ctx: Context, department_id: int, scope: str | None) -> tuple[list[OrgUnit], str]:
    """The units a department's task goes to: the named ones (or subtrees) within its reach, else the default."""
    if not scope or not scope.strip():
        chosen = default_targets(ctx.session, department_id)
        return (chosen, "") if chosen else ([], ct.NO_TARGETS)
    home = issuing_unit(ctx.session, department_id)
    reach = None if home is None else subtree_ids(ctx.session, home.id)
    fillers = fillers_by_unit(ctx.session)
    units = all_units(ctx.session)
    by_name = {u.name: u for u in units}
    children: dict[int | None, list[OrgUnit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    chosen: list[OrgUnit] = []
    for token in filter(None, SCOPE_SPLIT.split(scope.strip())):
        word = "" if token in by_name else next((w for w in SCOPE_WORDS if token.endswith(w)), "")
        name = token.removesuffix(word) if word else token
        base = by_name.get(name) if name else home
        if name and base is None:
            return [], unknown_unit(name, list(by_name))
        if base is not None and reach is not None and base.id not in reach:
            return [], ct.outside_reach(base.name, home.name if home else "")
        if not word:
            if base is None or base.id not in fillers:
                return [], ct.unit_without_filler(name)
            chosen.append(base)
            continue
        below = _below(children, None if base is None else base.id)
        kinds = KIND_WORDS.get(word)
        chosen += [u for u in below if u.id in fillers and (kinds is None or unit_kind(u) in kinds)]
    unique = list({u.id: u for u in chosen}.values())
    return (unique, "") if unique else ([], ct.NO_TARGETS)


def unit_named(ctx: Context, name: str) -> OrgUnit | str:
    """The unit of that name, or the sentence naming the closest ones (/发布 范围, /查询 单位=, /迁移 到)."""
    units = {unit.name: unit for unit in all_units(ctx.session)}
    return units.get(name) or unknown_unit(name, list(units))


def unknown_unit(name: str, names: list[str]) -> str:
    """The one sentence for a unit name that does not exist, with the closest of `names`."""
    return ct.unknown_unit(name, difflib.get_close_matches(name, names, n=3, cutoff=0.4))


def _below(children: dict[int | None, list[OrgUnit]], top: int | None) -> list[OrgUnit]:
    """Every unit below `top` (below the roots, and the roots themselves, when top is None), breadth first."""
    found: list[OrgUnit] = []
    frontier = list(children.get(None, [])) if top is None else list(children.get(top, []))
    while frontier:
        found += frontier
        frontier = [child for unit in frontier for child in children.get(unit.id, [])]
    return found


@dataclass(frozen=True)
class Scope:
    """The units whose records a person may see (None: all of them) and the unit that names the scope."""

    unit_ids: set[int] | None
    unit: str | None = None


def data_scope(ctx: Context, person: Person) -> Scope | str:
    """The ledger records a person may see and move: admins everything, an issuer the subtree of their department's
    unit (the district's own departments everything, records no unit holds yet too). /查询, /导出 and /迁移 use it."""
    if person.has_role(Role.ADMIN):
        return Scope(None)
    department = person.department
    if department is None:
        return lt.NO_DEPARTMENT
    return department_scope(ctx, department)


def department_scope(ctx: Context, department: Department) -> Scope | str:
    """The ledger records a department's issuers see (data_scope), and what 预警 rules of the department look at."""
    unit = None if department.org_unit_id is None else ctx.session.get(OrgUnit, department.org_unit_id)
    if unit is None:
        return lt.department_without_unit(department.name)
    if unit.parent_id is None:
        # The top of the tree sees everything, records not yet placed in a unit too, and needs no unit list.
        return Scope(None)
    return Scope(subtree_ids(ctx.session, unit.id), unit.name)
