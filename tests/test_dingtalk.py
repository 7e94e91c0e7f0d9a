"""DingTalk over HTTP callbacks, on loopback: the emulator signs and posts members' messages to the bot's real HTTP
server, the bot answers through the emulator's sessionWebhooks and batch send with its real HTTP client."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest
import requests
from flask import Flask
from sqlalchemy import Engine, select

from bot.app import create_app
from bot.config import Config, DeliveryConfig, DingTalkConfig
from bot.platforms.base import DeliveryError, Outgoing, Recipient
from bot.platforms.dingtalk import errors
from bot.platforms.dingtalk.emulator import DingTalkEmulator, EmulatorSettings
from bot.platforms.dingtalk.emulator import serve as serve_emulator
from bot.platforms.dingtalk.emulator_cli import run_console
from bot.platforms.dingtalk.signing import callback_sign
from bot.platforms.registry import configured_platforms, dingtalk_platform
from bot.runtime import Runtime, build_runtime, load_demo_org
from handlers.core.clock import ManualClock
from handlers.texts.commands import UNKNOWN_MESSAGE_TYPE
from ledger_store.models import InboundMessage, OutboxMessage, OutboxStatus
from tests.dingtalk_members import Members, on_dingtalk, serve_app

APP_KEY, APP_SECRET = "dingtestappkey", "test-app-secret"


def test_the_published_sample_sign_is_reproduced():
    assert callback_sign("1577262236757", "this is secret") == "hmPWwU+7lVdm3ZZz0r9tSfx0L4Q26jWOZr9+Gs6EZQM="


@dataclass
class DingTalkWorld(Members):
    """The demo organisation on DingTalk (everyone's DingTalk id is dt_<account>), the bot serving on loopback."""

    emulator: DingTalkEmulator
    runtime: Runtime
    app: Flask
    clock: ManualClock
    seen: dict[str, int] = field(default_factory=dict)

    def settle(self) -> None:
        """Finish the work the bot does after acknowledging: handle what was stored, deliver the outbox."""
        self.app.extensions["worker"].run()

    def say(self, account: str, text: str, **options) -> list[dict]:
        """A member writes (one-to-one unless told); what that member received afterwards."""
        response = self.emulator.member_says(f"dt_{account}", text, **options)
        assert response.status_code == 200 and response.json() == {}
        self.settle()
        return self.take(account)


def talking_to(url: str, config: Config) -> Config:
    """`config` with its DingTalk app on the emulator, and pushes going to DingTalk."""
    dingtalk = DingTalkConfig(
        app_key=APP_KEY, app_secret=APP_SECRET, api_base_url=url, webhook_base_url=url, oapi_base_url=url
    )
    return replace(config, dingtalk=dingtalk, delivery=DeliveryConfig(platform="dingtalk"))


@pytest.fixture
def ding(engine: Engine, db) -> Iterator[DingTalkWorld]:
    clock = ManualClock(datetime.now(UTC))
    emulator = DingTalkEmulator(EmulatorSettings(APP_KEY, APP_SECRET), clock=lambda: clock.now().timestamp())
    api = serve_emulator(emulator)
    config = talking_to(api.url, Config())
    runtime = build_runtime(config, *configured_platforms(config, engine), clock=clock, database=engine)
    load_demo_org(runtime)
    on_dingtalk(runtime, emulator)
    app = create_app(runtime)
    base, stop = serve_app(app)
    emulator.settings.callback_url = f"{base}/dingtalk/callback"
    yield DingTalkWorld(emulator, runtime, app, clock)
    stop()
    api.shutdown()


def signed(timestamp_ms: int, secret: str = APP_SECRET) -> dict[str, str]:
    return {"timestamp": str(timestamp_ms), "sign": callback_sign(str(timestamp_ms), secret)}


def test_a_message_is_stored_handled_and_answered_through_its_session_webhook(ding):
    [reply] = ding.say("zhang_dehua", "帮助")

    assert reply["via"] == "webhook" and reply["text"].startswith("张德华您好")  # dt_zhang_dehua is 张德华
    assert ding.emulator.batches == [] and "token" not in ding.emulator.calls  # a reply costs no OpenAPI call
    with ding.runtime.factory() as session:
        row = session.scalar(select(InboundMessage))
        assert (row.platform, row.payload["user_id"], row.payload["text"]) == ("dingtalk", "dt_zhang_dehua", "帮助")


def test_a_sender_the_organisation_does_not_know_is_told_so(ding):
    response = ding.emulator.member_says("dt_stranger", "/帮助")
    assert response.status_code == 200
    ding.settle()

    assert ding.emulator.inbox("dt_stranger") == [{"via": "webhook", "text": "您还未登记，请联系管理员。"}]


def test_forged_stale_unsigned_and_malformed_callbacks_are_refused_and_nothing_is_handled(ding):
    emulator, now_ms = ding.emulator, int(ding.clock.now().timestamp() * 1000)
    assert emulator.member_says("dt_zhang_dehua", "帮助", sign="forged+sign=").status_code == 403
    hour_and_a_minute = 61 * 60 * 1000
    for skew in (-hour_and_a_minute, hour_and_a_minute):
        headers = signed(now_ms + skew)
        assert emulator.post_callback(headers, b'{"msgtype": "text"}').status_code == 403
    assert emulator.post_callback({"timestamp": str(now_ms)}, b"{}").status_code == 403
    other_app = signed(now_ms, secret="someone else's secret")
    assert emulator.post_callback(other_app, b"{}").status_code == 403
    assert emulator.post_callback(signed(now_ms), b"{not json").status_code == 400
    assert emulator.post_callback(signed(now_ms), b'{"msgtype": "text", "msgId": "m1"}').status_code == 400
    huge = b'{"msgtype": "text", "text": {"content": "' + b"9" * 70000 + b'"}}'  # over max_callback_bytes
    assert emulator.post_callback(signed(now_ms), huge).status_code == 400

    ding.settle()
    assert ding.stored() == 0 and ding.take("zhang_dehua") == []
    assert emulator.calls == []


def test_a_timestamp_within_the_hour_is_accepted(ding):
    ding.clock.advance(minutes=59)  # the bot's clock runs ahead of the emulator's by 59 minutes
    ding.emulator.clock = lambda: ding.clock.now().timestamp() - 59 * 60
    assert len(ding.say("zhang_dehua", "帮助")) == 1


def test_a_message_delivered_three_times_is_handled_once(ding):
    ding.emulator.member_says("dt_zhang_dehua", "帮助", msg_id="msgDUPLICATE")
    for _ in range(2):
        assert ding.emulator.resend_last_callback().status_code == 200
    ding.settle()

    assert len(ding.take("zhang_dehua")) == 1 and ding.stored() == 1


def test_a_reply_after_the_session_webhook_expired_goes_by_batch_send(ding):
    response = ding.emulator.member_says("dt_zhang_dehua", "帮助")
    assert response.status_code == 200
    ding.clock.advance(hours=2)  # DingTalk's 90 minutes are over before the bot answers
    ding.settle()

    [reply] = ding.take("zhang_dehua")
    assert reply["via"] == "batch"
    assert ding.emulator.calls == ["webhook", "token", "batch"]


def test_a_group_message_is_answered_one_to_one_never_in_the_group(ding):
    [reply] = ding.say("zhang_dehua", "帮助", conversation_type="2")

    assert reply["via"] == "batch"
    assert "webhook" not in ding.emulator.calls


def test_a_published_report_is_pushed_by_batch_send(ding):
    ding.say("li_minzheng", "/发布 低保月报 截止 后天18点 范围 松林村 不审核")

    [push] = ding.take("zhang_dehua")
    assert push["via"] == "batch" and "低保月报" in push["text"]
    assert all(batch["robotCode"] == APP_KEY and batch["msgKey"] == "sampleText" for batch in ding.emulator.batches)


def test_a_flow_controlled_member_is_retried_later_and_then_reached(ding):
    ding.emulator.flow_control("dt_zhang_dehua")
    ding.say("li_minzheng", "/发布 低保月报 截止 后天18点 范围 松林村 不审核")
    assert ding.take("zhang_dehua") == []
    with ding.runtime.factory() as session:
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.failure_reason == errors.FLOW_CONTROLLED))
        assert row.status == OutboxStatus.PENDING

    ding.clock.advance(minutes=5)
    ding.settle()
    [push] = ding.take("zhang_dehua")
    assert "低保月报" in push["text"]


