"""预警 rules and their hits: defining and removing a rule (audited), and claiming new matches once per (rule, record).

Hits are claimed by inserting their rows, all in one statement: the unique (rule, record) constraint lets only one
transaction have each, even when two processes evaluate the same rule at once, so a record is pushed for a rule once,
ever. A record that stops matching and later matches again keeps its old hit and is not pushed again.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, func, insert, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ledger_store import audit
from ledger_store.models import Ledger, LedgerRecord, OrgUnit, WarningHit, WarningRule


def add_rule(
    session: Session, *, ledger: Ledger, department_id: int, conditions: str, actor_id: int | None, now: datetime
) -> WarningRule:
    """Store a department's rule with its conditions as typed (they name it too); audited."""
    rule = WarningRule(
        ledger_id=ledger.id,
        department_id=department_id,
        name=conditions[:200],
        conditions=conditions,
        created_by_id=actor_id,
        created_at=now,
    )
    session.add(rule)
    session.flush()
    audit.record(session, at=now, actor_id=actor_id, action="warning_rule_add", entity="warning_rule",
                 entity_id=rule.id, new={"ledger": ledger.title, "conditions": conditions})  # fmt: skip
    return rule


def remove_rule(session: Session, rule: WarningRule, actor_id: int | None, now: datetime) -> None:
    """Stop evaluating the rule (its hits stay, as the record of what was pushed); audited."""
    rule.removed_at = now
    audit.record(session, at=now, actor_id=actor_id, action="warning_rule_remove", entity="warning_rule",
                 entity_id=rule.id, old={"ledger": rule.ledger.title, "conditions": rule.conditions})  # fmt: skip


def active_rules(session: Session, department_id: int | None) -> list[WarningRule]:
    """The rules not removed, of one department (all departments when None), oldest first."""
    query = select(WarningRule).where(WarningRule.removed_at.is_(None)).order_by(WarningRule.id)
    if department_id is not None:
        query = query.where(WarningRule.department_id == department_id)
    return list(session.scalars(query))


def rules_due(session: Session, checked_before: datetime) -> list[int]:
    """The ids of the rules not removed and not evaluated since `checked_before`, for the scheduler, oldest first."""
    query = select(WarningRule.id).where(
        WarningRule.removed_at.is_(None),
        or_(WarningRule.checked_at.is_(None), WarningRule.checked_at <= checked_before),
    )
    return list(session.scalars(query.order_by(WarningRule.id)))


def hit_counts(session: Session, rule_ids: Iterable[int], unit_ids: Collection[int] | None = None) -> dict[int, int]:
    """Rule id -> how many records it has found so far, of records now in the units (all when None)."""
    ids = sorted(set(rule_ids))
    if not ids:
        return {}
    query = select(WarningHit.rule_id, func.count()).where(WarningHit.rule_id.in_(ids)).group_by(WarningHit.rule_id)
    if unit_ids is not None:
        query = query.join(LedgerRecord, LedgerRecord.id == WarningHit.record_id)
        query = query.where(LedgerRecord.org_unit_id.in_(sorted(unit_ids)))
    return {rule_id: count for rule_id, count in session.execute(query).all()}


