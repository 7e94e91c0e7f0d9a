"""How much a delivery pass may send this minute: per member (the platform's limit) and per platform (ours).

Both count from the database what was handed to the platform in the last minute, rows still in flight in
another process included (a pass stamps sent_at when it leases a row), so every process keeps the same limits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ledger_store.outbox import sent_since, sent_to_people_since

MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Addressee:
    """One claimed row: who it goes to, its dedupe key for platforms that drop repeats, and whether it is a reply."""

    row_id: int
    user_id: str
    who: str
    dedupe_key: str
    person_id: int | None
    reply: bool


def platform_budgets(
    session: Session, names: Iterable[str], default_platform: str, now: datetime, per_minute: int
) -> dict[str, int]:
    """How many more rows each platform may be handed this minute; empty when there is no cap (0)."""
    if per_minute <= 0:
        return {}
    return {name: per_minute - sent_since(session, now - MINUTE, name, default_platform) for name in names}


def over_member_limit(session: Session, limit: int, entries: list[Addressee], now: datetime) -> set[int]:
    """Rows whose recipient already got `limit` pushes in the last minute (0: no limit)."""
    if not limit:
        return set()
    recent = sent_to_people_since(session, now - MINUTE, {e.person_id for e in entries if e.person_id is not None})
    held = set()
    for entry in entries:
        if entry.person_id is None:
            continue
        if recent.get(entry.person_id, 0) >= limit:
            held.add(entry.row_id)
        else:
            recent[entry.person_id] = recent.get(entry.person_id, 0) + 1
    return held


def over_platform_limit(
    entries: Iterable[tuple[str, Addressee]], budgets: Mapping[str, int], held: set[int]
) -> set[int]:
    """Pushes beyond what their platform may still take this minute, in claim order.

    Replies always go (and count): a person waiting for the next question should not wait behind a fan-out.
    """
    left = dict(budgets)
    over = set()
    for platform, entry in entries:
        if platform not in left or entry.row_id in held:
            continue
        if entry.reply or left[platform] > 0:
            left[platform] -= 1
        else:
            over.add(entry.row_id)
    return over
