"""`python -m scheduler` as production runs it: one process leads, a second one waits and takes over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from ledger_store.models import SchedulerLease
from scheduler.jobs import LEASE

ROOT = Path(__file__).resolve().parent.parent
CONFIG = """
[scheduler]
tick_seconds = 1
deliver_seconds = 1
lease_seconds = 5
"""


def holder(db) -> str | None:
    with db() as session:
        lease = session.scalar(select(SchedulerLease).where(SchedulerLease.name == LEASE))
        return None if lease is None else lease.holder


def released_by(db, name: str) -> bool:
    """The lease is another's now, or the named holder's but already run out (it gave it up)."""
    with db() as session:
        lease = session.scalar(select(SchedulerLease).where(SchedulerLease.name == LEASE))
        now = datetime.now(UTC).replace(tzinfo=None)
        return lease is not None and (lease.holder != name or lease.expires_at <= now + timedelta(seconds=1))


def wait_for(condition, seconds: float = 30) -> bool:
    """Poll until the condition holds, for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def start(db, engine, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(CONFIG, encoding="utf-8")
    environ = {**os.environ, "YBT_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    started = []

    def launch() -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "scheduler", "--config", str(config)],
            cwd=ROOT, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        started.append(process)
        return process

    yield launch
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_one_scheduler_leads_a_second_waits_and_takes_over_when_the_first_stops(db, start):
    first = start()
    assert wait_for(lambda: holder(db) == f"{os.uname().nodename}:{first.pid}"), first.stderr
    second = start()
    # Longer than the lease: the leader keeps renewing it (each second), the standby keeps waiting. The lease is
    # five ticks long so that a leader slowed by a loaded machine still renews it in time.
    time.sleep(6)
    assert holder(db) == f"{os.uname().nodename}:{first.pid}"
    first.send_signal(signal.SIGTERM)  # as systemd stops it
    assert first.wait(timeout=20) == 0
    # Handed back on the way out (run out now), not left to run out 5 s after its last renewal.
    assert released_by(db, f"{os.uname().nodename}:{first.pid}")
    assert wait_for(lambda: holder(db) == f"{os.uname().nodename}:{second.pid}")
    second.send_signal(signal.SIGINT)
    assert second.wait(timeout=20) == 0
