"""WeCom callbacks through gunicorn with 1, 2 and 4 web processes on PostgreSQL, against a bare endpoint.

Run from the repository root (loopback only; a few minutes on 2 cores):

    .venv/bin/python -m bench.gunicorn_callbacks [URL] [--requests 2000] [--senders 20] [--web-workers 1 2 4]

URL is a PostgreSQL database the script may write to (default postgresql+psycopg://postgres@127.0.0.1:5432/ybt_bench);
it migrates it and loads the demo organisation when it has no people. For each number of gunicorn processes it serves
first bench/bare_callback.py (wechatpy decrypt and an encrypted empty reply), then the bot (`bot.wsgi:create_app()`),
both with deploy/gunicorn.conf.py, and posts the same kind of encrypted, signed callbacks (a distinct MsgId each)
from `--senders` threads with keep-alive sessions. `--handlers` `python -m bot worker` processes run all along and
handle what the bot stored; after each bot load the script waits until inbound_messages has no pending row.

It prints figures and judges nothing: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import text

from bench.district import print_machine
from bench.wecom_callbacks import (
    AGENT_ID,
    SECRET,
    WARM_UP,
    Result,
    by_status,
    hammer,
    pending,
    sealed_callbacks,
)
from bench.wecom_callbacks import wait_for as wait_until
from bot.config import load_config
from bot.platforms.registry import configured_runtime
from bot.platforms.wecom.emulator import SAMPLE_AES_KEY, SAMPLE_CORP_ID, SAMPLE_TOKEN, EmulatorSettings, WeComEmulator
from bot.platforms.wecom.emulator import serve as serve_emulator
from bot.platforms.wecom.emulator_cli import seed_from_org_file
from bot.runtime import DEMO_ORG, Runtime, load_demo_org
from ledger_store.models import InboundMessage, OutboxMessage

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/ybt_bench"
TARGETS = {"bare": "bench.bare_callback:create_app()", "bot": "bot.wsgi:create_app()"}


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """One gunicorn master with deploy/gunicorn.conf.py and `workers` processes, its output in a file."""

    def __init__(self, app: str, workers: int, environ: dict[str, str], log: Path) -> None:
        self.port, self.workers, self.log = free_port(), workers, log
        self.url = f"http://127.0.0.1:{self.port}"
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "--bind",
                 f"127.0.0.1:{self.port}", "--workers", str(workers), app],
                cwd=ROOT, env=environ, stdout=output, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def ready(self, seconds: float = 60) -> None:
        """Wait until every worker has booted and /healthz answers, then a moment for the last app to load."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.process.poll() is None:
            booted = self.log.read_text(errors="replace").count("Booting worker")
            try:
                if booted >= self.workers and requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    time.sleep(2)
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not start:\n{self.log.read_text(errors='replace')[-3000:]}")

    def stop(self) -> None:
        """SIGTERM (finish the requests in flight), then wait; kill when it hangs."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def signal_all(processes: list[subprocess.Popen], signum: signal.Signals | None) -> None:
    """Send `signum` to every process (nothing when None)."""
    for process in processes if signum is not None else []:
        process.send_signal(signum)


def percentiles(result: Result) -> tuple[float, float]:
    """p50 and p99 latency in milliseconds."""
    ms = sorted(x * 1000 for x in result.latencies) or [0.0]
    return ms[len(ms) // 2], ms[min(len(ms) - 1, int(len(ms) * 0.99))]


def pair(result: Result) -> str:
    """p50 / p99 in whole milliseconds."""
    p50, p99 = percentiles(result)
    return f"{p50:.0f} / {p99:.0f}"


def row(result: Result) -> str:
    """One target's figures."""
    p50, p99 = percentiles(result)
    errors = sum(result.errors.values())
    return (
        f"  {result.name:<5}{len(result.latencies):>6} ok {result.seconds:6.2f} s {result.rps:7.1f} rps"
        f"   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   errors {errors}" + (f" {dict(result.errors)}" if errors else "")
    )


def write_config(folder: Path, api_url: str) -> Path:
    """The configuration file every process reads: pushes go to WeCom, whose API is the loopback emulator."""
    path = folder / "config.toml"
    path.write_text(
        f'[delivery]\nplatform = "wecom"\n'
        f'[wecom]\ncorp_id = "{SAMPLE_CORP_ID}"\nagent_id = {AGENT_ID}\nsecret = "{SECRET}"\n'
        f'token = "{SAMPLE_TOKEN}"\nencoding_aes_key = "{SAMPLE_AES_KEY}"\napi_base_url = "{api_url}"\n',
        encoding="utf-8",
    )
    return path


def server_version(runtime: Runtime) -> str:
    """PostgreSQL's version, e.g. "PostgreSQL 15.5"."""
    with runtime.database.connect() as connection:
        return " ".join(connection.execute(text("select version()")).scalar_one().split()[:2])


def demo_wecom() -> tuple[EmulatorSettings, WeComEmulator, Any]:
    """The WeCom emulator with the demo organisation's members, served on loopback: (settings, emulator, server)."""
    settings = EmulatorSettings(SAMPLE_CORP_ID, SECRET, AGENT_ID, SAMPLE_TOKEN, SAMPLE_AES_KEY)
    emulator = WeComEmulator(settings)
    seed_from_org_file(emulator, DEMO_ORG)
    return settings, emulator, serve_emulator(emulator)


