"""Retention: once a day the scheduler deletes handled messages and sent pushes older than [retention] keep_days.

What stays: newer rows, dead pushes (for /投递), messages still to handle, the audit log. What must not happen: a
platform's retry answered twice, a reminder sent again because its outbox row (its record) was deleted, or the
/metrics counters going down. The clock starts on Thursday 2024-11-28 10:00 (Chongqing).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from bot.app import create_app
from bot.config import ConfigError, RetentionConfig, SchedulerConfig, load_config
from handlers.core.messages import Incoming
from ledger_store.models import AuditEntry, InboundMessage, InboundStatus, OutboxMessage, OutboxStatus, StoredFile
from ledger_store.org import SIMULATOR
from ledger_store.outbox import Push, enqueue_many
from ledger_store.retention import prune
from scheduler.jobs import TimedWork
from tests.test_health import sample, scrape

TZ = ZoneInfo("Asia/Shanghai")
ISSUE = "/发布 低保月报 截止 11月30日18点 范围 松林村 汉东村 不审核"


def at(clock, month: int, day: int, hour: int, minute: int = 0, year: int = 2024) -> None:
    """Set the clock to a local time."""
    clock.set(datetime(year, month, day, hour, minute, tzinfo=TZ).astimezone(UTC))


def kept_for(runtime, days: int):
    """The runtime with [retention] keep_days = `days`."""
    config = dataclasses.replace(runtime.config, retention=RetentionConfig(keep_days=days))
    return dataclasses.replace(runtime, config=config)


def work(runtime) -> TimedWork:
    return TimedWork(runtime, SchedulerConfig(), holder="scheduler-a")


def run(timed: TimedWork) -> None:
    """One tick and one drain, as the scheduler's jobs do."""
    timed.tick()
    timed.drain()


def keys(runtime) -> set[str]:
    with runtime.factory() as session:
        return set(session.scalars(select(OutboxMessage.dedupe_key)))


def count(runtime, model, *where) -> int:
    with runtime.factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def say(runtime, account: str, text: str, message_id: str) -> list[str]:
    """A platform message with a given key, handled at once; the direct replies."""
    replies = runtime.engine.receive(Incoming(SIMULATOR, account, text, message_id=message_id))
    runtime.deliver()
    return [reply.text for reply in replies]


def test_old_handled_messages_and_sent_pushes_go_newer_and_dead_ones_and_the_audit_stay(runtime, chat, clock):
    kept = kept_for(runtime, 40)
    chat.say("li_minzheng", ISSUE)  # a handled message, two sent pushes, a stored task and its audit entry
    with runtime.factory.begin() as session:
        dead = enqueue_many(session, [Push(2, "test:dead", "发不出去的通知")], runtime.engine.now())[0]
        session.execute(update(OutboxMessage).where(OutboxMessage.dedupe_key == dead.dedupe_key)
                        .values(status=OutboxStatus.DEAD))  # fmt: skip
    assert runtime.engine.accept(Incoming(SIMULATOR, "zhang_dehua", "帮助", message_id="waits"))  # never handled
    old_keys = keys(runtime)
    assert {"assigned:1", "assigned:2", "test:dead"} <= old_keys

    at(clock, 12, 30, 10)
    say(runtime, "zhang_dehua", "开始", "recent")  # 32 days later: a recent message and recent pushes
    chat.say("li_minzheng", "/催报 1")
    at(clock, 1, 8, 2, year=2025)  # 41 days after the first rows, before the day's run at 03:00
    work(kept).tick()  # the deadline's summary is queued; no drain, so the message in waiting stays unhandled
    assert keys(runtime) >= old_keys
    recent_keys = keys(runtime) - old_keys
    assert any(key.startswith("remind:") for key in recent_keys)
    assert any(key.startswith("summary:1:deadline:") for key in recent_keys)
    audit = count(runtime, AuditEntry)
    at(clock, 1, 8, 3, year=2025)
    work(kept).tick()

    assert keys(runtime) == {"test:dead"} | recent_keys
    with runtime.factory() as session:
        inbound = dict(session.execute(select(InboundMessage.message_key, InboundMessage.status)).tuples().all())
    assert inbound == {"waits": InboundStatus.PENDING, "recent": InboundStatus.DONE, "sim-2": InboundStatus.DONE}
    assert count(runtime, AuditEntry) == audit  # nothing of the audit log goes


def test_a_platform_retry_of_a_recent_message_is_still_dropped_after_the_deletion(runtime, clock):
    kept = kept_for(runtime, 35)
    assert say(runtime, "zhang_dehua", "帮助", "old-message")
    at(clock, 1, 1, 12, year=2025)
    assert say(runtime, "zhang_dehua", "帮助", "new-message")
    at(clock, 1, 5, 3, 30, year=2025)  # 38 days after the first, 4 after the second
    run(work(kept))
    assert count(runtime, InboundMessage) == 1
    assert say(runtime, "zhang_dehua", "帮助", "new-message") == []  # the platform's retry: no second answer


