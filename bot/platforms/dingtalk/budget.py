"""DingTalk's monthly API allowance: every call of the client counted for every process in the shared api_usage
table, in China's months, and the admins warned once when most of the allowance is used.

DingTalk meters an organisation's calls per natural month; it says so in Beijing time, whatever zone the bot
runs in. Our count is the bot's own calls only: other apps of the same organisation share the allowance, so
the count can be lower than DingTalk's, and the bot never refuses to call on its own count (DingTalk's refusal,
errcode 90020, is what stops a push; see platform.failure).
"""

from __future__ import annotations

import logging
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

    def count(self, metered: bool) -> None:
        """Count one answered call; warn the admins if it is the first to reach the warning threshold this month.

        The call has already been made: a database failure here is logged, never raised, so a push that went out
        is not sent again for want of a count.
        """
        now = self.clock()
        period = period_of(now)
        try:
            usage = count_calls(self.factory, PLATFORM, period, self.allowance, int(metered), int(not metered))
            reached = bool(self.allowance) and usage.calls >= warning_threshold(self.allowance)
            if metered and reached and usage.warned_at is None:
                self._warn(usage, now)
        except SQLAlchemyError as error:
            log.error("could not count a DingTalk API call: %s", type(error).__name__)

    def _warn(self, usage: Usage, now: datetime) -> None:
        """Queue the warning for every admin, in the transaction that marks the month warned (one process wins)."""
        stored = now.astimezone(UTC).replace(tzinfo=None)
        threshold = warning_threshold(self.allowance)
        with transaction(self.factory) as session:
            if not claim_warning(session, PLATFORM, usage.period, threshold, stored):
                return
            text = errors.budget_warning(usage.calls, self.allowance)
            admins = people_with_role(session, Role.ADMIN)
            for admin in admins:
                key = f"api-budget:{PLATFORM}:{usage.period}:{admin.id}"
                enqueue(session, person_id=admin.id, dedupe_key=key, now=stored, text=text)
        log.warning("DingTalk API use reached %d of %d this month; %d admins warned",
                    usage.calls, self.allowance, len(admins))  # fmt: skip
