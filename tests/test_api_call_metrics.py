"""What an operator's /metrics says of the platforms' APIs: every call the bot's real WeCom and DingTalk clients make
to the local emulators over loopback is counted, and every failed one (no answer, an HTTP error, an error code, a
refused token, a failed upload) is counted as an error, in the database every process shares."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from bot.app import create_app
from bot.config import Config, DeliveryConfig, DingTalkConfig
from bot.platforms.base import DeliveryError, Outgoing, Recipient
from bot.platforms.dingtalk.budget import period_of
from bot.platforms.dingtalk.emulator import DingTalkEmulator, EmulatorSettings
from bot.platforms.dingtalk.emulator import serve as serve_dingtalk
from bot.platforms.registry import dingtalk_platform, wecom_platform
from bot.platforms.wecom.emulator import serve as serve_wecom
from bot.runtime import Runtime, build_runtime, load_demo_org
from handlers.core.clock import ManualClock
from ledger_store.db import transaction
from ledger_store.models import ApiUsage
from tests.dingtalk_members import on_dingtalk
from tests.test_health import sample, scrape

APP_KEY, APP_SECRET = "dingmetricsappkey", "metrics-app-secret"
START = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def totals(runtime: Runtime, platform: str) -> tuple[int, int]:
    """The platform's calls and errors as a scrape of /metrics reads them (0 before the first call)."""
    samples = scrape(create_app(runtime).test_client())
    labels = frozenset({("platform", platform)})
    return (
        int(samples.get(("ybt_platform_api_calls_total", labels), 0)),
        int(samples.get(("ybt_platform_api_errors_total", labels), 0)),
    )


def wecom_calls(world) -> int:
    return len(world.emulator.calls)


def to(*accounts: str) -> list[Recipient]:
    return [Recipient(account, f"push:{account}") for account in accounts]


def test_wecom_calls_and_failed_calls_are_counted(world, engine: Engine) -> None:
    platform = world.runtime.platforms["wecom"]
    assert totals(world.runtime, "wecom") == (0, 0)

    platform.send(to("zhang_dehua"), Outgoing(text="请于明天 18:00 前填报低保月报"))
    assert totals(world.runtime, "wecom") == (2, 0) == (wecom_calls(world), 0)  # gettoken, message/send

    world.emulator.fail_next("message/send", 60020)  # an untrusted IP: not tried again
    with pytest.raises(DeliveryError):
        platform.send(to("zhang_dehua"), Outgoing(text="第二条"))
    assert totals(world.runtime, "wecom") == (3, 1)

    world.emulator.fail_next("message/send", 40014)  # a refused token: a new one, and the send once more
    platform.send(to("zhang_dehua"), Outgoing(text="第三条"))
    assert totals(world.runtime, "wecom") == (6, 2) == (wecom_calls(world), 2)

    world.emulator.fail_next("media/upload", 40005)
    with pytest.raises(DeliveryError):
        platform.send(to("zhang_dehua"), Outgoing(file_name="汇总表.xlsx", file_bytes=b"PK\x03\x04 workbook"))
    assert totals(world.runtime, "wecom") == (7, 3) == (wecom_calls(world), 3)

    # Another process's client (built as every process builds it) on a WeCom that does not answer: its token
    # fetches fail, and its counts add to the same totals.
    stopped = serve_wecom(world.emulator)
    stopped.shutdown()
    config = replace(world.runtime.config, wecom=replace(world.runtime.config.wecom, api_base_url=stopped.url))
    unreachable, sleeps = wecom_platform(config, engine), []
    unreachable.sleep = sleeps.append
    with pytest.raises(DeliveryError):
        unreachable.send(to("zhang_dehua"), Outgoing(text="第四条"))
    tries = 1 + len(sleeps)
    assert totals(world.runtime, "wecom") == (7 + tries, 3 + tries)
    received = [m["text"]["content"] for m in world.emulator.inbox("zhang_dehua")]
    assert received == ["请于明天 18:00 前填报低保月报", "第三条"]


