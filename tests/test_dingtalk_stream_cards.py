"""Card clicks over DingTalk Stream on loopback: cards created with no HTTP route key ask for Stream clicks, which the
emulator's gateway pushes on the card topic to the bot's runner (the dingtalk-stream SDK's classes); the click is
stored, acknowledged, answers the question, and the card is updated."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from bot.platforms.dingtalk.cards import CARD_TOPIC
from bot.platforms.dingtalk.emulator import DingTalkEmulator, EmulatorSettings
from bot.platforms.dingtalk.emulator import serve as serve_emulator
from bot.platforms.dingtalk.stream import StreamRunner, stream_runner
from bot.platforms.registry import configured_platforms
from bot.runtime import Runtime, build_runtime, load_demo_org
from bot.worker import Worker
from handlers.core.clock import ManualClock
from handlers.texts.conversation import STALE_BUTTON
from ledger_store.models import InboundMessage
from tests.dingtalk_members import Members, on_dingtalk
from tests.test_dingtalk_cards import ISSUE
from tests.test_dingtalk_stream import APP_KEY, APP_SECRET, REDELIVER, stream_config, until


@dataclass
class StreamCardWorld(Members):
    """The demo organisation on DingTalk in stream mode with cards and no HTTP card route; the worker thread is not
    started, so each step is handled by `worker.run()` until a test starts it."""

    emulator: DingTalkEmulator
    runtime: Runtime
    worker: Worker
    runner: StreamRunner
    seen: dict[str, int] = field(default_factory=dict)

    def say(self, account: str, text: str) -> list[dict]:
        """A member writes; once the frame is acknowledged, one round of the worker; what the member got."""
        frame = self.emulator.member_says(f"dt_{account}", text)
        until(lambda: self.emulator.gateway.acked(frame) == [200])
        self.worker.run()
        return self.take(account)

    def click(self, account: str, card: dict, value: str) -> str:
        """A member clicks a button on a card; the frame's messageId."""
        frame = self.emulator.member_clicks_card(f"dt_{account}", card["out_track_id"], value)
        assert isinstance(frame, str)
        return frame

    def fill_up_to_the_choice(self) -> dict:
        """chen_guoping starts the disability report and answers up to 发放方式: the card he gets for it."""
        self.say("wang_canlian", ISSUE + " 不审核")
        self.say("chen_guoping", "开始")
        for answer in ["12", "5", "8600"]:
            self.say("chen_guoping", answer)
        [card] = self.say("chen_guoping", "2024-11-20")
        assert card["via"] == "card" and "第5/8题" in card["text"]
        return card


@pytest.fixture
def world(engine: Engine, db) -> Iterator[StreamCardWorld]:
    clock = ManualClock(datetime.now(UTC))
    settings = EmulatorSettings(APP_KEY, APP_SECRET, stream=True, redeliver_after=REDELIVER, ping_interval=0.1)
    emulator = DingTalkEmulator(settings, clock=lambda: clock.now().timestamp())
    api = serve_emulator(emulator)
    config = stream_config(api.url, card_template_id=settings.card_template_id)
    runtime = build_runtime(config, *configured_platforms(config, engine), clock=clock, database=engine)
    load_demo_org(runtime)
    on_dingtalk(runtime, emulator)
    worker = Worker(runtime)
    runner = stream_runner(runtime, worker.kick)
    runner.start()
    until(lambda: runner.connected.is_set() and emulator.gateway.connections())
    yield StreamCardWorld(emulator, runtime, worker, runner)
    runner.stop()
    worker.stop()
    api.shutdown()


def test_a_click_travels_over_the_websocket_is_acknowledged_answers_and_updates_the_card(world):
    card = world.fill_up_to_the_choice()
    created = world.emulator.cards[card["out_track_id"]]
    assert (created["callback_type"], created["route_key"]) == ("STREAM", None)
    assert world.runtime.platforms["dingtalk"].routes(world.runtime, lambda: None) is None  # no HTTP way in at all
    assert CARD_TOPIC in world.runner.client.callback_handler_map  # subscribed whenever a connection opens
    world.worker.start()  # from here only the click's follow-up wakes it (it would sleep 30 s otherwise)

    frame = world.click("chen_guoping", card, "2")

    until(lambda: world.emulator.gateway.acked(frame) == [200])
    [ack] = [ack for ack in world.emulator.gateway.acks if ack["messageId"] == frame]
    assert json.loads(ack["data"]) == {"response": {}}  # no card data in the answer: the update goes by the API
    [next_question] = until(lambda: world.take("chen_guoping"))
    assert "第6/8题" in next_question["text"]  # several may be ticked: text, its options numbered
    [update] = until(lambda: world.emulator.card_updates)
    assert update["outTrackId"] == card["out_track_id"]
    assert update["cardData"]["cardParamMap"] == {"chosen": "已选择：银行卡", "answered": "true"}
    with world.runtime.factory() as session:
        clicked = session.scalars(select(InboundMessage).order_by(InboundMessage.id.desc())).first()
    assert clicked.processed_at is not None and clicked.message_key.startswith(f"card:{card['out_track_id']}:")


