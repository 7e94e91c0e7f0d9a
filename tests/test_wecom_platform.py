"""The WeCom client and platform against the local WeCom emulator: tokens, texts, files, cards and WeCom's errors."""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import redis
from sqlalchemy import select

from bot.config import WeComConfig
from bot.delivery import deliver_pending
from bot.platforms.base import MAX_FILE_BYTES, DeliveryError, FileTooLarge, Outgoing, Recipient
from bot.platforms.token_cache import DatabaseStorage, RedisTokenStorage, utc_now
from bot.platforms.wecom import texts
from bot.platforms.wecom.api import WeComClient, file_name_of, multipart_file
from bot.platforms.wecom.emulator import (
    SAMPLE_AES_KEY,
    SAMPLE_TOKEN,
    EmulatorSettings,
    GeneratedFile,
    ServerHandle,
    WeComEmulator,
    serve,
)
from bot.platforms.wecom.inbound import CardUpdate
from bot.platforms.wecom.platform import WeComPlatform, split_text, undelivered
from bot.platforms.wecom.token_store import make_token_storage
from ledger_store.db import transaction
from ledger_store.models import CachedValue, OutboxMessage, OutboxStatus
from ledger_store.outbox import Buttons, Option, enqueue

CORP_ID, SECRET, AGENT_ID = "ww0123456789abcdef", "app-secret-0123456789", 1000002
REDIS_URL = "redis://127.0.0.1:6379/0"
TASK_ID = re.compile(r"[0-9A-Za-z_\-@]{1,128}")


def Card(token: str, options, multiple: bool = False) -> Buttons:  # noqa: N802 - reads as the card it builds
    return Buttons(token, tuple(Option(*option) for option in options), multiple)


YES_NO = Card("c7p2", (("是", "是"), ("否", "否")))


@pytest.fixture
def emulator() -> WeComEmulator:
    """One corp with a few members of the demo organisation."""
    settings = EmulatorSettings(CORP_ID, SECRET, AGENT_ID, SAMPLE_TOKEN, SAMPLE_AES_KEY)
    emulator = WeComEmulator(settings)
    emulator.add_department(1, "永川区")
    for userid, name in (("hu_xiaoyan", "胡晓燕"), ("zhang_dehua", "张德华"), ("LiuTing", "刘婷")):
        emulator.add_member(userid, name)
    return emulator


@pytest.fixture
def server(emulator: WeComEmulator) -> Iterator[ServerHandle]:
    """The emulator's API on a free loopback port."""
    handle = serve(emulator)
    yield handle
    handle.shutdown()


@pytest.fixture
def config(server: ServerHandle) -> WeComConfig:
    """The app as the bot is configured for it, pointed at the emulator."""
    return WeComConfig(CORP_ID, AGENT_ID, SECRET, SAMPLE_TOKEN, SAMPLE_AES_KEY, api_base_url=server.url)


@pytest.fixture
def client(config: WeComConfig, db) -> WeComClient:
    """A client keeping its token in the test database."""
    return WeComClient.from_config(config, DatabaseStorage(db))


@pytest.fixture
def sleeps() -> list[float]:
    """The waits the platform asked for instead of sleeping."""
    return []


@pytest.fixture
def platform(config: WeComConfig, client: WeComClient, sleeps: list[float]) -> WeComPlatform:
    """The platform under test; it records its waits instead of sleeping."""
    return WeComPlatform(config, client, sleep=sleeps.append)


def to(*user_ids: str) -> list[Recipient]:
    """Recipients with distinct dedupe keys."""
    return [Recipient(user_id, f"key-{user_id}") for user_id in user_ids]


def gettoken_calls(emulator: WeComEmulator) -> int:
    return sum(1 for _, path in emulator.calls if path.endswith("/gettoken"))


def sent_cards(emulator: WeComEmulator) -> list[dict]:
    return [body["template_card"] for body in emulator.sent if body["msgtype"] == "template_card"]


