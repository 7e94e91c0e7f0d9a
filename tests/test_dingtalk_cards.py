"""DingTalk interactive cards on loopback: the bot sends questions with buttons as cards through the emulator's
createAndDeliver, members click them (HTTP card callbacks, signed, to the bot's real server; or the payload Stream
carries, turned into an Incoming), and the bot updates the clicked card."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest
import requests
from flask import Flask
from sqlalchemy import Engine

from bot.app import create_app
from bot.config import Config, DeliveryConfig, DingTalkConfig
from bot.platforms.base import DeliveryError, Outgoing, Recipient
from bot.platforms.dingtalk import errors
from bot.platforms.dingtalk.card_callback import SIGNATURE_HEADER, TIMESTAMP_HEADER, card_refusal, card_signature
from bot.platforms.dingtalk.cards import CardClickError, card_click, draw_card
from bot.platforms.dingtalk.emulator import DingTalkEmulator, EmulatorSettings
from bot.platforms.dingtalk.emulator import serve as serve_emulator
from bot.platforms.dingtalk.emulator_cli import run_console
from bot.platforms.registry import configured_platforms
from bot.runtime import Runtime, build_runtime, load_demo_org
from handlers.core.clock import ManualClock
from handlers.texts.conversation import STALE_BUTTON
from ledger_store.outbox import Buttons, Option
from tests.dingtalk_members import Members, on_dingtalk, serve_app

APP_KEY, APP_SECRET = "dingcardappkey", "card-app-secret"
ROUTE_KEY, CARD_SECRET = "ybt-cards", "card-callback-secret"
ISSUE = "/发布 残疾人两项补贴情况 截止 后天18点 范围 石庙村"


@dataclass
class CardWorld(Members):
    """The demo organisation on DingTalk (dt_<account>) with cards configured, the bot serving on loopback."""

    emulator: DingTalkEmulator
    runtime: Runtime
    app: Flask
    clock: ManualClock
    seen: dict[str, int] = field(default_factory=dict)

    def settle(self) -> None:
        self.app.extensions["worker"].run()

    def say(self, account: str, text: str) -> list[dict]:
        assert self.emulator.member_says(f"dt_{account}", text).status_code == 200
        self.settle()
        return self.take(account)

    def click(self, account: str, card: dict, value: str) -> list[dict]:
        response = self.emulator.member_clicks_card(f"dt_{account}", card["out_track_id"], value)
        assert response.status_code == 200 and response.json() == {}
        self.settle()
        return self.take(account)

    def fill_up_to_the_choice(self, review: bool = False) -> dict:
        """chen_guoping starts the disability report and answers up to 发放方式: the card he gets for it."""
        self.say("wang_canlian", ISSUE + ("" if review else " 不审核"))
        self.say("chen_guoping", "开始")
        for answer in ["12", "5", "8600"]:
            self.say("chen_guoping", answer)
        [card] = self.say("chen_guoping", "2024-11-20")
        return card


def dingtalk_config(url: str, **cards: str) -> DingTalkConfig:
    return DingTalkConfig(app_key=APP_KEY, app_secret=APP_SECRET, api_base_url=url, webhook_base_url=url, **cards)


@pytest.fixture
def world(engine: Engine, db) -> Iterator[CardWorld]:
    yield from serve_world(engine, with_cards=True)


@pytest.fixture
def plain_world(engine: Engine, db) -> Iterator[CardWorld]:
    yield from serve_world(engine, with_cards=False)


def serve_world(engine: Engine, with_cards: bool) -> Iterator[CardWorld]:
    clock = ManualClock(datetime.now(UTC))
    emulator = DingTalkEmulator(EmulatorSettings(APP_KEY, APP_SECRET), clock=lambda: clock.now().timestamp())
    api = serve_emulator(emulator)
    cards = {"card_template_id": emulator.settings.card_template_id, "card_callback_route_key": ROUTE_KEY}
    dingtalk = dingtalk_config(api.url, **(cards | {"card_callback_secret": CARD_SECRET} if with_cards else {}))
    config = replace(Config(), dingtalk=dingtalk, delivery=DeliveryConfig(platform="dingtalk"))
    runtime = build_runtime(config, *configured_platforms(config, engine), clock=clock, database=engine)
    load_demo_org(runtime)
    on_dingtalk(runtime, emulator)
    app = create_app(runtime)
    base, stop = serve_app(app)
    emulator.settings.callback_url = f"{base}/dingtalk/callback"
    emulator.register_card_route(ROUTE_KEY, f"{base}/dingtalk/card-callback", CARD_SECRET)
    yield CardWorld(emulator, runtime, app, clock)
    stop()
    api.shutdown()


def wait_for(condition, seconds: float = 3.0) -> None:
    """The card update runs in the server thread after the response; give it a moment."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_a_single_choice_question_arrives_as_a_card_and_a_click_answers_it(world):
    card = world.fill_up_to_the_choice()

    assert card["via"] == "card" and "第5/8题" in card["text"]
    assert card["options"] == [("1", "社保卡"), ("2", "银行卡"), ("3", "现金")]
    created = world.emulator.cards[card["out_track_id"]]
    assert (created["callback_type"], created["route_key"]) == ("HTTP", ROUTE_KEY)
    [next_question] = world.click("chen_guoping", card, "2")
    # Several may be ticked at 第6题: it stays text, its options numbered for a typed answer.
    assert next_question["via"] in ("webhook", "batch") and "第6/8题" in next_question["text"]
    assert "1. " in next_question["text"]

    wait_for(lambda: world.emulator.card_updates)
    [update] = world.emulator.card_updates
    assert update["outTrackId"] == card["out_track_id"]
    assert update["cardData"]["cardParamMap"] == {"chosen": "已选择：银行卡", "answered": "true"}
    with pytest.raises(ValueError, match="already answered"):
        world.emulator.card_click_payload("dt_chen_guoping", card["out_track_id"], "1")
    world.say("chen_guoping", "1 2")
    world.say("chen_guoping", "110102199101010078")
    review = world.say("chen_guoping", "13650238871")
    assert any("发放方式：银行卡" in message["text"] for message in review)


