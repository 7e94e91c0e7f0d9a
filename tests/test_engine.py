"""The engine's promises at its edge: failures roll back and are answered in Chinese, never with a trace."""

from __future__ import annotations

import logging
import sys
import threading

import pytest
from sqlalchemy import func, select

from bot.logs import MaskingFormatter
from handlers.chat import router
from handlers.conversation import answering
from handlers.core.messages import ButtonClick, Incoming
from handlers.texts.commands import INTERNAL_ERROR
from ledger_store.models import Conversation, InboundMessage, InboundStatus
from ledger_store.org import SIMULATOR


def test_a_failure_mid_message_rolls_back_and_apologises(chat, runtime, monkeypatch, caplog, ledger_without_dibao):
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村")
    chat.say("zhang_dehua", "开始")
    chat.say("zhang_dehua", "120")

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire 110102199101010078")

    monkeypatch.setattr(answering, "parse_answer", broken)
    with caplog.at_level(logging.ERROR):
        reply = chat.say("zhang_dehua", "350")
    assert reply == INTERNAL_ERROR
    assert "Traceback" not in reply and "RuntimeError" not in reply
    with runtime.factory() as session:
        state = session.scalar(select(Conversation))
        assert state.position == 1 and "persons" not in state.answers
    monkeypatch.undo()
    assert "第3/8题" in chat.say("zhang_dehua", "350")


def test_logs_never_show_a_full_mobile_or_id_number():
    try:
        raise RuntimeError("bad answer 110102199101010078 from 13908315526")
    except RuntimeError:
        record = logging.makeLogRecord(
            {"msg": "message from %s failed", "args": ("13908315526",), "exc_info": sys.exc_info()}
        )
    line = MaskingFormatter("%(message)s").format(record)
    assert "RuntimeError" in line
    assert "13908315526" not in line and "110102199101010078" not in line
    assert "139****5526" in line and "1101**********0078" in line


def test_a_message_accepted_now_is_handled_later_and_answered_through_the_outbox(chat, runtime, ledger_without_dibao):
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村")
    chat.pushes("zhang_dehua")
    assert runtime.engine.accept(Incoming(SIMULATOR, "zhang_dehua", "开始", message_id="m-1"))
    assert not runtime.engine.accept(Incoming(SIMULATOR, "zhang_dehua", "开始", message_id="m-1"))
    assert chat.pushes("zhang_dehua") == []  # nothing is handled before process_pending

    assert runtime.engine.process_pending() == 1
    assert runtime.engine.process_pending() == 0
    runtime.deliver()
    [reply] = chat.pushed_texts("zhang_dehua")
    assert "第1/8题" in reply


def test_a_stored_message_that_keeps_failing_ends_with_an_apology(chat, runtime, monkeypatch):
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村")
    chat.pushes("zhang_dehua")
    monkeypatch.setattr(router, "respond", lambda *args: 1 / 0)
    runtime.engine.accept(Incoming(SIMULATOR, "zhang_dehua", "开始", message_id="m-2"))
    stored = select(InboundMessage).where(InboundMessage.message_key == "m-2")
    for attempt in range(1, 4):
        runtime.engine.process_pending()
        runtime.deliver()
        with runtime.factory() as session:
            row = session.scalar(stored)
        assert row.attempts == attempt
        if attempt < 3:
            assert row.status == InboundStatus.PENDING and chat.pushes("zhang_dehua") == []
    assert row.status == InboundStatus.FAILED
    assert chat.pushed_texts("zhang_dehua") == [INTERNAL_ERROR]


def test_an_unregistered_sender_is_answered_too_when_replies_go_through_the_outbox(runtime):
    runtime.engine.accept(Incoming(SIMULATOR, "stranger", "你好", message_id="m-3"))
    runtime.engine.process_pending()
    runtime.deliver()
    assert [m.text for m in runtime.platform.take("stranger")] == ["您还未登记，请联系管理员。"]


def test_choice_and_yes_no_questions_offer_buttons_and_a_click_answers(chat, runtime):
    chat.say("wang_canlian", "/发布 残疾人两项补贴情况 截止 12月5日 范围 石庙村")
    chat.say("chen_guoping", "开始")
    for answer in ["12", "5", "8600"]:
        chat.say("chen_guoping", answer)
    [reply] = runtime.engine.receive(Incoming(SIMULATOR, "chen_guoping", "2024-11-20", message_id="d"))
    assert [(o.value, o.label) for o in reply.buttons.options] == [("1", "社保卡"), ("2", "银行卡"), ("3", "现金")]
    assert reply.buttons.multiple is False and reply.buttons.token

    stale = Incoming(SIMULATOR, "chen_guoping", "", message_id="x", button=ButtonClick("c999p4", "1"))
    [declined] = runtime.engine.receive(stale)
    assert "已经答过" in declined.text and "第5/8题" in declined.text

    click = Incoming(SIMULATOR, "chen_guoping", "", message_id="c", button=ButtonClick(reply.buttons.token, "2"))
    [next_question] = runtime.engine.receive(click)
    assert "第6/8题" in next_question.text
    assert next_question.buttons.multiple is True and len(next_question.buttons.options) == 5
    again = Incoming(SIMULATOR, "chen_guoping", "", message_id="c2", button=ButtonClick(reply.buttons.token, "1"))
    assert "已经答过" in runtime.engine.receive(again)[0].text
    assert "发放方式：银行卡" in chat.say("chen_guoping", "查看")


