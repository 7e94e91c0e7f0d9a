"""DingTalk's monthly API budget and work notifications, on loopback: every call the bot's real client makes to the
emulator is counted in the shared api_usage table, /投递 shows the month's use, admins are warned once at 80 %,
DingTalk's refusal past the allowance is explained, and pushes can go as work notifications."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, select

from bot.app import create_app
from bot.config import Config, ConfigError, DeliveryConfig, DingTalkConfig, load_config
from bot.platforms.base import DeliveryError, Outgoing, Recipient
from bot.platforms.dingtalk import errors
from bot.platforms.dingtalk.budget import UsageMeter, period_of, warning_threshold
from bot.platforms.dingtalk.emulator import DingTalkEmulator, EmulatorSettings
from bot.platforms.dingtalk.emulator import serve as serve_emulator
from bot.platforms.registry import dingtalk_platform
from bot.runtime import Runtime, build_runtime, load_demo_org
from handlers.core.clock import ManualClock
from ledger_store.api_usage import claim_warning, count_calls, usage_in
from ledger_store.db import make_engine, make_session_factory, transaction
from ledger_store.models import ApiUsage, OutboxMessage, OutboxStatus, Person
from ledger_store.outbox import Buttons, Option, enqueue
from tests.dingtalk_members import Members, on_dingtalk, serve_app

APP_KEY, APP_SECRET, AGENT_ID = "dingbudgetappkey", "budget-app-secret", 3003003
# Sunday 6 December 2026, 10:00 in Chongqing.
START = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
MONTH = "2026-12"
OAPI = "https://oapi.dingtalk.com"


@dataclass
class World(Members):
    """The demo organisation on DingTalk (ids dt_<account>), the bot serving on loopback with a moved clock."""

    emulator: DingTalkEmulator
    runtime: Runtime
    app: Flask
    clock: ManualClock
    seen: dict[str, int] = field(default_factory=dict)

    @property
    def platform(self):
        return self.runtime.platforms["dingtalk"]

    def say(self, account: str, text: str) -> list[dict]:
        """A member writes to the robot one-to-one; what they received afterwards."""
        assert self.emulator.member_says(f"dt_{account}", text).status_code == 200
        self.app.extensions["worker"].run()
        return self.take(account)

    def push(self, accounts: list[str], text: str, key: str) -> None:
        """Queue one text push to each of `accounts`, then deliver."""
        with transaction(self.runtime.factory) as session:
            for account in accounts:
                person = session.scalar(select(Person).where(Person.account == account))
                enqueue(session, person_id=person.id, dedupe_key=f"{key}:{account}", now=self.now(), text=text)
        self.runtime.deliver()

    def now(self) -> datetime:
        return self.clock.now().astimezone(UTC).replace(tzinfo=None)

    def usage(self):
        with self.runtime.factory() as session:
            return {usage.platform: usage for usage in usage_in(session, MONTH)}.get("dingtalk")

    def outbox(self, key_prefix: str) -> list[OutboxMessage]:
        with self.runtime.factory() as session:
            query = select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith(key_prefix))
            return list(session.scalars(query.order_by(OutboxMessage.id)))


def world(engine: Engine, dingtalk: dict, emulated: dict, closing: list) -> World:
    """A world with these [dingtalk] options and emulator settings; its servers are shut down by `closing`."""
    clock = ManualClock(START)
    settings = EmulatorSettings(APP_KEY, APP_SECRET, agent_id=AGENT_ID, **emulated)
    emulator = DingTalkEmulator(settings, clock=lambda: clock.now().timestamp())
    api = serve_emulator(emulator)
    config = Config(
        dingtalk=DingTalkConfig(
            APP_KEY,
            APP_SECRET,
            api_base_url=api.url,
            webhook_base_url=api.url,
            oapi_base_url=api.url,
            agent_id=AGENT_ID,
            **dingtalk,
        ),  # fmt: skip
        delivery=DeliveryConfig(platform="dingtalk"),
    )
    runtime = build_runtime(config, dingtalk_platform(config, engine, clock.now), clock=clock, database=engine)
    load_demo_org(runtime)
    on_dingtalk(runtime, emulator)
    app = create_app(runtime)
    base, stop = serve_app(app)
    emulator.settings.callback_url = f"{base}/dingtalk/callback"
    closing += [stop, api.shutdown]
    return World(emulator, runtime, app, clock)


@pytest.fixture
def worlds(engine: Engine, db) -> Iterator[Callable[..., World]]:
    """Builds the world with [dingtalk] options (`dingtalk={...}`) and emulator settings (`emulated={...}`)."""
    closing: list[Callable[[], None]] = []
    yield lambda dingtalk=None, emulated=None: world(engine, dingtalk or {}, emulated or {}, closing)
    for close in closing:
        close()


@pytest.fixture
def ding(worlds) -> World:
    """The world with the default settings: robot pushes, an allowance of 10,000."""
    return worlds()


def test_every_metered_call_is_counted_and_a_session_reply_is_counted_apart(ding):
    [reply] = ding.say("zhang_dehua", "帮助")
    assert reply["via"] == "webhook"
    assert (ding.usage().calls, ding.usage().free_calls) == (0, 1)

    ding.push(["zhang_dehua", "hu_xiaoyan", "li_minzheng"], "请于明天 18:00 前填报低保月报", "notice")

    assert ding.emulator.calls == ["webhook", "token", "batch"]  # three people, one batch send
    usage = ding.usage()
    assert (usage.calls, usage.free_calls, usage.allowance) == (2, 1, 10000)
    assert usage.calls == ding.emulator.metered_calls(MONTH)


def test_a_call_that_got_no_answer_is_not_counted(ding, engine):
    config = ding.runtime.config
    closed = replace(config.dingtalk, api_base_url="http://127.0.0.1:9", app_key="unreachable")
    platform = dingtalk_platform(replace(config, dingtalk=closed), engine, ding.clock.now)
    with pytest.raises(DeliveryError) as caught:
        platform.send([Recipient("dt_zhang_dehua", "push:1")], Outgoing(text="通知"))
    assert caught.value.code == "dingtalk:network" and ding.usage() is None


def test_the_month_is_chinas_and_a_new_month_starts_from_nothing(ding):
    assert period_of(datetime(2026, 11, 30, 16, 30, tzinfo=UTC)) == "2026-12"  # 00:30 on 1 December in Beijing
    ding.push(["zhang_dehua"], "十一月的通知", "november")
    ding.clock.set(datetime(2026, 12, 31, 16, 5, tzinfo=UTC))  # 00:05 on 1 January 2027 in Beijing
    ding.push(["zhang_dehua"], "一月的通知", "january")
    with ding.runtime.factory() as session:
        [january] = usage_in(session, "2027-01")
    assert january.calls == ding.emulator.metered_calls("2027-01") > 0
    assert ding.usage().calls == ding.emulator.metered_calls(MONTH) == 2


def count_in_process(url: str, times: int) -> None:
    """Another process counting calls on the same database."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    for _ in range(times):
        count_calls(factory, "dingtalk", MONTH, 10000)
    engine.dispose()