# --- the access token -----------------------------------------------------------------------------------------


def test_two_clients_share_one_token_through_the_database(emulator, config, db):
    first = WeComClient.from_config(config, make_token_storage(config, db))
    second = WeComClient.from_config(config, make_token_storage(config, db))
    first.send(AGENT_ID, ["hu_xiaoyan"], {"msgtype": "text", "text": {"content": "一"}})
    second.send(AGENT_ID, ["hu_xiaoyan"], {"msgtype": "text", "text": {"content": "二"}})
    assert gettoken_calls(emulator) == 1
    with transaction(db) as session:
        row = session.scalar(select(CachedValue))
    assert row.key.startswith(f"wecom:{CORP_ID}_") and SECRET[:10] not in row.key
    lifetime = row.expires_at - utc_now()
    assert timedelta(seconds=7200 - 70) < lifetime <= timedelta(seconds=7200 - 60)


def test_an_expired_token_is_refreshed_and_the_call_succeeds(emulator, platform, client):
    platform.send(to("hu_xiaoyan"), Outgoing(text="第一条"))
    old = client.access_token
    emulator.expire_tokens()
    platform.send(to("hu_xiaoyan"), Outgoing(text="第二条"))
    assert [m["text"]["content"] for m in emulator.inbox("hu_xiaoyan")] == ["第一条", "第二条"]
    assert gettoken_calls(emulator) == 2
    assert client.session.get(client.access_token_key) != old  # the new token is what every process now reads


def test_a_token_refused_again_after_a_refresh_is_not_retried_forever(emulator, platform):
    emulator.fail_next("message/send", 40014, times=5)
    with pytest.raises(DeliveryError) as raised:
        platform.send(to("hu_xiaoyan"), Outgoing(text="你好"))
    assert raised.value.retry
    assert gettoken_calls(emulator) == 2


def test_database_storage_honours_expiry_and_overwrites(db):
    moment = [datetime(2024, 11, 28, 2, 0)]
    storage = DatabaseStorage(db, now=lambda: moment[0])
    storage.set("token", "old", ttl=7200)
    DatabaseStorage(db, now=lambda: moment[0]).set("token", "new", ttl=7200)  # another process, same key
    assert storage.get("token") == "new"
    moment[0] += timedelta(seconds=7200 - 61)
    assert storage.get("token") == "new"
    moment[0] += timedelta(seconds=1)
    assert storage.get("token", "gone") == "gone"
    storage.set("forever", {"a": 1})
    storage.delete("token")
    with transaction(db) as session:
        assert [row.key for row in session.scalars(select(CachedValue))] == ["cache:forever"]


