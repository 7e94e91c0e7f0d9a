"""What the benchmarks share: the machine they ran on, and a district with its towns and one issuing department."""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ledger_store.models import Department, Level, OrgUnit, Person, PersonRole, Role


def print_machine(versions: str) -> None:
    """Two lines naming the machine, the Python and the library versions (`versions`), and the time."""
    print(f"machine   {os.cpu_count()} cores, Python {platform.python_version()}, {versions},")
    print(f"          {platform.platform()}, {time.strftime('%Y-%m-%d %H:%M')}")


@dataclass
class District:
    """The top of a benchmark's organisation."""

    district: OrgUnit
    towns: list[OrgUnit]
    department: Department
    issuer: Person


def add_district(session: Session, towns: int) -> District:
    """永川区 with `towns` towns (第1镇 …) and 区民政局, whose issuer is li_minzheng; flushed."""
    district = OrgUnit(name="永川区", level=Level.DISTRICT)
    made = [OrgUnit(name=f"第{n}镇", level=Level.TOWN, parent=district) for n in range(1, towns + 1)]
    department = Department(name="区民政局")
    session.add_all([district, *made, department])
    session.flush()
    department.org_unit_id = district.id
    issuer = Person(account="li_minzheng", name="李敏正", department_id=department.id)
    issuer.roles = [PersonRole(role=Role.ISSUER)]
    session.add(issuer)
    session.flush()
    return District(district, made, department, issuer)
