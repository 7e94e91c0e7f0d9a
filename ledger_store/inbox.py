"""Platform messages stored to handle after the acknowledgement: claiming the next one, what waits.

Several workers handle messages at once, each in its own transaction, and a person's messages are handled one
after another in the order they came: a worker claims a message only when no older message from the same person
still waits, and locks its row and the sender's row in inbound_senders (SKIP LOCKED: another worker passes over
them to someone else's). The older message stays waiting until the transaction that handles it commits, so the
later one cannot be claimed before; the sender's row keeps two of their messages from ever being handled at once.
SQLite has one writer at a time anyway: there every handler takes one lock row first and messages go one at a time.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Subquery, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from ledger_store.db import ensure_row
from ledger_store.models import CachedValue, InboundMessage, InboundSender, InboundStatus

# On SQLite, the row every handler of stored messages updates first, in every process, so one message is handled
# at a time: never the same one twice, and one person's messages in the order they came.
HANDLING_LOCK_KEY = "inbox:handling-lock"
# Senders whose oldest waiting message a claim looks at, in arrival order, before it gives up for now.
CLAIM_CANDIDATES = 20
SENDER_CHARS = 200


class MissingHandlingLock(LookupError):
    """The row lock_handling locks does not exist yet (a new database): create it and begin again."""


def create_handling_lock(factory: sessionmaker[Session], now: datetime) -> None:
    """Make sure the row lock_handling locks exists (in its own transaction, see ensure_row)."""
    ensure_row(
        factory, CachedValue, HANDLING_LOCK_KEY, lambda: CachedValue(key=HANDLING_LOCK_KEY, value=now.isoformat())
    )


def lock_handling(session: Session, now: datetime) -> None:
    """Hold the handling lock until the transaction ends; MissingHandlingLock when its row does not exist."""
    lock = update(CachedValue).where(CachedValue.key == HANDLING_LOCK_KEY).values(value=now.isoformat())
    if not session.execute(lock).rowcount:
        raise MissingHandlingLock("the inbox handling lock row is missing: call create_handling_lock first")


def sender_key(user_id: str | None) -> str:
    """What a stored message keeps of its sender's platform id to tell their messages apart."""
    return (user_id or "")[:SENDER_CHARS]


def store_once(session: Session, values: dict[str, Any]) -> int | None:
    """Insert a message's row unless its (platform, message_key) is stored already: its id, or None for a repeat.

    One statement, no look first (a callback's acknowledgement waits for it): a repeat, even one another
    transaction is storing at this moment, is skipped without an error (ON CONFLICT DO NOTHING; INSERT IGNORE on
    MariaDB), and RETURNING gives the id only of a row inserted.
    """
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        module = postgresql if dialect == "postgresql" else sqlite
        statement = module.insert(InboundMessage).values(**values)
        statement = statement.on_conflict_do_nothing(index_elements=["platform", "message_key"])
    else:
        statement = insert(InboundMessage).prefix_with("IGNORE").values(**values)
    return session.scalar(statement.returning(InboundMessage.id))


def _heads() -> Subquery:
    """The id of each sender's oldest waiting message (one GROUP BY over the index on status, platform, sender and
    id: no plan that depends on the table's statistics, as an anti-join would on a new database)."""
    return (
        select(func.min(InboundMessage.id).label("id"))
        .where(InboundMessage.status == InboundStatus.PENDING)
        .group_by(InboundMessage.platform, InboundMessage.sender)
        .subquery()
    )


def claim_next(session: Session, now: datetime, skip: Collection[int] = ()) -> InboundMessage | None:
    """The oldest message to handle now, locked until the transaction ends; None when none can be taken.

    Only a sender's oldest waiting message can be taken: while an older one waits (in another worker's hands, being
    downloaded, or left out by `skip` after it failed), their later messages wait too. Rows other transactions have
    locked are passed over. On SQLite the handling lock is taken first (MissingHandlingLock when its row does not
    exist), and messages go one at a time.
    """
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:
        lock_handling(session, now)
    # A plain read picks the candidates (a locking read would pass over a locked older message as if it were
    # not there); each is then locked on its own and taken only if it still waits.
    heads = _heads()
    query = (
        select(InboundMessage.id, InboundMessage.platform, InboundMessage.sender)
        .join(heads, heads.c.id == InboundMessage.id)
        .where(or_(InboundMessage.fetch_until.is_(None), InboundMessage.fetch_until <= now))
    )
    if skip:
        query = query.where(InboundMessage.id.not_in(list(skip)))
    for row_id, platform, sender in session.execute(query.order_by(InboundMessage.id).limit(CLAIM_CANDIDATES)).all():
        row = session.scalar(
            select(InboundMessage)
            .where(InboundMessage.id == row_id, InboundMessage.status == InboundStatus.PENDING)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        if row is not None and (sqlite or _hold_sender(session, platform, sender)):
            return row
    return None


def _hold_sender(session: Session, platform: str, sender: str) -> bool:
    """Lock the sender's row until the transaction ends; False when another worker holds it. A message stored before
    the candidate but committed after it can be in another worker's hands though the candidate is the oldest one
    waiting: the sender's row makes sure their messages are never handled two at a time. The row is made at their
    first message, in a short transaction of its own, so a worker making it never waits for another's handling."""
    mine = InboundSender.platform == platform, InboundSender.sender == sender
    lock = select(InboundSender.sender).where(*mine).with_for_update(skip_locked=True)
    if session.scalar(lock) is not None:
        return True
    if session.scalar(select(InboundSender.sender).where(*mine)) is not None:
        return False  # there, and locked: another worker is handling one of theirs
    row = {"platform": platform, "sender": sender}
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        statement = postgresql.insert(InboundSender).values(row).on_conflict_do_nothing()
    else:
        statement = insert(InboundSender).prefix_with("IGNORE").values(row)
    with bind.connect() as connection:
        connection.execute(statement)
        connection.commit()
    return session.scalar(lock) is not None


def fewest_attempts_pending(session: Session) -> int | None:
    """The fewest tries among the messages that can be taken next (each sender's oldest waiting one): 0 when one is
    new, None when none waits. A new message behind its sender's failed one does not count as new."""
    heads = _heads()
    return session.scalar(select(func.min(InboundMessage.attempts)).join(heads, heads.c.id == InboundMessage.id))