def test_the_review_offers_a_submit_button_that_submits(chat, runtime, ledger_without_dibao):
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村")
    chat.say("zhang_dehua", "开始")
    for answer in ["120", "350", "3", "1", "15000", "是", "13908315526"]:
        chat.say("zhang_dehua", answer)
    [review] = runtime.engine.receive(Incoming(SIMULATOR, "zhang_dehua", "跳过", message_id="r"))
    assert "请核对" in review.text
    assert [(o.value, o.label) for o in review.buttons.options] == [("提交", "确认提交")]
    click = Incoming(SIMULATOR, "zhang_dehua", "", message_id="s", button=ButtonClick(review.buttons.token, "提交"))
    assert "已提交" in runtime.engine.receive(click)[0].text


def test_a_platform_key_longer_than_the_column_is_still_one_key_per_message(chat, runtime):
    key = "event:zhang_dehua:1700000000:template_card_event:" + "k" * 300

    assert runtime.engine.accept(Incoming(SIMULATOR, "zhang_dehua", "帮助", message_id=key))
    assert not runtime.engine.accept(Incoming(SIMULATOR, "zhang_dehua", "帮助", message_id=key))
    assert runtime.engine.process_pending() == 1
    runtime.deliver()
    assert len(chat.pushed_texts("zhang_dehua")) == 1


def test_a_new_message_is_stored_while_a_slow_download_of_another_is_under_way(runtime):
    """The file of a stored message is fetched before its handling transaction opens: a platform slow to hand it over
    does not hold the database, so the next message's callback (or Stream frame) is stored and acknowledged at once."""
    downloading, release = threading.Event(), threading.Event()

    def slow_fetch(incoming: Incoming) -> tuple[str, bytes]:
        downloading.set()
        assert release.wait(30)
        return "表.xlsx", b"not really a workbook"

    runtime.engine.accept(Incoming(SIMULATOR, "zhang_dehua", "", message_id="f-1", media_id="media-1"))
    handling = threading.Thread(target=runtime.engine.process_pending, kwargs={"fetch_file": slow_fetch})
    handling.start()
    try:
        assert downloading.wait(10)
        stored = threading.Thread(
            target=runtime.engine.accept, args=(Incoming(SIMULATOR, "zhang_dehua", "你好", message_id="f-2"),)
        )
        stored.start()
        stored.join(10)
        assert not stored.is_alive() and not release.is_set()  # stored while the download still waits
    finally:
        release.set()
        handling.join(30)
    with runtime.factory() as session:
        rows = {row.message_key: row for row in session.scalars(select(InboundMessage))}
        assert rows["f-1"].status == InboundStatus.DONE and rows["f-1"].file.content == b"not really a workbook"
        assert rows["f-2"].status == InboundStatus.DONE


def test_while_one_worker_downloads_a_file_another_leaves_it_and_her_later_message_and_answers_others(runtime):
    """Another worker does not fetch the same file again, nor answer her next message before the one with the file;
    it goes on with other people's."""
    downloading, release = threading.Event(), threading.Event()
    fetched_elsewhere: list[str] = []

    def slow_fetch(incoming: Incoming) -> tuple[str, bytes]:
        downloading.set()
        assert release.wait(30)
        return "表.xlsx", b"not really a workbook"

    def other_fetch(incoming: Incoming) -> tuple[str, bytes]:
        fetched_elsewhere.append(incoming.message_id)
        return "表.xlsx", b"fetched twice"

    runtime.engine.accept(Incoming(SIMULATOR, "zhang_dehua", "", message_id="f-1", media_id="media-1"))
    runtime.engine.accept(Incoming(SIMULATOR, "zhang_dehua", "你好", message_id="f-2"))
    runtime.engine.accept(Incoming(SIMULATOR, "luo_xiuying", "帮助", message_id="l-1"))
    handling = threading.Thread(target=runtime.engine.process_pending, kwargs={"fetch_file": slow_fetch})
    handling.start()
    try:
        assert downloading.wait(10)
        assert runtime.engine.process_pending(fetch_file=other_fetch) == 1  # luo_xiuying's, and only hers
    finally:
        release.set()
        handling.join(30)
    assert fetched_elsewhere == []
    with runtime.factory() as session:
        rows = {row.message_key: row for row in session.scalars(select(InboundMessage))}
        assert rows["f-1"].file.content == b"not really a workbook"
    assert rows["f-1"].processed_at <= rows["f-2"].processed_at  # hers in the order she sent them
    assert {row.status for row in rows.values()} == {InboundStatus.DONE}


@pytest.mark.parametrize("path", ["accept", "receive"])
def test_one_message_key_arriving_twice_at_the_same_moment_is_taken_once(runtime, path):
    """A platform's retry racing its first delivery: both store at once, one wins, the other is dropped quietly."""
    if runtime.factory.kw["bind"].dialect.name == "sqlite":
        pytest.skip("SQLite: writers take turns, so the two never store at the same moment")
    start = threading.Barrier(2)
    results: list[object] = []

    def deliver() -> None:
        start.wait()
        message = Incoming(SIMULATOR, "zhang_dehua", "帮助", message_id="same-key")
        results.append(getattr(runtime.engine, path)(message))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 1
    if path == "accept":
        assert sorted(results) == [False, True]
    else:
        answered = [replies for replies in results if replies]
        assert len(answered) == 1 and results.count([]) == 1
        assert INTERNAL_ERROR not in [reply.text for reply in answered[0]]
