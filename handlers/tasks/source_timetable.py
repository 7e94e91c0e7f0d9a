"""When a data source (数据下沉) runs: its schedule as people write it, and whether its time has come.

A source runs at the first moment of its schedule after its last run began; the last run is in the database, so a
scheduler that was down runs a missed source once when it is back, and a standby does not run it a second time.
A source never run yet runs at the first look.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers.core.timeparse import parse_clock
from handlers.core.workdays import WorkCalendar
from handlers.ledgers.sources import Source
from handlers.tasks.recurrence_rules import DEFAULT_ISSUE_TIME, next_issue, parse_schedule
from ledger_store.models import SourceRun

_DAILY = re.compile(r"每天\s*(?P<time>.*)")


def parse_timetable(text: str) -> tuple[dict[str, Any], time] | None:
    """每天 02:00, or any schedule a recurring report takes (每周一 3:00, 每月1日 2:00, 每个工作日 6:00)."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    match = _DAILY.fullmatch(cleaned)
    if match is None:
        return parse_schedule(cleaned)
    at = parse_clock(match.group("time")) if match.group("time").strip() else DEFAULT_ISSUE_TIME
    return None if at is None else ({"every": "day"}, at)


def due_sources(session: Session, sources: Sequence[Source], now: datetime, calendar: WorkCalendar) -> list[Source]:
    """The sources whose next scheduled moment after their last run has come (`now` aware local)."""
    due = []
    for source in sources:
        parsed = parse_timetable(source.schedule)
        if parsed is None:  # the configuration refuses such a source; one built by hand never runs by itself
            continue
        rule, at = parsed
        last = session.scalar(select(func.max(SourceRun.started_at)).where(SourceRun.source == source.name))
        if last is None or next_issue(rule, at, last.replace(tzinfo=UTC).astimezone(now.tzinfo), calendar) <= now:
            due.append(source)
    return due
