"""DingTalk's monthly API allowance: every call of the client counted for every process in the shared api_usage
table, in China's months, and the admins warned once when most of the allowance is used.

DingTalk meters an organisation's calls per natural month; it says so in Beijing time, whatever zone the bot
runs in. Our count is the bot's own calls only: other apps of the same organisation share the allowance, so
the count can be lower than DingTalk's, and the bot never refuses to call on its own count (DingTalk's refusal,
errcode 90020, is what stops a push; see platform.failure).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.platforms.dingtalk import errors
from ledger_store.api_usage import Usage, claim_warning, count_calls
from ledger_store.db import transaction
from ledger_store.models import Role
from ledger_store.org import people_with_role
from ledger_store.outbox import enqueue

log = logging.getLogger(__name__)
PLATFORM = "dingtalk"
# DingTalk's months are China's.
ZONE = ZoneInfo("Asia/Shanghai")
# Admins are warned when this share of the allowance is used.
WARN_PERCENT = 80
# How long a count waits for SQLite's write lock before it is left pending for the next call (milliseconds).
LOCK_WAIT_MS = 200


def period_of(moment: datetime) -> str:
    """The DingTalk month ("YYYY-MM") an aware moment falls in."""
    return f"{moment.astimezone(ZONE):%Y-%m}"


def warning_threshold(allowance: int) -> int:
    """The call that crosses WARN_PERCENT of the allowance."""
    return -(-allowance * WARN_PERCENT // 100)


class UsageMeter:
    """Counts the DingTalk client's calls in the database every process shares (DingTalkClient's meter)."""

    def __init__(
        self, factory: sessionmaker[Session], allowance: int, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.factory, self.allowance, self.clock = factory, allowance, clock
        # Calls counted here but not yet in the database (metered, not metered): see count.
        self._pending = [0, 0]
        self._pending_lock = threading.Lock()

    def count(self, metered: bool) -> None:
        """Count one answered call; warn the admins if it is the first to reach the warning threshold this month.

        The call has already been made: a database failure here is logged, never raised, so a push that went out
        is not sent again for want of a count. A call made while this thread's own transaction holds SQLite's write
        lock (a file downloaded while its message is handled) cannot be written at once: the count waits at most
        LOCK_WAIT_MS, stays pending in this process and is added with the next call's.
        """
        with self._pending_lock:
            self._pending[0 if metered else 1] += 1
            metered_calls, free_calls = self._pending
            self._pending = [0, 0]
        now = self.clock()
        try:
            usage = count_calls(self.factory, PLATFORM, period_of(now), self.allowance, metered_calls, free_calls,
                                LOCK_WAIT_MS)  # fmt: skip
        except SQLAlchemyError as error:
            with self._pending_lock:
                self._pending = [self._pending[0] + metered_calls, self._pending[1] + free_calls]
            log.info("DingTalk API calls counted with the next one (%s)", type(error).__name__)
            return
        reached = bool(self.allowance) and usage.calls >= warning_threshold(self.allowance)
        if metered_calls and reached and usage.warned_at is None:
            try:
                self._warn(usage, now)
            except SQLAlchemyError as error:
                log.info("the DingTalk budget warning waits for the next call (%s)", type(error).__name__)

    def _warn(self, usage: Usage, now: datetime) -> None:
        """Queue the warning for every admin, in the transaction that marks the month warned (one process wins)."""
        stored = now.astimezone(UTC).replace(tzinfo=None)
        threshold = warning_threshold(self.allowance)
        with transaction(self.factory, LOCK_WAIT_MS) as session:
            if not claim_warning(session, PLATFORM, usage.period, threshold, stored):
                return
            text = errors.budget_warning(usage.calls, self.allowance)
            admins = people_with_role(session, Role.ADMIN)
            for admin in admins:
                key = f"api-budget:{PLATFORM}:{usage.period}:{admin.id}"
                enqueue(session, person_id=admin.id, dedupe_key=key, now=stored, text=text)
        log.warning("DingTalk API use reached %d of %d this month; %d admins warned",
                    usage.calls, self.allowance, len(admins))  # fmt: skip