def test_pushes_name_at_most_twenty_users_a_call_and_unknown_users_come_back(ding):
    platform = ding.runtime.platforms["dingtalk"]
    users = [f"dt_many_{index}" for index in range(44)]
    for user in users:
        ding.emulator.add_member(user, user)
    recipients = [Recipient(user, f"push:{user}") for user in [*users, "dt_nobody"]]

    result = platform.send(recipients, Outgoing(text="请于明天前填报"))

    assert [len(batch["userIds"]) for batch in ding.emulator.batches] == [20, 20, 5]
    assert result.invalid == {"dt_nobody"} and result.failed == {}
    assert all(ding.emulator.inbox(user) == [{"via": "batch", "text": "请于明天前填报"}] for user in users)


def test_the_access_token_is_fetched_once_for_every_process_and_again_when_refused(ding, engine):
    first = ding.runtime.platforms["dingtalk"]
    second = dingtalk_platform(ding.runtime.config, engine)  # another process: its own client, the same database
    message, recipient = Outgoing(text="通知"), [Recipient("dt_zhang_dehua", "push:1")]
    first.send(recipient, message)
    second.send(recipient, message)
    assert ding.emulator.calls.count("token") == 1

    ding.emulator.expire_tokens()
    second.send(recipient, message)
    assert ding.emulator.calls.count("token") == 2
    assert len(ding.take("zhang_dehua")) == 3


def delivery_error(platform, message: Outgoing | None = None) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        platform.send([Recipient("dt_zhang_dehua", "push:1")], message or Outgoing(text="通知"))
    return caught.value