def test_a_cache_write_on_a_busy_sqlite_gives_up_quickly(db, engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("only SQLite has one write lock for the whole database")
    storage = DatabaseStorage(db)
    with transaction(db) as holder:
        holder.add(CachedValue(key="held", value="1"))
        holder.flush()  # this transaction now holds SQLite's write lock, as a delivery pass may
        started = time.monotonic()
        storage.set("token", "abc", ttl=7200)
        assert time.monotonic() - started < 5
    assert storage.get("token") is None
    storage.set("token", "abc", ttl=7200)
    assert storage.get("token") == "abc"


def test_token_cache_setting_chooses_the_storage(db):
    assert isinstance(make_token_storage(WeComConfig(), db), DatabaseStorage)
    assert isinstance(make_token_storage(WeComConfig(token_cache=REDIS_URL), db), RedisTokenStorage)
    with pytest.raises(ValueError, match="token_cache"):
        make_token_storage(WeComConfig(token_cache="memcached://x"), db)


def test_two_clients_share_one_token_through_redis(emulator, config):
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.RedisError as error:
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {REDIS_URL} is not reachable in CI: {error}")
        pytest.skip(f"Redis not reachable: {error}")
    prefix = f"ybt-test-{uuid.uuid4().hex}"
    try:
        clients = [WeComClient.from_config(config, RedisTokenStorage(connection, prefix)) for _ in range(2)]
        for client in clients:
            client.send(AGENT_ID, ["hu_xiaoyan"], {"msgtype": "text", "text": {"content": "你好"}})
        assert gettoken_calls(emulator) == 1
        key = f"{prefix}:{clients[0].access_token_key}"
        assert 7200 - 70 < connection.ttl(key) <= 7200 - 60
    finally:
        for key in connection.scan_iter(f"{prefix}:*"):
            connection.delete(key)


# --- what goes out --------------------------------------------------------------------------------------------


def test_text_is_sent_with_the_duplicate_check(emulator, platform):
    result = platform.send(to("hu_xiaoyan", "zhang_dehua"), Outgoing(text="请于周五前报送"))
    assert result.invalid == frozenset()
    [body] = emulator.sent
    assert body["msgtype"] == "text" and body["text"] == {"content": "请于周五前报送"}
    assert body["touser"] == "hu_xiaoyan|zhang_dehua" and body["agentid"] == AGENT_ID
    assert body["enable_duplicate_check"] == 1 and body["duplicate_check_interval"] == 1800


def test_a_resend_after_a_crash_is_dropped_by_wecom(emulator, platform):
    for _ in range(2):
        platform.send(to("hu_xiaoyan"), Outgoing(text="同一条提醒"))
    assert len(emulator.inbox("hu_xiaoyan")) == 1


def test_long_text_is_split_between_lines_under_2048_bytes(emulator, platform):
    text = "\n".join(f"{number}. 朱沱镇松林村走访记录，已核实。" for number in range(1, 120))
    platform.send(to("hu_xiaoyan"), Outgoing(text=text))
    parts = [message["text"]["content"] for message in emulator.inbox("hu_xiaoyan")]
    assert len(parts) > 1 and all(len(part.encode()) <= 2048 for part in parts)
    assert "\n".join(parts) == text


def test_split_text_cuts_a_line_longer_than_the_limit():
    assert split_text("甲" * 5 + "\n乙", limit=6) == ["甲甲", "甲甲", "甲", "乙"]
    assert split_text("") == []


def test_file_goes_after_its_text_under_its_chinese_name(emulator, platform):
    name, data = '朱沱镇 汇总表（11月）"终版".xlsx', b"PK\x03\x04 workbook bytes"
    platform.send(to("hu_xiaoyan"), Outgoing(text="汇总表已生成", file_name=name, file_bytes=data))
    text, file = emulator.sent
    assert text["msgtype"] == "text" and file["msgtype"] == "file"
    assert emulator.uploads[file["file"]["media_id"]] == ("朱沱镇 汇总表（11月）_终版_.xlsx", data)


def test_the_same_file_is_uploaded_once_and_a_resend_is_dropped(emulator, platform):
    message = Outgoing(file_name="汇总表.xlsx", file_bytes=b"PK\x03\x04 workbook")
    platform.send(to("hu_xiaoyan"), message)
    platform.send(to("hu_xiaoyan"), message)
    assert sum(1 for _, path in emulator.calls if path.endswith("/media/upload")) == 1
    assert len(emulator.inbox("hu_xiaoyan")) == 1


def test_multipart_body_carries_the_raw_utf8_name_and_length():
    body, content_type = multipart_file("汇总表.xlsx", b"12345")
    assert 'filename="汇总表.xlsx"; filelength=5'.encode() in body
    assert content_type.startswith("multipart/form-data; boundary=")


def test_download_returns_the_name_and_bytes(emulator, platform):
    media_id = emulator.put_media(b"member's workbook", "走访记录 表.xlsx")
    assert platform.download(media_id) == ("走访记录 表.xlsx", b"member's workbook")
    with pytest.raises(DeliveryError, match="40007"):
        platform.download("no-such-media")


def test_a_download_is_capped_whether_or_not_its_length_is_declared(emulator, client):
    for declared in (True, False):
        fits = emulator.put_media(GeneratedFile(1000, declared=declared, chunk=64), "表.xlsx")
        assert client.download(fits, limit=1000) == ("表.xlsx", bytes(1000))
        over = emulator.put_media(GeneratedFile(1001, declared=declared, chunk=64), "表.xlsx")
        with pytest.raises(FileTooLarge) as refused:
            client.download(over, limit=1000)
        assert refused.value.limit == 1000


def test_a_declared_length_over_the_cap_is_refused_before_the_file_is_read_and_not_retried(emulator, platform, sleeps):
    huge = GeneratedFile(3 << 30)
    with pytest.raises(FileTooLarge):
        platform.download(emulator.put_media(huge, "大表.xlsx"))
    assert huge.served < MAX_FILE_BYTES  # at most what the sockets took in before the connection was dropped
    assert sleeps == [] and sum(path.endswith("/media/get") for _, path in emulator.calls) == 1


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ('attachment; filename="MEDIA_ID.jpg"', "MEDIA_ID.jpg"),
        ('attachment; filename="' + "表.xlsx".encode().decode("latin-1") + '"', "表.xlsx"),
        ('attachment; filename="%E8%A1%A8.xlsx"', "表.xlsx"),
    ],
)
def test_file_name_of_reads_every_spelling_wecom_might_use(header, name):
    assert file_name_of(header) == name