def test_a_click_on_a_card_of_an_earlier_question_is_declined(world):
    old_card = world.fill_up_to_the_choice()
    [next_question] = world.say("chen_guoping", "3")  # typed instead of clicked: the card keeps its buttons
    assert "第6/8题" in next_question["text"]

    [declined] = world.click("chen_guoping", old_card, "1")
    assert declined["text"].startswith(STALE_BUTTON) and "第6/8题" in declined["text"]
    assert any("发放方式：现金" in m["text"] for m in world.say("chen_guoping", "查看"))


def test_a_click_in_someone_elses_name_or_on_an_unknown_card_is_refused(world):
    card = world.fill_up_to_the_choice()
    stored = world.stored()
    url = world.emulator.card_routes[ROUTE_KEY][0]
    payload = world.emulator.card_click_payload("dt_chen_guoping", card["out_track_id"], "2")
    timestamp = str(int(world.clock.now().timestamp() * 1000))
    headers = {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: card_signature(timestamp, CARD_SECRET)}

    as_another = json.dumps(payload | {"userId": "dt_zhang_dehua"}).encode()
    assert requests.post(url, data=as_another, headers=headers, timeout=5).status_code == 403
    unknown = json.dumps(payload | {"outTrackId": "c999p1-0123456789abcdef"}).encode()
    assert requests.post(url, data=unknown, headers=headers, timeout=5).status_code == 403

    world.settle()
    assert world.stored() == stored and world.emulator.card_updates == []
    assert world.take("zhang_dehua") == []


def test_a_click_delivered_again_is_handled_once(world):
    card = world.fill_up_to_the_choice()
    world.emulator.member_clicks_card("dt_chen_guoping", card["out_track_id"], "2")
    stored = world.stored()
    for _ in range(2):
        assert world.emulator.resend_last_card_click().status_code == 200
    world.settle()

    assert world.stored() == stored
    [next_question] = world.take("chen_guoping")
    assert "第6/8题" in next_question["text"]


def test_the_reviewer_decides_by_the_buttons_of_the_review_card(world):
    world.fill_up_to_the_choice(review=True)
    for answer in ["2", "1", "110102199101010078", "13650238871"]:
        world.say("chen_guoping", answer)
    world.say("chen_guoping", "提交")
    card = next(m for m in world.take("zhou_jianguo") if m["via"] == "card")
    assert [label for _, label in card["options"]] == ["通过", "退回"]
    assert "1101**********0078" in card["text"] and "110102199101010078" not in card["text"]  # masked on the card

    [asked] = world.click("zhou_jianguo", card, "退回")
    assert "请回复退回原因" in asked["text"]
    [returned] = world.say("zhou_jianguo", "第3题 发放金额与花名册不符")
    assert returned["text"].startswith("已退回：")
    wait_for(lambda: world.emulator.card_updates)
    assert world.emulator.card_updates[-1]["cardData"]["cardParamMap"]["chosen"] == "已选择：退回"


