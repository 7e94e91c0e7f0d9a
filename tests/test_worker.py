"""The worker: handling and delivery take turns in a burst, and it finishes held-back and stranded work by itself."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import create_app
from bot.config import Config, SchedulerConfig
from bot.platforms.base import DeliveryError, Outgoing, Recipient, SendResult
from bot.platforms.simulator import SimulatorPlatform
from bot.runtime import Runtime, build_runtime, load_demo_org
from bot.worker import HANDLE_BATCH, STALLED_SLEEP, Worker
from handlers.core.clock import ManualClock
from handlers.core.messages import Incoming
from ledger_store.db import transaction
from ledger_store.inbox import claim_next, store_once
from ledger_store.models import InboundMessage, InboundStatus, OutboxMessage, Person
from ledger_store.org import SIMULATOR
from ledger_store.outbox import enqueue
from scheduler.jobs import TimedWork

PEOPLE = ("zhang_dehua", "luo_xiuying", "chen_guoping", "huang_li", "wu_min", "deng_xiaohong", "hu_xiaoyan")


class Phone(SimulatorPlatform):
    """The simulator, noting for each reply it delivers how many stored messages were still waiting then."""

    def __init__(self, runtime_box: list[Runtime]) -> None:
        super().__init__()
        self.runtime_box = runtime_box
        self.waiting_at_send: list[int] = []

    def download(self, media_id: str) -> tuple[str, bytes]:
        """A platform that cannot hand a file over just now (it may later)."""
        raise DeliveryError(f"{media_id} not available yet", "稍后再试", retry=True)

    def send(self, recipients: list[Recipient], message: Outgoing) -> SendResult:
        """Note the backlog, then deliver as the simulator does."""
        with self.runtime_box[0].factory() as session:
            waiting = select(func.count()).where(InboundMessage.status == InboundStatus.PENDING)
            self.waiting_at_send.append(session.scalar(waiting))
        return super().send(recipients, message)


@pytest.fixture
def phone_runtime(db, engine, clock: ManualClock, tmp_path: Path) -> tuple[Runtime, Phone]:
    box: list[Runtime] = []
    phone = Phone(box)
    runtime = build_runtime(Config(), phone, clock=clock, database=engine)
    box.append(runtime)
    load_demo_org(runtime)
    return runtime, phone


def burst(runtime: Runtime, count: int) -> None:
    """`count` messages stored at once, as callbacks acknowledged them."""
    for n in range(count):
        assert runtime.engine.accept(Incoming(SIMULATOR, PEOPLE[n % len(PEOPLE)], "帮助", message_id=f"burst-{n}"))


@pytest.mark.parametrize("entry", ["worker", "scheduler drain"])
def test_in_a_burst_the_first_replies_go_out_long_before_the_last_message_is_handled(phone_runtime, entry):
    runtime, phone = phone_runtime
    burst(runtime, 5 * HANDLE_BATCH)

    if entry == "worker":
        Worker(runtime).run()
    else:
        TimedWork(runtime, SchedulerConfig()).drain()

    assert phone.waiting_at_send[0] == 4 * HANDLE_BATCH  # after the first turn of messages, not after all
    assert phone.waiting_at_send[-1] == 0
    received = phone.take_all()
    assert sum(len(messages) for messages in received.values()) == 5 * HANDLE_BATCH


def test_a_message_that_fails_is_not_retried_in_the_same_round_and_blocks_nothing(phone_runtime):
    runtime, phone = phone_runtime
    burst(runtime, 3)
    with runtime.factory.begin() as session:  # the first names a file to fetch, which the phone cannot do yet
        first = session.scalar(select(InboundMessage).order_by(InboundMessage.id))
        first.payload = first.payload | {"media_id": "a-file"}

    Worker(runtime).run()

    with runtime.factory() as session:
        rows = list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))
    assert [(row.status, row.attempts) for row in rows] == [("pending", 1), ("done", 0), ("done", 0)]
    assert sorted(phone.take_all()) == ["chen_guoping", "luo_xiuying"]


def test_a_persons_later_message_waits_behind_her_failed_one_while_others_are_answered(phone_runtime):
    runtime, phone = phone_runtime
    said = [("zhang_dehua", "a-file"), ("zhang_dehua", None), ("luo_xiuying", None)]
    for n, (account, media) in enumerate(said):
        assert runtime.engine.accept(Incoming(SIMULATOR, account, "帮助", message_id=f"m-{n}", media_id=media))

    Worker(runtime).run()

    with runtime.factory() as session:
        rows = list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))
    # Her first could not be fetched: her second is not answered before it, though luo_xiuying's is.
    assert [(row.status, row.attempts) for row in rows] == [("pending", 1), ("pending", 0), ("done", 0)]
    assert list(phone.take_all()) == ["luo_xiuying"]
    # Nor is her first tried again at once (her new second one waits behind it): the platform gets time.
    assert Worker(runtime).seconds_to_sleep(handled=1) > 0


@pytest.fixture
def three_waiting(runtime: Runtime) -> Runtime:
    if runtime.factory.kw["bind"].dialect.name == "sqlite":
        pytest.skip("SQLite: handlers take turns on one lock row, so a second claim waits for the first to end")
    for key, account in [("her-1", "zhang_dehua"), ("her-2", "zhang_dehua"), ("his-1", "luo_xiuying")]:
        assert runtime.engine.accept(Incoming(SIMULATOR, account, "帮助", message_id=key))
    return runtime


def test_her_message_stored_first_but_committed_after_her_next_one_waits_while_a_worker_holds_that(runtime):
    """Two callbacks of one person stored at once: the first row's id is older, but it commits after the second.
    A worker that took the second holds her; another worker does not take the first until it is done."""
    if runtime.factory.kw["bind"].dialect.name == "sqlite":
        pytest.skip("SQLite: handlers take turns on one lock row, so two never hold messages at once")
    now = runtime.engine.now()
    slow = runtime.factory()
    slow.begin()
    payload = {"user_id": "zhang_dehua", "text": "120"}
    row = {"platform": SIMULATOR, "message_key": "first", "sender": "zhang_dehua", "received_at": now}
    store_once(slow, row | {"status": "pending", "payload": payload, "attempts": 0})
    assert runtime.engine.accept(Incoming(SIMULATOR, "zhang_dehua", "350", message_id="second"))
    with runtime.factory() as one, runtime.factory() as other:
        assert claim_next(one, now).message_key == "second"
        slow.commit()
        slow.close()
        assert claim_next(other, now) is None  # "first" is hers, and her "second" is in hand
        other.rollback()
        one.scalar(select(InboundMessage).where(InboundMessage.message_key == "second")).status = "done"
        one.commit()
        assert claim_next(other, now).message_key == "first"
        other.rollback()


def test_while_one_worker_holds_her_message_another_takes_the_next_persons_not_her_later_one(three_waiting):
    runtime, now = three_waiting, three_waiting.engine.now()
    with runtime.factory() as first, runtime.factory() as second, runtime.factory() as third:
        assert claim_next(first, now).message_key == "her-1"
        assert claim_next(second, now).message_key == "his-1"  # handled at the same time as hers
        assert claim_next(third, now) is None  # her second waits until her first is done
        third.rollback()
        first.scalar(select(InboundMessage).where(InboundMessage.message_key == "her-1")).status = "done"
        first.commit()
        assert claim_next(third, now).message_key == "her-2"
        third.rollback()
        second.rollback()


def queue(runtime: Runtime, account: str, key: str) -> int:
    with transaction(runtime.factory) as session:
        person = session.scalars(select(Person).where(Person.account == account)).one()
        return enqueue(session, person_id=person.id, dedupe_key=key, now=runtime.engine.now(), text="通知").id


def test_the_worker_sleeps_until_the_next_thing_comes_due(runtime: Runtime, clock: ManualClock):
    worker = Worker(runtime)
    assert worker.seconds_to_sleep() == 30  # nothing waits: one look every 30 s

    row_id = queue(runtime, "zhang_dehua", "held")
    with runtime.factory.begin() as session:  # held back a minute by the member's limit
        session.get(OutboxMessage, row_id).next_attempt_at = runtime.engine.now() + timedelta(seconds=60)
    assert worker.seconds_to_sleep() == 30
    clock.advance(seconds=45)
    assert worker.seconds_to_sleep() == 15
    clock.advance(seconds=15)
    assert worker.seconds_to_sleep() == STALLED_SLEEP  # due, yet the last round sent nothing: the minute is used up

    runtime.engine.accept(Incoming(SIMULATOR, "zhang_dehua", "帮助", message_id="new"))
    assert worker.seconds_to_sleep() == 0  # a message no one has tried yet


def test_a_reply_held_by_the_member_limit_goes_out_when_its_minute_has_passed(world):
    for _ in range(31):
        world.write("zhang_dehua", "帮助")
    world.settle()
    assert len(world.texts("zhang_dehua")) == 30  # WeCom's 30 a minute to one member
    worker = Worker(world.runtime, longest_sleep=0.05)
    worker.start()
    try:
        world.runtime.engine.clock.advance(seconds=61)  # no callback comes, no scheduler runs

        assert eventually(lambda: len(world.texts("zhang_dehua")) == 1)
    finally:
        worker.stop()


def test_messages_left_by_a_killed_process_are_handled_when_the_app_starts(world):
    engine = world.runtime.engine
    engine.accept(Incoming("wecom", "zhang_dehua", "帮助", message_id="msg:acknowledged-then-killed"))
    engine.accept(Incoming("wecom", "luo_xiuying", "帮助", message_id="msg:killed-mid-message"))
    with world.runtime.factory.begin() as session:
        session.scalar(
            select(InboundMessage).where(InboundMessage.message_key == "msg:killed-mid-message")
        ).attempts = 1

    app = create_app(world.runtime, background=True)
    try:
        assert eventually(lambda: world.emulator.inbox("zhang_dehua") and world.emulator.inbox("luo_xiuying"))
    finally:
        app.extensions["worker"].stop()
    with world.runtime.factory() as session:
        assert set(session.scalars(select(InboundMessage.status))) == {InboundStatus.DONE}


def eventually(condition, seconds: float = 20.0) -> bool:
    """Poll a condition the worker thread makes true, for at most `seconds` (no fixed wait)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_two_workers_at_once_handle_each_message_once_and_each_persons_in_order(chat, runtime, ledger_without_dibao):
    villages = ("zhang_dehua", "luo_xiuying", "chen_guoping")
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村 汉东村 石庙村 不审核")
    said = ["开始", "120", "350", "3", "1", "15000", "是", "13908315526", "跳过", "提交"]
    for index, text in enumerate(said):
        for account in villages:
            runtime.engine.accept(Incoming(SIMULATOR, account, text, message_id=f"{account}-{index}"))

    rounds = [threading.Thread(target=Worker(runtime).run) for _ in range(2)]  # as two processes would
    for thread in rounds:
        thread.start()
    for thread in rounds:
        thread.join()

    with runtime.factory() as session:
        assert set(session.execute(select(InboundMessage.status, InboundMessage.attempts))) == {("done", 0)}
    assert chat.pushed_texts("li_minzheng") == ["《低保月报》（任务#1）：3/3 已报，本月新增低保户合计 9 户"]


def test_a_worker_told_to_stop_finishes_the_message_in_hand_and_leaves_the_rest_for_the_next(world):
    for person in ("zhang_dehua", "chen_guoping", "wang_canlian"):
        world.write(person, "帮助")

    def one_handled() -> bool:
        """The stop request arrives while the first message is being handled."""
        with world.runtime.factory() as session:
            return bool(session.scalar(select(func.count()).where(InboundMessage.processed_at.is_not(None))))

    Worker(world.runtime).run(stopping=one_handled)
    answered = [person for person in ("zhang_dehua", "chen_guoping", "wang_canlian") if world.texts(person)]
    assert answered == ["zhang_dehua"]

    world.settle()
    assert world.texts("chen_guoping") and world.texts("wang_canlian")
