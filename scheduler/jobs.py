"""The timed jobs, each a short transaction on database state: nothing is kept in memory between runs.

Recurring periods, deadlines, reminders and 预警 rules run under one lease in the database, so a second scheduler
process (started by mistake, or as a standby) waits and takes over only when the first one stops renewing it. The
outbox drain needs no lease: delivery claims its rows, so any number of processes may drain side by side.
Each data source (数据下沉) runs under a lease of its own, when its timetable says, after its last run.

Within a tick every recurrence and every task is handled in a transaction of its own: one whose work fails
(a summary that cannot be built, say) is rolled back and logged with its id, the others go on, and it is
tried again at the next tick. What the others queued is committed with them, so nothing goes out twice.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from bot.config import SchedulerConfig
from bot.runtime import Runtime
from bot.worker import drain
from handlers.commands import warning_rules
from handlers.core.context import Context
from handlers.ledgers.sources import SinkResult, run_source
from handlers.review import reminders as review_reminders
from handlers.tasks import deadlines, recurrence, reminders
from handlers.tasks.reminders import Policy, QuietHours, Reviewers
from handlers.tasks.source_timetable import due_sources
from ledger_store import analysis, retention, rollups
from ledger_store.db import transaction
from ledger_store.leases import acquire, release
from ledger_store.warnings import rules_due

log = logging.getLogger(__name__)
LEASE = "timed-work"
# Transactions of retention's deletion per tick: a database years behind catches up over several ticks, and the
# reminders of each tick are not held up for long.
PRUNE_BATCHES_PER_TICK = 20
# The share of tick_seconds the jobs that build summaries or recount may take in one tick (passed deadlines, owed
# summaries, analysis rollups; a city's summary takes seconds): after it they leave the rest to the next tick, each
# doing at least one, so a tick stays well within tick_seconds and within the lease.
HEAVY_SHARE = 1 / 3
Done = TypeVar("Done")
Item = TypeVar("Item")


@dataclass(frozen=True)
class TickReport:
    """What one run of the timed work did, and how many recurrences or tasks failed (tried again next tick)."""

    issued: int
    closed: int
    reminded: int
    summaries: int = 0
    failed: int = 0
    warned: int = 0  # records newly found by 预警 rules (each pushed once)


def default_holder() -> str:
    """This process, as the lease names it: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


