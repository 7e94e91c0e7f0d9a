"""Load on the WeCom callback URL: the bot's whole accept path against a bare decrypt-and-encrypt Flask app.

Run from the repository root (loopback only, a temporary SQLite database, well under a minute by default):

    .venv/bin/python -m bench.wecom_callbacks [--requests 2000] [--senders 20] [--seconds 60]

It prints figures and judges nothing: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import collections
import logging
import secrets
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import requests
from flask import Flask, Response, request
from sqlalchemy import func, select
from wechatpy.enterprise.crypto import WeChatCrypto
from werkzeug.serving import BaseWSGIServer, make_server

from bench.district import print_machine
from bot.app import create_app
from bot.config import Config, DatabaseConfig, DeliveryConfig, SimulatorConfig, WeComConfig
from bot.platforms.registry import configured_platforms
from bot.platforms.wecom.emulator import SAMPLE_AES_KEY, SAMPLE_CORP_ID, SAMPLE_TOKEN, EmulatorSettings, WeComEmulator
from bot.platforms.wecom.emulator import serve as serve_emulator
from bot.platforms.wecom.emulator_cli import seed_from_org_file
from bot.runtime import DEMO_ORG, Runtime, build_runtime, load_demo_org, open_database
from ledger_store.models import InboundMessage, InboundStatus, OutboxMessage
from scheduler.jobs import TimedWork
from scheduler.process import background

Callback = tuple[dict[str, str], bytes]  # query parameters and body of one POST, as WeCom sends it
AGENT_ID = 1000002
SECRET = "bench-secret"
TEXTS = ("帮助", "你好")
WARM_UP = 40


@dataclass
class Result:
    """What one target did under load."""

    name: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: collections.Counter = field(default_factory=collections.Counter)
    peak_threads: int = 0

    @property
    def rps(self) -> float:
        """Answered requests per second of wall time."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        """One row of the results table."""
        ms = sorted(x * 1000 for x in self.latencies) or [0.0]
        p50, p99, errors = statistics.median(ms), ms[min(len(ms) - 1, int(len(ms) * 0.99))], sum(self.errors.values())
        return (
            f"{self.name:<9}{len(self.latencies):>5} ok {self.seconds:5.2f} s {self.rps:6.1f} rps   p50 {p50:5.1f} ms"
            f"   p99 {p99:6.1f} ms   max {ms[-1]:6.1f} ms   server threads <= {self.peak_threads:<4}  errors {errors}"
            + (f" {dict(self.errors)}" if errors else "")
        )


def cdata(text: str) -> str:
    """A CDATA section (our texts never contain "]]>")."""
    return f"<![CDATA[{text}]]>"


def sealed_callbacks(settings: EmulatorSettings, senders: list[str], count: int, first_msg_id: int) -> list[Callback]:
    """`count` text messages from `senders` in turn, encrypted and signed like the emulator, each with its own MsgId."""
    crypto = WeChatCrypto(settings.token, settings.encoding_aes_key, settings.corp_id)
    timestamp = str(int(time.time()))
    callbacks = []
    for index in range(count):
        plaintext = (
            f"<xml><ToUserName>{cdata(settings.corp_id)}</ToUserName>"
            f"<FromUserName>{cdata(senders[index % len(senders)])}</FromUserName><CreateTime>{timestamp}</CreateTime>"
            f"<MsgType>{cdata('text')}</MsgType><Content>{cdata(TEXTS[index % len(TEXTS)])}</Content>"
            f"<MsgId>{first_msg_id + index}</MsgId><AgentID>{settings.agent_id}</AgentID></xml>"
        )
        nonce = str(secrets.randbelow(10**10))
        sealed = ElementTree.fromstring(crypto.encrypt_message(plaintext, nonce, timestamp))
        envelope = (
            f"<xml><ToUserName>{cdata(settings.corp_id)}</ToUserName><Encrypt>{cdata(sealed.findtext('Encrypt'))}"
            f"</Encrypt><AgentID>{cdata(str(settings.agent_id))}</AgentID></xml>"
        )
        params = {"msg_signature": sealed.findtext("MsgSignature"), "timestamp": timestamp, "nonce": nonce}
        callbacks.append((params, envelope.encode()))
    return callbacks


def baseline_app(settings: EmulatorSettings) -> Flask:
    """The least a callback URL can do: decrypt the message and encrypt a passive reply."""
    crypto = WeChatCrypto(settings.token, settings.encoding_aes_key, settings.corp_id)
    app = Flask(__name__)

    @app.post("/wecom/callback")
    def receive() -> Response:
        args = request.args
        crypto.decrypt_message(request.get_data(), args["msg_signature"], args["timestamp"], args["nonce"])
        reply = f"<xml><MsgType>{cdata('text')}</MsgType><Content>{cdata('收到')}</Content></xml>"
        return Response(crypto.encrypt_message(reply, args["nonce"], args["timestamp"]), mimetype="text/xml")

    return app


def serve_http(app: Flask) -> tuple[BaseWSGIServer, threading.Thread, str]:
    """Serve `app` on a free loopback port with werkzeug's threaded server, as `python -m bot serve` does."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread, f"http://127.0.0.1:{server.server_port}/wecom/callback"


def request_threads() -> int:
    """Live server threads: werkzeug runs each connection, and the work after its response, in a thread of its own."""
    return sum(thread.name.endswith("(process_request_thread)") for thread in threading.enumerate())


