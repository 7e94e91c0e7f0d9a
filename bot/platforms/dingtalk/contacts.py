"""DingTalk's contacts as a platform-neutral directory: departments walked from the root one level at a time,
users read page by page for each department, every member once with their userid."""

from __future__ import annotations

from collections import deque
from typing import Any

from bot.platforms.base import Directory, DirectoryMember, DirectoryUnit
from bot.platforms.dingtalk.api import DingTalkApiError, DingTalkClient

PLATFORM = "dingtalk"
ACTION = f"{PLATFORM}_sync"
# The organisation itself is department 1; listsub gives one level below a department.
ROOT_DEPT_ID = 1
DEPARTMENT_GET_PATH = "/topapi/v2/department/get"
LISTSUB_PATH = "/topapi/v2/department/listsub"
USER_LIST_PATH = "/topapi/v2/user/list"
# user/list takes at most 100 a page.
PAGE_SIZE = 100


def dingtalk_directory(client: DingTalkClient, page_size: int = PAGE_SIZE) -> Directory:
    """Every department, parents first (the root, named by department/get, at the top), and every member once."""
    units = departments(client)
    members: dict[str, dict[str, Any]] = {}
    for unit in units:
        for user in department_users(client, int(unit.key), page_size):
            members.setdefault(user["userid"], user)
    return Directory(tuple(units), tuple(directory_member(user) for user in members.values()))


def departments(client: DingTalkClient) -> list[DirectoryUnit]:
    """The department tree breadth-first: each department after its parent, each listed once."""
    root = client.oapi(DEPARTMENT_GET_PATH, {"dept_id": ROOT_DEPT_ID}) or {}
    units = [DirectoryUnit(str(ROOT_DEPT_ID), str(root.get("name") or ""), None)]
    seen, waiting = {ROOT_DEPT_ID}, deque([ROOT_DEPT_ID])
    while waiting:
        parent = waiting.popleft()
        for child in client.oapi(LISTSUB_PATH, {"dept_id": parent}) or []:
            dept_id = child["dept_id"]
            if dept_id in seen:
                continue
            seen.add(dept_id)
            units.append(DirectoryUnit(str(dept_id), str(child.get("name") or ""), str(parent)))
            waiting.append(dept_id)
    return units


def department_users(client: DingTalkClient, dept_id: int, page_size: int = PAGE_SIZE) -> list[dict[str, Any]]:
    """The users of one department (not of its sub-departments), following next_cursor while has_more."""
    users: list[dict[str, Any]] = []
    cursor, asked = 0, set()
    while True:
        asked.add(cursor)
        page = client.oapi(USER_LIST_PATH, {"dept_id": dept_id, "cursor": cursor, "size": page_size}) or {}
        users.extend(page.get("list") or [])
        if not page.get("has_more"):
            return users
        cursor = page.get("next_cursor")
        if cursor is None or cursor in asked:
            # A cursor that does not move would page for ever: better no sync than a partial one.
            raise DingTalkApiError("v2/user/list", "BadCursor", f"next_cursor {cursor!r} does not move on", 200)


def directory_member(user: dict[str, Any]) -> DirectoryMember:
    """A DingTalk user: the departments in dept_id_list order (DingTalk names no main one); `active` there only
    says whether they have activated DingTalk yet, so everyone listed counts as a member (leavers are not listed)."""
    return DirectoryMember(
        user_id=user["userid"],
        name=user.get("name") or "",
        mobile=user.get("mobile") or None,
        unit_keys=tuple(dict.fromkeys(str(key) for key in user.get("dept_id_list") or [])),
    )
