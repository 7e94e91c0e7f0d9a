"""May a department issue a form: every ledger the form reads and writes must be its own or shared with it in full.

A question linked to a ledger (save_to) is prefilled from the ledger, its answer is written back into it, and the
summary the issuing department receives shows every answer whole. Issuing such a form is therefore reading that
ledger whole and writing into it: only the ledger's owner, or a department it is shared with in full (/台账权限
… 共享 部门 完整), may do it. An admin acting for a department has that department's rights, no more.

A form brought in by chat belongs to the department that brought it (Form.owner_department_id): another
department may issue it, but only its own department (or an admin) may change its questions, and nobody may
replace a built-in template by sending a workbook with its form_id.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from handlers.forms.fields import Field
from handlers.ledgers.access import department_access
from handlers.ledgers.links import links_of
from handlers.texts import issuing as t
from ledger_store.models import Department, Form, Ledger, Person, Role


def ledgers_out_of_reach(session: Session, department: Department, fields: Sequence[Field]) -> list[Ledger]:
    """The ledgers the fields are linked to that the department neither owns nor is granted in full."""
    beyond = []
    for ledger in {link.ledger.id: link.ledger for link in links_of(session, fields)}.values():
        access = department_access(session, department, ledger)
        if access is None or not access.full:
            beyond.append(ledger)
    return beyond


def issue_refusal(session: Session, department: Department, title: str, fields: Sequence[Field]) -> str | None:
    """The sentence refusing the department a form that reaches ledgers beyond it, or None when it may issue it."""
    beyond = ledgers_out_of_reach(session, department, fields)
    if not beyond:
        return None
    owned = [(ledger.title, ledger.owner.name if ledger.owner is not None else None) for ledger in beyond]
    return t.form_beyond_ledgers(title, department.name, owned)


def change_refusal(form: Form | None, person: Person) -> str | None:
    """The sentence refusing a person's workbook that would change an existing form not theirs; None: it may."""
    if form is None or person.has_role(Role.ADMIN):
        return None
    if form.owner_department_id is None:
        return t.form_id_builtin(form.code, form.title)
    if form.owner_department_id != person.department_id:
        return t.form_id_taken(form.code, form.title, form.owner.name)
    return None
