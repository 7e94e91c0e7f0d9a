"""Delivery limits and batching: a per-platform cap per minute that every process keeps, calls filled with one text."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot.config import WeComConfig
from bot.delivery import deliver_pending
from bot.platforms.base import Outgoing, Recipient, SendResult
from bot.platforms.simulator import SimulatorPlatform
from bot.platforms.token_cache import DatabaseStorage
from bot.platforms.wecom.api import WeComClient
from bot.platforms.wecom.emulator import SAMPLE_AES_KEY, SAMPLE_TOKEN, EmulatorSettings, WeComEmulator, serve
from bot.platforms.wecom.platform import WeComPlatform
from bot.runtime import Runtime
from handlers.core.clock import ManualClock
from ledger_store.db import transaction
from ledger_store.models import OutboxMessage, OutboxStatus, Person
from ledger_store.outbox import REPLY_PREFIX, create_claim_lock, enqueue, lock_claims

FILLERS = ("zhang_dehua", "luo_xiuying", "chen_guoping", "huang_li", "wu_min")
REMINDER = "提醒：《低保月报》11月30日（周六）18:00截止，您还没有报送。回复“开始”填写。"


class Phone(SimulatorPlatform):
    """The simulator, also noting the recipients of each call it got."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[str]] = []

    def send(self, recipients: list[Recipient], message: Outgoing) -> SendResult:
        """Note the call, then deliver as the simulator does."""
        self.calls.append([recipient.user_id for recipient in recipients])
        return super().send(recipients, message)


def queue(runtime: Runtime, account: str, text: str, key: str) -> int:
    """Queue `text` for `account` under `key`; the row id."""
    with transaction(runtime.factory) as session:
        person = session.scalars(select(Person).where(Person.account == account)).one()
        return enqueue(session, person_id=person.id, dedupe_key=key, now=runtime.engine.now(), text=text).id


def deliver(runtime: Runtime, phone, cap: int, batch_size: int = 100) -> int:
    """One drain to `phone` at the test clock's time, with a per-platform cap."""
    return deliver_pending(
        runtime.factory, {phone.name: phone}, phone.name, runtime.engine.now, batch_size=batch_size,
        per_platform_per_minute=cap,
    )  # fmt: skip


def received(phone: SimulatorPlatform) -> list[str]:
    """Who got something since the last look, in order."""
    return [account for account, messages in phone.take_all().items() for _ in messages]


def rows(runtime: Runtime) -> list[OutboxMessage]:
    with runtime.factory() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_pushes_over_the_platform_cap_wait_for_the_minute_without_counting_a_try(runtime, clock: ManualClock):
    phone = Phone()
    for account in FILLERS:
        queue(runtime, account, REMINDER, key=f"remind:{account}")

    assert deliver(runtime, phone, cap=3) == 3
    assert received(phone) == list(FILLERS[:3])
    waiting = [row for row in rows(runtime) if row.status == OutboxStatus.PENDING]
    assert [(row.attempts, row.last_error) for row in waiting] == [(0, None), (0, None)]

    clock.advance(seconds=59)
    assert deliver(runtime, phone, cap=3) == 0
    clock.advance(seconds=1)
    assert deliver(runtime, phone, cap=3) == 2
    assert received(phone) == list(FILLERS[3:])
    assert {row.status for row in rows(runtime)} == {OutboxStatus.SENT}


def test_no_cap_sends_everything_at_once(runtime):
    phone = Phone()
    for account in FILLERS:
        queue(runtime, account, REMINDER, key=f"remind:{account}")
    assert deliver(runtime, phone, cap=0) == 5


def test_a_second_process_counts_what_the_first_sent_this_minute(runtime, clock: ManualClock):
    first, second = Phone(), Phone()  # two processes: nothing in memory is shared, only the database
    for account in FILLERS:
        queue(runtime, account, REMINDER, key=f"remind:{account}")

    assert deliver(runtime, first, cap=3) == 3
    assert deliver(runtime, second, cap=3) == 0
    clock.advance(minutes=1)
    assert deliver(runtime, second, cap=3) == 2
    assert received(first) + received(second) == list(FILLERS)


