"""APScheduler 3 around the timed work: its own process in production, a background thread in the two demos."""

from __future__ import annotations

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from bot.config import SchedulerConfig
from scheduler.jobs import TimedWork


def add_jobs(scheduler: BaseScheduler, work: TimedWork, config: SchedulerConfig) -> BaseScheduler:
    """The interval jobs; a run that is late or still going is merged into one, never doubled.

    The data sources (数据下沉) are looked at on a job of their own, so that a long run does not hold up reminders.
    """
    options = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
    scheduler.add_job(work.run_once, "interval", seconds=config.tick_seconds, id="timed_work", **options)
    scheduler.add_job(work.drain_safely, "interval", seconds=config.deliver_seconds, id="drain_outbox", **options)
    if work.runtime.config.sources:
        scheduler.add_job(work.sink_safely, "interval", seconds=config.tick_seconds, id="sink_sources", **options)
    return scheduler


def blocking(work: TimedWork, config: SchedulerConfig) -> BlockingScheduler:
    """The production shape: `python -m scheduler` blocks in this."""
    return add_jobs(BlockingScheduler(timezone=work.runtime.config.timezone), work, config)


def background(work: TimedWork, config: SchedulerConfig) -> BackgroundScheduler:
    """The demo shape: the same jobs in a thread beside the chat simulator."""
    return add_jobs(BackgroundScheduler(timezone=work.runtime.config.timezone, daemon=True), work, config)