# --- cards ----------------------------------------------------------------------------------------------------


def test_yes_no_question_becomes_a_button_card(emulator, platform):
    platform.send(to("hu_xiaoyan"), Outgoing(text="《低保走访》第2/5题\n是否低保户？", buttons=YES_NO))
    [card] = sent_cards(emulator)
    assert len(emulator.sent) == 1
    assert card["card_type"] == "button_interaction"
    assert card["main_title"] == {"title": "《低保走访》第2/5题"} and card["sub_title_text"] == "是否低保户？"
    assert [(b["key"], b["text"]) for b in card["button_list"]] == [("是", "是"), ("否", "否")]
    assert card["task_id"].startswith("c7p2-") and TASK_ID.fullmatch(card["task_id"])
    assert emulator.sent[0]["enable_duplicate_check"] == 1


def test_many_options_become_a_vote_card(emulator, platform):
    options = tuple((str(n), f"选项{n}") for n in range(1, 9))
    platform.send(to("hu_xiaoyan"), Outgoing(text="救助类型", buttons=Card("c7p3", options)))
    platform.send(to("zhang_dehua"), Outgoing(text="救助类型", buttons=Card("c7p4", options[:3], multiple=True)))
    single, multiple = sent_cards(emulator)
    assert single["card_type"] == multiple["card_type"] == "vote_interaction"
    assert single["checkbox"]["mode"] == 0 and multiple["checkbox"]["mode"] == 1
    assert single["checkbox"]["question_key"] == "c7p3"
    assert [o["id"] for o in single["checkbox"]["option_list"]] == [str(n) for n in range(1, 9)]
    assert single["submit_button"]["text"] == texts.SUBMIT
    assert multiple["main_title"] == {"title": "救助类型", "desc": texts.MULTIPLE_HINT}
    assert single["task_id"] != multiple["task_id"]


def test_long_labels_use_a_vote_card_and_are_clipped_to_what_wecom_shows(emulator, platform):
    card = Card("c7p5", (("1", "城乡居民基本医疗保险参保缴费补助对象"), ("2", "无")))
    platform.send(to("hu_xiaoyan"), Outgoing(text="补助类别", buttons=card))
    [sent] = sent_cards(emulator)
    assert sent["card_type"] == "vote_interaction"
    assert [len(o["text"]) for o in sent["checkbox"]["option_list"]] == [17, 1]


