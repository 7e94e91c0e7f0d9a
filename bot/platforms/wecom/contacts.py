"""Pull WeCom's departments and members into the organisation: units by name, people by WeCom id or account."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.platforms.wecom.api import WeComClient
from handlers.core.masking import mask_sensitive
from handlers.texts import wecom as texts
from ledger_store.audit import record
from ledger_store.characters import without_unstorable
from ledger_store.db import transaction
from ledger_store.models import Department, Level, OrgUnit, Person, PlatformIdentity
from ledger_store.values.personal import normalize_mobile

log = logging.getLogger(__name__)

PLATFORM = "wecom"
ACTION = "wecom_sync"
# WeCom departments carry no level: a new one sits one level below its parent (a grid's children stay grids).
LEVEL_BELOW = {Level.DISTRICT: Level.TOWN, Level.TOWN: Level.VILLAGE, Level.VILLAGE: Level.GRID, Level.GRID: Level.GRID}
# Member status 2 = disabled, 5 = left the corp: nobody to push to.
GONE = frozenset({2, 5})
NAME_LENGTH = Person.__table__.c.name.type.length
UNIT_NAME_LENGTH = OrgUnit.__table__.c.name.type.length

Place = OrgUnit | Department


@dataclass
class SyncReport:
    """What a sync added and changed, by name, and the members it left out."""

    units_added: list[str] = field(default_factory=list)
    people_added: list[str] = field(default_factory=list)
    people_changed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when the sync wrote anything."""
        return bool(self.units_added or self.people_added or self.people_changed)

    def summary(self) -> str:
        """A Chinese paragraph for the admin who ran the sync."""
        return texts.sync_summary(self.units_added, self.people_added, self.people_changed, self.skipped)


def sync_contacts(factory: sessionmaker[Session], client: WeComClient, now: Callable[[], datetime]) -> SyncReport:
    """Read WeCom's contacts, then apply them in one audited transaction stamped with `now()`."""
    departments = client.departments()
    members: dict[str, dict[str, Any]] = {}
    for department in departments:
        for member in client.members(department["id"]):
            members.setdefault(member["userid"], member)
    with transaction(factory) as session:
        sync = _Sync(session, as_stored(now()))
        sync.place_departments(departments)
        sync.save_people(sorted(members.values(), key=lambda member: member["userid"]))
    log.info("WeCom sync: %d units and %d people added, %d people changed", len(sync.report.units_added),
             len(sync.report.people_added), len(sync.report.people_changed))  # fmt: skip
    return sync.report


