"""The metered DingTalk calls a reminder round to 10,000 people spends: queued with remind_missing, drained through
the real DingTalk adapter and client to the emulator, counted by the bot's own meter (api_usage) and by the emulator.

Run from the repository root (loopback only, a temporary SQLite database, a minute or two at full size):

    .venv/bin/python -m bench.dingtalk_budget [--units 10000] [--push robot|work_notice] [--started 0.3]

The district and the reminders are bench.reminder_fanout's (a share of the fillers part-way through, so their
reminders name the question they stopped at: several distinct texts). The floor is one call per 20 recipients
(robot batch send) or per 100 (work notifications) of each distinct text, plus the access token.
It prints figures and judges nothing: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import collections
import logging
import math
import sqlite3
import tempfile
import time
from pathlib import Path

from sqlalchemy import update

from bench.district import print_machine
from bench.reminder_fanout import START, build_org, distinct_texts, drain, outbox_count, queue_reminders
from bot.config import Config, DatabaseConfig, DeliveryConfig, DingTalkConfig, SimulatorConfig
from bot.platforms.dingtalk.budget import period_of
from bot.platforms.dingtalk.emulator import DingTalkEmulator, EmulatorSettings
from bot.platforms.dingtalk.emulator import serve as serve_emulator
from bot.platforms.dingtalk.platform import MAX_BATCH_USERS, MAX_WORK_NOTICE_USERS
from bot.platforms.registry import dingtalk_platform
from bot.runtime import build_runtime, open_database
from handlers.core.clock import ManualClock
from ledger_store.api_usage import usage_in
from ledger_store.db import transaction
from ledger_store.models import OutboxStatus, PlatformIdentity

APP_KEY, APP_SECRET, AGENT_ID = "dingbenchappkey", "bench-secret", 4004004


def main() -> None:
    """Build the district, queue the reminders, drain them to the emulator, print the calls spent."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000, help="villages, one filler each (default 10000)")
    parser.add_argument("--push", choices=("robot", "work_notice"), default="robot", help="[dingtalk] push")
    parser.add_argument("--started", type=float, default=0.3, help="share of fillers part-way through (default 0.3)")
    parser.add_argument("--batch-size", type=int, default=DeliveryConfig.batch_size, help="[delivery] batch_size")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    logging.getLogger("bot.platforms.dingtalk.api").setLevel(logging.WARNING)

    print_machine(f"SQLite {sqlite3.sqlite_version}")
    emulator = DingTalkEmulator(EmulatorSettings(APP_KEY, APP_SECRET, agent_id=AGENT_ID))
    api = serve_emulator(emulator)
    clock = ManualClock(START)
    emulator.clock = lambda: clock.now().timestamp()
    with tempfile.TemporaryDirectory(prefix="ybt-bench-") as scratch:
        dingtalk = DingTalkConfig(APP_KEY, APP_SECRET, api_base_url=api.url, webhook_base_url=api.url,
                                  oapi_base_url=api.url, push=args.push, agent_id=AGENT_ID)  # fmt: skip
        config = Config(
            database=DatabaseConfig(url=f"sqlite:///{Path(scratch) / 'bench.sqlite3'}"),
            simulator=SimulatorConfig(files_dir=Path(scratch) / "files"),
            delivery=DeliveryConfig(platform="dingtalk", batch_size=args.batch_size),
            dingtalk=dingtalk,
        )
        database = open_database(config)
        try:
            platform = dingtalk_platform(config, database, clock.now)
            runtime = build_runtime(config, platform, clock=clock, database=database)
            task_id, userids = build_org(runtime, args.units, args.started, args.seed)
            with transaction(runtime.factory) as session:  # the district's fillers are on DingTalk here
                session.execute(update(PlatformIdentity).values(platform="dingtalk"))
            for userid in userids:
                emulator.add_member(userid, userid)
            queued = queue_reminders(runtime, task_id)
            texts = distinct_texts(runtime)
            per_call = MAX_WORK_NOTICE_USERS if args.push == "work_notice" else MAX_BATCH_USERS
            floor = 1 + sum(math.ceil(count / per_call) for count in texts.values())
            started = time.perf_counter()
            sent, minutes = drain(runtime, clock)
            seconds = time.perf_counter() - started
            with runtime.factory() as session:
                [usage] = usage_in(session, period_of(clock.now()))
            received = sum(len(emulator.inbox(userid)) for userid in userids)
            print(f"round     {queued} reminders, {len(texts)} distinct texts, push = {args.push} "
                  f"({per_call} people a call)")  # fmt: skip
            print(f"drain     {sent} sent in {seconds:.1f} s over {minutes} minute(s) of the delivery clock")
            print(f"calls     {usage.calls} metered (bot's count), {emulator.metered_calls()} (emulator's count); "
                  f"floor {floor}; by kind {dict(collections.Counter(emulator.calls))}")  # fmt: skip
            print(f"share     {usage.calls / 10_000:.1%} of a standard edition's 10,000 a month")
            print(f"check     {received} reminders in the members' inboxes, "
                  f"{outbox_count(runtime, OutboxStatus.DEAD)} dead rows")  # fmt: skip
        finally:
            api.shutdown()
            database.dispose()


if __name__ == "__main__":
    main()
