"""One source of time: the system clock in production, a clock the test moves in tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        """Current UTC time."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        self._now = start if start.tzinfo else start.replace(tzinfo=UTC)

    def now(self) -> datetime:
        """The time the clock was set to."""
        return self._now

    def advance(self, **delta: float) -> None:
        """Move forward by a timedelta given as keywords (hours=2, minutes=5 ...)."""
        self._now += timedelta(**delta)

    def set(self, moment: datetime) -> None:
        """Jump to a given aware moment."""
        self._now = moment