def main() -> None:
    """Start the emulator and the handling workers, then for each gunicorn size load the bare app and the bot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default=DEFAULT_URL, help=f"PostgreSQL database (default {DEFAULT_URL})")
    parser.add_argument("--requests", type=int, default=2000, help="callbacks per target and size (default 2000)")
    parser.add_argument("--senders", type=int, default=20, help="concurrent keep-alive senders (default 20)")
    parser.add_argument("--web-workers", type=int, nargs="+", default=[1, 2, 4], help="gunicorn sizes (1 2 4)")
    parser.add_argument("--handlers", type=int, default=2, help="python -m bot worker processes (default 2)")
    parser.add_argument(
        "--pause-handlers",
        action="store_true",
        help="stop (SIGSTOP) the handling workers during each load, to see the web path without them",
    )
    parser.add_argument("--seconds", type=float, default=120, help="stop each load after this long (default 120)")
    parser.add_argument("--drain-seconds", type=float, default=300, help="wait this long for handling at most")
    args = parser.parse_args()

    settings, emulator, api = demo_wecom()
    members = sorted(emulator.members)
    handlers: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="ybt-gunicorn-bench-") as scratch:
        folder = Path(scratch)
        config_path = write_config(folder, api.url)
        environ = {
            **os.environ,
            "YBT_CONFIG": str(config_path),
            "YBT_DATABASE_URL": args.url,
            "YBT_WEB_SECRET_KEY": "bench-session-key-shared-by-every-web-process",
        }
        runtime = configured_runtime(load_config(config_path, {"YBT_DATABASE_URL": args.url}))
        load_demo_org(runtime)
        print_machine(server_version(runtime))
        print(f"load      {args.requests} callbacks per target and size, {args.senders} keep-alive senders")
        print(f"senders   {len(members)} demo members in turn, a distinct MsgId each, valid signatures")
        print("servers   gunicorn -c deploy/gunicorn.conf.py --workers N (gthread, 4 threads, access log to a file)")
        during = "stopped during each load" if args.pause_handlers else "all along"
        print(f"handling  {args.handlers} x python -m bot worker {during}; WeCom API: the emulator in this process\n")
        # MsgIds never seen by this database, even after earlier runs of the script.
        first_msg_id = time.time_ns() // 1000
        try:
            for n in range(args.handlers):
                with (folder / f"worker-{n}.log").open("wb") as output:
                    handlers.append(
                        subprocess.Popen(
                            [sys.executable, "-m", "bot", "worker", "--config", str(config_path)],
                            cwd=ROOT,
                            env=environ,
                            stdout=output,
                            stderr=subprocess.STDOUT,
                        )  # fmt: skip
                    )
            summary = []
            for workers in args.web_workers:
                print(f"gunicorn --workers {workers}")
                results: dict[str, Result] = {}
                handled: float | None = None
                for name, app in TARGETS.items():
                    server = Gunicorn(app, workers, environ, folder / f"gunicorn-{name}-{workers}.log")
                    try:
                        server.ready()
                        url = f"{server.url}/wecom/callback"
                        warm_up = sealed_callbacks(settings, members, WARM_UP * workers, first_msg_id)
                        first_msg_id += len(warm_up)
                        hammer(name, url, warm_up, 4, args.seconds)
                        wait_until(lambda: not pending(runtime), time.perf_counter(), args.drain_seconds)
                        callbacks = sealed_callbacks(settings, members, args.requests, first_msg_id)
                        first_msg_id += len(callbacks)
                        signal_all(handlers, signal.SIGSTOP if args.pause_handlers else None)
                        results[name] = hammer(name, url, callbacks, args.senders, args.seconds)
                        ended, backlog = time.perf_counter(), pending(runtime)
                        signal_all(handlers, signal.SIGCONT if args.pause_handlers else None)
                        print(row(results[name]))
                        if name == "bot":
                            handled = wait_until(lambda: not pending(runtime), ended, args.drain_seconds)
                            never = f"not within {args.drain_seconds:g} s"
                            print(
                                f"  backlog {backlog} pending when the load ended, all handled "
                                f"{never if handled is None else f'{handled:.1f} s'} after it"
                            )
                    finally:
                        server.stop()
                ratio = results["bot"].rps / (results["bare"].rps or 1)
                print(f"  ratio bot / bare = {ratio:.2f}\n")
                summary.append((workers, results, ratio, handled))
            print("workers | bare rps | bare p50/p99 ms | bot rps | bot p50/p99 ms | ratio | errors | handled after")
            for workers, results, ratio, handled in summary:
                bare, bot = results["bare"], results["bot"]
                errors = sum(bare.errors.values()) + sum(bot.errors.values())
                print(
                    f"{workers:>7} | {bare.rps:8.1f} | {pair(bare):>15} | {bot.rps:7.1f} | "
                    f"{pair(bot):>14} | {ratio:5.2f} | {errors:>6} | "
                    + ("-" if handled is None else f"{handled:.1f} s")
                )
            print(f"\ninbound   {by_status(runtime, InboundMessage)}")
            print(f"outbox    {by_status(runtime, OutboxMessage)}; {len(emulator.sent)} message/send calls to WeCom")
        finally:
            for handler in handlers:
                handler.send_signal(signal.SIGTERM)
            for handler in handlers:
                try:
                    handler.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    handler.kill()
            api.shutdown()
            runtime.database.dispose()


if __name__ == "__main__":
    main()
