"""How fast 1, 2 and 4 `python -m bot worker` processes handle a backlog of stored messages on PostgreSQL.

Run from the repository root (loopback only; a few minutes on 2 cores):

    .venv/bin/python -m bench.worker_drain [URL] [--messages 2000] [--workers 1 2 4]

URL is a PostgreSQL database the script may write to (default postgresql+psycopg://postgres@127.0.0.1:5432/ybt_bench);
it migrates it and loads the demo organisation when it has no people. For each worker count it stores `--messages`
messages as a callback would (Engine.accept), round-robin from the demo organisation's members (帮助, /我的任务 and
a few lines of text each, a distinct key each), then starts that many workers, with WeCom's API served by the
emulator in this process, and times until no message waits. It then checks each person's messages were handled in
the order they came (by processed_at) and stops the workers with SIGTERM; replies still held back by WeCom's
30-a-minute member limit are then deleted from the outbox, so the next size does not inherit them.

It prints figures and judges nothing: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from itertools import groupby
from pathlib import Path

from sqlalchemy import delete, select

from bench.district import print_machine
from bench.gunicorn_callbacks import DEFAULT_URL, ROOT, demo_wecom, server_version, write_config
from bench.wecom_callbacks import by_status, pending, wait_for
from bot.config import load_config
from bot.platforms.registry import configured_runtime
from bot.runtime import Runtime, load_demo_org
from handlers.core.messages import Incoming
from ledger_store.models import InboundMessage, InboundStatus, OutboxMessage, OutboxStatus

SAID = ("帮助", "/我的任务", "你好", "今天要报什么", "好的")


def store_backlog(runtime: Runtime, members: list[str], count: int, first: int) -> int:
    """Store `count` messages, round-robin over `members`; the id of the first row stored."""
    with runtime.factory() as session:
        before = session.scalar(select(InboundMessage.id).order_by(InboundMessage.id.desc()).limit(1)) or 0
    for n in range(count):
        member = members[n % len(members)]
        text = SAID[(n // len(members)) % len(SAID)]
        runtime.engine.accept(Incoming("wecom", member, text, message_id=f"drain-{first + n}"))
    return before + 1


def order_kept(runtime: Runtime, since_id: int) -> tuple[int, int]:
    """(people whose messages were handled in the order they came, people in all) among rows from `since_id` on."""
    with runtime.factory() as session:
        rows = session.execute(
            select(InboundMessage.payload, InboundMessage.id, InboundMessage.processed_at)
            .where(InboundMessage.id >= since_id, InboundMessage.status == InboundStatus.DONE)
            .order_by(InboundMessage.id)
        ).all()
    by_sender = sorted(rows, key=lambda row: (row.payload["user_id"], row.id))
    kept = people = 0
    for _sender, handled in groupby(by_sender, key=lambda row: row.payload["user_id"]):
        moments = [row.processed_at for row in handled]
        people += 1
        kept += all(earlier <= later for earlier, later in zip(moments, moments[1:], strict=False))
    return kept, people


def start_workers(count: int, config_path: Path, environ: dict[str, str], folder: Path) -> list[subprocess.Popen]:
    """`count` python -m bot worker processes, each logging to a file of its own."""
    workers = []
    for n in range(count):
        with (folder / f"worker-{count}-{n}.log").open("wb") as output:
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bot", "worker", "--poll-seconds", "0.2", "--config", str(config_path)],
                    cwd=ROOT,
                    env=environ,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )  # fmt: skip
            )
    return workers


def stop_workers(workers: list[subprocess.Popen]) -> None:
    """SIGTERM each, then wait (kill one that hangs)."""
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def main() -> None:
    """For each worker count: store the backlog, start the workers, time the drain, check the order."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default=DEFAULT_URL, help=f"PostgreSQL database (default {DEFAULT_URL})")
    parser.add_argument("--messages", type=int, default=2000, help="stored messages per run (default 2000)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4], help="worker counts (default 1 2 4)")
    parser.add_argument("--drain-seconds", type=float, default=600, help="wait this long for handling at most")
    args = parser.parse_args()

    _settings, emulator, api = demo_wecom()
    members = sorted(emulator.members)
    with tempfile.TemporaryDirectory(prefix="ybt-drain-bench-") as scratch:
        folder = Path(scratch)
        config_path = write_config(folder, api.url)
        environ = {**os.environ, "YBT_CONFIG": str(config_path), "YBT_DATABASE_URL": args.url}
        runtime = configured_runtime(load_config(config_path, {"YBT_DATABASE_URL": args.url}))
        load_demo_org(runtime)
        print_machine(server_version(runtime))
        print(f"backlog   {args.messages} stored messages, {len(members)} demo members in turn ({' / '.join(SAID)})")
        print("workers   python -m bot worker --poll-seconds 0.2; WeCom API: the emulator in this process\n")
        first = time.time_ns() // 1000
        summary = []
        try:
            for count in args.workers:
                since_id = store_backlog(runtime, members, args.messages, first)
                first += args.messages
                started = time.perf_counter()
                workers = start_workers(count, config_path, environ, folder)
                try:
                    seconds = wait_for(lambda: not pending(runtime), started, args.drain_seconds)
                finally:
                    stop_workers(workers)
                with runtime.factory.begin() as session:  # replies held by the 30-a-minute member limit: dropped
                    session.execute(delete(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING))
                kept, people = order_kept(runtime, since_id)
                rate = "-" if seconds is None else f"{args.messages / seconds:.0f}"
                shown = f"not within {args.drain_seconds:g} s" if seconds is None else f"{seconds:.1f} s"
                print(f"{count} worker(s): {args.messages} handled in {shown} ({rate} a second, process start "
                      f"included); order kept for {kept} of {people} people")  # fmt: skip
                summary.append((count, seconds, rate, kept, people))
            print("\nworkers | drained in | messages/s | order kept")
            for count, seconds, rate, kept, people in summary:
                shown = "-" if seconds is None else f"{seconds:.1f} s"
                print(f"{count:>7} | {shown:>10} | {rate:>10} | {kept}/{people}")
            print(f"\ninbound   {by_status(runtime, InboundMessage)}")
        finally:
            api.shutdown()
            runtime.database.dispose()


if __name__ == "__main__":
    main()
