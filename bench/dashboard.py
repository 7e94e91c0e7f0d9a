"""The dashboard's task page and burden page for a task of 10,000 units: server time against a plain SQL count.

Run from the repository root (a temporary SQLite database, or the server named in YBT_BENCH_DATABASE_URL):

    .venv/bin/python -m bench.dashboard [--units 10000] [--towns 100] [--requests 50] [--csv-requests 10]

One district of `--towns` towns and `--units` villages (a filler each), and one 低保月报 of 区民政局 to every village:
a fifth not started, a fifth being filled, a fifth waiting for review, a fifth returned, a fifth approved with a
submission that carries burden figures (every tenth generated from the ledgers). Signed in as the issuer through
the dashboard's own login (Flask test client, the whole request: session, scope, queries, template), it times
`--requests` requests each of the towns view, one town's first page of units and the 填报负担 page, and
`--csv-requests` downloads of the CSV of every unit (read whole, as the task page was before), against
`SELECT count(*)` of the task's assignments in the same run, and prints p50/p99 and the page/count ratio of the
medians. On PostgreSQL it runs ANALYZE after seeding, as autovacuum soon would. It judges nothing.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text

from bench.district import add_district, print_machine
from bot.app import create_app
from bot.config import Config, DatabaseConfig, SimulatorConfig, WebConfig
from bot.platforms.simulator import SimulatorPlatform
from bot.runtime import Runtime, build_runtime, open_database
from handlers.core.clock import ManualClock
from handlers.forms.registry import all_forms, latest_version
from ledger_store.db import transaction
from ledger_store.login_links import create_link
from ledger_store.models import (
    Assignment,
    AssignmentStatus,
    Level,
    OrgUnit,
    Person,
    PersonRole,
    ReportTask,
    Role,
    Submission,
)

START = datetime(2024, 11, 28, 2, 0, tzinfo=UTC)  # Thursday 10:00 in Chongqing
FORM = "低保月报"
STATUSES = (
    AssignmentStatus.PENDING,
    AssignmentStatus.IN_PROGRESS,
    AssignmentStatus.REVIEWING,
    AssignmentStatus.RETURNED,
    AssignmentStatus.SUBMITTED,
)


def build(runtime: Runtime, units: int, towns: int) -> tuple[int, int, int]:
    """The district, its villages and fillers, and the task; (task id, first town id, issuer id)."""
    now = runtime.engine.now()
    with transaction(runtime.factory) as session:
        top = add_district(session, towns)
        version = latest_version(session, next(f for f in all_forms(session) if f.title == FORM))
        task = ReportTask(title=FORM, form_version=version, department_id=top.department.id, issued_by=top.issuer,
                          issued_at=now - timedelta(days=2), deadline=now + timedelta(days=3),
                          summary_sent_at=now)  # fmt: skip
        session.add(task)
        done = []
        for n in range(units):
            village = OrgUnit(name=f"第{n % towns + 1}镇第{n}村", level=Level.VILLAGE, parent=top.towns[n % towns])
            filler = Person(account=f"filler{n:05d}", name=f"填报员{n}", org_unit=village)
            filler.roles = [PersonRole(role=Role.FILLER)]
            status = STATUSES[n % len(STATUSES)]
            at = now - timedelta(hours=n % 40) if status != AssignmentStatus.PENDING else None
            assignment = Assignment(task=task, org_unit=village, filler=filler, status=status, submitted_at=at)
            session.add_all([village, filler, assignment])
            if status == AssignmentStatus.SUBMITTED:
                done.append((n, assignment))
            if n % 2000 == 1999:
                session.flush()
        session.flush()
        for n, assignment in done:
            generated, at = n % 50 == 4, assignment.submitted_at
            session.add(Submission(assignment_id=assignment.id, submitted_by_id=assignment.filler_id, submitted_at=at,
                                   started_at=None if generated else at - timedelta(minutes=5 + n % 30),
                                   asked_count=0 if generated else 6, prefilled_count=8,
                                   confirmed_count=0 if generated else 5, generated=generated))  # fmt: skip
        session.flush()
        return task.id, top.towns[0].id, top.issuer.id


def timed(call: Callable[[], object], requests: int) -> list[float]:
    """Milliseconds of each of `requests` calls (after one unmeasured warm-up call)."""
    call()
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def p99(times: list[float]) -> float:
    """The 99th percentile (the largest value under 100 samples)."""
    return sorted(times)[min(len(times) - 1, int(len(times) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000, help="villages, one filler each (default 10000)")
    parser.add_argument("--towns", type=int, default=100, help="towns the villages are spread over (default 100)")
    parser.add_argument("--requests", type=int, default=50, help="requests timed per page (default 50)")
    parser.add_argument("--csv-requests", type=int, default=10, help="downloads of the CSV timed (default 10)")
    args = parser.parse_args()

    print_machine(f"SQLite {sqlite3.sqlite_version}")
    with tempfile.TemporaryDirectory(prefix="ybt-bench-") as scratch:
        url = os.environ.get("YBT_BENCH_DATABASE_URL") or f"sqlite:///{Path(scratch) / 'bench.sqlite3'}"
        config = Config(database=DatabaseConfig(url=url), simulator=SimulatorConfig(files_dir=Path(scratch) / "f"),
                        web=WebConfig(public_url="https://ybt.example.gov.cn", secret_key="bench-only"))  # fmt: skip
        database = open_database(config)
        try:
            runtime = build_runtime(config, SimulatorPlatform(files_dir=Path(scratch) / "f"),
                                    clock=ManualClock(START), database=database)  # fmt: skip
            with runtime.factory() as session:
                if session.scalar(select(func.count()).select_from(Person)):
                    raise SystemExit(f"{database.url} is not empty; point YBT_BENCH_DATABASE_URL at an empty one")
            started = time.perf_counter()
            task_id, town_id, issuer_id = build(runtime, args.units, args.towns)
            print(f"org       {args.units} villages in {args.towns} towns, one task to all "
                  f"({time.perf_counter() - started:.1f} s to build)")  # fmt: skip
            if database.url.get_backend_name() == "postgresql":
                with database.begin() as connection:  # what autovacuum does soon after a bulk load
                    connection.execute(text("ANALYZE"))
            print(f"database  {database.url.get_backend_name()}, {args.requests} requests a page "
                  f"({args.csv_requests} of the CSV)")  # fmt: skip
            with transaction(runtime.factory) as session:
                token = create_link(session, issuer_id, runtime.engine.now(), 10)
            client = create_app(runtime).test_client()
            assert client.post("/dashboard/login", data={"t": token}).status_code == 303

            def get(path: str) -> Callable[[], object]:
                def call() -> object:
                    answer = client.get(path)
                    assert answer.status_code == 200, (path, answer.status_code)
                    return answer.data

                return call

            def count() -> int:
                with runtime.factory() as session:
                    query = select(func.count()).select_from(Assignment).where(Assignment.task_id == task_id)
                    return session.scalar(query)

            baseline = statistics.median(timed(count, args.requests))
            print(f"{'SQL count(*) of the assignments':40} p50 {baseline:8.2f} ms")
            pages = {
                "task page, towns": f"/dashboard/tasks/{task_id}",
                "task page, one town's units": f"/dashboard/tasks/{task_id}?town={town_id}",
                "burden page": "/dashboard/burden",
                "progress CSV (every unit)": f"/dashboard/tasks/{task_id}/progress.csv",
            }
            for label, path in pages.items():
                times = timed(get(path), args.csv_requests if path.endswith(".csv") else args.requests)
                median = statistics.median(times)
                print(f"{label:40} p50 {median:8.2f} ms   p99 {p99(times):8.2f} ms   "
                      f"ratio {median / baseline:6.1f}")  # fmt: skip
        finally:
            database.dispose()


if __name__ == "__main__":
    main()