def test_a_count_that_cannot_be_written_fails_no_send_and_is_added_with_the_next(world, db, caplog) -> None:
    """On SQLite a call made while this thread's own transaction holds the write lock (a file downloaded while its
    message is handled) cannot write its count: the send still goes out, and the count comes with the next call's."""
    caplog.set_level(logging.INFO, logger="bot.platforms.api_calls")
    platform = world.runtime.platforms["wecom"]
    with transaction(db) as session:
        session.add(ApiUsage(platform="other", period="2026-12", calls=0, free_calls=0, allowance=0))
        session.flush()  # this transaction now holds the write lock
        platform.send(to("zhang_dehua"), Outgoing(text="第一条"))
    platform.send(to("zhang_dehua"), Outgoing(text="第二条"))

    assert [m["text"]["content"] for m in world.emulator.inbox("zhang_dehua")] == ["第一条", "第二条"]
    # Every call the emulator received, the ones made under the lock too (a token it could not cache is fetched again).
    assert totals(world.runtime, "wecom") == (wecom_calls(world), 0)
    if db.kw["bind"].dialect.name == "sqlite":
        assert "wecom API calls counted with the next one" in caplog.text


@dataclass
class DingTalk:
    emulator: DingTalkEmulator
    runtime: Runtime
    clock: ManualClock

    @property
    def platform(self):
        return self.runtime.platforms["dingtalk"]

    def metered_this_month(self) -> int:
        """Answered metered calls in this month's budget, as /metrics shows them."""
        samples = scrape(create_app(self.runtime).test_client())
        period = period_of(self.clock.now())
        return int(sample(samples, "ybt_platform_api_month_calls", platform="dingtalk", period=period, metered="true"))


@pytest.fixture
def ding(engine: Engine, db) -> Iterator[DingTalk]:
    """The demo organisation on the local DingTalk (ids dt_<account>), its clock and the emulator's one."""
    clock = ManualClock(START)
    emulator = DingTalkEmulator(EmulatorSettings(APP_KEY, APP_SECRET), clock=lambda: clock.now().timestamp())
    api = serve_dingtalk(emulator)
    settings = DingTalkConfig(APP_KEY, APP_SECRET, api_base_url=api.url, webhook_base_url=api.url,
                              oapi_base_url=api.url)  # fmt: skip
    config = Config(dingtalk=settings, delivery=DeliveryConfig(platform="dingtalk"))
    runtime = build_runtime(config, dingtalk_platform(config, engine, clock.now), clock=clock, database=engine)
    load_demo_org(runtime)
    on_dingtalk(runtime, emulator)
    yield DingTalk(emulator, runtime, clock)
    api.shutdown()


def test_dingtalk_calls_and_failed_calls_are_counted_and_the_budget_keeps_its_meaning(ding, engine) -> None:
    to_zhang = [Recipient("dt_zhang_dehua", "push:1")]
    ding.platform.send(to_zhang, Outgoing(text="请于明天 18:00 前填报低保月报"))
    assert totals(ding.runtime, "dingtalk") == (2, 0)  # token, batch send

    ding.emulator.fail_next("batch", 503, "ServiceUnavailable")
    with pytest.raises(DeliveryError):
        ding.platform.send(to_zhang, Outgoing(text="第二条"))
    assert totals(ding.runtime, "dingtalk") == (3, 1)

    ding.emulator.expire_tokens()  # the batch send is refused for its token, a new one is fetched, then it goes
    ding.platform.send(to_zhang, Outgoing(text="第三条"))
    assert totals(ding.runtime, "dingtalk") == (6, 2)

    ding.emulator.fail_next("upload", 200, "40035")
    with pytest.raises(DeliveryError):
        ding.platform.send(to_zhang, Outgoing(text="附件", file_name="a.xlsx", file_bytes=b"PK"))
    assert totals(ding.runtime, "dingtalk") == (7, 3) == (len(ding.emulator.calls), 3)

    config = ding.runtime.config
    closed = replace(config.dingtalk, api_base_url="http://127.0.0.1:9", app_key="unreachable")
    with pytest.raises(DeliveryError):
        dingtalk_platform(replace(config, dingtalk=closed), engine, ding.clock.now).send(to_zhang, Outgoing(text="四"))
    assert totals(ding.runtime, "dingtalk") == (8, 4)

    # The monthly budget still counts what DingTalk answered and meters, no more: the unanswered call is not in it.
    assert ding.metered_this_month() == 7 == ding.emulator.metered_calls(period_of(ding.clock.now()))
