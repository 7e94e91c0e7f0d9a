"""/投递 over the whole WeCom path: what WeCom refused, in plain Chinese, and sent again once it is fixed."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from bot.app import create_app
from bot.config import Config
from bot.platforms.registry import configured_platforms
from bot.platforms.wecom.emulator import SAMPLE_AES_KEY, SAMPLE_CORP_ID, SAMPLE_TOKEN, EmulatorSettings, WeComEmulator
from bot.platforms.wecom.emulator import serve as serve_emulator
from bot.platforms.wecom.platform import WeComPlatform
from bot.runtime import build_runtime, load_demo_org
from bot.wecom_demo import talking_to
from handlers.clock import ManualClock
from ledger_store.models import Person


class Members:
    """The emulator playing the demo organisation's members against the bot's real HTTP server."""

    def __init__(self, emulator: WeComEmulator, app) -> None:
        self.emulator, self.app = emulator, app
        self.seen: dict[str, int] = {}

    def write(self, userid: str, text: str) -> None:
        """A member's message reaches the callback URL; the bot acknowledges it."""
        response = self.emulator.member_says(userid, text)
        assert response.status_code == 200

    def settle(self) -> None:
        """The work the bot does after acknowledging: handle, then deliver."""
        self.app.extensions["worker"].run()

    def say(self, userid: str, text: str) -> list[str]:
        """A member writes; the texts that member received afterwards."""
        self.write(userid, text)
        self.settle()
        return self.texts(userid)

    def texts(self, userid: str) -> list[str]:
        """Text messages `userid` received since the last call."""
        inbox = self.emulator.inbox(userid)
        seen, self.seen[userid] = self.seen.get(userid, 0), len(inbox)
        return [m["text"]["content"] for m in inbox[seen:] if m["msgtype"] == "text"]


@pytest.fixture
def members(engine, db):
    clock = ManualClock(datetime.now(UTC))
    emulator = WeComEmulator(
        EmulatorSettings(SAMPLE_CORP_ID, "test-secret", 1000002, SAMPLE_TOKEN, SAMPLE_AES_KEY),
        clock=lambda: clock.now().timestamp(),
    )
    api = serve_emulator(emulator)
    config = talking_to(emulator, api.url, Config())
    platforms = configured_platforms(config, engine)
    for platform in platforms:
        if isinstance(platform, WeComPlatform):
            platform.sleep = lambda seconds: None
    runtime = build_runtime(config, *platforms, clock=clock, database=engine)
    load_demo_org(runtime)
    with runtime.factory() as session:
        for person in session.scalars(select(Person)):
            emulator.add_member(person.account, person.name)
    app = create_app(runtime)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    emulator.settings.callback_url = f"http://127.0.0.1:{server.server_port}/wecom/callback"
    yield Members(emulator, app)
    server.shutdown()
    api.shutdown()


def test_an_untrusted_ip_is_explained_and_the_messages_go_out_once_retried(members):
    members.emulator.fail_next("message/send", 60020, times=2)  # the push to the village and the issuer's answer
    assert members.say("li_minzheng", "/发布 低保月报 截止 后天18点 范围 松林村") == []
    assert members.texts("zhang_dehua") == []

    [shown] = members.say("admin", "/投递")
    lines = shown.splitlines()

    assert lines[0] == "推送情况：待发送 0 条，失败后等待重试 0 条，发送失败 2 条。"
    reason = "原因：服务器 IP 不在企业微信可信 IP 列表，请在企业微信管理后台该应用的“企业可信IP”里加上本机的出口 IP。"
    assert "发给李敏正：“已发布《低保月报》（任务#1）" in lines[2] and lines[2].endswith("试了 1 次。" + reason)
    assert "发给张德华：“【区民政局】发布了《低保月报》，请在" in lines[3] and "…”" in lines[3]
    assert lines[3].endswith(reason)

    assert members.say("admin", "/投递 重试") == ["已把 2 条发送失败的消息放回发送队列，马上重发。"]
    [push] = members.texts("zhang_dehua")
    assert push.startswith("【区民政局】发布了《低保月报》")
    assert members.texts("li_minzheng")[0].startswith("已发布《低保月报》（任务#1）")
    assert members.say("admin", "/投递")[0].endswith("没有发送失败的消息。")


def test_a_member_who_left_wecom_is_shown_masked_with_the_reason(members):
    members.emulator.add_member("stranger_01", "陌生人")
    members.write("stranger_01", "你好")
    members.emulator.members["stranger_01"]["status"] = 5  # left the company before the answer went out
    members.settle()

    [notice, shown] = members.say("admin", "/投递")

    line = shown.splitlines()[2]
    assert line.endswith(
        "发给未登记的企业微信账号 st*******01：“您还未登记，请联系管理员。”，试了 1 次。"
        "原因：企业微信通讯录里没有这个账号（可能已离职，或账号写错了）。"
    )
    assert "stranger_01" not in shown
    assert notice.startswith("企业微信里找不到stranger_01")  # the admin was told at once, as before
