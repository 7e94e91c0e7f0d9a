"""May this person read this ledger, and may they see its sensitive fields whole?

A department reads the ledgers it owns (everything whole) and those shared with it (sensitive fields masked
unless shared in full). An admin manages every ledger and may read any of them, masked: an admin looks after
the data, a department uses it. A ledger without an owner is for admins only until one is set.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.texts import ledger_access as t
from ledger_store.ledger_grants import grant_of
from ledger_store.ledgers import is_sensitive
from ledger_store.models import Department, Ledger, LedgerGrant, Person, Role


class Basis(StrEnum):
    """Why someone may read a ledger (written to the export's audit entry)."""

    OWNER = "owner"
    SHARED_FULL = "shared_full"
    SHARED = "shared"
    ADMIN = "admin"


@dataclass(frozen=True)
class Access:
    """A person's right to read one ledger."""

    basis: Basis

    @property
    def full(self) -> bool:
        """Are sensitive fields shown whole (in exports) and may conditions test them?"""
        return self.basis in (Basis.OWNER, Basis.SHARED_FULL)


def department_access(session: Session, department: Department | None, ledger: Ledger) -> Access | None:
    """A department's own right to the ledger (owner, full share, share), or None when it has none."""
    if department is None:
        return None
    if ledger.owner_department_id == department.id:
        return Access(Basis.OWNER)
    grant = grant_of(session, ledger, department.id)
    if grant is None:
        return None
    return Access(Basis.SHARED_FULL if grant.full else Basis.SHARED)


def whole_ledger_ids(session: Session, department: Department | None) -> frozenset[int]:
    """The ledgers a department holds whole (owns, or was granted in full): the only ones a shared field
    (标准字段) may be read from or written into on its behalf."""
    if department is None:
        return frozenset()
    owned = select(Ledger.id).where(Ledger.owner_department_id == department.id)
    granted = select(LedgerGrant.ledger_id).where(LedgerGrant.department_id == department.id, LedgerGrant.full)
    return frozenset(session.scalars(owned)) | frozenset(session.scalars(granted))


def ledger_access(session: Session, person: Person, ledger: Ledger) -> Access | str:
    """The person's access to the ledger, or the sentence refusing it that names who owns the ledger."""
    department = person.department
    access = department_access(session, department, ledger)
    if access is not None:
        return access
    if person.has_role(Role.ADMIN):
        return Access(Basis.ADMIN)
    if ledger.owner is None:
        return t.no_owner(ledger.title)
    return t.not_shared(ledger.title, ledger.owner.name, department.name if department else None)


def sensitive_labels(ledger: Ledger) -> list[str]:
    """The labels of the ledger's sensitive fields, in definition order."""
    return [field["label"] for field in ledger.fields if is_sensitive(field)]
