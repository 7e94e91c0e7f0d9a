"""Import the organisation (units, departments, people, roles, chat ids) from an .xlsx or .csv sheet.

The whole file is checked first; any error means nothing is written. Units are matched by name and people
by account, so importing the same file again changes nothing. An empty 角色, 手机号, 企业微信账号 or 钉钉账号
cell keeps what is stored; people absent from the file are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger_store.models import AuditEntry, Department, OrgUnit, Person, PersonRole, PlatformIdentity
from ledger_store.org_plan import (
    DEPARTMENT,
    KIND_ORDER,
    ImportPlan,
    PersonPlan,
    UnitPlan,
    plan_import,
)
from ledger_store.org_sheet import OrgSheetError, read_org_sheet

ACTION = "org_import"
MAX_ERRORS_SHOWN = 30


@dataclass
class ImportReport:
    """What an import did, or the row-numbered reasons it did nothing."""

    errors: list[str]
    units_added: int = 0
    units_updated: int = 0
    departments_added: int = 0
    departments_updated: int = 0
    people_added: int = 0
    people_updated: int = 0

    def summary(self) -> str:
        """One Chinese paragraph for the person who uploaded the file."""
        if self.errors:
            lines = ["导入失败，未写入任何数据，请修改以下问题后重新导入：", *self.errors[:MAX_ERRORS_SHOWN]]
            if len(self.errors) > MAX_ERRORS_SHOWN:
                lines.append(f"……另有 {len(self.errors) - MAX_ERRORS_SHOWN} 个问题未列出。")
            return "\n".join(lines)
        return (
            f"导入完成：新增单位 {self.units_added} 个，更新 {self.units_updated} 个；"
            f"新增部门 {self.departments_added} 个，更新 {self.departments_updated} 个；"
            f"新增人员 {self.people_added} 人，更新 {self.people_updated} 人。"
        )


def import_org(
    session: Session, path: Path, actor_id: int | None = None, *, now: datetime | None = None
) -> ImportReport:
    """Check and apply an organisation sheet inside the caller's transaction; nothing is written on errors."""
    try:
        sheet = read_org_sheet(path)
    except OrgSheetError as error:
        return ImportReport(errors=[str(error)])
    if not sheet.rows and not sheet.problems:
        return ImportReport(errors=["文件里只有第 1 行的列名，没有数据。请从第 2 行起，每行填写一个单位或一个人员。"])
    plan = plan_import(session, sheet.rows)
    errors = sorted([*sheet.problems, *plan.errors], key=lambda error: error[0])
    if errors:
        return ImportReport(errors=[f"第 {row} 行：{reason}" for row, reason in errors])
    at = now or datetime.now(UTC).replace(tzinfo=None)
    return _Importer(session, plan, actor_id, at).apply()