class TimedWork:
    """The scheduler's work on one runtime, as one holder of the lease."""

    def __init__(
        self,
        runtime: Runtime,
        config: SchedulerConfig,
        holder: str | None = None,
        heavy_seconds: float | None = None,
    ) -> None:
        self.runtime = runtime
        self.heavy_seconds = config.tick_seconds * HEAVY_SHARE if heavy_seconds is None else heavy_seconds
        self.holder = holder or default_holder()
        self.lease = timedelta(seconds=config.lease_seconds)
        quiet_start, quiet_end, overdue_at = config.times()
        self.policy = Policy(QuietHours(quiet_start, quiet_end), overdue_at)
        self.review_after = timedelta(hours=runtime.config.review.remind_after_hours)
        self.warning_every = timedelta(minutes=config.warning_minutes)
        self.failed = 0  # recurrences and tasks whose work failed in the current tick

    def tick(self) -> TickReport | None:
        """Issue due periods, handle passed deadlines, queue due reminders (to fillers and to reviewers) and the
        pushes of 预警 rules' new matches, bring the analysis rollups up to date, and once a day delete what
        retention no longer keeps; None while another leads."""
        engine = self.runtime.engine
        if not acquire(self.runtime.factory, LEASE, self.holder, engine.now(), self.lease):
            return None
        self.failed = 0
        heavy_until = time.monotonic() + self.heavy_seconds
        issued = self.each("issuing a period of recurrence", recurrence.active, recurrence.issue_due_period)
        closed = self.each("the deadline of task", deadlines.passed, deadlines.close, heavy_until)
        summaries = self.each(
            "the owed summary of task", deadlines.owed_summaries, deadlines.send_owed_summary, heavy_until
        )
        reviewers = Reviewers()
        reminded = self.each(
            "the reminders of task",
            lambda ctx: reminders.tasks_to_remind(ctx, self.policy),
            lambda ctx, task_id: reminders.remind(ctx, task_id, self.policy, reviewers),
        )
        reviewers_reminded = self.each(
            "the reviewers' reminders of",
            lambda ctx: review_reminders.holders_to_remind(ctx, self.review_after, self.policy.quiet),
            lambda ctx, holder: review_reminders.remind_holder(ctx, holder, self.review_after),
        )
        warned = self.each(
            "the warning rule",
            lambda ctx: rules_due(ctx.session, ctx.now() - self.warning_every),
            warning_rules.evaluate,
        )
        self.each(
            "the analysis rollup of ledger", lambda ctx: rollups.due(ctx.session), self.refresh_rollup, heavy_until
        )
        self.prune_safely()
        report = TickReport(
            sum(task is not None for task in issued),
            sum(task is not None for task in closed),
            sum(reminded) + sum(reviewers_reminded),
            len(summaries),
            self.failed,
            sum(warned),
        )
        if report != TickReport(0, 0, 0):
            log.info(
                "timed work: %s periods issued, %s deadlines, %s reminders, %s owed summaries, %s failed, "
                "%s records warned of",
                *vars(report).values(),
            )
        return report

    def prune(self) -> retention.Pruned | None:
        """Once a day, from [retention] at (local time), delete handled inbound messages and sent pushes older than
        [retention] keep_days, a few batches a tick until none is left; None when not due (or keep_days is 0)."""
        settings, engine = self.runtime.config.retention, self.runtime.engine
        local = engine.clock.now().astimezone(engine.tz)
        today = local.date().isoformat()
        if not settings.keep_days or local.time() < settings.time():
            return None
        with transaction(self.runtime.factory) as session:
            if retention.last_day(session) == today:
                return None
        cutoff = engine.now() - timedelta(days=settings.keep_days)
        pruned = retention.prune(self.runtime.factory, cutoff, PRUNE_BATCHES_PER_TICK, retention.BATCH)
        if not pruned.more:
            retention.finish_day(self.runtime.factory, today)
        if pruned.inbound or pruned.outbox or pruned.files:
            log.info("retention: %s inbound messages, %s pushes and %s files deleted%s", pruned.inbound,
                     pruned.outbox, pruned.files, ", more at the next tick" if pruned.more else "")  # fmt: skip
        return pruned

    def prune_safely(self) -> None:
        """The day's deletion, logging instead of raising (what was deleted stays deleted; the rest goes next tick)."""
        try:
            self.prune()
        except Exception:
            log.exception("retention's deletion failed; it is tried again at the next tick")

    @staticmethod
    def refresh_rollup(ctx: Context, ledger_id: int) -> bool:
        """Count again the units of the ledger whose records changed, so the analysis page finds it up to date."""
        return analysis.refresh_one(ctx.session, ledger_id, ctx.local_now().date())

    def each(
        self,
        job: str,
        find: Callable[[Context], list[Item]],
        handle: Callable[[Context, Item], Done],
        until: float | None = None,
    ) -> list[Done]:
        """`handle` each item (an id) `find` lists, every one in a transaction of its own; a failure is logged and
        skipped. With `until` (a time.monotonic() moment), once it has passed the items not begun are left to the
        next tick, which finds them again; the first item is always handled."""
        engine = self.runtime.engine
        with transaction(self.runtime.factory) as session:
            ids = find(engine.context(session))
        done: list[Done] = []
        for index, item in enumerate(ids):
            if until is not None and index and time.monotonic() >= until:
                log.info("timed work: %s of %s %s left to the next tick (this tick's time for them is up)",
                         len(ids) - index, job, ids[index:][:10])  # fmt: skip
                break
            try:
                with transaction(self.runtime.factory) as session:
                    done.append(handle(engine.context(session), item))
            except Exception:
                self.failed += 1
                log.exception("timed work: %s %s failed; it is tried again at the next tick", job, item)
        return done

    def sink_due_sources(self) -> list[SinkResult]:
        """Run each configured data source whose time has come, one after another (each under its own lease)."""
        engine = self.runtime.engine
        now = engine.clock.now().astimezone(engine.tz)
        with transaction(self.runtime.factory) as session:
            due = due_sources(session, self.runtime.config.sources, now, engine.calendar)
        return [run_source(self.runtime.factory, source, engine.clock, engine.tz, self.holder) for source in due]

    def sink_safely(self) -> None:
        """The data sources' runs, logging instead of raising (a source's own failure is a failed run already)."""
        try:
            self.sink_due_sources()
        except Exception:
            log.exception("running the data sources failed; they are looked at again at the next tick")

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
