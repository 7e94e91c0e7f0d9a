"""The WeCom emulator answers the real wechatpy client as WeCom does, errors included, and plays members."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
import requests
import xmltodict
from flask import Flask, request
from wechatpy.enterprise import WeChatClient, parse_message
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.replies import TextReply
from wechatpy.exceptions import APILimitedException, WeChatClientException
from werkzeug.http import parse_options_header
from werkzeug.serving import make_server

from bot.platforms.wecom.emulator import (
    SAMPLE_AES_KEY,
    SAMPLE_CORP_ID,
    SAMPLE_TOKEN,
    EmulatorSettings,
    ServerHandle,
    WeComEmulator,
    serve,
)
from bot.platforms.wecom.emulator_cli import run_console
from handlers.core.clock import ManualClock

SECRET = "yongchuan-app-secret"
AGENT_ID = 1000002
BUTTON_CARD = {
    "card_type": "button_interaction",
    "main_title": {"title": "低保月报", "desc": "截止 11月30日 17:00"},
    "task_id": "report-7_hu",
    "button_list": [{"text": "开始填报", "key": "start"}, {"text": "稍后", "key": "later"}],
}


class EmulatorClient(WeChatClient):
    """wechatpy's WeCom client aimed at the emulator: 1.8.18 hard-codes the gettoken URL, so fetch it from here."""

    def __init__(self, base_url: str, corp_id: str, secret: str) -> None:
        self.API_BASE_URL = base_url
        super().__init__(corp_id, secret)

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=self.API_BASE_URL + "gettoken", params={"corpid": self.corp_id, "corpsecret": self.secret}
        )


class FakeBot:
    """The bot's side of the callback at its thinnest: check the signature, decrypt, keep the message, answer."""

    def __init__(self) -> None:
        self.crypto = WeChatCrypto(SAMPLE_TOKEN, SAMPLE_AES_KEY, SAMPLE_CORP_ID)
        self.received: list[dict] = []
        self.envelopes: list[dict] = []
        self.on_message: Callable[[dict], str] | None = None
        self.url = ""
        self.app = Flask(__name__)
        self.app.add_url_rule("/wecom/callback", "verify", self.verify, methods=["GET"])
        self.app.add_url_rule("/wecom/callback", "receive", self.receive, methods=["POST"])

    def verify(self) -> str:
        args = request.args
        return self.crypto.check_signature(args["msg_signature"], args["timestamp"], args["nonce"], args["echostr"])

    def receive(self) -> str:
        args = request.args
        plaintext = self.crypto.decrypt_message(request.data, args["msg_signature"], args["timestamp"], args["nonce"])
        message = xmltodict.parse(plaintext)["xml"]
        self.envelopes.append(xmltodict.parse(request.data)["xml"])
        self.received.append(message)
        return self.on_message(message) if self.on_message else ""


