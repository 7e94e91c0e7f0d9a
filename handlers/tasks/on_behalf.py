"""What an admin does for a department (a task, a recurring report): its issuers are told, and it is audited."""

from __future__ import annotations

from handlers.core.context import Context
from ledger_store import audit
from ledger_store.models import Department, Person
from ledger_store.org import issuers_of_department
from ledger_store.outbox import Push, enqueue_many


def tell_department(ctx: Context, person: Person, department: Department, key: str, text: str) -> None:
    """Push what `person` did for a department to its issuers, and audit that it was done for them."""
    issuers = [issuer for issuer in issuers_of_department(ctx.session, department.id) if issuer.id != person.id]
    enqueue_many(ctx.session, [Push(issuer.id, f"{key}:{issuer.id}", text) for issuer in issuers], ctx.now())
    audit.record(ctx.session, at=ctx.now(), actor_id=person.id, action="on_behalf", entity="department",
                 entity_id=department.id, new={"what": key, "department": department.name})  # fmt: skip
