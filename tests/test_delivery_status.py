"""/投递: an admin sees what the outbox could not deliver and why, and sends it again."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.runtime import Runtime
from ledger_store.db import transaction
from ledger_store.models import AuditEntry, OutboxMessage, OutboxStatus, Person
from ledger_store.outbox import enqueue

NOTHING_WRONG = "推送情况：待发送 0 条，没有发送失败的消息。"


@pytest.fixture
def blocked(runtime: Runtime):
    """The simulator's files folder is a file, so no pushed file can be saved until the test removes it."""
    folder = runtime.platform.files_dir
    folder.write_text("a file where the folder should be")
    return folder


def summary_that_dies(chat, clock) -> None:
    """li_minzheng asks for a summary whose file cannot be saved; it is tried five times, then given up."""
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村")
    chat.say("li_minzheng", "/汇总")
    for wait in (30, 60, 120, 240):
        clock.advance(seconds=wait)
        chat.runtime.deliver()


def queue_to(
    chat, account: str | None, text: str, key: str, platform: str | None = None, user_id: str | None = None
) -> int:
    """Put a push in the outbox as the bot would, to a person or (account None) to a platform account; its number."""
    with transaction(chat.runtime.factory) as session:
        person = session.scalars(select(Person).where(Person.account == account)).one() if account else None
        return enqueue(session, person_id=person.id if person else None, dedupe_key=key, now=chat.runtime.engine.now(),
                       text=text, platform=platform, user_id=user_id).id  # fmt: skip


def latest_row(chat) -> OutboxMessage:
    with chat.runtime.factory() as session:
        return session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()


def test_only_admins_may_look_and_help_lists_it_for_them(chat):
    assert "需要管理员权限" in chat.say("li_minzheng", "/投递")
    assert "/投递" not in chat.say("li_minzheng", "/帮助")
    assert "/投递 [重试 [全部|编号]]" in chat.say("admin", "/帮助")
    assert chat.say("admin", "/delivery") == NOTHING_WRONG


def test_a_file_that_keeps_failing_is_shown_waiting_then_given_up_with_the_reason(chat, clock, blocked):
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村")
    chat.say("li_minzheng", "/汇总")
    assert (
        chat.say("admin", "/投递")
        == "推送情况：待发送 0 条，失败后等待重试 1 条（最早 10:00 重试），没有发送失败的消息。"
    )

    for wait in (30, 60, 120, 240):
        clock.advance(seconds=wait)
        chat.runtime.deliver()
    lines = chat.say("admin", "/投递").splitlines()

    assert lines[0] == "推送情况：待发送 0 条，发送失败 1 条。"
    assert lines[1] == "发送失败的消息："
    assert lines[2].startswith("#") and " 11月28日 10:00 发给李敏正：文件“低保月报汇总_" in lines[2]
    assert lines[2].endswith(".xlsx”，试了 5 次。原因：模拟器保存不了这个文件（文件夹不可写）。")
    assert lines[3].startswith("回复“/投递 重试”重发最近 24 小时内失败的消息")


def test_retry_sends_it_again_and_is_audited(chat, clock, blocked):
    summary_that_dies(chat, clock)
    chat.pushes("li_minzheng")
    blocked.unlink()

    assert chat.say("admin", "/投递 重试") == "已把 1 条发送失败的消息放回发送队列，马上重发。"

    [summary] = chat.pushes("li_minzheng")
    assert summary.file_name.startswith("低保月报汇总_") and summary.file_path.read_bytes().startswith(b"PK")
    assert chat.say("admin", "/投递") == NOTHING_WRONG
    with chat.runtime.factory() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "retry_delivery")).one()
        admin = session.scalars(select(Person).where(Person.account == "admin")).one()
    assert (entry.actor_id, entry.entity, entry.old, entry.new["status"], entry.new["count"]) == (
        admin.id, "outbox", {"status": "dead"}, "pending", 1)  # fmt: skip


def test_a_retried_message_gets_its_full_number_of_tries_again(chat, clock, blocked):
    summary_that_dies(chat, clock)
    chat.say("admin", "/投递 重试")  # the folder is still blocked: the first new try fails too

    retried = latest_row(chat)
    assert (retried.status, retried.attempts) == (OutboxStatus.PENDING, 1)
    assert "失败后等待重试 1 条" in chat.say("admin", "/投递")


