"""DingTalk Stream mode on loopback: the emulator's gateway pushes members' messages as frames over a websocket to the
bot's runner (the dingtalk-stream SDK's client classes), which stores and acknowledges them; the worker answers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bot.config import Config, DeliveryConfig, DingTalkConfig, load_config
from bot.platforms.dingtalk.budget import period_of
from bot.platforms.dingtalk.emulator import DingTalkEmulator, EmulatorSettings
from bot.platforms.dingtalk.emulator import serve as serve_emulator
from bot.platforms.dingtalk.platform import DingTalkPlatform
from bot.platforms.dingtalk.stream import StreamRunner, stream_runner
from bot.platforms.registry import configured_platforms
from bot.runtime import Runtime, build_runtime, load_demo_org
from bot.worker import Worker
from handlers.core.clock import ManualClock
from ledger_store.api_calls import CallTotal, call_totals
from ledger_store.api_usage import usage_in
from ledger_store.leases import acquire
from ledger_store.models import InboundMessage
from tests.dingtalk_members import Members, on_dingtalk

ROOT = Path(__file__).resolve().parent.parent
APP_KEY, APP_SECRET = "dingstreamappkey", "stream-app-secret"
# Small times, so that what DingTalk does in a minute happens within a second here.
IDLE, REDELIVER = 0.6, 0.5


def until(condition: Callable[[], object], within: float = 10.0) -> object:
    """Poll `condition` until it holds (its value) or fail after `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"still not true after {within}s")


@dataclass
class StreamWorld(Members):
    """The demo organisation on DingTalk in stream mode; the runner connected to the emulator's gateway."""

    emulator: DingTalkEmulator
    runtime: Runtime
    worker: Worker
    runner: StreamRunner
    clock: ManualClock

    def says(self, account: str, text: str, **options) -> str:
        """A member writes; the frame's messageId."""
        return self.emulator.member_says(f"dt_{account}", text, **options)

    def texts(self, account: str) -> list[str]:
        return [message["text"] for message in self.emulator.inbox(f"dt_{account}")]

    def replied(self, account: str, count: int = 1) -> list[str]:
        """Wait for `account` to have `count` messages; their texts."""
        return until(lambda: len(self.texts(account)) >= count and self.texts(account))

    def runner_like(self) -> StreamRunner:
        """A second process's runner on the same database and app."""
        return stream_runner(self.runtime, self.worker.kick)


def stream_config(url: str, **stream) -> Config:
    dingtalk = DingTalkConfig(app_key=APP_KEY, app_secret=APP_SECRET, api_base_url=url, webhook_base_url=url,
                              mode="stream", stream_idle_seconds=IDLE, stream_backoff_seconds=0.05,
                              stream_backoff_max_seconds=0.2, stream_lease_seconds=3, **stream)  # fmt: skip
    return replace(Config(), dingtalk=dingtalk, delivery=DeliveryConfig(platform="dingtalk"))


@pytest.fixture
def stream(engine: Engine, db) -> Iterator[StreamWorld]:
    clock = ManualClock(datetime.now(UTC))
    settings = EmulatorSettings(APP_KEY, APP_SECRET, stream=True, redeliver_after=REDELIVER, ping_interval=0.1)
    emulator = DingTalkEmulator(settings, clock=lambda: clock.now().timestamp())
    api = serve_emulator(emulator)
    config = stream_config(api.url)
    runtime = build_runtime(config, *configured_platforms(config, engine), clock=clock, database=engine)
    load_demo_org(runtime)
    on_dingtalk(runtime, emulator)
    worker = Worker(runtime)
    worker.start()
    runner = stream_runner(runtime, worker.kick)
    runner.start()
    world = StreamWorld(emulator, runtime, worker, runner, clock)
    until(lambda: runner.connected.is_set() and emulator.gateway.connections())
    yield world
    runner.stop()
    worker.stop()
    api.shutdown()


def test_a_message_is_stored_acknowledged_handled_and_answered(stream):
    message_id = stream.says("zhang_dehua", "帮助")

    [reply] = stream.replied("zhang_dehua")
    assert reply.startswith("张德华您好")
    assert stream.emulator.gateway.acked(message_id) == [200]
    assert stream.emulator.inbox("dt_zhang_dehua")[0]["via"] == "webhook"  # the frame's sessionWebhook was kept


def test_opening_the_connection_is_counted_against_the_months_allowance(stream):
    month = period_of(stream.clock.now())
    with stream.runtime.factory() as session:
        [usage] = usage_in(session, month)
        totals = call_totals(session)
    assert usage.calls == stream.emulator.metered_calls(month) == 1  # connections/open, nothing else yet
    assert totals == [CallTotal("dingtalk", 1, 0)]  # and the operator's totals on /metrics


def test_dingtalk_s_ping_frames_are_acknowledged_with_their_data(stream):
    gateway = stream.emulator.gateway

    ping = until(lambda: [ack for ack in list(gateway.acks) if ack["messageId"].startswith("system-")])[0]
    assert ping["code"] == 200 and "opaque" in json.loads(ping["data"])


def test_the_acknowledgement_does_not_wait_for_the_handling(stream):
    stream.worker.stop()  # nobody handles: the message can only be stored
    message_id = stream.says("zhang_dehua", "帮助")

    until(lambda: stream.emulator.gateway.acked(message_id))
    assert stream.stored() == 1 and stream.texts("zhang_dehua") == []
    with stream.runtime.factory() as session:
        assert session.scalar(select(InboundMessage)).processed_at is None
    stream.worker.run()
    assert stream.texts("zhang_dehua")[0].startswith("张德华您好")


def test_a_frame_delivered_again_is_acknowledged_and_handled_once(stream):
    stream.says("zhang_dehua", "帮助", msg_id="same-msg")
    stream.replied("zhang_dehua")
    again = stream.says("zhang_dehua", "帮助", msg_id="same-msg")  # DingTalk's redelivery: a new frame, same msgId

    until(lambda: stream.emulator.gateway.acked(again) == [200])
    stream.worker.run()
    assert stream.stored() == 1 and len(stream.texts("zhang_dehua")) == 1


def test_a_frame_whose_acknowledgement_was_lost_comes_again_is_acknowledged_and_counts_once(stream):
    gateway = stream.emulator.gateway
    gateway.lose_acks(1)  # the bot stores and acknowledges, but DingTalk never hears it
    message_id = stream.says("zhang_dehua", "帮助")
    until(lambda: gateway.acked(message_id), within=REDELIVER * 4)

    assert gateway.sent.count(message_id) == 2 and gateway.acked(message_id) == [200]
    stream.worker.run()
    assert stream.stored() == 1 and len(stream.texts("zhang_dehua")) == 1


def test_a_frame_sent_while_the_link_is_dead_arrives_on_the_new_connection(stream):
    gateway = stream.emulator.gateway
    gateway.go_silent()
    message_id = stream.says("zhang_dehua", "帮助")
    until(lambda: gateway.acked(message_id), within=IDLE * 4 + REDELIVER)

    stream.replied("zhang_dehua")
    assert stream.stored() == 1 and len(stream.texts("zhang_dehua")) == 1


def test_a_silent_connection_is_found_dead_within_the_idle_time_and_reopened(stream):
    gateway, before = stream.emulator.gateway, stream.runner.connections
    gateway.go_silent()
    started = time.monotonic()
    until(lambda: not stream.runner.connected.is_set(), within=IDLE * 3)
    noticed = time.monotonic() - started
    until(lambda: stream.runner.connected.is_set() and gateway.connections())

    assert noticed < IDLE * 2  # a third to ping, a third for the pong, a third to close; the rest a busy machine's
    assert stream.runner.connections == before + 1
    stream.says("zhang_dehua", "帮助")
    assert stream.replied("zhang_dehua")[0].startswith("张德华您好")


def test_a_disconnect_frame_reconnects_and_loses_nothing(stream):
    gateway = stream.emulator.gateway
    first = stream.says("zhang_dehua", "帮助")
    gateway.disconnect()  # right behind the message, as DingTalk does before it restarts a server
    until(lambda: stream.runner.connections == 2)
    second = stream.says("liu_ting", "帮助")

    stream.replied("zhang_dehua")
    stream.replied("liu_ting")
    assert gateway.acked(first) == [200] and gateway.acked(second) == [200]
    assert stream.stored() == 2


def test_a_frame_that_cannot_be_read_is_acknowledged_with_an_error_and_the_next_one_works(stream, caplog):
    gateway = stream.emulator.gateway
    broken = {"specVersion": "1.0", "type": "CALLBACK", "data": "{not json",
              "headers": {"messageId": "broken-1", "topic": "/v1.0/im/bot/messages/get"}}  # fmt: skip
    gateway.push_frame("broken-1", json.dumps(broken))
    # The SDK's error quotes the value it could not read: here an ID number, which the log must not show.
    bad_time = {
        "type": "CALLBACK",
        "data": "{}",
        "headers": {"messageId": "broken-2", "time": "身份证500101199003071234"},
    }
    gateway.push_frame("broken-2", json.dumps(bad_time, ensure_ascii=False))
    not_a_message = gateway.push({"msgtype": "text", "text": {"content": "没有发送人"}})

    until(lambda: [gateway.acked(m) for m in ("broken-1", "broken-2", not_a_message)] == [[400]] * 3)
    stream.says("zhang_dehua", "帮助")
    assert stream.replied("zhang_dehua")[0].startswith("张德华您好")
    assert stream.runner.connections == 1 and stream.stored() == 1
    assert "broken-2" in caplog.text and "500101199003071234" not in caplog.text


def test_a_message_that_cannot_be_stored_is_not_acknowledged_and_is_stored_when_it_comes_again(stream):
    gateway, platform = stream.emulator.gateway, stream.runtime.platforms["dingtalk"]
    stream.runner.stop()
    failures = [RuntimeError("database is locked")]

    def remember_webhook_once_failing(webhook) -> None:
        if failures:
            raise failures.pop()
        platform.remember_webhook(webhook)

    runner = StreamRunner(stream.runtime, stream.runner.config, remember_webhook_once_failing, stream.worker.kick,
                          platform.update_clicked_card, platform.card_belongs)  # fmt: skip
    runner.start()
    try:
        message_id = stream.says("zhang_dehua", "帮助")
        until(lambda: gateway.acked(message_id), within=REDELIVER * 4)
        assert gateway.sent.count(message_id) == 2 and gateway.acked(message_id) == [200]  # only the second time
        assert stream.replied("zhang_dehua")[0].startswith("张德华您好")
        assert stream.stored() == 1
    finally:
        runner.stop()


def test_stop_closes_the_connection_at_once_and_leaves_no_thread(stream):
    started = time.monotonic()
    stream.runner.stop()

    assert time.monotonic() - started < 3.0
    assert not stream.runner.running
    assert not [thread for thread in threading.enumerate() if thread.name == "dingtalk-stream"]
    until(lambda: stream.emulator.gateway.connections() == 0)


def test_two_runners_hold_one_connection_and_the_standby_takes_over(stream):
    gateway, standby = stream.emulator.gateway, stream.runner_like()
    standby.start()
    try:
        assert not standby.connected.wait(1.0)  # the holder's lease runs: the standby keeps asking and waits
        assert gateway.opened == 1

        stream.runner.stop()
        until(standby.connected.is_set, within=30.0)  # a loaded CI machine: the standby asks again every 0.2 s
        until(lambda: gateway.opened == 2)  # the gateway counts it a moment after the runner sees it open
        stream.says("zhang_dehua", "帮助")
        assert stream.replied("zhang_dehua")[0].startswith("张德华您好")
    finally:
        standby.stop()


def test_a_standby_takes_over_once_a_dead_holders_lease_runs_out(stream):
    gateway = stream.emulator.gateway
    stream.runner.stop()
    # A process that took the lease and died: it neither renews nor gives it up. Its lease is whole seconds long:
    # MariaDB keeps DATETIME to the second, so a lease shorter than that could already have run out when stored.
    lease = timedelta(seconds=5)
    assert acquire(stream.runtime.factory, stream.runner.lease_name, "dead-process", stream.clock.now(), lease)
    standby = stream.runner_like()
    standby.start()
    try:
        assert not standby.connected.wait(1.0)  # the lease is still running on the database's clock
        stream.clock.advance(seconds=lease.total_seconds())
        until(standby.connected.is_set)
        until(lambda: gateway.opened == 2)
    finally:
        standby.stop()


def test_a_wrong_secret_is_refused_by_the_gateway_and_retried_with_backoff(stream):
    stream.runner.stop()
    wrong = replace(stream.runner.config, app_secret="wrong")
    runner = StreamRunner(stream.runtime, wrong, lambda webhook: None, stream.worker.kick, lambda click: None,
                          lambda click: True, counter=stream.runner.client.counter)  # fmt: skip
    runner.start()
    try:
        until(lambda: stream.emulator.calls.count("gateway") >= 3)
        assert not runner.connected.is_set() and stream.emulator.gateway.opened == 1
    finally:
        runner.stop()
    with stream.runtime.factory() as session:
        [totals] = call_totals(session)
    assert totals.calls == stream.emulator.calls.count("gateway") and totals.errors == totals.calls - 1  # refusals


def test_backoff_doubles_up_to_the_cap_with_jitter(stream):
    waits = [stream.runner.backoff(failures) for failures in range(8)]

    assert 0.025 <= waits[0] <= 0.05 and 0.05 <= waits[1] <= 0.1
    assert all(0.1 <= wait <= 0.2 for wait in waits[3:])  # capped at stream_backoff_max_seconds


def test_http_mode_starts_no_runner_and_stream_mode_shuts_the_callback(stream, tmp_path):
    platform = stream.runtime.platforms["dingtalk"]
    assert platform.routes(stream.runtime, lambda: None) is None  # stream mode: no /dingtalk/callback
    assert stream_runner(stream.runtime, lambda: None) is not None
    http = DingTalkPlatform(replace(platform.config, mode="http"), platform.client)
    runtime = replace(stream.runtime, platforms={"dingtalk": http})
    assert stream_runner(runtime, lambda: None) is None
    assert http.routes(runtime, lambda: None) is not None


@pytest.mark.parametrize("command, stop", [("serve", signal.SIGINT), ("worker", signal.SIGTERM)])
def test_serve_or_a_worker_holds_the_stream_connection_and_closes_it_when_stopped(
    stream, engine, tmp_path, command, stop
):
    gateway, url = stream.emulator.gateway, stream.emulator.url
    stream.runner.stop()  # the process below is the only one left to hold the connection
    config = tmp_path / "config.toml"
    config.write_text(
        f'[web]\nport = {free_port()}\n[delivery]\nplatform = "dingtalk"\n[dingtalk]\napp_key = "{APP_KEY}"\n'
        f'app_secret = "{APP_SECRET}"\napi_base_url = "{url}"\nwebhook_base_url = "{url}"\nmode = "stream"\n'
        "stream_idle_seconds = 5\nstream_lease_seconds = 5\n",
        encoding="utf-8",
    )
    environ = {**os.environ, "YBT_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    arguments = [sys.executable, "-m", "bot", command, "--config", str(config)]
    serve = subprocess.Popen(arguments, cwd=ROOT, env=environ, stderr=subprocess.PIPE, text=True)
    try:
        until(lambda: gateway.opened == 2, within=30)
        stream.says("zhang_dehua", "帮助")
        assert until(lambda: stream.texts("zhang_dehua"), within=30)[0].startswith("张德华您好")

        serve.send_signal(stop)
        assert serve.wait(15) == 0
        assert gateway.connections() == 0
        printed = serve.stderr.read()
        assert "钉钉 Stream 模式：本进程取得租约后连接钉钉" in printed
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_mode_and_stream_times_are_read_from_the_file_and_checked(tmp_path):
    path = tmp_path / "bot.toml"
    path.write_text('[dingtalk]\nmode = "stream"\nstream_idle_seconds = 45\nstream_backoff_seconds = 0.5\n')
    settings = load_config(path, environ={}).dingtalk
    assert (settings.mode, settings.stream_idle_seconds, settings.stream_backoff_seconds) == ("stream", 45, 0.5)
    assert load_config(None, environ={}).dingtalk.mode == "http"

    for line, complaint in [('mode = "websocket"', '只能是 "http"'), ("stream_idle_seconds = 0", "须大于 0 秒"),
                            ("stream_backoff_max_seconds = 0.1", "不能小于")]:  # fmt: skip
        path.write_text(f"[dingtalk]\n{line}\n")
        with pytest.raises(ValueError, match=complaint):
            load_config(path, environ={})
