"""Draining the outbox: failed pushes wait longer each time, hopeless ones are parked, others still go out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.delivery import deliver_pending
from bot.platforms.base import DeliveryError, Outgoing, Recipient, SendResult
from bot.platforms.simulator import SimulatorPlatform
from bot.runtime import Runtime
from handlers.core.clock import ManualClock
from ledger_store.db import transaction
from ledger_store.models import OutboxMessage, OutboxStatus, Person
from ledger_store.outbox import enqueue, store_file

REMINDER = "请在今天18:00前报送《低保月报》。"
OTHER = "《残疾人两项补贴情况》已发布，请回复“开始”。"


class FlakyPlatform:
    """A stand-in for a chat server that cannot be reached: texts listed in `failing` raise their error."""

    max_recipients = 1000
    per_member_per_minute = 0

    def __init__(self, name: str = "wecom") -> None:
        self.name = name
        self.failing: dict[str, Exception] = {}
        self.tries: list[str] = []
        self.delivered: list[tuple[str, str | None]] = []
        self.calls: list[list[str]] = []
        self.unknown: set[str] = set()

    def send(self, recipients: list[Recipient], message: Outgoing) -> SendResult:
        """Fail with the listed error, or deliver."""
        self.tries.append(message.text or "")
        if (error := self.failing.get(message.text or "")) is not None:
            raise error
        self.calls.append([recipient.user_id for recipient in recipients])
        known = [r for r in recipients if r.user_id not in self.unknown]
        self.delivered.extend((recipient.user_id, message.text) for recipient in known)
        return SendResult(invalid=frozenset(r.user_id for r in recipients if r.user_id in self.unknown))


def queue(runtime: Runtime, account: str, text: str, file: tuple[str, bytes] | None = None) -> int:
    """Put a push for `account` in the outbox; its id."""
    with transaction(runtime.factory) as session:
        person = session.scalars(select(Person).where(Person.account == account)).one()
        now = runtime.engine.now()
        stored = store_file(session, file[0], file[1], now) if file else None
        message = enqueue(session, person_id=person.id, dedupe_key=f"test:{text}", now=now, text=text, file=stored)
        return message.id


def row(runtime: Runtime, message_id: int) -> OutboxMessage:
    with runtime.factory() as session:
        return session.get(OutboxMessage, message_id)


def deliver(runtime: Runtime, platform, max_attempts: int = 5) -> int:
    """One drain pass at the test clock's time."""
    return deliver_pending(
        runtime.factory, {platform.name: platform}, platform.name, runtime.engine.now, max_attempts=max_attempts
    )


@pytest.fixture
def server() -> FlakyPlatform:
    return FlakyPlatform()


def test_a_retryable_failure_waits_longer_each_time_and_goes_out_later(
    runtime: Runtime, clock: ManualClock, server: FlakyPlatform
) -> None:
    reminder = queue(runtime, "zhang_dehua", REMINDER)
    server.failing[REMINDER] = DeliveryError("connection refused", "连不上")
    start = runtime.engine.now()

    assert deliver(runtime, server) == 0
    failed = row(runtime, reminder)
    assert (failed.status, failed.attempts, failed.last_error) == (OutboxStatus.PENDING, 1, "connection refused")
    assert failed.next_attempt_at == start + timedelta(seconds=30)

    clock.advance(seconds=29)
    deliver(runtime, server)
    assert server.tries == [REMINDER]  # not due yet

    clock.advance(seconds=1)
    deliver(runtime, server)
    assert server.tries == [REMINDER, REMINDER]
    assert row(runtime, reminder).next_attempt_at == start + timedelta(seconds=30 + 60)

    del server.failing[REMINDER]
    clock.advance(seconds=59)
    assert deliver(runtime, server) == 0
    clock.advance(seconds=1)
    assert deliver(runtime, server) == 1
    sent = row(runtime, reminder)
    assert (sent.status, sent.attempts, sent.sent_at) == (OutboxStatus.SENT, 3, runtime.engine.now())
    assert server.delivered == [("zhang_dehua", REMINDER)]

    clock.advance(hours=1)
    assert deliver(runtime, server) == 0
    assert server.delivered == [("zhang_dehua", REMINDER)]