class _Importer:
    """Applies a checked plan, counting and auditing every change."""

    def __init__(self, session: Session, plan: ImportPlan, actor_id: int | None, at: datetime) -> None:
        self.session, self.plan, self.actor_id, self.at = session, plan, actor_id, at
        self.kinds = {unit.name: unit.kind for unit in plan.units.values()}
        self.report = ImportReport(errors=[])
        self.units = {unit.name: unit for unit in session.scalars(select(OrgUnit))}
        self.departments = {department.name: department for department in session.scalars(select(Department))}

    def apply(self) -> ImportReport:
        for unit in sorted(self.plan.units.values(), key=lambda unit: KIND_ORDER.index(unit.kind)):
            if unit.kind == DEPARTMENT:
                self._save_department(unit)
            else:
                self._save_unit(unit)
        self._save_people(list(self.plan.people.values()))
        self.session.flush()
        return self.report

    def _save_unit(self, plan: UnitPlan) -> None:
        wanted: dict[str, Any] = {"level": plan.kind, "kind": plan.word}
        if plan.parent:
            wanted["parent_id"] = self.units[plan.parent].id
        unit = self.units.get(plan.name)
        if unit is None:
            unit = self.units[plan.name] = OrgUnit(name=plan.name, **wanted)
            self._add(unit)
            self._audit("org_unit", unit.id, None, {"name": plan.name, **wanted})
            self.report.units_added += 1
        elif changes := _assign(unit, wanted):
            self._audit("org_unit", unit.id, *changes)
            self.report.units_updated += 1

    def _save_department(self, plan: UnitPlan) -> None:
        wanted = {"org_unit_id": self.units[plan.parent].id} if plan.parent else {}
        department = self.departments.get(plan.name)
        if department is None:
            department = self.departments[plan.name] = Department(name=plan.name, **wanted)
            self._add(department)
            self._audit("department", department.id, None, {"name": plan.name, **wanted})
            self.report.departments_added += 1
        elif changes := _assign(department, wanted):
            self._audit("department", department.id, *changes)
            self.report.departments_updated += 1

    def _save_people(self, plans: list[PersonPlan]) -> None:
        accounts = [plan.account for plan in plans]
        people = {p.account: p for p in self.session.scalars(select(Person).where(Person.account.in_(accounts)))}
        identities: dict[tuple[int, str], list[PlatformIdentity]] = {}
        for identity in self.session.scalars(select(PlatformIdentity)):
            identities.setdefault((identity.person_id, identity.platform), []).append(identity)
        stale: list[PlatformIdentity] = []
        fresh: list[PlatformIdentity] = []
        for plan in plans:
            person, old, new = self._save_person(people.get(plan.account), plan)
            for platform, user_id in sorted(plan.identities.items()):
                current = identities.get((person.id, platform), [])
                if [identity.user_id for identity in current] != [user_id]:
                    stale += current
                    fresh.append(PlatformIdentity(person_id=person.id, platform=platform, user_id=user_id))
                    if old is not None:
                        old[platform] = ", ".join(identity.user_id for identity in current) or None
                    new[platform] = user_id
            if old is None:
                self._audit("person", person.id, None, new)
                self.report.people_added += 1
            elif new:
                self._audit("person", person.id, old, new)
                self.report.people_updated += 1
        # Delete before insert: one import may hand a chat id from one person to another.
        for identity in stale:
            self.session.delete(identity)
        self.session.flush()
        self.session.add_all(fresh)

    def _save_person(
        self, person: Person | None, plan: PersonPlan
    ) -> tuple[Person, dict[str, Any] | None, dict[str, Any]]:
        """Create or update one person; returns it with the audit's old (None when created) and new values."""
        if self.kinds[plan.unit] == DEPARTMENT:
            wanted: dict[str, Any] = {"org_unit_id": None, "department_id": self.departments[plan.unit].id}
        else:
            wanted = {"org_unit_id": self.units[plan.unit].id, "department_id": None}
        wanted["name"] = plan.name
        if plan.mobile:
            wanted["mobile"] = plan.mobile
        roles = sorted(plan.roles or ())
        if person is None:
            person = Person(account=plan.account, roles=[PersonRole(role=role) for role in roles], **wanted)
            self._add(person)
            return person, None, {"account": plan.account, **wanted, "roles": roles}
        old, new = _assign(person, wanted) or ({}, {})
        held = sorted(role.role for role in person.roles)
        if plan.roles is not None and held != roles:
            old["roles"], new["roles"] = held, roles
            kept = [role for role in person.roles if role.role in plan.roles]
            person.roles = kept + [PersonRole(role=role) for role in roles if role not in held]
        return person, old, new

    def _add(self, row: Any) -> None:
        self.session.add(row)
        self.session.flush()

    def _audit(self, entity: str, entity_id: int, old: dict[str, Any] | None, new: dict[str, Any]) -> None:
        self.session.add(
            AuditEntry(
                at=self.at,
                actor_id=self.actor_id,
                action=ACTION,
                entity=entity,
                entity_id=str(entity_id),
                old=old,
                new=new,
            )
        )


def _assign(row: Any, wanted: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Set the attributes that differ; their old and new values, or None when nothing changed."""
    old = {key: getattr(row, key) for key, value in wanted.items() if getattr(row, key) != value}
    for key in old:
        setattr(row, key, wanted[key])
    return (old, {key: wanted[key] for key in old}) if old else None