def test_a_question_too_long_for_the_card_goes_first_as_text(emulator, platform):
    text = "《低保走访》第2/5题\n" + "请核实该户家庭成员的收入情况。" * 12
    platform.send(to("hu_xiaoyan"), Outgoing(text=text, buttons=YES_NO))
    first, second = emulator.sent
    assert first["text"]["content"] == text
    assert second["template_card"]["main_title"] == {"title": texts.CARD_TITLE, "desc": texts.CARD_SEE_ABOVE}


def test_more_options_than_a_card_holds_leave_the_text_alone(emulator, platform):
    options = tuple((str(n), f"村{n}") for n in range(1, 22))
    platform.send(to("hu_xiaoyan"), Outgoing(text="请选择村（回复序号）", buttons=Card("c7p6", options)))
    assert [body["msgtype"] for body in emulator.sent] == ["text"]


def response_code(client: WeComClient, task_id: str) -> str:
    """A usable response_code: WeCom hands one out with every interactive card sent (and with every click)."""
    card = {"card_type": "button_interaction", "main_title": {"title": "测试"}, "task_id": task_id,
            "button_list": [{"text": "是", "key": "是"}]}  # fmt: skip
    return client.send(AGENT_ID, ["LiuTing"], {"msgtype": "template_card", "template_card": card})["response_code"]


def test_update_card_names_the_label_of_the_value_clicked(emulator, platform, client):
    options = (("1", "社保卡"), ("2", "银行卡"), ("3", "现金"))
    platform.send(to("hu_xiaoyan"), Outgoing(text="发放方式", buttons=Card("c7p7", options)))
    platform.send(to("zhang_dehua"), Outgoing(text="问题", buttons=Card("c7p8", options, multiple=True)))
    first, second = (body["template_card"]["task_id"] for body in emulator.sent if body["msgtype"] == "template_card")
    # the next question's card, already out when the click's update is made, does not lend its labels
    platform.send(to("hu_xiaoyan"), Outgoing(text="下一题", buttons=Card("c7p9", (("1", "是"), ("2", "否")))))
    codes = [response_code(client, f"c0p0-{n}") for n in range(3)]
    platform.update_card(CardUpdate("hu_xiaoyan", codes[0], "2", first))
    platform.update_card(CardUpdate("zhang_dehua", codes[1], "1 3", second))
    platform.update_card(CardUpdate("nobody_known", codes[2], "9", "c0p0-x"))
    assert [u["button"]["replace_name"] for u in emulator.card_updates] == [
        "已选择：银行卡",
        "已选择：社保卡、现金",
        "已选择：9",
    ]
    assert emulator.card_updates[0]["userids"] == ["hu_xiaoyan"] and emulator.card_updates[0]["agentid"] == AGENT_ID


# --- recipients and errors ------------------------------------------------------------------------------------


def test_a_thousand_recipients_go_in_one_call(emulator, platform):
    user_ids = [f"member{n:04d}" for n in range(1000)]
    for user_id in user_ids:
        emulator.add_member(user_id, user_id)
    assert platform.send(to(*user_ids), Outgoing(text="全体通知")).invalid == frozenset()
    assert len(emulator.sent) == 1 and len(emulator.sent[0]["touser"].split("|")) == 1000


def test_the_delivery_loop_splits_more_than_a_thousand(emulator, platform, db):
    now = datetime(2024, 11, 28, 2, 0)
    user_ids = [f"member{n:04d}" for n in range(1001)]
    with transaction(db) as session:
        for user_id in user_ids:
            emulator.add_member(user_id, user_id)
            enqueue(
                session, person_id=None, platform="wecom", user_id=user_id, dedupe_key=user_id, now=now, text="通知"
            )
    assert deliver_pending(db, {"wecom": platform}, "wecom", lambda: now, batch_size=2000) == 1001
    assert [len(body["touser"].split("|")) for body in emulator.sent] == [1000, 1]