class BusyPhone(Phone):
    """A phone so slow that another process drains the outbox while this one's call is still under way."""

    def __init__(self, meanwhile) -> None:
        super().__init__()
        self.meanwhile = meanwhile

    def send(self, recipients: list[Recipient], message: Outgoing) -> SendResult:
        """Let the other process run a whole drain, then deliver."""
        if self.meanwhile is not None:
            meanwhile, self.meanwhile = self.meanwhile, None
            meanwhile()
        return super().send(recipients, message)


def test_rows_still_in_flight_in_another_process_count_against_the_cap(runtime, clock: ManualClock):
    other = Phone()
    slow = BusyPhone(meanwhile=lambda: deliver(runtime, other, cap=3))
    for account in FILLERS:
        queue(runtime, account, f"请核对{account}的台账", key=f"check:{account}")

    assert deliver(runtime, slow, cap=3) == 3
    assert received(other) == []  # the three the slow process had in flight used up the minute
    clock.advance(minutes=1)
    assert deliver(runtime, other, cap=3) == 2
    assert sorted(received(slow) + received(other)) == sorted(FILLERS)


def test_a_reminder_to_more_people_than_a_pass_takes_still_goes_in_one_call(runtime):
    phone = Phone()
    queue(runtime, "hu_xiaoyan", "《残疾人两项补贴情况》已发布", key="assigned:1")
    for account in FILLERS:
        queue(runtime, account, REMINDER, key=f"remind:{account}")

    assert deliver(runtime, phone, cap=0, batch_size=2) == 6
    assert phone.calls == [["hu_xiaoyan"], list(FILLERS)]


def test_each_text_fills_its_own_call_so_a_fan_out_of_several_texts_takes_the_fewest_calls(runtime):
    phone = Phone()
    phone.max_recipients = 3
    started = "提醒：您已填到第3/8题，还没有提交。"
    order = [("zhang_dehua", REMINDER), ("hu_xiaoyan", started), ("luo_xiuying", REMINDER), ("chen_guoping", REMINDER),
             ("huang_li", REMINDER), ("wu_min", REMINDER), ("liu_ting", started)]  # fmt: skip
    for number, (account, text) in enumerate(order):
        queue(runtime, account, text, key=f"remind:{number}")

    assert deliver(runtime, phone, cap=0, batch_size=2) == 7
    assert phone.calls == [
        ["zhang_dehua", "luo_xiuying", "chen_guoping"],
        ["hu_xiaoyan", "liu_ting"],
        ["huang_li", "wu_min"],
    ]


def test_filling_a_call_stops_at_the_cap(runtime, clock: ManualClock):
    phone = Phone()
    for account in FILLERS:
        queue(runtime, account, REMINDER, key=f"remind:{account}")

    assert deliver(runtime, phone, cap=4, batch_size=1) == 4
    assert phone.calls == [list(FILLERS[:4])]


# --- against the WeCom emulator -------------------------------------------------------------------------------

CORP_ID, SECRET, AGENT_ID = "ww0123456789abcdef", "app-secret-0123456789", 1000002


@pytest.fixture
def wecom(db, clock: ManualClock) -> Iterator[tuple[WeComEmulator, WeComPlatform]]:
    """An emulator that answers 45009 past two message/send calls a minute, on the test's clock, and the adapter."""
    settings = EmulatorSettings(CORP_ID, SECRET, AGENT_ID, SAMPLE_TOKEN, SAMPLE_AES_KEY, rate_limit_per_minute=2)
    emulator = WeComEmulator(settings, clock=lambda: clock.now().timestamp())
    for userid in FILLERS:
        emulator.add_member(userid, userid)
    server = serve(emulator)
    config = WeComConfig(CORP_ID, AGENT_ID, SECRET, SAMPLE_TOKEN, SAMPLE_AES_KEY, api_base_url=server.url)
    client = WeComClient.from_config(config, DatabaseStorage(db, now=lambda: naive(clock)))
    yield emulator, WeComPlatform(config, client, sleep=lambda seconds: None)
    server.shutdown()