def test_counts_are_exact_when_processes_and_threads_count_at_once(engine, db):
    url = engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=count_in_process, args=(url, 40)) for _ in range(2)]
    threads = [threading.Thread(target=count_calls, args=(db, "dingtalk", MONTH, 10000)) for _ in range(20)]
    for worker in [*processes, *threads]:
        worker.start()
    for worker in [*processes, *threads]:
        worker.join()

    assert all(process.exitcode == 0 for process in processes)
    with db() as session:
        [usage] = usage_in(session, MONTH)
    assert (usage.calls, usage.free_calls) == (2 * 40 + 20, 0)


def test_the_admin_sees_the_months_use_in_delivery_and_others_cannot(ding):
    [before] = ding.say("admin", "/投递")
    assert "接口调用" not in before["text"]  # no DingTalk call yet this month: no line
    ding.push(["zhang_dehua"], "通知", "notice")
    count_calls(ding.runtime.factory, "dingtalk", MONTH, 10000, metered=1232)

    [answer] = ding.say("admin", "/投递")
    assert "本月钉钉接口调用 1,234 / 10,000 次（12%），另有会话内回复 1 次不计入。" in answer["text"]

    [refused] = ding.say("hu_xiaoyan", "/投递")
    assert "接口调用" not in refused["text"] and "管理员权限" in refused["text"]


def test_an_allowance_of_zero_counts_without_a_cap_or_a_warning(worlds):
    ding = worlds(dingtalk=dict(monthly_call_allowance=0))
    ding.push(["zhang_dehua"], "通知", "notice")
    [answer] = ding.say("admin", "/投递")
    assert "本月钉钉接口调用 2 次（未设每月额度）" in answer["text"]
    assert ding.outbox("api-budget:") == []


def test_admins_are_warned_once_when_eighty_percent_is_used(worlds):
    ding = worlds(dingtalk=dict(monthly_call_allowance=10))
    assert warning_threshold(10) == 8 and warning_threshold(10001) == 8001
    count_calls(ding.runtime.factory, "dingtalk", MONTH, 10, metered=6)
    ding.push(["zhang_dehua"], "第一次通知", "first")  # token and batch: 8 of 10
    ding.runtime.deliver()

    [warning] = ding.take("admin")
    assert warning["text"] == errors.budget_warning(8, 10)
    assert "本月钉钉接口已调用 8 次，占每月额度 10 次的 80%" in warning["text"]
    assert ding.take("hu_xiaoyan") == [] and ding.take("li_minzheng") == []
    [row] = ding.outbox("api-budget:")
    assert row.status == OutboxStatus.SENT and ding.usage().warned_at is not None

    ding.push(["zhang_dehua"], "第二次通知", "second")
    ding.runtime.deliver()
    assert ding.take("admin") == [] and len(ding.outbox("api-budget:")) == 1


