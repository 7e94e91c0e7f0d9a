"""WeCom's contacts as a platform-neutral directory: departments become units, members keep their userid."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.contacts import SyncReport, sync_directory
from bot.platforms.base import Directory, DirectoryMember, DirectoryUnit
from bot.platforms.wecom.api import WeComClient

PLATFORM = "wecom"
ACTION = f"{PLATFORM}_sync"
# Member status 2 = disabled, 5 = left the corp: nobody to push to.
GONE = frozenset({2, 5})


def wecom_directory(client: WeComClient) -> Directory:
    """Every department (parents named by id; WeCom's root has parent 0) and every member once."""
    departments = sorted(client.departments(), key=lambda department: department["id"])
    members: dict[str, dict[str, Any]] = {}
    for department in departments:
        for member in client.members(department["id"]):
            members.setdefault(member["userid"], member)
    units = tuple(
        DirectoryUnit(str(d["id"]), d["name"], None if d["parentid"] == 0 else str(d["parentid"])) for d in departments
    )
    return Directory(units, tuple(directory_member(member) for member in members.values()))


def directory_member(member: dict[str, Any]) -> DirectoryMember:
    """A WeCom member: the main department first, then the others."""
    keys = [member.get("main_department"), *(member.get("department") or [])]
    return DirectoryMember(
        user_id=member["userid"],
        name=member.get("name") or "",
        mobile=member.get("mobile") or None,
        unit_keys=tuple(dict.fromkeys(str(key) for key in keys if key is not None)),
        active=member.get("status", 1) not in GONE,
    )


def sync_contacts(factory: sessionmaker[Session], client: WeComClient, now: Callable[[], datetime]) -> SyncReport:
    """Read WeCom's contacts, then apply them (see bot.contacts)."""
    return sync_directory(factory, PLATFORM, wecom_directory(client), now)