def test_unknown_members_come_back_in_our_spelling(emulator, platform):
    result = platform.send(to("hu_xiaoyan", "Wang_Gone", "LIUTING"), Outgoing(text="你好"))
    assert result.invalid == frozenset({"Wang_Gone"})
    assert len(emulator.inbox("LiuTing")) == 1


def test_members_without_an_interface_licence_count_as_undelivered():
    answer = {"errcode": 0, "invaliduser": "wang_gone", "unlicenseduser": "liuting"}
    assert undelivered(answer, ["Wang_Gone", "LiuTing", "hu_xiaoyan"]) == {"Wang_Gone", "LiuTing"}


def test_when_nobody_is_known_every_recipient_is_invalid(platform):
    result = platform.send(to("Ghost_1", "ghost_2"), Outgoing(text="你好"))
    assert result.invalid == frozenset({"Ghost_1", "ghost_2"})


def test_a_busy_wecom_is_tried_again_shortly_and_delivers_once(emulator, platform, sleeps):
    emulator.fail_next("message/send", -1)
    assert platform.send(to("hu_xiaoyan"), Outgoing(text="你好")).invalid == frozenset()
    assert len(emulator.inbox("hu_xiaoyan")) == 1 and sleeps == [0.5]


def test_a_frequency_limit_that_persists_is_left_to_the_outbox(emulator, platform, sleeps):
    emulator.fail_next("message/send", 45009, times=3)
    with pytest.raises(DeliveryError) as raised:
        platform.send(to("hu_xiaoyan"), Outgoing(text="你好"))
    assert raised.value.retry and "45009" in str(raised.value)
    assert sleeps == [0.5, 2.0] and emulator.inbox("hu_xiaoyan") == []


def test_an_untrusted_ip_is_not_retried(emulator, platform, sleeps):
    emulator.fail_next("message/send", 60020)
    with pytest.raises(DeliveryError) as raised:
        platform.send(to("hu_xiaoyan"), Outgoing(text="你好"))
    assert not raised.value.retry and "trusted IP" in str(raised.value) and sleeps == []


def test_a_wrong_agent_id_is_not_retried(config, client):
    platform = WeComPlatform(WeComConfig(CORP_ID, 42, SECRET, api_base_url=config.api_base_url), client)
    with pytest.raises(DeliveryError, match="agent_id") as raised:
        platform.send(to("hu_xiaoyan"), Outgoing(text="你好"))
    assert not raised.value.retry


def test_an_unreachable_wecom_is_retried_later_without_leaking_the_secret(emulator, db, sleeps):
    stopped = serve(emulator)
    stopped.shutdown()
    config = WeComConfig(CORP_ID, AGENT_ID, SECRET, api_base_url=stopped.url)
    platform = WeComPlatform(config, WeComClient.from_config(config, DatabaseStorage(db)), sleep=sleeps.append)
    with pytest.raises(DeliveryError) as raised:
        platform.send(to("hu_xiaoyan"), Outgoing(text="你好"))
    assert raised.value.retry and len(sleeps) == 2
    assert SECRET not in str(raised.value) and "corpsecret=***" in str(raised.value)


def test_outbox_rows_to_unknown_members_are_parked(emulator, platform, db):
    now = datetime(2024, 11, 28, 2, 0)
    with transaction(db) as session:
        for user_id in ("hu_xiaoyan", "wang_gone"):
            enqueue(session, person_id=None, platform="wecom", user_id=user_id, dedupe_key=user_id, now=now, text="hi")
    assert deliver_pending(db, {"wecom": platform}, "wecom", lambda: now) == 1
    with transaction(db) as session:
        statuses = dict(session.execute(select(OutboxMessage.user_id, OutboxMessage.status)).all())
    assert statuses == {"hu_xiaoyan": OutboxStatus.SENT, "wang_gone": OutboxStatus.DEAD}
