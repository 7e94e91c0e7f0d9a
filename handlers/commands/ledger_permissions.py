"""/台账权限 (admins): which department owns each ledger, whom it is shared with, and changing either.

Every change is audited (ledger_store.ledger_grants) and told to the issuers of the departments it affects.
"""

from __future__ import annotations

import difflib
import re
import uuid

from sqlalchemy import select

from handlers.core.context import Context
from handlers.ledgers.access import sensitive_labels
from handlers.texts import ledger_access as t
from handlers.texts import ledgers as lt
from ledger_store.ledger_grants import set_owner, share, shares, unshare
from ledger_store.models import Department, Ledger, Person
from ledger_store.org import issuers_of_department
from ledger_store.outbox import Push, enqueue_many

_NAMES = re.compile(r"[\s、，,；;]+")


def run(ctx: Context, person: Person, args: str) -> list[str]:
    """/台账权限 [台账 [归属 部门 | 共享 部门… [完整] | 取消共享 部门…]]."""
    words = args.split()
    ledgers = list(ctx.session.scalars(select(Ledger).order_by(Ledger.id)))
    if not words:
        return [t.overview([describe(ctx, ledger) for ledger in ledgers])]
    ledger = next((item for item in ledgers if words[0] in (item.title, item.code)), None)
    if ledger is None:
        close = difflib.get_close_matches(words[0], [item.title for item in ledgers], n=3, cutoff=0.3)
        return [lt.unknown_ledger(words[0], close, [item.title for item in ledgers])]
    if len(words) == 1:
        return [t.overview([describe(ctx, ledger)])]
    action, rest = words[1], words[2:]
    full = bool(rest) and rest[-1] == t.FULL and action == t.SHARE
    names = [name for name in _NAMES.split(" ".join(rest[:-1] if full else rest)) if name]
    if action not in (t.OWNER, t.SHARE, t.UNSHARE) or not names or (action == t.OWNER and len(names) > 1):
        return [t.USAGE]
    departments = find_departments(ctx, names)
    if isinstance(departments, str):
        return [departments]
    if action == t.OWNER:
        return [change_owner(ctx, person, ledger, departments[0])]
    if action == t.SHARE:
        return ["\n".join(share_with(ctx, person, ledger, department, full) for department in departments)]
    return ["\n".join(stop_sharing(ctx, person, ledger, department) for department in departments)]


def describe(ctx: Context, ledger: Ledger) -> str:
    """One line on a ledger's owner, shares and sensitive fields."""
    shared = [(department.name, full) for department, full in shares(ctx.session, ledger)]
    owner = ledger.owner.name if ledger.owner is not None else None
    return t.ledger_line(ledger.title, owner, shared, sensitive_labels(ledger))


def find_departments(ctx: Context, names: list[str]) -> list[Department] | str:
    """The departments by name, or the sentence naming the one not found and the closest ones."""
    by_name = {department.name: department for department in ctx.session.scalars(select(Department))}
    if not by_name:
        return t.NO_DEPARTMENTS
    unknown = next((name for name in names if name not in by_name), None)
    if unknown is not None:
        close = difflib.get_close_matches(unknown, list(by_name), n=3, cutoff=0.4)
        return t.unknown_department(unknown, close, sorted(by_name))
    return [by_name[name] for name in dict.fromkeys(names)]


def change_owner(ctx: Context, person: Person, ledger: Ledger, department: Department) -> str:
    """Make the department the owner; the new and the former owner's issuers are told."""
    before = ledger.owner
    if before is not None and before.id == department.id:
        return t.already_owner(ledger.title, department.name)
    set_owner(ctx.session, ledger, department, person.id, ctx.now())
    notices = [(department, t.notice_owner(ledger.title))]
    if before is not None:
        notices.append((before, t.notice_lost(ledger.title, department.name)))
    _notify(ctx, notices)
    return t.owner_set(ledger.title, department.name, before.name if before is not None else None)


def share_with(ctx: Context, person: Person, ledger: Ledger, department: Department, full: bool) -> str:
    """Share the ledger with one department (masked unless `full`); its issuers are told."""
    if ledger.owner_department_id == department.id:
        return t.share_with_owner(ledger.title, department.name)
    if not share(ctx.session, ledger, department, full, person.id, ctx.now()):
        return t.already_shared(ledger.title, department.name, full)
    sensitive = sensitive_labels(ledger)
    owner = ledger.owner.name if ledger.owner is not None else None
    _notify(ctx, [(department, t.notice_shared(ledger.title, owner, full, sensitive))])
    return t.shared(ledger.title, department.name, full, sensitive)


def stop_sharing(ctx: Context, person: Person, ledger: Ledger, department: Department) -> str:
    """Stop sharing the ledger with one department; its issuers are told."""
    if not unshare(ctx.session, ledger, department, person.id, ctx.now()):
        return t.not_shared_yet(ledger.title, department.name)
    _notify(ctx, [(department, t.notice_unshared(ledger.title))])
    return t.unshared(ledger.title, department.name)


def _notify(ctx: Context, notices: list[tuple[Department, str]]) -> None:
    """Push each text to the issuers of its department, in this message's transaction."""
    # A fresh key per change: the admin's message is handled once, and two changes in one second are two notices.
    pushes = [
        Push(issuer.id, f"ledger-access:{uuid.uuid4().hex}", text)
        for department, text in notices
        for issuer in issuers_of_department(ctx.session, department.id)
    ]
    enqueue_many(ctx.session, pushes, ctx.now())