def test_a_failure_that_retrying_cannot_fix_is_parked_at_once(
    runtime: Runtime, clock: ManualClock, server: FlakyPlatform
) -> None:
    reminder = queue(runtime, "zhang_dehua", REMINDER)
    server.failing[REMINDER] = DeliveryError("user left the company", "此人已离职", retry=False)

    deliver(runtime, server)
    clock.advance(hours=1)
    deliver(runtime, server)

    dead = row(runtime, reminder)
    assert (dead.status, dead.attempts, dead.last_error) == (OutboxStatus.DEAD, 1, "user left the company")
    assert dead.failure_reason == "此人已离职"  # the adapter's words, kept for /投递
    assert server.tries == [REMINDER]


def test_too_many_failed_attempts_park_the_message(runtime: Runtime, clock: ManualClock, server: FlakyPlatform) -> None:
    reminder = queue(runtime, "zhang_dehua", REMINDER)
    server.failing[REMINDER] = DeliveryError("timeout", "超时")

    for _ in range(4):
        deliver(runtime, server, max_attempts=3)
        clock.advance(hours=1)

    dead = row(runtime, reminder)
    assert (dead.status, dead.attempts, dead.last_error) == (OutboxStatus.DEAD, 3, "timeout")
    assert server.tries == [REMINDER] * 3


def test_a_person_without_an_id_on_the_platform_is_parked_with_the_reason(runtime: Runtime) -> None:
    dingtalk = FlakyPlatform(name="dingtalk")  # the demo organisation has WeCom ids only
    reminder = queue(runtime, "zhang_dehua", REMINDER)

    assert deliver(runtime, dingtalk) == 0

    dead = row(runtime, reminder)
    assert dead.status == OutboxStatus.DEAD
    assert dead.last_error == "zhang_dehua has no dingtalk id"
    assert dead.failure_reason == "此人没有登记钉钉账号，请在组织架构表的“钉钉账号”一列补上后重新导入"
    assert dingtalk.tries == []


@pytest.mark.parametrize(
    "error",
    [DeliveryError("busy", "繁忙"), DeliveryError("bad user id", "账号不对", retry=False), KeyError("errcode")],
    ids=["retryable", "hopeless", "adapter bug"],
)
def test_one_message_failing_does_not_hold_up_the_next(
    runtime: Runtime, server: FlakyPlatform, error: Exception
) -> None:
    stuck = queue(runtime, "zhang_dehua", REMINDER)
    other = queue(runtime, "luo_xiuying", OTHER)
    server.failing[REMINDER] = error

    assert deliver(runtime, server) == 1

    assert server.delivered == [("luo_xiuying", OTHER)]
    assert row(runtime, other).status == OutboxStatus.SENT
    failed = row(runtime, stuck)
    assert failed.status != OutboxStatus.SENT and failed.attempts == 1 and failed.last_error


def test_an_adapter_bug_is_retried_like_a_network_failure(
    runtime: Runtime, clock: ManualClock, server: FlakyPlatform
) -> None:
    reminder = queue(runtime, "zhang_dehua", REMINDER)
    server.failing[REMINDER] = KeyError("errcode")

    deliver(runtime, server)
    assert row(runtime, reminder).status == OutboxStatus.PENDING
    assert "KeyError" in row(runtime, reminder).last_error
    assert row(runtime, reminder).failure_reason == "机器人发送时出错，详情见机器人日志"  # never the exception

    del server.failing[REMINDER]
    clock.advance(seconds=30)
    assert deliver(runtime, server) == 1


