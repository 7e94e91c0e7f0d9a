"""The audit log: every change to people, tasks and answers, with who, when, old and new (personal numbers masked)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ledger_store.models import AuditEntry


def record(
    session: Session,
    *,
    at: datetime,
    actor_id: int | None,
    action: str,
    entity: str,
    entity_id: object,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
) -> None:
    """Append one audit entry in the caller's transaction; the entry masks every ID number and mobile in it."""
    session.add(
        AuditEntry(at=at, actor_id=actor_id, action=action, entity=entity, entity_id=str(entity_id), old=old, new=new)
    )
