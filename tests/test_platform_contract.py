"""A new platform is a folder with an adapter and one line in the registry: the test platform proves it.

The fake platform (tests/fake_platform.py) is registered with one line, like a real one; it then takes messages on
its own route, carries questions and buttons, brings files in, and explains its failures in /投递, while nothing
in handlers/ or ledger_store/ knows it exists.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.config import Config, DeliveryConfig
from bot.contacts import sync_directory
from bot.platforms import registry
from bot.platforms.base import Directory, DirectoryMember, DirectoryUnit, Outgoing
from bot.platforms.registry import configured_platforms
from bot.runtime import build_runtime, load_demo_org
from handlers.texts.commands import INTERNAL_ERROR
from ledger_store.db import make_session_factory
from ledger_store.models import InboundMessage, InboundStatus, Person, PlatformIdentity
from ledger_store.outbox import Buttons, Option
from tests.fake_platform import NAME, REFUSED, FakePlatform
from tests.test_form_import import workbook


@pytest.fixture
def fake(monkeypatch, engine, db, clock):
    platform = FakePlatform()
    monkeypatch.setitem(registry.PLATFORMS, NAME, lambda config, database: platform)  # the one line
    config = replace(Config(), delivery=DeliveryConfig(platform=NAME))
    runtime = build_runtime(config, *configured_platforms(config, engine), clock=clock, database=engine)
    load_demo_org(runtime)
    with runtime.factory.begin() as session:  # the org import's column for this platform's accounts
        for person in session.scalars(select(Person)):
            session.add(PlatformIdentity(person_id=person.id, platform=NAME, user_id=f"f-{person.account}"))
    app = create_app(runtime)
    client, ids = app.test_client(), itertools.count(1)

    def say(account: str, text: str = "", **extra) -> list[Outgoing]:
        body = {"user": f"f-{account}", "text": text, "id": f"m{next(ids)}", **extra}
        assert client.post("/fake/messages", json=body).get_json() == {"ok": True}
        app.extensions["worker"].run()  # what the kick after the acknowledgement asks the worker thread to do
        return platform.take(f"f-{account}")

    platform.say, platform.client, platform.runtime = say, client, runtime
    return platform


def texts(messages) -> list[str]:
    return [message.text for message in messages if message.text]


def test_messages_come_in_on_the_platform_s_own_route_and_replies_and_pushes_go_out_through_it(fake):
    [reply] = texts(fake.say("li_minzheng", "/发布 低保月报 截止 明天17:00 范围 松林村"))
    assert reply.startswith("已发布《低保月报》（任务#1）")
    [notice] = texts(fake.take("f-zhang_dehua"))
    assert notice.startswith("【区民政局】发布了《低保月报》（任务#1）")
    assert fake.client.post("/simulator/messages", json={"user": "admin", "text": "/帮助"}).status_code == 404


def test_buttons_arrive_as_one_typed_value_and_a_press_answers_the_question(fake):
    fake.say("li_minzheng", "/发布 低保月报 截止 明天17:00 范围 松林村")
    fake.take("f-zhang_dehua")
    fake.say("zhang_dehua", "开始")
    for answer in ("确认", "350", "3", "1", "15000"):
        *_, question = fake.say("zhang_dehua", answer)
    assert "本月是否完成入户核查" in question.text
    assert question.buttons == Buttons(question.buttons.token, (Option("是", "是"), Option("否", "否")))
    [next_question] = fake.say("zhang_dehua", token=question.buttons.token, value="是")
    assert "填报人手机号" in next_question.text


def test_a_file_a_person_sends_is_fetched_through_the_platform(fake):
    fake.files["media-1"] = ("防返贫监测.xlsx", workbook())
    [reply] = texts(fake.say("li_minzheng", media="media-1"))
    assert reply.startswith("已导入表单《防返贫监测月报》（第1版，共3项）")


def test_a_file_the_platform_will_never_hand_over_is_tried_once_and_answered_with_an_apology(fake):
    [apology] = texts(fake.say("li_minzheng", media="expired-media"))
    assert apology == INTERNAL_ERROR
    with fake.runtime.factory() as session:
        row = session.scalars(select(InboundMessage).order_by(InboundMessage.id.desc())).first()
        assert (row.status, row.attempts) == (InboundStatus.FAILED, 1)


def test_a_failure_is_explained_in_the_platform_s_own_words(fake):
    fake.refusing.add("f-zhang_dehua")
    fake.say("li_minzheng", "/发布 低保月报 截止 明天17:00 范围 松林村")
    [shown] = texts(fake.say("admin", "/投递"))
    assert "发给张德华：“【区民政局】发布了《低保月报》（任务#1）" in shown
    assert shown.splitlines()[2].endswith(f"试了 1 次。原因：{REFUSED}。")


def test_its_contacts_join_the_organisation_through_the_same_sync_as_wecom_s(fake, engine, clock):
    fake.contacts = Directory(
        (DirectoryUnit("u1", "松林村"), DirectoryUnit("u2", "新村", parent_key="u1")),
        (DirectoryMember("f-new", "新来的", "13800138000", ("u2",)), DirectoryMember("f-gone", "已离开", active=False)),
    )
    report = sync_directory(make_session_factory(engine), NAME, fake.directory(), clock.now)
    assert report.summary().startswith(f"{NAME}通讯录同步完成：\n新增单位 1 个：新村。\n新增人员 1 人：新来的。")
    assert report.skipped == [f"已离开（{NAME}账号已停用）"]
    with make_session_factory(engine)() as session:
        identity = session.scalar(select(PlatformIdentity).where(PlatformIdentity.user_id == "f-new"))
        person = session.get(Person, identity.person_id)
        assert (identity.platform, person.name, person.org_unit.name, person.mobile) == (
            NAME,
            "新来的",
            "新村",
            "13800138000",
        )
