"""Replies over the whole WeCom path stay separate messages: never merged into one call, cards and files included."""

from __future__ import annotations

from sqlalchemy import select

from ledger_store.db import transaction
from ledger_store.models import OutboxMessage, OutboxStatus, Person, StoredFile
from ledger_store.outbox import enqueue, store_file


def test_three_identical_messages_from_one_member_at_once_get_three_replies(world):
    for _ in range(3):
        world.write("zhang_dehua", "帮助")
    world.settle()

    replies = world.texts("zhang_dehua")

    assert len(replies) == 3 and len(set(replies)) == 1 and "/待办" in replies[0]
    assert all(len(set(call["touser"].split("|"))) == len(call["touser"].split("|")) for call in world.emulator.sent)


def test_the_same_question_card_asked_twice_at_once_arrives_twice(world):
    world.say("wang_canlian", "/发布 残疾人两项补贴情况 截止 后天18点 范围 石庙村")
    world.say("chen_guoping", "开始")
    for answer in ["12", "5", "8600", "2024-11-20"]:
        world.say("chen_guoping", answer)
    world.take("chen_guoping")

    for _ in range(2):
        world.write("chen_guoping", "第五种方式")  # not an option: the question and its buttons come again
    world.settle()

    cards = [m["template_card"] for m in world.take("chen_guoping") if m["msgtype"] == "template_card"]
    assert len(cards) == 2 and cards[0]["task_id"] != cards[1]["task_id"]
    assert [b["text"] for b in cards[1]["button_list"]] == ["社保卡", "银行卡", "现金"]


def test_two_equal_files_queued_for_one_member_both_arrive_but_a_resend_does_not(world):
    rows = []
    with transaction(world.runtime.factory) as session:
        person = session.scalars(select(Person).where(Person.account == "li_minzheng")).one()
        for n in range(2):
            stored = store_file(session, "低保月报汇总.xlsx", b"PK\x03\x04 same bytes", world.runtime.engine.now())
            rows.append(enqueue(session, person_id=person.id, dedupe_key=f"file:{n}", now=world.runtime.engine.now(),
                                file=stored).id)  # fmt: skip

    world.settle()
    with transaction(world.runtime.factory) as session:  # as if the process died before recording the send
        session.get(OutboxMessage, rows[0]).status = OutboxStatus.PENDING
    world.settle()

    files = [m for m in world.take("li_minzheng") if m["msgtype"] == "file"]
    assert len(files) == 2 and files[0]["file"]["media_id"] != files[1]["file"]["media_id"]


def test_one_stored_file_pushed_again_later_arrives_again_but_a_resend_does_not(world):
    with transaction(world.runtime.factory) as session:
        person = session.scalars(select(Person).where(Person.account == "li_minzheng")).one()
        stored = store_file(session, "残疾人名单花名册.xlsx", b"PK\x03\x04 roster", world.runtime.engine.now())
        first = enqueue(session, person_id=person.id, dedupe_key="roster:0", now=world.runtime.engine.now(),
                        file=stored).id  # fmt: skip
    world.settle()
    with transaction(world.runtime.factory) as session:  # asked for again: the same stored file, a new push
        stored = session.scalars(select(StoredFile)).one()
        enqueue(session, person_id=person.id, dedupe_key="roster:1", now=world.runtime.engine.now(), file=stored)
    world.settle()
    with transaction(world.runtime.factory) as session:  # as if the process died before recording the first send
        session.get(OutboxMessage, first).status = OutboxStatus.PENDING
    world.settle()

    files = [m for m in world.take("li_minzheng") if m["msgtype"] == "file"]
    assert len(files) == 2 and files[0]["file"]["media_id"] != files[1]["file"]["media_id"]


def test_the_roster_workbook_asked_for_twice_arrives_twice_from_one_stored_file(world):
    world.say("wang_canlian", "/发布 两项补贴花名册 截止 后天18点 范围 松林村")
    world.say("zhang_dehua", "开始")
    for _ in range(2):  # two delivery passes: WeCom's duplicate check would drop a second upload's twin
        assert "花名册已作为 Excel 文件发给您" in world.say("zhang_dehua", "表格")[0]

    files = [m for m in world.emulator.inbox("zhang_dehua") if m["msgtype"] == "file"]
    assert len(files) == 2
    with world.runtime.factory() as session:
        names = session.scalars(select(StoredFile.name).where(StoredFile.name.startswith("残疾人名单花名册"))).all()
    assert len(names) == 1 and world.emulator.uploads[files[1]["file"]["media_id"]][0] == names[0]


def test_two_equal_pushes_queued_for_one_member_at_once_both_arrive(world):
    with transaction(world.runtime.factory) as session:
        person = session.scalars(select(Person).where(Person.account == "zhang_dehua")).one()
        for n in range(2):
            enqueue(session, person_id=person.id, dedupe_key=f"push:{n}", now=world.runtime.engine.now(), text="请报送")

    world.settle()

    assert world.texts("zhang_dehua") == ["请报送", "请报送"]