def test_the_stream_payload_of_a_click_becomes_the_answer(world):
    card = world.fill_up_to_the_choice()
    payload = world.emulator.card_click_payload("dt_chen_guoping", card["out_track_id"], "1")

    incoming = card_click(payload).incoming
    assert (incoming.platform, incoming.user_id, incoming.text) == ("dingtalk", "dt_chen_guoping", "1")
    assert incoming.button.value == "1" and card["out_track_id"].startswith(incoming.button.token + "-")
    assert incoming.message_id == card_click(json.loads(json.dumps(payload))).incoming.message_id
    other = world.emulator.card_click_payload("dt_chen_guoping", card["out_track_id"], "2")
    assert card_click(other).incoming.message_id != incoming.message_id  # another button is another message

    click = card_click(payload)
    assert world.runtime.engine.accept(click.incoming)
    assert not world.runtime.engine.accept(card_click(payload).incoming)  # Stream's redelivery is dropped
    world.settle()
    assert "第6/8题" in world.take("chen_guoping")[0]["text"]
    world.runtime.platforms["dingtalk"].update_clicked_card(click)
    assert world.emulator.cards[card["out_track_id"]]["params"]["chosen"] == "已选择：社保卡"


def test_in_http_mode_a_card_template_needs_a_route_key_for_its_clicks():
    with pytest.raises(ValueError, match="card_callback_route_key"):
        DingTalkConfig(app_key="k", app_secret="s", card_template_id="t.schema")
    assert DingTalkConfig(app_key="k", app_secret="s", card_template_id="t.schema", mode="stream").card_template_id


def test_without_an_http_route_key_cards_ask_for_stream_clicks(world):
    platform = world.runtime.platforms["dingtalk"]
    platform.config = replace(platform.config, mode="stream", card_callback_route_key="")
    buttons = Buttons("c1p2", (Option("是", "是"), Option("否", "否")))
    platform.send([Recipient("dt_zhang_dehua", "push:1")], Outgoing(text="是否在岗？", buttons=buttons))

    [card] = world.take("zhang_dehua")
    created = world.emulator.cards[card["out_track_id"]]
    assert (created["callback_type"], created["route_key"]) == ("STREAM", None)


def test_forged_stale_and_malformed_card_callbacks_are_refused_and_nothing_is_stored(world):
    card = world.fill_up_to_the_choice()
    stored = world.stored()
    url = world.emulator.card_routes[ROUTE_KEY][0]
    good = json.dumps(world.emulator.card_click_payload("dt_chen_guoping", card["out_track_id"], "2")).encode()
    now_ms = int(world.clock.now().timestamp() * 1000)

    def post(body: bytes, timestamp: int = now_ms, secret: str = CARD_SECRET, signature: str | None = None) -> int:
        headers = {
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature or card_signature(str(timestamp), secret),
        }
        return requests.post(url, data=body, headers=headers, timeout=5).status_code

    assert world.emulator.member_clicks_card("dt_chen_guoping", card["out_track_id"], "2", "forged=").status_code == 403
    assert post(good, secret="someone else's secret") == 403
    assert post(good, timestamp=now_ms - 2 * 3600 * 1000) == 403
    assert requests.post(url, data=good, timeout=5).status_code == 403
    assert post(b"{not json") == 400
    assert post(b'{"type": "actionCallback", "outTrackId": "c1p4-x", "userId": "dt_chen_guoping"}') == 400
    assert post(json.dumps({"type": "dynamicData", "outTrackId": "a", "userId": "b", "content": "{}"}).encode()) == 400
    assert post(b"[1, 2]") == 400

    world.settle()
    assert world.stored() == stored and world.take("chen_guoping") == []
    assert world.emulator.card_updates == []


