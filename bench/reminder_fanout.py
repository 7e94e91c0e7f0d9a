"""A reminder to 10,000 fillers: queue it with remind_missing, drain it through the WeCom adapter to the emulator.

Run from the repository root (loopback only, a temporary SQLite database, about a minute at full size):

    .venv/bin/python -m bench.reminder_fanout [--units 10000] [--started 0.3] [--batch-size 100] [--per-minute 2000]

One district of 10,000 villages, each with a filler registered on WeCom, gets one task (低保月报, 8 questions).
A share of the fillers (`--started`) has begun and stopped at a random question, so their reminders name it
("您已填到第3/8题"); the others are told they have not reported. The delivery clock is a manual one that moves a
minute whenever a pass is held back by a per-minute limit, so the wall time is work, not waiting.
It prints figures and judges nothing: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import collections
import logging
import math
import random
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench.district import add_district, print_machine
from bot.config import Config, DatabaseConfig, DeliveryConfig, SimulatorConfig, WeComConfig
from bot.platforms.registry import wecom_platform
from bot.platforms.wecom.emulator import SAMPLE_AES_KEY, SAMPLE_CORP_ID, SAMPLE_TOKEN, EmulatorSettings, WeComEmulator
from bot.platforms.wecom.emulator import serve as serve_emulator
from bot.runtime import Runtime, build_runtime, open_database
from handlers.core.clock import ManualClock
from handlers.core.context import Context
from handlers.forms.registry import all_forms, fields_of, latest_version
from handlers.tasks.reminders import remind_missing
from ledger_store.db import transaction
from ledger_store.models import (
    Assignment,
    AssignmentStatus,
    Conversation,
    Level,
    OrgUnit,
    OutboxMessage,
    OutboxStatus,
    Person,
    PersonRole,
    PlatformIdentity,
    ReportTask,
    Role,
)

AGENT_ID = 1000002
SECRET = "bench-secret"
START = datetime(2024, 11, 28, 2, 0, tzinfo=UTC)  # Thursday 10:00 in Chongqing
TOWNS = 100
FORM = "低保月报"


def build_org(runtime: Runtime, units: int, started: float, seed: int) -> tuple[int, list[str]]:
    """A district, its towns and `units` villages with a WeCom filler each, and one task to all; (task id, userids)."""
    rng = random.Random(seed)
    now = runtime.engine.now()
    with transaction(runtime.factory) as session:
        top = add_district(session, TOWNS)
        towns, department, issuer = top.towns, top.department, top.issuer
        form = next(f for f in all_forms(session) if f.title == FORM)
        version = latest_version(session, form)
        deadline = (now + timedelta(days=2)).replace(hour=10, minute=0)
        task = ReportTask(title=FORM, form_version=version, department_id=department.id, issued_by=issuer,
                          issued_at=now, deadline=deadline)  # fmt: skip
        session.add(task)
        session.flush()
        questions = len(fields_of(version))
        userids = []
        for n in range(units):
            town = towns[n % TOWNS]
            village = OrgUnit(name=f"{town.name}第{n}村", level=Level.VILLAGE, parent_id=town.id)
            userid = f"filler{n:05d}"
            filler = Person(account=userid, name=f"填报员{n}", org_unit=village)
            filler.roles = [PersonRole(role=Role.FILLER)]
            session.add_all([village, filler])
            session.flush()
            session.add(PlatformIdentity(person_id=filler.id, platform="wecom", user_id=userid))
            assignment = Assignment(task_id=task.id, org_unit_id=village.id, filler_id=filler.id)
            session.add(assignment)
            if rng.random() < started:
                position = rng.randrange(1, questions)
                assignment.status = AssignmentStatus.IN_PROGRESS
                answers = {field.name: "1" for field in fields_of(version)[:position]}
                session.add(Conversation(person_id=filler.id, assignment=assignment, position=position,
                                         answers=answers, skipped=[], started_at=now, updated_at=now))  # fmt: skip
            userids.append(userid)
        return task.id, userids


def queue_reminders(runtime: Runtime, task_id: int) -> int:
    """Queue the reminders as /催报 does, in one transaction; how many were queued."""
    with transaction(runtime.factory) as session:
        ctx = Context(session, runtime.engine.clock, runtime.config.timezone)
        return len(remind_missing(ctx, session.get(ReportTask, task_id), "bench"))


def drain(runtime: Runtime, clock: ManualClock) -> tuple[int, int]:
    """Deliver until nothing is pending, moving the clock a minute when a pass leaves rows waiting; (sent, minutes)."""
    sent, minutes = 0, 0
    while True:
        sent += runtime.deliver()
        if not outbox_count(runtime, OutboxStatus.PENDING):
            return sent, minutes
        clock.advance(minutes=1)
        minutes += 1


def outbox_count(runtime: Runtime, status: str) -> int:
    """Outbox rows in one status."""
    with runtime.factory() as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == status))


def distinct_texts(runtime: Runtime) -> collections.Counter:
    """How many reminders carry each text."""
    with runtime.factory() as session:
        return collections.Counter(session.scalars(select(OutboxMessage.text)))


def main() -> None:
    """Build the district, queue the reminders, drain them to the emulator, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000, help="villages, one filler each (default 10000)")
    parser.add_argument("--started", type=float, default=0.3, help="share of fillers part-way through (default 0.3)")
    parser.add_argument("--batch-size", type=int, default=DeliveryConfig.batch_size, help="[delivery] batch_size")
    parser.add_argument("--per-minute", type=int, default=DeliveryConfig.per_platform_per_minute,
                        help="[delivery] per_platform_per_minute (0: no cap)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    logging.getLogger("bot.platforms.wecom.api").setLevel(logging.WARNING)

    print_machine(f"SQLite {sqlite3.sqlite_version}")
    emulator = WeComEmulator(EmulatorSettings(SAMPLE_CORP_ID, SECRET, AGENT_ID, SAMPLE_TOKEN, SAMPLE_AES_KEY))
    api = serve_emulator(emulator)
    clock = ManualClock(START)
    with tempfile.TemporaryDirectory(prefix="ybt-bench-") as scratch:
        config = Config(
            database=DatabaseConfig(url=f"sqlite:///{Path(scratch) / 'bench.sqlite3'}"),
            simulator=SimulatorConfig(files_dir=Path(scratch) / "files"),
            delivery=DeliveryConfig(
                platform="wecom", batch_size=args.batch_size, per_platform_per_minute=args.per_minute
            ),  # fmt: skip
            wecom=WeComConfig(SAMPLE_CORP_ID, AGENT_ID, SECRET, SAMPLE_TOKEN, SAMPLE_AES_KEY, api_base_url=api.url),
        )
        database = open_database(config)
        try:
            runtime = build_runtime(config, wecom_platform(config, database), clock=clock, database=database)
            started = time.perf_counter()
            task_id, userids = build_org(runtime, args.units, args.started, args.seed)
            for userid in userids:
                emulator.add_member(userid, userid)
            print(f"org       {args.units} villages and fillers, {args.started:.0%} part-way through "
                  f"({time.perf_counter() - started:.1f} s to build)")  # fmt: skip
            run(runtime, clock, emulator, task_id, config)
        finally:
            api.shutdown()
            database.dispose()


def run(runtime: Runtime, clock: ManualClock, emulator: WeComEmulator, task_id: int, config: Config) -> None:
    """Queue, drain and print."""
    started = time.perf_counter()
    queued = queue_reminders(runtime, task_id)
    queue_seconds = time.perf_counter() - started
    texts = distinct_texts(runtime)
    floor = sum(math.ceil(count / 1000) for count in texts.values())
    print(f"queue     {queued} reminders in {queue_seconds:.2f} s ({queued / queue_seconds:,.0f} rows/s); "
          f"{len(texts)} distinct texts")  # fmt: skip
    for text, count in texts.most_common():
        print(f"          {count:>6} × {text[text.index('（') :]}")
    started = time.perf_counter()
    sent, minutes = drain(runtime, clock)
    drain_seconds = time.perf_counter() - started
    calls = sum(1 for _, path in emulator.calls if path.endswith("/message/send"))
    print(f"drain     {sent} sent in {drain_seconds:.2f} s ({sent / drain_seconds:,.0f} rows/s), "
          f"over {minutes} minute(s) of the delivery clock")  # fmt: skip
    print(f"calls     {calls} message/send calls; floor {floor} (1000 recipients a call, per distinct text)")
    print(f"settings  {config.delivery}")
    dead = outbox_count(runtime, OutboxStatus.DEAD)
    received = sum(len(emulator.inbox(userid)) for userid in emulator.members)
    print(f"check     {received} reminders in the members' inboxes, {dead} dead rows")


if __name__ == "__main__":
    main()
