"""The per-message context handed to every handler: the open transaction, the clock, the time zone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from handlers.core.clock import Clock
from handlers.core.workdays import WorkCalendar


@dataclass(frozen=True)
class DashboardLinks:
    """What /看板 needs to hand out a login link: the dashboard's public address (empty: not set up) and how long
    a link stays valid."""

    public_url: str = ""
    link_minutes: int = 10


@dataclass
class Context:
    """Everything a handler may use; the session is inside one transaction for the whole message."""

    session: Session
    clock: Clock
    tz: ZoneInfo
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    dashboard: DashboardLinks = field(default_factory=DashboardLinks)

    def now(self) -> datetime:
        """Naive UTC, the form every timestamp is stored in."""
        return self.clock.now().astimezone(UTC).replace(tzinfo=None)

    def local_now(self) -> datetime:
        """Aware local time, for parsing what people type and for what they read."""
        return self.clock.now().astimezone(self.tz)

    def to_local(self, stored: datetime) -> datetime:
        """A stored naive-UTC timestamp as aware local time."""
        return stored.replace(tzinfo=UTC).astimezone(self.tz)

    def to_stored(self, local: datetime) -> datetime:
        """An aware local time as the naive UTC value we store."""
        return local.astimezone(UTC).replace(tzinfo=None)