class _Sync:
    """Applies one snapshot of WeCom's contacts inside a transaction, counting and auditing every change."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session, self.now, self.report = session, now, SyncReport()
        self.units = {unit.name: unit for unit in session.scalars(select(OrgUnit))}
        self.departments = {department.name: department for department in session.scalars(select(Department))}
        roots = [u for u in self.units.values() if u.parent_id is None and u.level == Level.DISTRICT]
        self.district_root = roots[0] if len(roots) == 1 else None
        self.places: dict[int, Place] = {}  # WeCom department id -> where its members belong here
        self.claimed: set[int] = set()  # units already matched to a WeCom department

    def place_departments(self, departments: list[dict[str, Any]]) -> None:
        """Match or create a unit for every department, parents before children."""
        listed = {department["id"] for department in departments}
        remaining = sorted(departments, key=lambda department: department["id"])
        while remaining:
            ready = [d for d in remaining if d["parentid"] not in listed or d["parentid"] in self.places]
            if not ready:
                log.warning("WeCom departments %s form a cycle; left out", [d["id"] for d in remaining])
                return
            for department in ready:
                self.places[department["id"]] = self._place(department)
            remaining = [d for d in remaining if d["id"] not in self.places]

    def _place(self, department: dict[str, Any]) -> Place:
        name = without_unstorable(department["name"]).strip()
        parent = self.places.get(department["parentid"])
        if isinstance(parent, Department):
            return parent  # a section of an issuing department: its people belong to the department
        # Two villages may each have a 第一网格: the qualified 松林村第一网格 is looked for first and made when the
        # plain name is taken, so a second sync finds every grid where the first one put it.
        candidates = [(parent.name + name)[:UNIT_NAME_LENGTH], name] if parent is not None else [name]
        for candidate in candidates:
            if candidate in self.departments:
                return self.departments[candidate]
            unit = self.units.get(candidate)
            if unit is not None and unit.id not in self.claimed:
                self.claimed.add(unit.id)
                return unit
        root = self.district_root
        if parent is None and department["parentid"] == 0 and root is not None and root.id not in self.claimed:
            self.claimed.add(root.id)
            return root
        return self._create_unit(department, parent if parent is not None else root, candidates[::-1])

    def _create_unit(self, department: dict[str, Any], parent: OrgUnit | None, names: list[str]) -> OrgUnit:
        """A new unit under `parent`, named by the first of `names` still free."""
        free = [name for name in names if name not in self.units and name not in self.departments]
        name = free[0] if free else f"{names[-1]}-{department['id']}"
        level = LEVEL_BELOW[Level(parent.level)] if parent is not None else Level.DISTRICT
        unit = OrgUnit(name=name, level=level, parent_id=parent.id if parent is not None else None)
        self.session.add(unit)
        self.session.flush()
        self.units[name] = unit
        self.claimed.add(unit.id)
        self._audit("org_unit", unit.id, None, {"name": name, "level": str(level), "parent_id": unit.parent_id})
        self.report.units_added.append(name)
        return unit

    def save_people(self, members: list[dict[str, Any]]) -> None:
        """Create or update the person behind every member and give them their WeCom identity."""
        people = {person.id: person for person in self.session.scalars(select(Person))}
        by_account = {person.account.lower(): person for person in people.values()}
        identities = list(self.session.scalars(select(PlatformIdentity).where(PlatformIdentity.platform == PLATFORM)))
        by_user_id = {identity.user_id.lower(): people[identity.person_id] for identity in identities}
        has_identity = {identity.person_id for identity in identities}
        for member in members:
            userid, name = member["userid"], without_unstorable(member.get("name") or "").strip()[:NAME_LENGTH]
            person = by_user_id.get(userid.lower())
            linked = person is not None
            if person is None:
                person = by_account.get(userid.lower())
                if person is not None and person.id in has_identity:
                    self.report.skipped.append(texts.skipped_conflict(person.name, person.account))
                    continue
            if person is None and member.get("status", 1) in GONE:
                self.report.skipped.append(texts.skipped_disabled(name or userid))
                continue
            self._save_person(person, member, userid, name, linked)

    def _save_person(self, person: Person | None, member: dict[str, Any], userid: str, name: str, linked: bool) -> None:
        wanted: dict[str, Any] = {"name": name} if name else {}
        place = self._place_of(member)
        if isinstance(place, OrgUnit):
            wanted |= {"org_unit_id": place.id, "department_id": None}
        elif isinstance(place, Department):
            wanted |= {"org_unit_id": None, "department_id": place.id}
        # Apps made after mid-2022 get no mobile from WeCom: an empty one keeps what we have.
        mobile = normalize_mobile(member.get("mobile") or "")
        if mobile:
            wanted["mobile"] = mobile
        if person is None:
            person = Person(account=userid, **({"name": userid} | wanted))
            self.session.add(person)
            self.session.flush()
            self.report.people_added.append(person.name)
            old, new = None, {"account": userid, **wanted}
        else:
            old = {key: getattr(person, key) for key, value in wanted.items() if getattr(person, key) != value}
            new = {key: wanted[key] for key in old}
            for key, value in new.items():
                setattr(person, key, value)
        if not linked:
            self.session.add(PlatformIdentity(person_id=person.id, platform=PLATFORM, user_id=userid))
            new[PLATFORM] = userid
            if old is not None:
                old[PLATFORM] = None
        if old is None or new:
            if old is not None:
                self.report.people_changed.append(person.name)
            self._audit("person", person.id, old, new)

    def _place_of(self, member: dict[str, Any]) -> Place | None:
        """Where a member belongs: their main department when WeCom names it, else the first one we placed."""
        departments = [member.get("main_department"), *(member.get("department") or [])]
        return next((self.places[d] for d in departments if d in self.places), None)

    def _audit(self, entity: str, entity_id: int, old: dict[str, Any] | None, new: dict[str, Any]) -> None:
        record(self.session, at=self.now, actor_id=None, action=ACTION, entity=entity, entity_id=entity_id,
               old=_masked(old), new=_masked(new))  # fmt: skip


def as_stored(moment: datetime) -> datetime:
    """A moment as the database keeps it: naive UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _masked(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """Mobiles masked, including WeCom ids and accounts that are mobile numbers, as many are."""
    if values is None:
        return None
    return {key: mask_sensitive(value) if isinstance(value, str) else value for key, value in values.items()}
