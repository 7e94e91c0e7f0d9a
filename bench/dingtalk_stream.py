"""Load on DingTalk Stream mode: the bot's whole Stream path against a bare SDK handler that only acknowledges.

Run from the repository root (loopback only, a temporary SQLite database, under a minute by default):

    .venv/bin/python -m bench.dingtalk_stream [--messages 1000]

The emulator's gateway pushes `--messages` robot-message frames at once (demo members saying 帮助/你好 in turn, every
msgId different) to each target in the same run, and times every frame from when it went out to its acknowledgement.
The bot: frame -> parse -> store (engine.accept) -> ack, with the worker handling and queueing replies behind it; the
figures say when the last frame was acknowledged and when the last message was handled (its reply queued). The
bare target is the dingtalk-stream SDK's client routing each frame to a CallbackHandler that returns 200 at once.
It prints figures and judges nothing: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote_plus

import websockets
from dingtalk_stream import AckMessage, CallbackHandler, ChatbotMessage
from sqlalchemy import func, select

from bench.district import print_machine
from bot.config import Config, DatabaseConfig, DeliveryConfig, DingTalkConfig
from bot.platforms.dingtalk.emulator import DingTalkEmulator, EmulatorSettings, serve
from bot.platforms.dingtalk.stream import StreamClient, stream_runner
from bot.platforms.registry import configured_platforms
from bot.runtime import build_runtime, load_demo_org, open_database
from bot.worker import Worker
from cli.demos import on_dingtalk_as_themselves
from ledger_store.models import InboundMessage, InboundStatus

APP_KEY, APP_SECRET = "dingbenchappkey", "bench-secret"
TEXTS = ("帮助", "你好")


class OnlyAck(CallbackHandler):
    """The bare target: every robot message is acknowledged with 200 and nothing else."""

    async def process(self, message) -> tuple[int, str]:
        """Acknowledge at once."""
        return AckMessage.STATUS_OK, "OK"


def bare_sdk(config: DingTalkConfig, stop: threading.Event) -> None:
    """The SDK's client with the only-ack handler on one connection, frames routed as they come, until `stop`."""

    async def run() -> None:
        client = StreamClient(config)
        client.register_callback_handler(ChatbotMessage.TOPIC, OnlyAck())
        answer = await asyncio.to_thread(client.open_connection)
        async with websockets.connect(f"{answer['endpoint']}?ticket={quote_plus(answer['ticket'])}") as websocket:
            client.websocket = websocket
            while not stop.is_set():
                try:
                    raw = await asyncio.wait_for(websocket.recv(), 0.2)
                except TimeoutError:
                    continue
                await client.route_message(json.loads(raw))

    asyncio.run(run())


def push_burst(emulator: DingTalkEmulator, members: list[str], count: int) -> list[str]:
    """`count` messages at once from the members in turn; their frames' messageIds."""
    return [emulator.member_says(members[n % len(members)], TEXTS[n % 2]) for n in range(count)]


def latencies(emulator: DingTalkEmulator, message_ids: list[str]) -> tuple[list[float], float]:
    """Each frame's seconds from going out to its first acknowledgement, and the span from first out to last ack."""
    gateway = emulator.gateway
    acked = {}
    for ack in gateway.acks:
        acked.setdefault(ack["messageId"], ack["at"])
    times = [acked[m] - gateway.first_sent[m] for m in message_ids]
    span = max(acked[m] for m in message_ids) - min(gateway.first_sent[m] for m in message_ids)
    return times, span


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def describe(name: str, count: int, times: list[float], span: float) -> float:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    rate = count / span
    print(f"{name:<34} {rate:8.0f} msg/s acked   ack p50 {statistics.median(times) * 1000:7.1f} ms"
          f"   p99 {p99 * 1000:7.1f} ms")  # fmt: skip
    return rate


def main() -> None:
    """Run both targets once on a fresh database and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print_machine(f"dingtalk-stream 0.24.3, websockets {websockets.__version__}")
    with tempfile.TemporaryDirectory() as folder:
        config = Config(database=DatabaseConfig(url=f"sqlite:///{Path(folder) / 'bench.sqlite3'}"))
        emulator = DingTalkEmulator(EmulatorSettings(APP_KEY, APP_SECRET, stream=True))
        api = serve(emulator)
        dingtalk = DingTalkConfig(app_key=APP_KEY, app_secret=APP_SECRET, api_base_url=api.url,
                                  webhook_base_url=api.url, mode="stream")  # fmt: skip
        config = replace(config, dingtalk=dingtalk, delivery=DeliveryConfig(platform="dingtalk"))
        database = open_database(config)
        runtime = build_runtime(config, *configured_platforms(config, database), database=database)
        load_demo_org(runtime)
        on_dingtalk_as_themselves(runtime, emulator)
        members = sorted(emulator.members)

        stop = threading.Event()
        bare = threading.Thread(target=bare_sdk, args=(dingtalk, stop))
        bare.start()
        wait_for(emulator.gateway.connections, 10)
        ids = push_burst(emulator, members, args.messages)
        wait_for(lambda: emulator.gateway.unacked() == 0, 120)
        stop.set()
        bare.join()
        wait_for(lambda: not emulator.gateway.connections(), 10)
        print(f"{args.messages} frames pushed at once to each target, on loopback")
        bare_rate = describe("bare SDK handler (ack only)", args.messages, *latencies(emulator, ids))

        worker = Worker(runtime)
        worker.start()
        runner = stream_runner(runtime, worker.kick)
        runner.start()
        wait_for(runner.connected.is_set, 10)
        started = time.monotonic()
        ids = push_burst(emulator, members, args.messages)
        wait_for(lambda: emulator.gateway.unacked() == 0, 300)
        bot_rate = describe("bot (parse, store, ack)", args.messages, *latencies(emulator, ids))

        def pending() -> int:
            with runtime.factory() as session:
                return session.scalar(
                    select(func.count())
                    .select_from(InboundMessage)
                    .where(InboundMessage.status == InboundStatus.PENDING)
                )

        wait_for(lambda: not pending(), 600)
        handled = time.monotonic() - started
        print(f"{'bot, all handled (replies queued)':<34} {args.messages / handled:8.0f} msg/s   "
              f"last handled {handled:.1f} s after the first push")  # fmt: skip
        print(f"ratio bot/bare (acks per second)   {bot_rate / bare_rate:8.2f}")
        runner.stop()
        worker.stop()
        api.shutdown()


if __name__ == "__main__":
    main()