def hammer(name: str, url: str, callbacks: list[Callback], senders: int, seconds: float) -> Result:
    """Post every callback from `senders` sessions at once, stopping early after `seconds`.

    The sessions would keep connections alive, but werkzeug answers "Connection: close": one connection per request.
    """
    result, queue, ends = Result(name), iter(callbacks), []  # next() on a list iterator is atomic in CPython
    start_together = threading.Barrier(senders + 1)

    def sender() -> None:
        with requests.Session() as session:
            start_together.wait()
            while time.perf_counter() < deadline and (callback := next(queue, None)) is not None:
                started = time.perf_counter()
                try:
                    status = f"HTTP {session.post(url, params=callback[0], data=callback[1], timeout=10).status_code}"
                except requests.RequestException as error:
                    status = type(error).__name__
                if status == "HTTP 200":
                    result.latencies.append(time.perf_counter() - started)
                else:
                    result.errors[status] += 1
        ends.append(time.perf_counter())

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    deadline = time.perf_counter() + seconds
    for thread in threads:
        thread.start()
    start_together.wait()
    started = time.perf_counter()
    while any(thread.is_alive() for thread in threads):
        result.peak_threads = max(result.peak_threads, request_threads())
        time.sleep(0.05)
    result.seconds = max(ends) - started
    return result


def wait_for(condition: Callable[[], bool], since: float, timeout: float) -> float | None:
    """Seconds from `since` until `condition` holds; None when `timeout` passed first."""
    while not condition():
        if time.perf_counter() - since > timeout:
            return None
        time.sleep(0.05)
    return time.perf_counter() - since


def by_status(runtime: Runtime, model: type[InboundMessage] | type[OutboxMessage]) -> dict[str, int]:
    """Rows of `model` by status."""
    with runtime.factory() as session:
        return dict(session.execute(select(model.status, func.count()).group_by(model.status)).all())


def pending(runtime: Runtime) -> int:
    """Accepted messages not handled yet (inbound_messages.status)."""
    return by_status(runtime, InboundMessage).get(InboundStatus.PENDING, 0)


def main() -> None:
    """Set everything up on loopback, load the baseline then the bot, print the figures, shut down."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="callbacks per target (default 2000)")
    parser.add_argument("--senders", type=int, default=20, help="concurrent keep-alive senders (default 20)")
    parser.add_argument("--seconds", type=float, default=60, help="stop each load after this long (default 60)")
    parser.add_argument("--drain-seconds", type=float, default=180, help="wait this long for handling at most")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log line per request on either server

    print_machine(f"SQLite {sqlite3.sqlite_version}")
    print(f"load      {args.requests} callbacks per target, {args.senders} senders, at most {args.seconds:g} s each")

    settings = EmulatorSettings(SAMPLE_CORP_ID, SECRET, AGENT_ID, SAMPLE_TOKEN, SAMPLE_AES_KEY)
    emulator = WeComEmulator(settings)
    seed_from_org_file(emulator, DEMO_ORG)
    members = sorted(emulator.members)
    api = serve_emulator(emulator)
    with tempfile.TemporaryDirectory(prefix="ybt-bench-") as scratch:
        config = Config(
            database=DatabaseConfig(url=f"sqlite:///{Path(scratch) / 'bench.sqlite3'}"),
            simulator=SimulatorConfig(files_dir=Path(scratch) / "files"),
            delivery=DeliveryConfig(platform="wecom"),
            wecom=WeComConfig(SAMPLE_CORP_ID, AGENT_ID, SECRET, SAMPLE_TOKEN, SAMPLE_AES_KEY, api_base_url=api.url),
        )
        database = open_database(config)
        runtime = build_runtime(config, *configured_platforms(config, database), database=database)
        load_demo_org(runtime)
        bot = create_app(runtime, background=True)  # as `serve` builds it: the worker thread starts at once
        work = TimedWork(runtime, config.scheduler)
        timer = background(work, config.scheduler)
        timer.start()  # retries and leftovers, as `python -m scheduler` beside `serve` would
        servers = {"baseline": serve_http(baseline_app(settings)), "bot": serve_http(bot)}
        print(f"senders   {len(members)} demo members in turn ({', '.join(members[:3])}, ...), texts {TEXTS}")
        print(f"bot       SQLite in {scratch}; after-response work in the worker thread")
        print(f"          the scheduler's jobs embedded: outbox drain every {config.scheduler.deliver_seconds} s\n")
        try:
            results = {}
            for offset, (name, (_, _, url)) in enumerate(servers.items()):
                first = 7_500_000_000_000_000_000 + offset * 10**9
                hammer(name, url, sealed_callbacks(settings, members, WARM_UP, first), 4, args.seconds)
                wait_for(lambda: not (pending(runtime) or request_threads()), time.perf_counter(), 60)
                callbacks = sealed_callbacks(settings, members, args.requests, first + WARM_UP)
                results[name] = hammer(name, url, callbacks, args.senders, args.seconds)
                print(results[name].line())
            ended, busy = time.perf_counter(), request_threads()
            handled = wait_for(lambda: not pending(runtime), ended, args.drain_seconds)
            quiet = wait_for(lambda: not request_threads(), ended, args.drain_seconds)
            print(f"\nratio     bot / baseline = {results['bot'].rps / (results['baseline'].rps or 1):.2f} (rps)")
            never = f"not within {args.drain_seconds:g} s"
            print(f"handled   every accepted message {never if handled is None else f'{handled:.2f} s'} after the load")
            print(f"after     {busy} server threads still busy after their response when the load ended,")
            print(f"          the last one finished {never if quiet is None else f'{quiet:.2f} s'} after the load")
            print(f"inbound   {by_status(runtime, InboundMessage)}")
            print(f"outbox    {by_status(runtime, OutboxMessage)}; {len(emulator.sent)} message/send calls to WeCom")
        finally:
            for server, thread, _ in servers.values():
                server.shutdown()
                thread.join()
                server.server_close()
            timer.shutdown(wait=False)
            work.stop()
            bot.extensions["worker"].stop()
            api.shutdown()
            database.dispose()


if __name__ == "__main__":
    main()