def claim(session: Session, rule_id: int, matching_ids: Any, now: datetime) -> list[int]:
    """Insert a hit for each record in the SELECT `matching_ids` the rule has none for, in one INSERT … SELECT (on
    MariaDB the ids read first, see _claim_mariadb), and return the ids this transaction got, in order. A hit another
    transaction holds (committed or not) is a conflict skipped without an error (ON CONFLICT DO NOTHING; INSERT
    IGNORE), so only the rows inserted come back (RETURNING) and a record is never claimed twice. Ids go in in order, so
    two claims of overlapping records wait for each other instead of deadlocking."""
    found = select(literal(rule_id), LedgerRecord.id, literal(now, DateTime())).where(
        LedgerRecord.id.in_(matching_ids),
        LedgerRecord.id.not_in(select(WarningHit.record_id).where(WarningHit.rule_id == rule_id)),
    )
    columns = ["rule_id", "record_id", "found_at"]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement = postgresql.insert(WarningHit).from_select(columns, found.order_by(LedgerRecord.id))
        statement = statement.on_conflict_do_nothing(index_elements=["rule_id", "record_id"])
    elif dialect == "sqlite":
        statement = sqlite.insert(WarningHit).from_select(columns, found.order_by(LedgerRecord.id))
        statement = statement.on_conflict_do_nothing(index_elements=["rule_id", "record_id"])
    else:
        return _claim_mariadb(session, rule_id, found.order_by(LedgerRecord.id), now)
    return sorted(session.scalars(statement.returning(WarningHit.record_id)))


def _claim_mariadb(session: Session, rule_id: int, found: Any, now: datetime) -> list[int]:
    """MariaDB: the ids read first with a plain read, then inserted with IGNORE (which skips a duplicate; RETURNING
    gives only the rows inserted). An INSERT … SELECT would hold shared locks on every ledger record it read until
    the evaluation commits, under REPEATABLE READ, and a chat write to two of them could deadlock with it."""
    ids = [record_id for _rule, record_id, _at in session.execute(found)]
    got: list[int] = []
    for start in range(0, len(ids), 1000):
        rows = [
            {"rule_id": rule_id, "record_id": record_id, "found_at": now} for record_id in ids[start : start + 1000]
        ]
        statement = insert(WarningHit).prefix_with("IGNORE").values(rows).returning(WarningHit.record_id)
        got += session.scalars(statement)
    return sorted(got)


def hits_of(
    session: Session, rule_id: int, limit: int, unit_ids: Collection[int] | None
) -> list[tuple[WarningHit, LedgerRecord, str | None]]:
    """The rule's latest hits (at most `limit`) of records in the units (all when None), newest first, each with its
    record and the record's unit name."""
    query = (
        select(WarningHit, LedgerRecord, OrgUnit.name)
        .join(LedgerRecord, LedgerRecord.id == WarningHit.record_id)
        .outerjoin(OrgUnit, OrgUnit.id == LedgerRecord.org_unit_id)
        .where(WarningHit.rule_id == rule_id)
        .order_by(WarningHit.found_at.desc(), WarningHit.id.desc())
        .limit(limit)
    )
    if unit_ids is not None:
        query = query.where(LedgerRecord.org_unit_id.in_(sorted(unit_ids)))
    return [(hit, record, unit) for hit, record, unit in session.execute(query).all()]


@dataclass(frozen=True)
class RecentHit:
    """One record a rule found, for digests (/分析): which rule, which ledger, which unit, when."""

    rule_id: int
    rule_name: str
    department_id: int
    ledger_title: str
    unit: str | None
    found_at: datetime


def recent_hits(session: Session, department_id: int | None, since: datetime) -> list[RecentHit]:
    """Hits found at or after `since` (naive UTC) by one department's rules (every department's when None),
    removed rules included, newest first. Nothing of the record itself, so nothing here needs masking."""
    query = (
        select(WarningRule, Ledger.title, OrgUnit.name, WarningHit.found_at)
        .join(WarningHit, WarningHit.rule_id == WarningRule.id)
        .join(Ledger, Ledger.id == WarningRule.ledger_id)
        .join(LedgerRecord, LedgerRecord.id == WarningHit.record_id)
        .outerjoin(OrgUnit, OrgUnit.id == LedgerRecord.org_unit_id)
        .where(WarningHit.found_at >= since)
        .order_by(WarningHit.found_at.desc(), WarningHit.id.desc())
    )
    if department_id is not None:
        query = query.where(WarningRule.department_id == department_id)
    return [
        RecentHit(rule.id, rule.name, rule.department_id, title, unit, found_at)
        for rule, title, unit, found_at in session.execute(query).all()
    ]
