"""Check organisation sheet rows against the database and turn them into a plan of units and people."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import get_close_matches

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger_store.models import Department, Level, OrgUnit, Person, PlatformIdentity, Role
from ledger_store.org_sheet import SheetRow
from ledger_store.values.personal import read_mobile
from ledger_store.values.problems import Refused

DEPARTMENT = "department"
# What a 层级 cell may say, and the kind of unit it means.
LEVEL_WORDS = {
    "区": Level.DISTRICT,
    "镇": Level.TOWN,
    "乡": Level.TOWN,
    "街道": Level.TOWN,
    "村": Level.VILLAGE,
    "社区": Level.VILLAGE,
    "网格": Level.GRID,
    "部门": DEPARTMENT,
}
KIND_ORDER = (Level.DISTRICT, Level.TOWN, Level.VILLAGE, Level.GRID, DEPARTMENT)
KIND_LABELS = {
    Level.DISTRICT: "区",
    Level.TOWN: "镇/乡/街道",
    Level.VILLAGE: "村/社区",
    Level.GRID: "网格",
    DEPARTMENT: "部门",
}
# The kinds a unit's parent may have; a department under a town sees that town's data only.
PARENT_KINDS = {
    Level.TOWN: (Level.DISTRICT,),
    Level.VILLAGE: (Level.TOWN,),
    Level.GRID: (Level.VILLAGE,),
    DEPARTMENT: (Level.DISTRICT, Level.TOWN),
}
ROLE_WORDS = {
    "填报员": Role.FILLER,
    "填报人": Role.FILLER,
    "审核员": Role.REVIEWER,
    "审核人": Role.REVIEWER,
    "发布员": Role.ISSUER,
    "发布人": Role.ISSUER,
    "管理员": Role.ADMIN,
}
# Platform name in PlatformIdentity (also the row key of its column) -> the column's title.
PLATFORMS = {"wecom": "企业微信账号", "dingtalk": "钉钉账号"}

LEVEL_HINT = "请填写 区、镇、乡、街道、村、社区、网格 或 部门。"
ACCOUNT = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
ROLE_SEPARATORS = re.compile(r"[、，,；;/\s]+")
PERSON_COLUMNS = {
    "账号": "account",
    "角色": "roles",
    "手机号": "mobile",
    "企业微信账号": "wecom",
    "钉钉账号": "dingtalk",
}


@dataclass
class UnitPlan:
    """A unit or department as the file describes it; parent None means "keep the stored parent"."""

    name: str
    kind: str
    row: int
    parent: str | None = None
    parent_row: int = 0
    word: str = ""  # the level word as written (村, 社区, 镇 …), stored as OrgUnit.kind


@dataclass
class PersonPlan:
    """A person as the file describes it; None (or a missing platform) means "keep the stored value"."""

    account: str
    name: str
    unit: str
    row: int
    mobile: str | None = None
    roles: set[str] | None = None
    identities: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportPlan:
    """Everything the file asks for, or the (row, reason) errors that stop it."""

    units: dict[str, UnitPlan] = field(default_factory=dict)
    people: dict[str, PersonPlan] = field(default_factory=dict)
    errors: list[tuple[int, str]] = field(default_factory=list)

    def fail(self, row: int, reason: str) -> None:
        """Record a reason the file cannot be applied."""
        self.errors.append((row, reason))


def plan_import(session: Session, rows: list[SheetRow]) -> ImportPlan:
    """Read every row, then check the whole file against what the database already holds."""
    plan = ImportPlan()
    for row in rows:
        unit = _read_unit(row, plan)
        _read_person(row, unit, plan)
    kinds, parents = _stored_units(session)
    _check_units(plan, kinds, parents)
    _check_identities(plan, _stored_identities(session))
    plan.errors.sort(key=lambda error: error[0])
    return plan


def _read_unit(row: SheetRow, plan: ImportPlan) -> str | None:
    name, level, parent = row.get("unit"), row.get("level"), row.get("parent") or None
    if not name:
        plan.fail(row.number, "缺少“单位”。如果用了合并单元格，请取消合并并在每一行都填上单位名称。")
        return None
    if len(name) > 100:
        plan.fail(row.number, f"单位名称“{name[:20]}……”太长，请不要超过 100 个字。")
    if not level:
        plan.fail(row.number, f"“{name}”缺少“层级”，{LEVEL_HINT}")
        return name
    kind = LEVEL_WORDS.get(level)
    if kind is None:
        plan.fail(row.number, f"层级“{level}”无法识别，{LEVEL_HINT}")
        return name
    earlier = plan.units.setdefault(name, UnitPlan(name, kind, row.number, word=level))
    if earlier.kind != kind:
        plan.fail(
            row.number,
            f"“{name}”在第 {earlier.row} 行是{KIND_LABELS[earlier.kind]}，这里却是{KIND_LABELS[kind]}，"
            "同一单位在各行的层级必须一致。",
        )
    elif parent and earlier.parent and parent != earlier.parent:
        plan.fail(
            row.number,
            f"“{name}”的上级单位在第 {earlier.parent_row} 行是“{earlier.parent}”，这里却是“{parent}”，"
            "同一单位在各行的上级单位必须一致。",
        )
    elif parent and not earlier.parent:
        earlier.parent, earlier.parent_row = parent, row.number
    return name


def _read_person(row: SheetRow, unit: str | None, plan: ImportPlan) -> None:
    name, account = row.get("name"), row.get("account")
    if not name:
        filled = [title for title, key in PERSON_COLUMNS.items() if row.get(key)]
        if filled:
            plan.fail(row.number, f"填写了{'、'.join(filled)}，但缺少“姓名”。只登记单位的行，请把人员各列留空。")
        return
    if len(name) > 50:
        plan.fail(row.number, f"姓名“{name[:20]}……”太长，请不要超过 50 个字。")
    if not account:
        plan.fail(row.number, f"“{name}”缺少“账号”，请填写登录账号（英文字母、数字、下划线、点或横线）。")
        return
    if not ACCOUNT.fullmatch(account):
        plan.fail(row.number, f"账号“{account}”只能由英文字母、数字、下划线、点或横线组成，且不超过 64 个字符。")
    person = PersonPlan(account, name, unit or "", row.number, roles=_read_roles(row, plan))
    mobile = read_mobile(row.get("mobile")) if row.get("mobile") else None
    if isinstance(mobile, Refused):
        plan.fail(
            row.number,
            f"手机号“{row.get('mobile')}”不正确，请填写 11 位手机号码（如 13812345678），没有可留空。",
        )
    person.mobile = mobile if isinstance(mobile, str) else None
    person.identities = {platform: row.get(platform) for platform in PLATFORMS if row.get(platform)}
    earlier = plan.people.setdefault(account, person)
    if earlier is not person:
        _merge_person(earlier, person, plan)


def _read_roles(row: SheetRow, plan: ImportPlan) -> set[str] | None:
    words = [word for word in ROLE_SEPARATORS.split(row.get("roles")) if word]
    if not words:
        return None
    roles = set()
    for word in words:
        role = ROLE_WORDS.get(word)
        if role is None:
            guess = get_close_matches(word, ROLE_WORDS, n=1, cutoff=0.5)
            hint = (
                f"是否是“{guess[0]}”？"
                if guess
                else "请填写 填报员、审核员、发布员 或 管理员，多个角色用顿号（、）分开。"
            )
            plan.fail(row.number, f"角色“{word}”无法识别，{hint}")
        else:
            roles.add(role)
    return roles


def _merge_person(earlier: PersonPlan, person: PersonPlan, plan: ImportPlan) -> None:
    """The same account on a second row: the same person in the same unit, perhaps with more roles."""
    where = f"账号“{person.account}”在第 {earlier.row} 行"
    if person.name != earlier.name:
        plan.fail(person.row, f"{where}是“{earlier.name}”，这里却是“{person.name}”，同一账号不能对应不同的人。")
        return
    if person.unit != earlier.unit:
        plan.fail(person.row, f"{where}属于“{earlier.unit}”，这里却是“{person.unit}”，一个人只能属于一个单位。")
        return
    if person.mobile and earlier.mobile and person.mobile != earlier.mobile:
        plan.fail(person.row, f"{where}的手机号与这里不同，请只保留正确的一个。")
    earlier.mobile = earlier.mobile or person.mobile
    for platform, user_id in person.identities.items():
        if earlier.identities.setdefault(platform, user_id) != user_id:
            plan.fail(person.row, f"{where}的{PLATFORMS[platform]}与这里不同，请只保留正确的一个。")
    if person.roles is not None:
        earlier.roles = (earlier.roles or set()) | person.roles


def _stored_units(session: Session) -> tuple[dict[str, str], dict[str, str | None]]:
    """Kind and parent name of every stored unit and department, by name."""
    units = session.scalars(select(OrgUnit)).all()
    names = {unit.id: unit.name for unit in units}
    kinds: dict[str, str] = {unit.name: unit.level for unit in units}
    parents = {unit.name: names.get(unit.parent_id) for unit in units if unit.parent_id}
    for department in session.scalars(select(Department)):
        if department.name not in kinds:
            kinds[department.name] = DEPARTMENT
            if department.org_unit_id:
                parents[department.name] = names.get(department.org_unit_id)
    return kinds, parents


def _check_units(plan: ImportPlan, stored_kinds: dict[str, str], stored_parents: dict[str, str | None]) -> None:
    kinds, parents = dict(stored_kinds), dict(stored_parents)
    for unit in plan.units.values():
        old = stored_kinds.get(unit.name)
        if old and (old == DEPARTMENT) != (unit.kind == DEPARTMENT):
            plan.fail(
                unit.row,
                f"“{unit.name}”已登记为{KIND_LABELS[old]}，不能改成{KIND_LABELS[unit.kind]}，请换一个名称。",
            )
        kinds[unit.name] = unit.kind
        if unit.parent:
            parents[unit.name] = unit.parent
    for unit in plan.units.values():
        parent, row, label = parents.get(unit.name), unit.parent_row or unit.row, KIND_LABELS[unit.kind]
        if unit.kind == Level.DISTRICT:
            if parent:
                plan.fail(row, f"“{unit.name}”是区，区是最高一级，“上级单位”请留空。")
            continue
        wanted = PARENT_KINDS[unit.kind]
        wanted_label = "或".join(KIND_LABELS[kind] for kind in wanted)
        if parent is None:
            plan.fail(row, f"“{unit.name}”缺少“上级单位”，{label}的上级单位应是{wanted_label}。")
        elif parent not in kinds:
            candidates = [name for name, kind in kinds.items() if kind in wanted and name != unit.name]
            guess = get_close_matches(parent, candidates, n=1, cutoff=0.6)
            hint = f"是否是“{guess[0]}”？" if guess else "请先添加这个单位的一行，或检查名称是否写错。"
            plan.fail(row, f"上级单位“{parent}”不存在，{hint}")
        elif loop := _loop(unit.name, parents):
            plan.fail(row, f"“{unit.name}”的上级单位形成了循环：{' → '.join(loop)}，请检查“上级单位”。")
        elif kinds[parent] not in wanted:
            plan.fail(
                row,
                f"“{unit.name}”是{label}，上级单位应是{wanted_label}，但“{parent}”是{KIND_LABELS[kinds[parent]]}。",
            )
    # A stored unit the file does not mention may hang below a unit whose level the file changes.
    for name, parent in parents.items():
        if name in plan.units or parent not in plan.units or kinds[parent] == stored_kinds.get(parent):
            continue
        if kinds[parent] not in PARENT_KINDS.get(kinds[name], ()):
            plan.fail(
                plan.units[parent].row,
                f"“{parent}”改为{KIND_LABELS[kinds[parent]]}后，已有的下级单位“{name}”（{KIND_LABELS[kinds[name]]}）"
                f"与它的层级不再相符，请在文件中一并调整“{name}”的上级单位。",
            )


def _loop(start: str, parents: dict[str, str | None]) -> list[str] | None:
    """The chain start → … → start when following parents comes back to start."""
    chain, current = [start], parents.get(start)
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return [*chain, start] if current == start else None


def _stored_identities(session: Session) -> dict[tuple[str, str], str]:
    """(platform, user id) -> the account that holds it now."""
    query = select(PlatformIdentity.platform, PlatformIdentity.user_id, Person.account).join(
        Person, Person.id == PlatformIdentity.person_id
    )
    return {(platform, user_id): account for platform, user_id, account in session.execute(query)}


def _check_identities(plan: ImportPlan, stored: dict[tuple[str, str], str]) -> None:
    seen: dict[tuple[str, str], PersonPlan] = {}
    for person in plan.people.values():
        for platform, user_id in person.identities.items():
            title, key = PLATFORMS[platform], (platform, user_id)
            other = seen.setdefault(key, person)
            if other is not person:
                plan.fail(
                    person.row,
                    f"{title}“{user_id}”与第 {other.row} 行“{other.name}”的重复，每人的{title}应不同。",
                )
                continue
            holder = stored.get(key)
            # The holder keeps the id unless this file gives them another one on the same platform.
            restated = holder in plan.people and platform in plan.people[holder].identities
            if holder and holder != person.account and not restated:
                plan.fail(person.row, f"{title}“{user_id}”已属于账号“{holder}”，请检查是否填错。")