@contextmanager
def running(app: Flask) -> Iterator[str]:
    """Serve a Flask app on a free loopback port for the length of the block."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2024, 11, 28, 2, 0, tzinfo=UTC))


@pytest.fixture
def emulator(clock: ManualClock) -> WeComEmulator:
    """Yongchuan district: two towns, a village below one of them, a member in each and a publisher at the top."""
    settings = EmulatorSettings(SAMPLE_CORP_ID, SECRET, AGENT_ID, SAMPLE_TOKEN, SAMPLE_AES_KEY)
    emulator = WeComEmulator(settings, clock=lambda: clock.now().timestamp())
    emulator.add_department(1, "永川区")
    emulator.add_department(2, "朱沱镇", parentid=1)
    emulator.add_department(3, "松林村", parentid=2)
    emulator.add_department(4, "中山路街道", parentid=1)
    emulator.add_member("li_minzheng", "李敏正", [1], "13983160217", position="发布员")
    emulator.add_member("hu_xiaoyan", "胡晓燕", [2], "13908315526", position="填报员")
    emulator.add_member("zhang_dehua", "张德华", [3], "15823617730")
    emulator.add_member("liu_ting", "刘婷", [4], "13883742065")
    return emulator


@pytest.fixture
def api(emulator: WeComEmulator) -> Iterator[ServerHandle]:
    handle = serve(emulator)
    yield handle
    handle.shutdown()


@pytest.fixture
def client(api: ServerHandle) -> EmulatorClient:
    return EmulatorClient(api.url, SAMPLE_CORP_ID, SECRET)


@pytest.fixture
def bot(emulator: WeComEmulator) -> Iterator[FakeBot]:
    fake = FakeBot()
    with running(fake.app) as base:
        fake.url = emulator.settings.callback_url = f"{base}/wecom/callback"
        yield fake


def say(client: EmulatorClient, touser: str, text: str, **extra) -> dict:
    return client.message.send(AGENT_ID, touser, msg={"msgtype": "text", "text": {"content": text}, **extra})


def errcode(call: Callable[[], object]) -> int:
    with pytest.raises(WeChatClientException) as caught:
        call()
    return caught.value.errcode


def texts(emulator: WeComEmulator, userid: str) -> list[str]:
    return [m["text"]["content"] for m in emulator.inbox(userid) if m["msgtype"] == "text"]


def gettoken_calls(emulator: WeComEmulator) -> int:
    return emulator.calls.count(("GET", "/cgi-bin/gettoken"))


# --- access tokens ------------------------------------------------------------------------------------------------


def test_gettoken_issues_a_token_for_the_right_corp_and_secret(api, emulator):
    answer = requests.get(api.url + "gettoken", params={"corpid": SAMPLE_CORP_ID, "corpsecret": SECRET}).json()
    assert answer["errcode"] == 0 and answer["expires_in"] == 7200 and answer["access_token"]
    again = requests.get(api.url + "gettoken", params={"corpid": SAMPLE_CORP_ID, "corpsecret": SECRET}).json()
    assert again["access_token"] == answer["access_token"]
    assert errcode(EmulatorClient(api.url, "ww_other_corp", SECRET).fetch_access_token) == 40013
    assert errcode(EmulatorClient(api.url, SAMPLE_CORP_ID, "wrong").fetch_access_token) == 40001


def test_calls_without_a_known_token_are_refused(api):
    assert requests.get(api.url + "department/list").json()["errcode"] == 41001
    answer = requests.get(api.url + "department/list", params={"access_token": "made-up"}).json()
    assert answer["errcode"] == 40014 and "more info at https://open.work.weixin.qq.com" in answer["errmsg"]


def test_wechatpy_fetches_a_new_token_when_the_old_one_expires(client, emulator, clock):
    say(client, "hu_xiaoyan", "第一条")
    clock.advance(seconds=7200)
    say(client, "hu_xiaoyan", "第二条")
    emulator.expire_tokens()
    say(client, "hu_xiaoyan", "第三条")
    assert texts(emulator, "hu_xiaoyan") == ["第一条", "第二条", "第三条"]
    assert gettoken_calls(emulator) == 3
    assert emulator.calls.count(("POST", "/cgi-bin/message/send")) == 5  # two answered 42001, then retried


def test_wechatpy_retries_an_injected_invalid_token_but_not_a_busy_server(client, emulator):
    say(client, "hu_xiaoyan", "取得令牌")
    emulator.fail_next("message/send", 40014)
    say(client, "hu_xiaoyan", "令牌失效后重试")
    assert gettoken_calls(emulator) == 2
    emulator.fail_next("/cgi-bin/message/send", -1, times=2)
    assert errcode(lambda: say(client, "hu_xiaoyan", "忙")) == -1
    assert errcode(lambda: say(client, "hu_xiaoyan", "还忙")) == -1
    say(client, "hu_xiaoyan", "好了")
    emulator.fail_next("user/list", 60020)
    assert errcode(lambda: client.user.list(1)) == 60020
    assert texts(emulator, "hu_xiaoyan") == ["取得令牌", "令牌失效后重试", "好了"]


# --- message/send -------------------------------------------------------------------------------------------------


def test_unknown_users_come_back_lower_cased_and_the_others_still_get_the_message(client, emulator):
    answer = say(client, ["hu_xiaoyan", "Ghost_User", "LIU_TING", "nobody"], "请于周五前报送")
    assert answer["invaliduser"] == "ghost_user|nobody" and answer["msgid"]
    assert texts(emulator, "hu_xiaoyan") == texts(emulator, "liu_ting") == ["请于周五前报送"]
    assert emulator.sent[-1]["touser"] == "hu_xiaoyan|Ghost_User|LIU_TING|nobody"
    with pytest.raises(WeChatClientException) as caught:
        say(client, "ghost|nobody", "无人可收")
    assert caught.value.errcode == 81013 and caught.value.response.json()["invaliduser"] == "ghost|nobody"


def test_a_department_reaches_its_members_and_those_below(client, emulator):
    notice = {"msgtype": "text", "text": {"content": "镇村通知"}}
    assert client.message.send(AGENT_ID, "", party_ids=["2", "99"], msg=notice)["invalidparty"] == "99"
    assert texts(emulator, "hu_xiaoyan") == texts(emulator, "zhang_dehua") == ["镇村通知"]
    assert texts(emulator, "liu_ting") == []
    say(client, "@all", "全员")
    assert all(texts(emulator, u)[-1] == "全员" for u in emulator.members)


def test_at_most_1000_users_per_call(client, emulator):
    ghosts = [f"ghost{n}" for n in range(999)]
    assert say(client, ["hu_xiaoyan", *ghosts], "一千人")["invaliduser"] == "|".join(ghosts)
    assert errcode(lambda: say(client, ["hu_xiaoyan", *ghosts, "ghost999"], "一千零一人")) == 40032
    assert texts(emulator, "hu_xiaoyan") == ["一千人"]


def test_wrong_agent_empty_text_and_unknown_file_are_refused(client):
    assert errcode(lambda: client.message.send_text(999, "hu_xiaoyan", "错的应用")) == 40056
    assert errcode(lambda: say(client, "hu_xiaoyan", "")) == 44004
    file_message = {"msgtype": "file", "file": {"media_id": "never-uploaded"}}
    assert errcode(lambda: client.message.send(AGENT_ID, "hu_xiaoyan", msg=file_message)) == 40007


def test_long_text_is_cut_at_2048_bytes(client, emulator):
    say(client, "hu_xiaoyan", "低" * 1000)
    assert texts(emulator, "hu_xiaoyan") == ["低" * 682]  # 3 bytes each: 2046 bytes fit


def test_duplicate_check_accepts_a_repeat_but_delivers_it_once(client, emulator, clock):
    check = {"enable_duplicate_check": 1, "duplicate_check_interval": 600}
    say(client, "hu_xiaoyan", "请报送", **check)
    say(client, "hu_xiaoyan", "请报送", **check)
    clock.advance(seconds=599)
    say(client, "hu_xiaoyan", "请报送", enable_duplicate_check=1, duplicate_check_interval=1200)
    assert texts(emulator, "hu_xiaoyan") == ["请报送"] and len(emulator.sent) == 3
    clock.advance(seconds=2)
    say(client, "hu_xiaoyan", "请报送", **check)
    say(client, "hu_xiaoyan", "请报送")
    assert texts(emulator, "hu_xiaoyan") == ["请报送"] * 3


def test_rate_limit_answers_45009_until_the_minute_has_passed(api, emulator, clock):
    emulator.settings.rate_limit_per_minute = 3
    client = EmulatorClient(api.url, SAMPLE_CORP_ID, SECRET)
    for n in range(3):
        say(client, "hu_xiaoyan", f"第{n}条")
        clock.advance(seconds=10)
    with pytest.raises(APILimitedException):
        say(client, "hu_xiaoyan", "太快")
    clock.advance(seconds=29)
    with pytest.raises(APILimitedException):  # refused calls count too: hammering keeps the door shut
        say(client, "hu_xiaoyan", "还是太快")
    clock.advance(seconds=60)
    say(client, "hu_xiaoyan", "一分钟后")
    assert texts(emulator, "hu_xiaoyan") == ["第0条", "第1条", "第2条", "一分钟后"]


# --- media --------------------------------------------------------------------------------------------------------


def test_a_chinese_file_name_survives_upload_send_and_download(client, emulator):
    workbook = b"PK\x03\x04 pretend xlsx"
    uploaded = client.media.upload("file", ("永川区低保月报（11月）.xlsx", workbook))
    assert uploaded["type"] == "file" and uploaded["created_at"].isdigit()
    assert emulator.uploads[uploaded["media_id"]] == ("永川区低保月报（11月）.xlsx", workbook)
    client.message.send(AGENT_ID, "li_minzheng", msg={"msgtype": "file", "file": {"media_id": uploaded["media_id"]}})
    assert emulator.inbox("li_minzheng")[0]["file"] == {"media_id": uploaded["media_id"]}
    download = client.get("media/get", params={"media_id": uploaded["media_id"]})
    assert download.content == workbook
    _, options = parse_options_header(download.headers["Content-Disposition"])
    assert options["filename"] == "永川区低保月报（11月）.xlsx"
    assert errcode(lambda: client.get("media/get", params={"media_id": "gone"})) == 40007


def test_an_rfc_2231_file_name_is_read_too(api, client, emulator):
    body = (
        b"--b\r\nContent-Disposition: form-data; name=\"media\"; filename*=UTF-8''%E5%8F%B0%E8%B4%A6.xlsx\r\n\r\n"
        b"12345\r\n--b--\r\n"
    )
    answer = requests.post(
        api.url + "media/upload",
        params={"access_token": client.access_token, "type": "file"},
        data=body,
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    ).json()
    assert emulator.uploads[answer["media_id"]] == ("台账.xlsx", b"12345")


def test_uploads_must_be_5_bytes_to_20_mb(client):
    assert errcode(lambda: client.media.upload("file", ("tiny.txt", b"1234"))) == 40006
    assert errcode(lambda: client.media.upload("file", ("huge.bin", b"0" * (20 * 2**20 + 1)))) == 45001
    assert client.media.upload("file", ("ok.bin", b"0" * 20 * 2**20))["media_id"]


def test_media_lives_three_days(client, clock):
    media_id = client.media.upload("file", ("台账.csv", b"a,b,c"))["media_id"]
    clock.advance(days=3, seconds=1)
    assert errcode(lambda: client.get("media/get", params={"media_id": media_id})) == 40007


# --- template cards -----------------------------------------------------------------------------------------------


def test_task_ids_are_unique_and_each_response_code_updates_once_within_72_hours(client, emulator, clock):
    sent = client.message.send(AGENT_ID, "hu_xiaoyan", msg={"msgtype": "template_card", "template_card": BUTTON_CARD})
    assert emulator.inbox("hu_xiaoyan")[0]["template_card"]["task_id"] == "report-7_hu"
    again = {"msgtype": "template_card", "template_card": {**BUTTON_CARD, "main_title": {"title": "再发一次"}}}
    assert errcode(lambda: client.message.send(AGENT_ID, "hu_xiaoyan", msg=again)) == 40058
    update = {"agentid": AGENT_ID, "userids": ["hu_xiaoyan"], "response_code": sent["response_code"]}
    client.post("message/update_template_card", data={**update, "button": {"replace_name": "已开始"}})
    assert emulator.card_updates[0]["button"] == {"replace_name": "已开始"}
    assert errcode(lambda: client.post("message/update_template_card", data={**update, "button": {}})) == 40058
    later = {"msgtype": "template_card", "template_card": {**BUTTON_CARD, "task_id": "report-8_hu"}}
    update["response_code"] = client.message.send(AGENT_ID, "hu_xiaoyan", msg=later)["response_code"]
    clock.advance(hours=72, seconds=1)
    assert errcode(lambda: client.post("message/update_template_card", data={**update, "button": {}})) == 40058


def test_a_card_without_task_id_or_with_a_bad_one_is_refused(client):
    for card in ({**BUTTON_CARD, "task_id": None}, {**BUTTON_CARD, "task_id": "有中文"}, {"task_id": "x"}):
        card = {k: v for k, v in card.items() if v is not None}
        message = {"msgtype": "template_card", "template_card": card}
        assert errcode(lambda m=message: client.message.send(AGENT_ID, "hu_xiaoyan", msg=m)) == 40058


# --- the address book ---------------------------------------------------------------------------------------------


def test_department_and_user_lists_come_from_the_seeded_state(client):
    assert [d["id"] for d in client.department.get()] == [1, 2, 3, 4]
    assert [(d["id"], d["parentid"]) for d in client.department.get(2)] == [(2, 1), (3, 2)]
    assert [u["userid"] for u in client.user.list(2)] == ["hu_xiaoyan"]
    town = client.user.list(2, fetch_child=True)
    assert [(u["userid"], u["department"]) for u in town] == [("hu_xiaoyan", [2]), ("zhang_dehua", [3])]
    assert town[0] | {"mobile": "13908315526", "position": "填报员", "status": 1, "name": "胡晓燕"} == town[0]
    assert [u["userid"] for u in client.user.list(1, fetch_child=True, simple=True)] == list(
        ["li_minzheng", "hu_xiaoyan", "zhang_dehua", "liu_ting"]
    )
    assert errcode(lambda: client.user.list(42)) == 60003
    assert errcode(lambda: client.user.list("²³")) == 60003  # an odd id is WeCom's error, not a crash
    assert errcode(lambda: client.department.get("²³")) == 60003


# --- playing members against the bot's callback ------------------------------------------------------------------


def test_the_official_sample_decrypts_with_the_demo_settings():
    crypto = WeChatCrypto(SAMPLE_TOKEN, SAMPLE_AES_KEY, SAMPLE_CORP_ID)
    echostr = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
    signature = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"
    assert crypto.check_signature(signature, "1409659589", "263014780", echostr) == "1616140317555161061"
    encrypted = (
        "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJ"
        "Ts3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2h"
        "gf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4E"
        "hzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2Y"
        "oyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
    )
    envelope = (
        f"<xml><ToUserName><![CDATA[{SAMPLE_CORP_ID}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
        "<AgentID><![CDATA[218]]></AgentID></xml>"
    )
    plaintext = crypto.decrypt_message(envelope, "477715d11cdb4164915debcba66cb864d751f3e6", "1409659813", "1372623149")
    message = parse_message(plaintext)
    assert (message.source, message.content, message.agent) == ("mycreate", "hello", 218)
    assert message.id == 4561255354251345929


def test_url_verification_gets_the_plaintext_echo_back(emulator, bot):
    answer = emulator.verify_callback_url()
    assert answer.status_code == 200 and answer.text == emulator.last_echo
    assert emulator.verify_callback_url("1616140317555161061").text == "1616140317555161061"


def test_a_member_says_something_and_the_bot_decrypts_it(emulator, bot, clock):
    emulator.member_says("hu_xiaoyan", "开始 <低保> & ]]> 月报")
    emulator.member_says("hu_xiaoyan", "3", msg_id="CAIQ16HMjQYY/NGagIOAgAMgq4KM0AI=")
    first, second = bot.received
    message = parse_message(xmltodict.unparse({"xml": first}))
    assert (message.type, message.source, message.content) == ("text", "hu_xiaoyan", "开始 <低保> & ]]> 月报")
    assert (message.target, message.agent, int(first["CreateTime"])) == (SAMPLE_CORP_ID, AGENT_ID, 1732759200)
    assert first["MsgId"].isdigit() and second["MsgId"] == "CAIQ16HMjQYY/NGagIOAgAMgq4KM0AI="
    assert bot.envelopes[0] | {"ToUserName": SAMPLE_CORP_ID, "AgentID": str(AGENT_ID)} == bot.envelopes[0]
    emulator.resend_last_callback()
    assert bot.received[2] == second


def test_a_passive_reply_reaches_the_member(emulator, bot):
    def reply(message: dict) -> str:
        text = TextReply(source=SAMPLE_CORP_ID, target=message["FromUserName"], content="收到：" + message["Content"])
        return bot.crypto.encrypt_message(text.render(), "5739", "1732759200")

    bot.on_message = reply
    emulator.member_says("liu_ting", "你好")
    assert emulator.inbox("liu_ting") == [{"msgtype": "text", "text": {"content": "收到：你好"}, "passive": True}]
    bot.on_message = lambda message: "<xml>not encrypted</xml>"
    emulator.member_says("liu_ting", "再来")
    assert len(emulator.inbox("liu_ting")) == 1 and "liu_ting" in emulator.callback_errors[0]


def test_a_member_sends_a_file_the_bot_can_download(client, emulator, bot):
    emulator.member_sends_file("zhang_dehua", b"name,amount\n", "松林村台账.csv")
    message = bot.received[0]
    assert (message["MsgType"], message["FileName"]) == ("file", "松林村台账.csv")
    assert client.get("media/get", params={"media_id": message["MediaId"]}).content == b"name,amount\n"


def test_card_clicks_and_votes_arrive_as_template_card_events(client, emulator, bot):
    client.message.send(AGENT_ID, "hu_xiaoyan", msg={"msgtype": "template_card", "template_card": BUTTON_CARD})
    emulator.member_clicks_card("hu_xiaoyan", "report-7_hu", "start")
    emulator.member_clicks_card("hu_xiaoyan", "report-7_hu", "start")  # a double tap is two events
    click, double = bot.received
    assert (click["Event"], click["EventKey"], click["TaskId"]) == ("template_card_event", "start", "report-7_hu")
    assert click["CardType"] == "button_interaction" and click["ResponseCode"] != double["ResponseCode"]
    update = {"agentid": AGENT_ID, "response_code": click["ResponseCode"], "button": {"replace_name": "已开始"}}
    client.post("message/update_template_card", data=update)
    with pytest.raises(ValueError, match="already updated"):
        emulator.member_clicks_card("hu_xiaoyan", "report-7_hu", "start")

    vote = {"card_type": "vote_interaction", "task_id": "vote-8", "main_title": {"title": "家庭人口"}}
    client.message.send(AGENT_ID, "liu_ting", msg={"msgtype": "template_card", "template_card": vote})
    emulator.member_clicks_card("liu_ting", "vote-8", "submit", selected={"members": ["2", "3"], "single": "1"})
    items = bot.received[-1]["SelectedItems"]["SelectedItem"]
    assert [(i["QuestionKey"], i["OptionIds"]["OptionId"]) for i in items] == [("members", ["2", "3"]), ("single", "1")]
    with pytest.raises(ValueError, match="never received"):
        emulator.member_clicks_card("liu_ting", "report-7_hu", "start")


def test_only_members_can_talk_and_only_on_loopback(emulator, bot):
    with pytest.raises(ValueError, match="not a member"):
        emulator.member_says("stranger", "你好")
    with pytest.raises(ValueError, match="loopback"):
        serve(emulator, host="0.0.0.0")


def test_the_console_shows_what_each_member_receives(client, emulator, bot):
    def answer_through_the_api(message: dict) -> str:
        say(client, message["FromUserName"], f"已收到「{message['Content']}」")
        say(client, "li_minzheng", "胡晓燕已开始填报")
        return ""

    bot.on_message = answer_through_the_api
    out = io.StringIO()
    run_console(emulator, ["@hu_xiaoyan 开始", "@nobody 在吗", "胡言乱语"], out, wait=2.0)
    shown = out.getvalue()
    assert "hu_xiaoyan（胡晓燕）：已收到「开始」" in shown and "li_minzheng（李敏正）：胡晓燕已开始填报" in shown
    assert "nobody is not a member" in shown and ":help" in shown
