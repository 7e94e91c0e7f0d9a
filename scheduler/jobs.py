"""The timed jobs, each a short transaction on database state: nothing is kept in memory between runs.

Recurring periods, deadlines and reminders run under one lease in the database, so a second scheduler process
(started by mistake, or as a standby) waits and takes over only when the first one stops renewing it. The
outbox drain needs no lease: delivery claims its rows, so any number of processes may drain side by side.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import timedelta

from bot.config import SchedulerConfig
from bot.runtime import Runtime
from bot.worker import drain
from handlers import deadlines, recurrence, reminders
from handlers.reminders import Policy, QuietHours
from ledger_store.db import transaction
from ledger_store.leases import acquire, release

log = logging.getLogger(__name__)
LEASE = "timed-work"


@dataclass(frozen=True)
class TickReport:
    """What one run of the timed work did."""

    issued: int
    closed: int
    reminded: int


def default_holder() -> str:
    """This process, as the lease names it: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


class TimedWork:
    """The scheduler's work on one runtime, as one holder of the lease."""

    def __init__(self, runtime: Runtime, config: SchedulerConfig, holder: str | None = None) -> None:
        self.runtime = runtime
        self.holder = holder or default_holder()
        self.lease = timedelta(seconds=config.lease_seconds)
        quiet_start, quiet_end, overdue_at = config.times()
        self.policy = Policy(QuietHours(quiet_start, quiet_end), overdue_at)

    def tick(self) -> TickReport | None:
        """Issue due periods, handle passed deadlines, queue due reminders; None while another process leads."""
        engine = self.runtime.engine
        if not acquire(self.runtime.factory, LEASE, self.holder, engine.now(), self.lease):
            return None
        with transaction(self.runtime.factory) as session:
            issued = recurrence.issue_due(engine.context(session))
        with transaction(self.runtime.factory) as session:
            closed = deadlines.close_due(engine.context(session))
        with transaction(self.runtime.factory) as session:
            reminded = reminders.remind_due(engine.context(session), self.policy)
        report = TickReport(len(issued), len(closed), reminded)
        if report != TickReport(0, 0, 0):
            log.info("timed work: %s periods issued, %s deadlines, %s reminders", *vars(report).values())
        return report

    def drain(self) -> int:
        """Handle messages a crash left unhandled and push what is due, in turns; returns how many were sent."""
        return drain(self.runtime).sent

    def run_once(self) -> None:
        """The tick, then the drain, logging instead of raising (a scheduler job must not die on one error)."""
        try:
            self.tick()
        except Exception:
            log.exception("timed work failed; it runs again at the next tick")
        self.drain_safely()

    def drain_safely(self) -> None:
        """The drain, logging instead of raising."""
        try:
            self.drain()
        except Exception:
            log.exception("delivering the outbox failed; it is tried again at the next drain")

    def stop(self) -> None:
        """Give the lease up, so a standby takes over at once."""
        release(self.runtime.factory, LEASE, self.holder, self.runtime.engine.now())