def test_a_click_whose_acknowledgement_was_lost_comes_again_and_is_handled_once(world, caplog):
    caplog.set_level(logging.INFO, logger="bot.platforms.dingtalk.stream")
    card = world.fill_up_to_the_choice()
    stored, gateway = world.stored(), world.emulator.gateway
    gateway.lose_acks(1)  # the bot stores and acknowledges, but DingTalk never hears it

    frame = world.click("chen_guoping", card, "2")
    until(lambda: gateway.acked(frame), within=REDELIVER * 4)

    assert gateway.sent.count(frame) == 2 and gateway.acked(frame) == [200]
    assert "seen before, dropped" in caplog.text
    world.worker.run()
    assert world.stored() == stored + 1
    [next_question] = world.take("chen_guoping")
    assert "第6/8题" in next_question["text"]
    until(lambda: world.emulator.card_updates)
    assert world.say("chen_guoping", "1 2")  # one more round trip: a second follow-up would have shown by now
    assert len(world.emulator.card_updates) == 1


def test_a_click_on_a_card_of_an_earlier_question_is_declined(world):
    old_card = world.fill_up_to_the_choice()
    [next_question] = world.say("chen_guoping", "3")  # typed instead of clicked: the card keeps its buttons
    assert "第6/8题" in next_question["text"]

    frame = world.click("chen_guoping", old_card, "1")
    until(lambda: world.emulator.gateway.acked(frame) == [200])
    world.worker.run()

    [declined] = world.take("chen_guoping")
    assert declined["text"].startswith(STALE_BUTTON) and "第6/8题" in declined["text"]
    assert any("发放方式：现金" in m["text"] for m in world.say("chen_guoping", "查看"))


def test_a_malformed_card_frame_is_acknowledged_with_an_error_logged_masked_and_nothing_is_stored(world, caplog):
    card = world.fill_up_to_the_choice()
    stored, gateway = world.stored(), world.emulator.gateway
    good = world.emulator.card_click_payload("dt_chen_guoping", card["out_track_id"], "2")
    bad = [
        gateway.push(good | {"content": "{}"}, CARD_TOPIC),  # no button named
        gateway.push(good | {"type": "身份证500101199003071234"}, CARD_TOPIC),  # not a click; an ID number in it
        gateway.push(good | {"outTrackId": "../../etc"}, CARD_TOPIC),
        gateway.push([good], CARD_TOPIC),  # type: ignore[arg-type]
    ]

    until(lambda: [gateway.acked(frame) for frame in bad] == [[400]] * 4)
    world.worker.run()
    assert world.stored() == stored and world.take("chen_guoping") == []
    assert world.emulator.card_updates == []
    assert {ack["message"] for ack in gateway.acks if ack["messageId"] in bad} == {"malformed"}
    assert "card click malformed" in caplog.text and "500101199003071234" not in caplog.text

    frame = world.click("chen_guoping", card, "2")  # the connection lives on and the real click still counts
    until(lambda: gateway.acked(frame) == [200])
    world.worker.run()
    assert "第6/8题" in world.take("chen_guoping")[0]["text"]
    assert world.runner.connections == 1


def test_a_click_in_someone_elses_name_is_refused_and_nothing_is_stored(world):
    card = world.fill_up_to_the_choice()
    stored, gateway = world.stored(), world.emulator.gateway
    payload = world.emulator.card_click_payload("dt_chen_guoping", card["out_track_id"], "2")

    frame = gateway.push(payload | {"userId": "dt_zhang_dehua"}, CARD_TOPIC)
    until(lambda: gateway.acked(frame) == [400])
    world.worker.run()
    assert world.stored() == stored and world.emulator.card_updates == []
    assert world.take("zhang_dehua") == [] and world.take("chen_guoping") == []


def test_a_click_that_cannot_be_stored_is_not_acknowledged_and_is_stored_when_it_comes_again(world, monkeypatch):
    card = world.fill_up_to_the_choice()
    engine, gateway, stored = world.runtime.engine, world.emulator.gateway, world.stored()
    accept, failures = engine.accept, [RuntimeError("database is locked")]

    def accept_once_failing(incoming) -> bool:
        if failures:
            raise failures.pop()
        return accept(incoming)

    monkeypatch.setattr(engine, "accept", accept_once_failing)
    frame = world.click("chen_guoping", card, "2")
    until(lambda: gateway.acked(frame), within=REDELIVER * 4)

    assert gateway.sent.count(frame) == 2 and gateway.acked(frame) == [200]  # only the second time
    world.worker.run()
    assert world.stored() == stored + 1
    assert "第6/8题" in world.take("chen_guoping")[0]["text"]


def test_a_failed_card_update_is_only_logged_and_the_answer_still_counts(world, caplog):
    card = world.fill_up_to_the_choice()
    world.emulator.fail_next("card_update", 503, "ServiceUnavailable")
    world.worker.start()

    frame = world.click("chen_guoping", card, "2")

    until(lambda: world.emulator.gateway.acked(frame) == [200])
    [next_question] = until(lambda: world.take("chen_guoping"))
    assert "第6/8题" in next_question["text"]
    until(lambda: "updating the clicked DingTalk card" in caplog.text)
    assert world.emulator.card_updates == [] and world.take("chen_guoping") == []