def test_the_simulator_shows_a_repeated_push_only_once(runtime: Runtime, tmp_path) -> None:
    phone = SimulatorPlatform(files_dir=tmp_path / "files")
    reminder = queue(runtime, "zhang_dehua", REMINDER)
    deliver(runtime, phone)

    # As if the process died after sending but before the row was marked sent.
    with transaction(runtime.factory) as session:
        session.get(OutboxMessage, reminder).status = OutboxStatus.PENDING
    assert deliver(runtime, phone) == 1

    assert [message.text for message in phone.take("zhang_dehua")] == [REMINDER]
    phone.send([Recipient("zhang_dehua", f"test:{REMINDER}")], Outgoing(text=REMINDER))
    assert phone.take("zhang_dehua") == []


def test_a_file_the_simulator_could_not_save_arrives_on_the_retry(
    runtime: Runtime, clock: ManualClock, tmp_path
) -> None:
    blocked = tmp_path / "files"
    blocked.write_text("a file where the folder should be")
    phone = SimulatorPlatform(files_dir=blocked)
    summary = queue(runtime, "li_minzheng", "汇总表", file=("低保月报汇总.xlsx", b"PK\x03\x04"))

    assert deliver(runtime, phone) == 0
    assert row(runtime, summary).status == OutboxStatus.PENDING
    assert phone.take("li_minzheng") == []

    blocked.unlink()
    clock.advance(seconds=30)
    assert deliver(runtime, phone) == 1

    [received] = phone.take("li_minzheng")
    assert received.file_path == blocked / "li_minzheng" / "低保月报汇总.xlsx"
    assert received.file_path.read_bytes() == b"PK\x03\x04"


def test_the_same_text_to_many_people_goes_out_in_as_few_calls_as_the_platform_allows(
    runtime: Runtime, server: FlakyPlatform
) -> None:
    for account in ("zhang_dehua", "luo_xiuying", "chen_guoping"):
        queue_as(runtime, account, REMINDER, key=f"remind:{account}")
    queue(runtime, "hu_xiaoyan", OTHER)
    server.max_recipients = 2

    assert deliver(runtime, server) == 4
    assert server.calls == [["zhang_dehua", "luo_xiuying"], ["chen_guoping"], ["hu_xiaoyan"]]


def test_a_member_gets_no_more_pushes_a_minute_than_the_platform_allows(
    runtime: Runtime, clock: ManualClock, server: FlakyPlatform
) -> None:
    server.per_member_per_minute = 2
    ids = [queue_as(runtime, "zhang_dehua", f"第{n}条", key=f"n{n}") for n in range(3)]

    assert deliver(runtime, server) == 2
    assert row(runtime, ids[2]).status == OutboxStatus.PENDING
    clock.advance(seconds=30)
    assert deliver(runtime, server) == 0
    clock.advance(seconds=31)
    assert deliver(runtime, server) == 1
    assert [text for _, text in server.delivered] == ["第0条", "第1条", "第2条"]


def test_a_message_held_back_by_the_members_limit_is_not_overtaken_by_a_later_one(
    runtime: Runtime, clock: ManualClock, server: FlakyPlatform
) -> None:
    server.per_member_per_minute = 2
    queue_as(runtime, "zhang_dehua", "第0条", key="n0")
    assert deliver(runtime, server) == 1
    clock.advance(seconds=30)
    queue_as(runtime, "zhang_dehua", "第1条", key="n1")
    queue_as(runtime, "zhang_dehua", "第2条", key="n2")
    assert deliver(runtime, server) == 1  # 第2条 waits for the minute, until 90 s
    clock.advance(seconds=31)  # 第0条 has left the minute: there is room for one again
    queue_as(runtime, "zhang_dehua", "第3条", key="n3")

    assert deliver(runtime, server) == 0
    clock.advance(seconds=30)
    assert deliver(runtime, server) == 2
    assert [text for _, text in server.delivered] == ["第0条", "第1条", "第2条", "第3条"]


