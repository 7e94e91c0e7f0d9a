"""Who may read a ledger: the department owning it and those it is shared with; every change audited.

Times may be aware or naive UTC; they are stored naive UTC like every other time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger_store import audit
from ledger_store.ledgers import naive_utc
from ledger_store.models import Department, Ledger, LedgerGrant


def grant_of(session: Session, ledger: Ledger, department_id: int) -> LedgerGrant | None:
    """The department's share of the ledger, or None."""
    query = select(LedgerGrant).where(LedgerGrant.ledger_id == ledger.id, LedgerGrant.department_id == department_id)
    return session.scalar(query)


def shares(session: Session, ledger: Ledger) -> list[tuple[Department, bool]]:
    """The departments the ledger is shared with, by name, each with whether it sees sensitive fields whole."""
    query = (
        select(Department, LedgerGrant.full)
        .join(LedgerGrant, LedgerGrant.department_id == Department.id)
        .where(LedgerGrant.ledger_id == ledger.id)
        .order_by(Department.name)
    )
    return [(department, full) for department, full in session.execute(query).all()]


def set_owner(session: Session, ledger: Ledger, department: Department, actor_id: int | None, now: datetime) -> None:
    """Make the department the ledger's owner; a share it had goes, since an owner sees everything anyway."""
    if ledger.owner_department_id == department.id:
        return
    before = ledger.owner.name if ledger.owner is not None else None
    grant = grant_of(session, ledger, department.id)
    if grant is not None:
        session.delete(grant)
    ledger.owner = department
    session.flush()
    audit.record(
        session,
        at=naive_utc(now),
        actor_id=actor_id,
        action="ledger_owner",
        entity="ledger",
        entity_id=ledger.id,
        old={"owner": before},
        new={"owner": department.name},
    )


def share(
    session: Session, ledger: Ledger, department: Department, full: bool, actor_id: int | None, now: datetime
) -> bool:
    """Share the ledger with a department (sensitive fields whole when `full`); False when it already was so."""
    grant = grant_of(session, ledger, department.id)
    if grant is not None and grant.full == full:
        return False
    old = None if grant is None else {"department": department.name, "full": grant.full}
    if grant is None:
        grant = LedgerGrant(ledger_id=ledger.id, department_id=department.id)
        session.add(grant)
    grant.full, grant.granted_at, grant.granted_by_id = full, naive_utc(now), actor_id
    audit.record(
        session,
        at=naive_utc(now),
        actor_id=actor_id,
        action="ledger_share",
        entity="ledger",
        entity_id=ledger.id,
        old=old,
        new={"department": department.name, "full": full},
    )
    return True


def unshare(session: Session, ledger: Ledger, department: Department, actor_id: int | None, now: datetime) -> bool:
    """Stop sharing the ledger with a department; False when it was not shared."""
    grant = grant_of(session, ledger, department.id)
    if grant is None:
        return False
    session.delete(grant)
    audit.record(
        session,
        at=naive_utc(now),
        actor_id=actor_id,
        action="ledger_unshare",
        entity="ledger",
        entity_id=ledger.id,
        old={"department": department.name, "full": grant.full},
        new=None,
    )
    return True
