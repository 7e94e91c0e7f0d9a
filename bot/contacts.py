"""Pull a platform's directory (units and members) into the organisation: units by name, people by platform id
or account. Each platform's adapter reads its own directory (Platform.directory); this applies any of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.platforms.base import Directory, DirectoryMember, DirectoryUnit
from handlers.core.masking import mask_sensitive
from handlers.texts import contacts as texts
from handlers.texts.delivery import platform_title
from ledger_store.audit import record
from ledger_store.characters import without_unstorable
from ledger_store.db import transaction
from ledger_store.models import Department, Level, OrgUnit, Person, PlatformIdentity
from ledger_store.values.personal import normalize_mobile

log = logging.getLogger(__name__)

# A platform's units carry no level: a new one sits one level below its parent (a grid's children stay grids).
LEVEL_BELOW = {Level.DISTRICT: Level.TOWN, Level.TOWN: Level.VILLAGE, Level.VILLAGE: Level.GRID, Level.GRID: Level.GRID}
NAME_LENGTH = Person.__table__.c.name.type.length
UNIT_NAME_LENGTH = OrgUnit.__table__.c.name.type.length

Place = OrgUnit | Department


@dataclass
class SyncReport:
    """What a sync added and changed, by name, and the members it left out."""

    platform: str
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
        title = platform_title(self.platform)
        return texts.sync_summary(title, self.units_added, self.people_added, self.people_changed, self.skipped)


def sync_directory(
    factory: sessionmaker[Session], platform: str, directory: Directory, now: Callable[[], datetime]
) -> SyncReport:
    """Apply one snapshot of a platform's directory in one audited transaction stamped with `now()`."""
    with transaction(factory) as session:
        sync = _Sync(session, platform, as_stored(now()))
        sync.place_units(directory.units)
        sync.save_people(directory.members)
    log.info("%s sync: %d units and %d people added, %d people changed", platform, len(sync.report.units_added),
             len(sync.report.people_added), len(sync.report.people_changed))  # fmt: skip
    return sync.report


class _Sync:
    """Applies one snapshot of a platform's directory inside a transaction, counting and auditing every change."""

    def __init__(self, session: Session, platform: str, now: datetime) -> None:
        self.session, self.platform, self.now, self.report = session, platform, now, SyncReport(platform)
        self.units = {unit.name: unit for unit in session.scalars(select(OrgUnit))}
        self.departments = {department.name: department for department in session.scalars(select(Department))}
        roots = [u for u in self.units.values() if u.parent_id is None and u.level == Level.DISTRICT]
        self.district_root = roots[0] if len(roots) == 1 else None
        self.places: dict[str, Place] = {}  # the platform's unit key -> where its members belong here
        self.claimed: set[int] = set()  # units already matched to a WeCom department

    def place_units(self, units: tuple[DirectoryUnit, ...]) -> None:
        """Match or create a unit for every unit of the directory, parents before children."""
        listed = {unit.key for unit in units}
        remaining = list(units)
        while remaining:
            ready = [u for u in remaining if u.parent_key not in listed or u.parent_key in self.places]
            if not ready:
                log.warning("%s units %s form a cycle; left out", self.platform, [u.key for u in remaining])
                return
            for unit in ready:
                self.places[unit.key] = self._place(unit)
            remaining = [u for u in remaining if u.key not in self.places]

    def _place(self, listed: DirectoryUnit) -> Place:
        name = without_unstorable(listed.name).strip()
        parent = self.places.get(listed.parent_key) if listed.parent_key is not None else None
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
        if parent is None and listed.parent_key is None and root is not None and root.id not in self.claimed:
            self.claimed.add(root.id)
            return root
        return self._create_unit(listed, parent if parent is not None else root, candidates[::-1])

    def _create_unit(self, listed: DirectoryUnit, parent: OrgUnit | None, names: list[str]) -> OrgUnit:
        """A new unit under `parent`, named by the first of `names` still free."""
        free = [name for name in names if name not in self.units and name not in self.departments]
        name = free[0] if free else f"{names[-1]}-{listed.key}"
        level = LEVEL_BELOW[Level(parent.level)] if parent is not None else Level.DISTRICT
        unit = OrgUnit(name=name, level=level, parent_id=parent.id if parent is not None else None)
        self.session.add(unit)
        self.session.flush()
        self.units[name] = unit
        self.claimed.add(unit.id)
        self._audit("org_unit", unit.id, None, {"name": name, "level": str(level), "parent_id": unit.parent_id})
        self.report.units_added.append(name)
        return unit

    def save_people(self, members: tuple[DirectoryMember, ...]) -> None:
        """Create or update the person behind every member and give them their identity on the platform."""
        people = {person.id: person for person in self.session.scalars(select(Person))}
        by_account = {person.account.lower(): person for person in people.values()}
        identities = list(
            self.session.scalars(select(PlatformIdentity).where(PlatformIdentity.platform == self.platform))
        )
        by_user_id = {identity.user_id.lower(): people[identity.person_id] for identity in identities}
        has_identity = {identity.person_id for identity in identities}
        for member in sorted(members, key=lambda member: member.user_id):
            userid, name = member.user_id, without_unstorable(member.name).strip()[:NAME_LENGTH]
            person = by_user_id.get(userid.lower())
            linked = person is not None
            if person is None:
                person = by_account.get(userid.lower())
                if person is not None and person.id in has_identity:
                    self.report.skipped.append(texts.skipped_conflict(person.name, person.account, self.title))
                    continue
            if person is None and not member.active:
                self.report.skipped.append(texts.skipped_disabled(name or userid, self.title))
                continue
            self._save_person(person, member, userid, name, linked)

    @property
    def title(self) -> str:
        return platform_title(self.platform)

    def _save_person(
        self, person: Person | None, member: DirectoryMember, userid: str, name: str, linked: bool
    ) -> None:
        wanted: dict[str, Any] = {"name": name} if name else {}
        place = self._place_of(member)
        if isinstance(place, OrgUnit):
            wanted |= {"org_unit_id": place.id, "department_id": None}
        elif isinstance(place, Department):
            wanted |= {"org_unit_id": None, "department_id": place.id}
        # A platform may hide mobiles (WeCom apps made after mid-2022 get none): an empty one keeps what we have.
        mobile = normalize_mobile(member.mobile or "")
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
            self.session.add(PlatformIdentity(person_id=person.id, platform=self.platform, user_id=userid))
            new[self.platform] = userid
            if old is not None:
                old[self.platform] = None
        if old is None or new:
            if old is not None:
                self.report.people_changed.append(person.name)
            self._audit("person", person.id, old, new)

    def _place_of(self, member: DirectoryMember) -> Place | None:
        """Where a member belongs: the first of their units (the main one first) that was placed."""
        return next((self.places[key] for key in member.unit_keys if key in self.places), None)

    def _audit(self, entity: str, entity_id: int, old: dict[str, Any] | None, new: dict[str, Any]) -> None:
        record(self.session, at=self.now, actor_id=None, action=f"{self.platform}_sync", entity=entity,
               entity_id=entity_id, old=_masked(old), new=_masked(new))  # fmt: skip


def as_stored(moment: datetime) -> datetime:
    """A moment as the database keeps it: naive UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _masked(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """Mobiles masked, including platform ids and accounts that are mobile numbers, as many are."""
    if values is None:
        return None
    return {key: mask_sensitive(value) if isinstance(value, str) else value for key, value in values.items()}