def test_without_a_card_secret_no_click_is_taken_and_the_signature_follows_dingtalks_rule():
    now = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)
    ms, seconds = str(int(now.timestamp() * 1000)), str(int(now.timestamp()))
    assert card_refusal(ms, card_signature(ms, ""), "", 3600, now) is not None  # nothing to check it against

    expected = base64.b64encode(hmac.new(b"secret", ms.encode(), hashlib.sha256).digest()).decode()
    assert card_signature(ms, "secret") == expected
    assert card_refusal(ms, expected, "secret", 3600, now) is None
    assert card_refusal(seconds, card_signature(seconds, "secret"), "secret", 3600, now) is None
    assert card_refusal(ms, expected, "secret", 3600, now + timedelta(hours=2)) is not None


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "text",
        {},
        {"outTrackId": "c1p4-ab", "userId": "u1"},
        {"outTrackId": "c1p4-ab", "userId": "u1", "content": "{broken"},
        {"outTrackId": "c1p4-ab", "userId": "u1", "content": '{"cardPrivateData": {"params": {}}}'},
        {"outTrackId": "c1p4-ab", "userId": "u1", "content": '{"cardPrivateData": {"params": {"value": 7}}}'},
        {"outTrackId": "c1p4 ab/..", "userId": "u1", "content": '{"cardPrivateData": {"actionIds": ["1"]}}'},
        {"outTrackId": "c1p4-ab", "userId": "", "content": '{"cardPrivateData": {"actionIds": ["1"]}}'},
    ],
)
def test_a_payload_that_is_no_click_is_refused(payload):
    with pytest.raises(CardClickError):
        card_click(payload)


def test_a_click_without_a_value_parameter_takes_its_action_id():
    content = {"cardPrivateData": {"actionIds": ["2"], "params": {}}}
    incoming = card_click({"outTrackId": "c3p1-ab", "userId": "u1", "content": content}).incoming
    assert (incoming.text, incoming.button.token) == ("2", "c3p1")


def test_without_a_card_template_a_question_arrives_as_text_with_its_options(plain_world):
    message = plain_world.fill_up_to_the_choice()
    question = message["text"]

    assert message["via"] == "webhook" and "第5/8题" in question and "1. 社保卡" in question and "2. 银行卡" in question
    assert plain_world.emulator.cards == {} and "card" not in plain_world.emulator.calls


def test_a_question_too_long_for_the_card_goes_before_it_as_text():
    long_question = "第1题 " + "很长的说明" * 100
    drawn = draw_card(Buttons("c1p1", (Option("1", "是"),)), long_question)
    assert drawn.text_before == long_question and drawn.params["title"].startswith("请选择")
    assert draw_card(Buttons("c1p1", (Option("1", "是"),), multiple=True), "多选") is None


def test_a_card_sent_again_counts_as_delivered_and_unknown_users_come_back(world):
    platform = world.runtime.platforms["dingtalk"]
    buttons = Buttons("c1p2", (Option("是", "是"), Option("否", "否")))
    message = Outgoing(text="是否在岗？", buttons=buttons)
    recipients = [Recipient("dt_zhang_dehua", "push:7"), Recipient("dt_nobody", "push:8")]

    first = platform.send(recipients, message)
    again = platform.send(recipients[:1], message)  # the outbox retries the row after a crash

    assert first.invalid == {"dt_nobody"} and again.invalid == frozenset() and again.failed == {}
    assert [m["via"] for m in world.take("zhang_dehua")] == ["card"]


def test_a_template_dingtalk_does_not_know_is_a_fatal_error_with_a_chinese_reason(world):
    platform = world.runtime.platforms["dingtalk"]
    platform.config = replace(platform.config, card_template_id="no-such-template")
    buttons = Buttons("c1p2", (Option("是", "是"),))
    with pytest.raises(DeliveryError) as caught:
        platform.send([Recipient("dt_zhang_dehua", "push:1")], Outgoing(text="是否在岗？", buttons=buttons))
    assert (caught.value.retry, caught.value.reason) == (False, errors.CARD_TEMPLATE)


def test_a_failed_card_update_is_logged_never_said(world, caplog):
    card = world.fill_up_to_the_choice()
    world.emulator.fail_next("card_update", 503, "ServiceUnavailable")
    [next_question] = world.click("chen_guoping", card, "2")

    assert "第6/8题" in next_question["text"]
    wait_for(lambda: "card_update" in world.emulator.calls)
    wait_for(lambda: "updating the clicked DingTalk card" in caplog.text)
    assert "updating the clicked DingTalk card" in caplog.text and world.take("chen_guoping") == []


def test_the_console_clicks_a_card(world):
    card = world.fill_up_to_the_choice()
    worker = world.app.extensions["worker"]
    worker.start()
    out = io.StringIO()
    try:
        run_console(world.emulator, [f":click @dt_chen_guoping {card['out_track_id']} 2", ":quit"], out)
    finally:
        worker.stop()
    assert "→ dt_chen_guoping（" in out.getvalue() and "第6/8题" in out.getvalue()

    out = io.StringIO()
    run_console(world.emulator, [f":click @dt_chen_guoping {card['out_track_id']} 9"], out)
    assert "already answered" in out.getvalue() or "no button" in out.getvalue()