def test_a_user_the_platform_does_not_know_is_parked_and_reported_to_the_admin(
    runtime: Runtime, server: FlakyPlatform
) -> None:
    server.unknown = {"luo_xiuying"}
    known = queue_as(runtime, "zhang_dehua", REMINDER, key="a")
    unknown = queue_as(runtime, "luo_xiuying", REMINDER, key="b")

    deliver(runtime, server)
    assert row(runtime, known).status == OutboxStatus.SENT
    assert row(runtime, unknown).status == OutboxStatus.DEAD
    assert "does not know" in row(runtime, unknown).last_error
    notices = [text for user, text in server.delivered if user == "admin"]
    assert len(notices) == 1 and "罗秀英(luo_xiuying)" in notices[0] and "没有送达" in notices[0]


def queue_as(runtime: Runtime, account: str, text: str, key: str) -> int:
    """Queue `text` for `account` under an explicit dedupe key; the row id."""
    with transaction(runtime.factory) as session:
        person = session.scalars(select(Person).where(Person.account == account)).one()
        return enqueue(session, person_id=person.id, dedupe_key=key, now=runtime.engine.now(), text=text).id


def test_one_person_is_never_named_twice_in_a_call_and_gets_their_messages_in_order(
    runtime: Runtime, server: FlakyPlatform
) -> None:
    queue_as(runtime, "luo_xiuying", "好的", key="a")  # the first row of text 好的 goes to someone else
    queue_as(runtime, "zhang_dehua", "第2/8题", key="b")
    queue_as(runtime, "zhang_dehua", "好的", key="c")
    queue_as(runtime, "zhang_dehua", "好的", key="d")
    queue_as(runtime, "chen_guoping", "好的", key="e")

    assert deliver(runtime, server) == 5
    assert all(len(set(call)) == len(call) for call in server.calls)
    assert [text for user, text in server.delivered if user == "zhang_dehua"] == ["第2/8题", "好的", "好的"]
    assert ["luo_xiuying", "chen_guoping"] in server.calls  # others still share a call


def test_a_fan_out_filled_up_to_a_full_call_still_names_each_person_once(runtime: Runtime, server: FlakyPlatform):
    server.max_recipients = 3
    for n in range(4):
        queue_as(runtime, "zhang_dehua" if n % 2 else "luo_xiuying", REMINDER, key=f"r{n}")

    deliver_pending(runtime.factory, {server.name: server}, server.name, runtime.engine.now, batch_size=1)

    assert all(len(set(call)) == len(call) for call in server.calls)
    assert sorted(user for user, _ in server.delivered) == ["luo_xiuying"] * 2 + ["zhang_dehua"] * 2


class CheckingPlatform(FlakyPlatform):
    """Also notes, per call, whether the platform was told it may drop a repeat (its duplicate check)."""

    def __init__(self) -> None:
        super().__init__()
        self.checked: list[tuple[list[str], bool]] = []

    def send(self, recipients: list[Recipient], message: Outgoing) -> SendResult:
        """Note the call and its duplicate check, then deliver."""
        self.checked.append(([r.user_id for r in recipients], not message.repeatable))
        return super().send(recipients, message)


def test_only_a_second_copy_for_the_same_person_goes_without_the_duplicate_check(runtime: Runtime) -> None:
    platform = CheckingPlatform()
    queue_as(runtime, "luo_xiuying", "好的", key="a")
    queue_as(runtime, "zhang_dehua", "第2/8题", key="b")
    queue_as(runtime, "zhang_dehua", "好的", key="c")  # after 第2/8题, so in a later call, yet his first 好的
    queue_as(runtime, "zhang_dehua", "好的", key="d")  # his second: a new message, not a resend

    deliver(runtime, platform)

    assert platform.checked == [(["luo_xiuying"], True), (["zhang_dehua"], True), (["zhang_dehua"], True),
                                (["zhang_dehua"], False)]  # fmt: skip