def test_reminders_and_the_escalation_are_never_queued_again_after_their_rows_go(runtime, chat, clock):
    """The riskiest keys: the late reminders and the escalation upward are looked at again at every tick for a
    month after the deadline, and their outbox row is their only record. Kept the shortest period allowed, every
    pruned key stays gone while the scheduler runs four times a day for six weeks."""
    kept = work(kept_for(runtime, 35))
    chat.say("li_minzheng", ISSUE)
    seen: set[str] = set()
    gone: set[str] = set()
    received: list[str] = []
    start = datetime(2024, 11, 28, tzinfo=TZ)
    for day in range(68):  # the last late reminder (12-30) is 35 days old on 02-03
        for hour in (3, 9, 16, 18) if day < 35 else (3, 9):
            clock.set((start + timedelta(days=day, hours=hour, minutes=30)).astimezone(UTC))
            run(kept)
            received += chat.pushed_texts("zhang_dehua") + chat.pushed_texts("zhou_jianguo")
            now = keys(runtime)
            assert not now & gone, f"queued again after its row was deleted: {sorted(now & gone)}"
            gone |= seen - now
            seen |= now
    assert any(key.startswith("escalate:1:") for key in gone)
    assert sum(key.startswith("remind:1:") and "overdue" in key for key in gone) >= 20
    assert sum("请督促" in text for text in received) == 1  # the escalation, once
    late = [text for text in received if "已逾期" in text and "请尽快补报" in text]
    assert len(late) == len(set(late)) >= 20  # each working day's late reminder once


def test_rows_beyond_one_batch_all_go_across_batches_and_passes(runtime, clock):
    now = runtime.engine.now()
    with runtime.factory.begin() as session:
        pushes = [Push(2, f"test:{number}", "旧通知") for number in range(26)]
        enqueue_many(session, pushes, now)
        session.execute(update(OutboxMessage).values(status=OutboxStatus.SENT, sent_at=now))
    cutoff = now + timedelta(days=1)
    first = prune(runtime.factory, cutoff, max_batches=2, batch=10)
    assert (first.outbox, first.more) == (20, True)
    second = prune(runtime.factory, cutoff, max_batches=2, batch=10)
    assert (second.outbox, second.more) == (5, False)
    assert keys(runtime) == {"test:25"}  # the newest row stays, so SQLite never hands its id out again


def test_a_day_that_hits_the_tick_limit_goes_on_at_the_next_tick(runtime, clock, monkeypatch):
    import scheduler.jobs

    monkeypatch.setattr(scheduler.jobs, "PRUNE_BATCHES_PER_TICK", 1)
    monkeypatch.setattr(scheduler.jobs.retention, "BATCH", 4)
    kept = work(kept_for(runtime, 35))
    now = runtime.engine.now()
    with runtime.factory.begin() as session:
        enqueue_many(session, [Push(2, f"test:{number}", "旧通知") for number in range(10)], now)
        session.execute(update(OutboxMessage).values(status=OutboxStatus.SENT, sent_at=now))
    at(clock, 1, 10, 3, year=2025)
    sizes = []
    for _ in range(4):
        run(kept)
        sizes.append(len(keys(runtime)))
    assert sizes == [6, 2, 1, 1]


def test_files_only_pruned_pushes_referred_to_go_with_them(runtime, chat, clock):
    kept = kept_for(runtime, 35)
    chat.say("li_minzheng", "/空白台账")  # a workbook pushed once: its file goes with the push
    chat.say("li_minzheng", "/空白台账")
    with runtime.factory.begin() as session:  # the second push could not be delivered: dead, its file stays
        session.execute(update(OutboxMessage).where(OutboxMessage.dedupe_key == "blank-ledger:2")
                        .values(status=OutboxStatus.DEAD))  # fmt: skip
    at(clock, 1, 2, 10, year=2025)
    chat.say("li_minzheng", "/空白台账")  # a recent one stays
    assert count(runtime, StoredFile) == 3
    at(clock, 1, 10, 3, year=2025)
    run(work(kept))
    with runtime.factory() as session:
        assert set(session.scalars(select(StoredFile.id))) == {2, 3}
    assert keys(runtime) >= {"blank-ledger:2", "blank-ledger:3"} and "blank-ledger:1" not in keys(runtime)


def test_the_metrics_counters_do_not_go_down_when_rows_are_deleted(runtime, chat, clock):
    kept = work(kept_for(runtime, 35))
    client = create_app(runtime).test_client()
    chat.say("li_minzheng", ISSUE)
    chat.say("zhang_dehua", "帮助")
    at(clock, 12, 1, 10)
    run(kept)  # the deadline's summary
    before = scrape(client)
    at(clock, 1, 10, 3, year=2025)
    run(kept)
    assert count(runtime, InboundMessage) == 1 and count(runtime, OutboxMessage) == 1  # the newest rows stay
    after = scrape(client)
    for name in ("ybt_inbound_accepted_total", "ybt_inbound_handled_total", "ybt_outbox_sent_total"):
        assert sample(after, name) == sample(before, name) > 0
    assert sample(after, "ybt_inbound_failed_total") == 0


def test_keep_days_zero_deletes_nothing(runtime, chat, clock):
    kept = work(kept_for(runtime, 0))
    chat.say("li_minzheng", ISSUE)
    at(clock, 12, 1, 10)
    run(kept)
    before = keys(runtime), count(runtime, InboundMessage)
    at(clock, 6, 1, 3, 30, year=2026)
    run(kept)
    assert (keys(runtime), count(runtime, InboundMessage)) == before


def test_the_kept_period_is_read_from_the_file_and_a_short_one_is_refused(tmp_path: Path):
    path = tmp_path / "config.toml"
    assert load_config(None).retention == RetentionConfig(keep_days=90, at="03:00")
    path.write_text('[retention]\nkeep_days = 0\nat = "01:30"\n', encoding="utf-8")
    assert load_config(path).retention == RetentionConfig(keep_days=0, at="01:30")
    path.write_text("[retention]\nkeep_days = 7\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="keep_days 是 7：须为 0（从不清理）或至少 35 天"):
        load_config(path)
    path.write_text('[retention]\nat = "3点"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="at 须是“时:分”"):
        load_config(path)