def test_failures_are_structured_delivery_errors_with_chinese_reasons(ding, engine):
    config = ding.runtime.config
    wrong = dingtalk_platform(replace(config, dingtalk=replace(config.dingtalk, app_secret="wrong")), engine)
    error = delivery_error(wrong)
    assert (error.retry, error.reason) == (False, errors.CREDENTIALS) and error.code.startswith("dingtalk:")

    platform = ding.runtime.platforms["dingtalk"]
    ding.emulator.fail_next("batch", 429, "Throttling")
    error = delivery_error(platform)
    assert (error.retry, error.reason, error.code) == (True, errors.THROTTLED, "dingtalk:Throttling")

    closed = replace(config.dingtalk, api_base_url="http://127.0.0.1:9", app_key="other")
    error = delivery_error(dingtalk_platform(replace(config, dingtalk=closed), engine))
    assert (error.retry, error.reason, error.code) == (True, errors.NETWORK, "dingtalk:network")


def test_a_server_error_is_busy_and_retried(ding):
    ding.emulator.fail_next("batch", 503, "ServiceUnavailable")
    error = delivery_error(ding.runtime.platforms["dingtalk"])
    assert (error.retry, error.reason, error.code) == (True, errors.BUSY, "dingtalk:ServiceUnavailable")


def test_the_callback_is_loopback_http_the_bot_really_serves(ding):
    # Not a test client: the same URL DingTalk would be given, over a real connection.
    response = requests.post(ding.emulator.settings.callback_url, data=b"{}", timeout=5)
    assert response.status_code == 403


def test_the_fake_dingtalk_console_signs_posts_and_shows_the_answer(ding):
    worker = ding.app.extensions["worker"]
    worker.start()  # as serve runs it: the callback's kick wakes the worker, which answers
    out = io.StringIO()
    try:
        run_console(ding.emulator, ["@dt_zhang_dehua 帮助", "胡言乱语", ":quit", "@dt_zhang_dehua 不会读到"], out)
    finally:
        worker.stop()

    shown = out.getvalue()
    assert "→ dt_zhang_dehua（会话回复）：张德华您好" in shown
    assert "@钉钉账号 文本" in shown and "不会读到" not in shown


def callback_body(ding, **fields) -> bytes:
    """A one-to-one text message from dt_zhang_dehua with a valid sessionWebhook, `fields` changed."""
    now_ms = int(ding.clock.now().timestamp() * 1000)
    body = {
        "msgtype": "text",
        "text": {"content": "帮助"},
        "msgId": "msgHANDMADE",
        "conversationType": "1",
        "senderStaffId": "dt_zhang_dehua",
        "sessionWebhook": f"{ding.emulator.url}/robot/sendBySession?session=unknown",
        "sessionWebhookExpiredTime": now_ms + 3600_000,
    } | fields
    return json.dumps(body, ensure_ascii=False).encode()


def test_a_session_webhook_on_another_host_is_never_used(ding):
    # The sign covers only the timestamp: a body naming another address must not make the bot post there.
    elsewhere = "http://127.0.0.1:9/robot/sendBySession?session=stolen"
    now_ms = int(ding.clock.now().timestamp() * 1000)
    assert ding.emulator.post_callback(signed(now_ms), callback_body(ding, sessionWebhook=elsewhere)).status_code == 200
    ding.settle()

    [reply] = ding.take("zhang_dehua")
    assert reply["via"] == "batch" and "webhook" not in ding.emulator.calls


def test_a_picture_sent_to_the_robot_is_answered_politely(ding):
    now_ms = int(ding.clock.now().timestamp() * 1000)
    body = callback_body(ding, msgtype="picture", content={"downloadCode": "dc1"})
    assert ding.emulator.post_callback(signed(now_ms), body).status_code == 200
    ding.settle()

    [reply] = ding.take("zhang_dehua")
    assert reply["text"] == UNKNOWN_MESSAGE_TYPE


def test_the_emulator_refuses_what_dingtalk_refuses(ding):
    token = requests.post(
        f"{ding.emulator.url}/v1.0/oauth2/accessToken", json={"appKey": APP_KEY, "appSecret": APP_SECRET}, timeout=5
    )
    headers = {"x-acs-dingtalk-access-token": token.json()["accessToken"]}
    body = {"robotCode": APP_KEY, "msgKey": "sampleText", "msgParam": '{"content": "x"}'}
    url = f"{ding.emulator.url}/v1.0/robot/oToMessages/batchSend"

    too_many = requests.post(url, json=body | {"userIds": [f"u{i}" for i in range(21)]}, headers=headers, timeout=5)
    other_robot = requests.post(url, json=body | {"userIds": ["u1"], "robotCode": "other"}, headers=headers, timeout=5)
    no_token = requests.post(url, json=body | {"userIds": ["u1"]}, timeout=5)

    assert (too_many.status_code, other_robot.status_code, no_token.status_code) == (400, 400, 401)
    assert no_token.json()["code"] == "InvalidAuthentication"
