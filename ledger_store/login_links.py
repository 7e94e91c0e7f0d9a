"""One-time login links: a random token handed to a person, of which only a hash is stored; it works once, briefly."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ledger_store.models import LoginLink


def token_hash(token: str) -> str:
    """The stored form of a token: its SHA-256, so a copy of the database opens no session."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_link(session: Session, person_id: int, now: datetime, minutes: int) -> str:
    """Store a new link for the person, valid for `minutes`; returns the token (never stored as such)."""
    token = secrets.token_urlsafe(32)
    session.add(
        LoginLink(
            token_hash=token_hash(token),
            person_id=person_id,
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
    )
    session.flush()
    return token


def redeem_link(session: Session, token: str, now: datetime) -> int | None:
    """The person a fresh, unused link belongs to, marking it used; None for an unknown, used or expired link.

    One conditional UPDATE does the check and the marking, so two requests racing on one link open one session.
    """
    hashed = token_hash(token)
    claimed = session.execute(
        update(LoginLink)
        .where(LoginLink.token_hash == hashed, LoginLink.used_at.is_(None), LoginLink.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return None
    return session.scalar(select(LoginLink.person_id).where(LoginLink.token_hash == hashed))