def naive(clock: ManualClock) -> datetime:
    return clock.now().replace(tzinfo=None)


def test_a_cap_at_wecoms_rate_spreads_the_sends_over_minutes_and_wecom_never_refuses_one(db, clock, wecom):
    emulator, platform = wecom
    with transaction(db) as session:
        for userid in FILLERS:  # distinct texts: one call each
            enqueue(session, person_id=None, platform="wecom", user_id=userid, dedupe_key=f"tip:{userid}",
                    now=naive(clock), text=f"{userid}，请核对台账")  # fmt: skip

    def drain() -> int:
        return deliver_pending(db, {"wecom": platform}, "wecom", lambda: naive(clock), per_platform_per_minute=2)

    assert [drain(), drain()] == [2, 0]
    clock.advance(minutes=1)
    assert drain() == 2
    clock.advance(minutes=1)
    assert drain() == 1

    assert sorted(u for u in FILLERS if emulator.inbox(u)) == sorted(FILLERS)
    with transaction(db) as session:
        sent = session.scalars(select(OutboxMessage)).all()
    assert [(row.status, row.attempts, row.last_error) for row in sent] == [(OutboxStatus.SENT, 1, None)] * 5


def test_replies_go_at_once_while_pushes_wait_for_the_minute(db, clock, wecom):
    emulator, platform = wecom
    emulator.settings.rate_limit_per_minute = 0
    with transaction(db) as session:
        for userid in FILLERS[:3]:
            enqueue(session, person_id=None, platform="wecom", user_id=userid, dedupe_key=f"remind:{userid}",
                    now=naive(clock), text=REMINDER)  # fmt: skip
        enqueue(session, person_id=None, platform="wecom", user_id="wu_min", dedupe_key=f"{REPLY_PREFIX}1",
                now=naive(clock), text="《低保月报》第1/8题")  # fmt: skip

    assert deliver_pending(db, {"wecom": platform}, "wecom", lambda: naive(clock), per_platform_per_minute=2) == 3
    assert [bool(emulator.inbox(u)) for u in (*FILLERS[:3], "wu_min")] == [True, True, False, True]


# --- passes in several processes ------------------------------------------------------------------------------


def test_a_pass_waits_for_another_process_to_commit_its_claim_first(db, engine, clock: ManualClock):
    create_claim_lock(db, naive(clock))  # as every pass does first
    with transaction(db) as first:
        lock_claims(first, naive(clock))
        second = db()
        with second, second.begin(), brief_lock_wait(second, engine.dialect.name), pytest.raises(OperationalError):
            lock_claims(second, naive(clock))


@contextmanager
def brief_lock_wait(session: Session, dialect: str) -> Iterator[None]:
    """Make this session give up waiting for a lock after a moment instead of the usual long wait."""
    statements = {
        "postgresql": ("SET LOCAL lock_timeout = '200ms'", None),
        "sqlite": ("PRAGMA busy_timeout = 200", "PRAGMA busy_timeout = 30000"),
        "mysql": ("SET SESSION innodb_lock_wait_timeout = 1", "SET SESSION innodb_lock_wait_timeout = DEFAULT"),
        "mariadb": ("SET SESSION innodb_lock_wait_timeout = 1", "SET SESSION innodb_lock_wait_timeout = DEFAULT"),
    }
    brief, usual = statements[dialect]
    connection = session.connection()
    connection.exec_driver_sql(brief)
    try:
        yield
    finally:
        if usual:
            connection.exec_driver_sql(usual)
