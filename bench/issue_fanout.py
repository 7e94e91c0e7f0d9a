"""Issuing one task to 10,000 villages by chat command: how long `/发布 … 范围 永川区下辖` takes, and what it queues.

Run from the repository root (a temporary SQLite database, or the server named in YBT_BENCH_DATABASE_URL):

    .venv/bin/python -m bench.issue_fanout [--units 10000] [--open 2]

One district of 100 towns and `--units` villages, each with a filler who already has `--open` open tasks (so the
"您还有 N 项待办" part of each notice has to be counted). The issuer's message goes through the engine as any chat
message does: parse, target units, assignments, one notice per filler into the outbox, the reply. It prints
the time of the command and of each repeat, and the size of the reply; it judges nothing.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench.district import add_district, print_machine
from bot.config import Config, DatabaseConfig, SimulatorConfig
from bot.platforms.simulator import SimulatorPlatform
from bot.runtime import Runtime, build_runtime, open_database
from handlers.core.clock import ManualClock
from handlers.core.messages import Incoming
from handlers.forms.registry import all_forms, latest_version
from ledger_store.db import transaction
from ledger_store.models import (
    Assignment,
    Level,
    OrgUnit,
    OutboxMessage,
    Person,
    PersonRole,
    ReportTask,
    Role,
)
from ledger_store.org import SIMULATOR

START = datetime(2024, 11, 28, 2, 0, tzinfo=UTC)  # Thursday 10:00 in Chongqing
TOWNS = 100
FORM = "低保月报"


def build_org(runtime: Runtime, units: int, open_tasks: int) -> None:
    """A district, its towns, `units` villages with a filler each, and `open_tasks` earlier tasks to every village."""
    now = runtime.engine.now()
    with transaction(runtime.factory) as session:
        top = add_district(session, TOWNS)
        towns, department, issuer = top.towns, top.department, top.issuer
        version = latest_version(session, next(f for f in all_forms(session) if f.title == FORM))
        earlier = [
            ReportTask(title=f"{FORM}（第{n}期）", form_version=version, department_id=department.id,
                       issued_by=issuer, issued_at=now, deadline=now + timedelta(days=5))
            for n in range(open_tasks)
        ]  # fmt: skip
        session.add_all(earlier)
        for n in range(units):
            village = OrgUnit(name=f"第{n % TOWNS + 1}镇第{n}村", level=Level.VILLAGE, parent=towns[n % TOWNS])
            filler = Person(account=f"filler{n:05d}", name=f"填报员{n}", org_unit=village)
            filler.roles = [PersonRole(role=Role.FILLER)]
            session.add_all([village, filler])
            session.add_all(Assignment(task=task, org_unit=village, filler=filler) for task in earlier)
            if n % 2000 == 1999:
                session.flush()


def count(runtime: Runtime, model: type) -> int:
    with runtime.factory() as session:
        return session.scalar(select(func.count()).select_from(model))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000, help="villages, one filler each (default 10000)")
    parser.add_argument("--open", type=int, default=2, help="open tasks each filler already has (default 2)")
    parser.add_argument("--repeats", type=int, default=3, help="tasks issued one after another (default 3)")
    args = parser.parse_args()

    print_machine(f"SQLite {sqlite3.sqlite_version}")
    with tempfile.TemporaryDirectory(prefix="ybt-bench-") as scratch:
        url = os.environ.get("YBT_BENCH_DATABASE_URL") or f"sqlite:///{Path(scratch) / 'bench.sqlite3'}"
        config = Config(database=DatabaseConfig(url=url), simulator=SimulatorConfig(files_dir=Path(scratch) / "f"))
        database = open_database(config)
        try:
            runtime = build_runtime(config, SimulatorPlatform(files_dir=Path(scratch) / "f"),
                                    clock=ManualClock(START), database=database)  # fmt: skip
            if count(runtime, Person):
                raise SystemExit(f"{database.url} is not empty; point YBT_BENCH_DATABASE_URL at an empty database")
            started = time.perf_counter()
            build_org(runtime, args.units, args.open)
            print(f"org       {args.units} villages in {TOWNS} towns, {args.open} open tasks each "
                  f"({time.perf_counter() - started:.1f} s to build)")  # fmt: skip
            print(f"database  {database.url.get_backend_name()}")
            for n in range(args.repeats):
                before = count(runtime, OutboxMessage)
                # Each repeat due two days after the last: the same deadline again would be asked about, not issued.
                command = f"/发布 {FORM} 截止 12月{5 + 2 * n}日18点 范围 永川区下辖"
                message = Incoming(SIMULATOR, "li_minzheng", command, f"b{n}")
                started = time.perf_counter()
                replies = runtime.engine.receive(message)
                seconds = time.perf_counter() - started
                queued = count(runtime, OutboxMessage) - before
                reply = "".join(reply.text or "" for reply in replies)
                print(f"issue {n + 1}   {seconds:6.2f} s   {queued} notices queued   "
                      f"reply {len(reply)} characters: {reply[:40]}…")  # fmt: skip
        finally:
            database.dispose()


if __name__ == "__main__":
    main()