def test_unregistered_accounts_are_masked_and_so_are_id_numbers_and_mobiles(chat):
    queue_to(chat, None, "您还未登记，请联系管理员。", key="reply:x1", platform="wecom", user_id="wang_gone_2024")
    queue_to(chat, "zhang_dehua", "请核对 110102199101010078 的信息", key="check:1", platform="wecom")
    queue_to(chat, "luo_xiuying", "请回电 13908315526，说明本月新增低保户的情况", key="call:1", platform="wecom")
    chat.runtime.deliver()  # this bot has no WeCom set up: all three are given up at once

    shown = chat.say("admin", "/投递")
    lines = shown.splitlines()

    assert (
        "发给罗秀英：“请回电 139****5526，说明本月新增低保户的情况”，试了 1 次。原因：机器人没有配置企业微信。"
        in lines[2]
    )
    assert "发给张德华：“请核对 1101**********0078 的信息”" in lines[3]
    assert "发给未登记的企业微信账号 wa**********24：“您还未登记，请联系管理员。”，试了 1 次。" in lines[4]
    assert "13908315526" not in shown and "0102199101" not in shown and "wang_gone" not in shown


def test_the_list_shows_the_latest_ten_of_all(chat):
    for n in range(12):
        queue_to(chat, "zhang_dehua", f"第{n}条通知", key=f"n{n}", platform="wecom")
    chat.runtime.deliver()

    lines = chat.say("admin", "/投递").splitlines()

    assert lines[1] == "最近 10 条发送失败的消息（共 12 条）："
    assert "“第11条通知”" in lines[2] and "“第2条通知”" in lines[11]
    assert lines[12].startswith("回复“/投递 重试”") and len(lines) == 13


def test_a_bare_retry_leaves_messages_older_than_a_day_and_says_how_to_send_them_too(chat, clock):
    queue_to(chat, "zhang_dehua", "昨天的通知", key="old", platform="wecom")
    clock.advance(hours=25)
    queue_to(chat, "zhang_dehua", "今天的通知", key="new", platform="wecom")
    chat.runtime.deliver()

    assert chat.say("admin", "/投递 重试") == (
        "已把 1 条发送失败的消息放回发送队列，马上重发。"
        "另有 1 条是 24 小时以前的，没有重发；要一起重发请回复“/投递 重试 全部”。"
    )
    # Still no WeCom: the message fails again at once, so both are dead now and 全部 takes both.
    assert chat.say("admin", "/投递 重试 全部") == "已把全部 2 条发送失败的消息放回发送队列，马上重发。"


def test_retry_by_number_takes_only_dead_messages(chat):
    first = queue_to(chat, "zhang_dehua", "通知一", key="a", platform="wecom")
    queue_to(chat, "luo_xiuying", "通知二", key="b", platform="wecom")
    sent = queue_to(chat, "chen_guoping", "通知三", key="c")
    chat.runtime.deliver()

    reply = chat.say("admin", f"/投递 重试 #{first}、{sent} 99")

    assert reply == (
        f"已把 #{first} 放回发送队列，马上重发。\n"
        f"#{sent}、#99 不是发送失败的消息（可能已经发出，或编号不对）。回复“/投递”查看发送失败的消息和编号。"
    )
    with chat.runtime.factory() as session:
        retried = session.get(OutboxMessage, first)
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "retry_delivery"))
    assert (retried.status, retried.attempts) == (OutboxStatus.DEAD, 1)  # tried afresh; still no WeCom here
    assert (entry.entity_id, entry.new["ids"]) == (str(first), [first])


@pytest.mark.parametrize("words", ["/投递 重试 第一条", "/投递 清空"])
def test_anything_else_is_answered_with_the_usage(chat, words):
    assert chat.say("admin", words).startswith("用法：“/投递”查看推送发送情况")


def test_nothing_to_retry(chat):
    assert chat.say("admin", "/投递 重试") == "没有发送失败的消息，不需要重试。"
    assert chat.say("admin", "/投递 重试 全部") == "没有发送失败的消息，不需要重试。"


def test_a_failure_without_a_reason_is_named_but_its_details_never_echoed(chat):
    # A row failed before reasons were kept (or by a bug that gave none): the details stay in the database.
    queue_to(chat, "zhang_dehua", "第一条", key="odd:1")
    with chat.runtime.factory.begin() as session:
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == "odd:1"))
        row.status, row.attempts, row.last_error = OutboxStatus.DEAD, 5, "TypeError(\"'NoneType' object\")"
    shown = chat.say("admin", "/投递")
    assert "“第一条”，试了 5 次。原因：机器人发送时出错，详情见机器人日志。" in shown
    assert "TypeError" not in shown and "NoneType" not in shown