def test_processes_crossing_the_threshold_together_warn_once(worlds, engine):
    ding = worlds(dingtalk=dict(monthly_call_allowance=100))
    count_calls(ding.runtime.factory, "dingtalk", MONTH, 100, metered=75)
    meters = [UsageMeter(make_session_factory(engine), 100, ding.clock.now) for _ in range(10)]
    threads = [threading.Thread(target=meter.count, args=(True,)) for meter in meters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert ding.usage().calls == 85
    [row] = ding.outbox("api-budget:")  # the demo organisation has one admin
    assert row.text.startswith("提醒：本单位本月钉钉接口已调用 ")
    with transaction(ding.runtime.factory) as session:  # the guard: a second claim of the month gets nothing
        assert not claim_warning(session, "dingtalk", MONTH, 80, ding.now())
    with transaction(ding.runtime.factory) as session:
        assert claim_warning(session, "dingtalk", "2027-01", 0, ding.now()) is False  # no row, nothing to claim


def test_past_the_allowance_the_push_dies_with_the_reason_and_is_not_retried(worlds):
    ding = worlds(emulated=dict(monthly_allowance=3))
    ding.push(["zhang_dehua"], "第一条", "first")  # token and batch: 2 of 3
    ding.push(["zhang_dehua"], "第二条", "second")  # batch: 3 of 3
    ding.push(["zhang_dehua"], "第三条", "third")  # refused

    assert [message["text"] for message in ding.take("zhang_dehua")] == ["第一条", "第二条"]
    [row] = ding.outbox("third:")
    assert (row.status, row.attempts, row.failure_reason) == (OutboxStatus.DEAD, 1, errors.ALLOWANCE_USED_UP)
    assert ding.usage().calls == ding.emulator.metered_calls() == 4  # the refused call was answered: counted
    [answer] = ding.say("admin", "/投递")
    assert "钉钉接口调用次数已用完" in answer["text"]


def test_a_work_notice_past_the_allowance_is_explained_too(worlds):
    ding = worlds(dingtalk=dict(push="work_notice"), emulated=dict(monthly_allowance=2))
    with pytest.raises(DeliveryError) as caught:
        for _ in range(2):
            ding.platform.send([Recipient("dt_zhang_dehua", "push:1")], Outgoing(text="通知"))
    assert (caught.value.retry, caught.value.reason, caught.value.code) == (False, errors.ALLOWANCE_USED_UP,
                                                                            "dingtalk:90020")  # fmt: skip


def test_pushes_go_as_work_notices_counted_while_replies_stay_in_the_chat(worlds):
    ding = worlds(dingtalk=dict(push="work_notice"))
    ding.push(["zhang_dehua", "hu_xiaoyan"], "请于明天 18:00 前填报低保月报", "notice")

    assert ding.take("zhang_dehua") == [{"via": "work_notice", "text": "请于明天 18:00 前填报低保月报"}]
    assert ding.take("hu_xiaoyan") == [{"via": "work_notice", "text": "请于明天 18:00 前填报低保月报"}]
    assert ding.emulator.calls == ["token", "work_notice"]
    assert ding.usage().calls == ding.emulator.metered_calls() == 2

    [reply] = ding.say("zhang_dehua", "帮助")
    assert reply["via"] == "webhook"


def test_a_question_with_buttons_stays_in_the_robot_chat_when_pushes_go_as_work_notices(worlds):
    ding = worlds(dingtalk=dict(push="work_notice"))
    buttons = Buttons("c1p1", (Option("1", "是"), Option("2", "否")))
    ding.platform.send([Recipient("dt_zhang_dehua", "question:1")], Outgoing(text="是否已入户核查？", buttons=buttons))

    [question] = ding.take("zhang_dehua")
    assert question["via"] == "batch" and question["text"].startswith("是否已入户核查？")
    assert "work_notice" not in ding.emulator.calls


def test_a_refused_token_is_fetched_again_and_a_reply_without_a_webhook_goes_by_the_robot(worlds):
    ding = worlds(dingtalk=dict(push="work_notice"))
    ding.push(["zhang_dehua"], "第一条通知", "first")
    ding.emulator.expire_tokens()
    ding.push(["zhang_dehua"], "第二条通知", "second")
    assert [m["text"] for m in ding.take("zhang_dehua")] == ["第一条通知", "第二条通知"]
    assert ding.emulator.calls == ["token", "work_notice", "work_notice", "token", "work_notice"]

    ding.platform.send([Recipient("dt_hu_xiaoyan", "reply:7")], Outgoing(text="您的回答已保存"))
    assert ding.take("hu_xiaoyan") == [{"via": "batch", "text": "您的回答已保存"}]


def test_a_wrong_agent_id_is_a_delivery_error(worlds, engine):
    ding = worlds(dingtalk=dict(push="work_notice"))
    config = ding.runtime.config
    wrong = dingtalk_platform(replace(config, dingtalk=replace(config.dingtalk, agent_id=7)), engine, ding.clock.now)
    with pytest.raises(DeliveryError) as caught:
        wrong.send([Recipient("dt_zhang_dehua", "push:1")], Outgoing(text="通知"))
    assert caught.value.code == "dingtalk:400035" and "400035" in caught.value.reason


def test_work_notices_name_at_most_a_hundred_people_a_call(worlds):
    ding = worlds(dingtalk=dict(push="work_notice"))
    users = [f"dt_many_{index}" for index in range(150)]
    for user in users:
        ding.emulator.add_member(user, user)

    ding.platform.send([Recipient(user, f"push:{user}") for user in users], Outgoing(text="请核对名单"))

    assert ding.emulator.calls == ["token", "work_notice", "work_notice"]
    assert all(ding.emulator.inbox(user) == [{"via": "work_notice", "text": "请核对名单"}] for user in users)


def test_a_repeated_reminder_still_arrives_though_dingtalk_drops_the_same_text_twice_a_day(worlds):
    ding = worlds(dingtalk=dict(push="work_notice"))
    client = ding.platform.client
    client.work_notice(AGENT_ID, ["dt_zhang_dehua"], "您还没有填报低保月报")
    client.work_notice(AGENT_ID, ["dt_zhang_dehua"], "您还没有填报低保月报")
    assert [m["text"] for m in ding.take("zhang_dehua")] == ["您还没有填报低保月报"]  # DingTalk's rule, emulated

    ding.push(["hu_xiaoyan"], "您还没有填报低保月报", "morning")
    ding.clock.advance(hours=5)
    ding.push(["hu_xiaoyan"], "您还没有填报低保月报", "afternoon")

    reminder = "您还没有填报低保月报"
    assert [m["text"] for m in ding.take("hu_xiaoyan")] == [reminder, reminder + "（15:00 发出）"]
    ding.clock.advance(days=1)
    ding.push(["hu_xiaoyan"], "您还没有填报低保月报", "next-day")
    assert [m["text"] for m in ding.take("hu_xiaoyan")] == ["您还没有填报低保月报"]


def test_the_settings_are_checked(tmp_path: Path):
    with pytest.raises(ValueError, match="push"):
        DingTalkConfig(push="sms")
    with pytest.raises(ValueError, match="agent_id"):
        DingTalkConfig(push="work_notice")
    with pytest.raises(ValueError, match="monthly_call_allowance"):
        DingTalkConfig(monthly_call_allowance=-1)
    path = tmp_path / "config.toml"
    path.write_text('[dingtalk]\nmonthly_call_allowance = 50000\npush = "work_notice"\nagent_id = 42\n')
    loaded = load_config(path, environ={}).dingtalk
    assert (loaded.monthly_call_allowance, loaded.push, loaded.agent_id) == (50000, "work_notice", 42)
    assert loaded.oapi_base_url == OAPI and DingTalkConfig().monthly_call_allowance == 10000
    path.write_text('[dingtalk]\nmonthly_call_allowance = "lots"\n')
    with pytest.raises(ConfigError):
        load_config(path, environ={})


def test_the_example_configuration_documents_the_budget_and_the_push_channel():
    example = (Path(__file__).parent.parent / "config.example.toml").read_text(encoding="utf-8")
    loaded = load_config(Path(__file__).parent.parent / "config.example.toml", environ={}).dingtalk
    assert "monthly_call_allowance = 10000" in example and 'push = "robot"' in example
    assert (loaded.monthly_call_allowance, loaded.push, loaded.oapi_base_url) == (10000, "robot", OAPI)


def test_a_call_made_inside_a_write_is_counted_with_the_next_one(db):
    """A file downloaded while its message is handled: on SQLite this thread's own transaction holds the write lock,
    so the count cannot be written then; it is not lost, and it does not hold the handling up for long."""
    meter = UsageMeter(db, 10000, lambda: START)
    with transaction(db) as session:
        session.add(ApiUsage(platform="other", period=MONTH, calls=0, free_calls=0, allowance=0))
        session.flush()  # this transaction now holds the write lock
        meter.count(metered=True)
    meter.count(metered=False)

    with db() as session:
        usage = {row.platform: row for row in usage_in(session, MONTH)}["dingtalk"]
    assert (usage.calls, usage.free_calls) == (1, 1)
