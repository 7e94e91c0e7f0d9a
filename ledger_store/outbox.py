"""Writing pushes into the outbox inside the caller's transaction, once per dedupe key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger_store.models import OutboxMessage, StoredFile

# Replies to what a person just said start their dedupe keys with this; they may repeat word for word.
REPLY_PREFIX = "reply:"


def enqueue(
    session: Session,
    *,
    person_id: int | None,
    dedupe_key: str,
    now: datetime,
    text: str | None = None,
    file: StoredFile | None = None,
    platform: str | None = None,
    card: dict[str, Any] | None = None,
    user_id: str | None = None,
) -> OutboxMessage | None:
    """Queue a push to a person (or, with platform and user_id, to an unregistered sender); None on a repeat key."""
    existing = session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
    if existing is not None:
        return None
    message = OutboxMessage(
        dedupe_key=dedupe_key,
        person_id=person_id,
        user_id=user_id,
        platform=platform,
        text=text,
        card=card,
        file=file,
        created_at=now,
        attempts=0,
    )
    session.add(message)
    session.flush()
    return message


def store_file(session: Session, name: str, content: bytes, now: datetime) -> StoredFile:
    """Keep a generated file so the outbox can deliver it later."""
    stored = StoredFile(name=name, content=content, created_at=now)
    session.add(stored)
    session.flush()
    return stored


def is_reply(message: OutboxMessage) -> bool:
    """True for a reply to a person's message, as opposed to a push the bot starts (task, reminder, summary)."""
    return message.dedupe_key.startswith(REPLY_PREFIX)
