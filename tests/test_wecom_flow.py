"""The whole WeCom path over loopback: the emulator plays members, the real bot server answers through the API."""

from __future__ import annotations

import io
import time
from dataclasses import replace

import requests
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.app import create_app
from bot.config import Config, DeliveryConfig, WeComConfig
from bot.platforms.registry import configured_platforms
from bot.platforms.wecom.emulator import (
    SAMPLE_AES_KEY,
    SAMPLE_CORP_ID,
    SAMPLE_TOKEN,
    WeComEmulator,
)
from bot.runtime import build_runtime
from ledger_store.models import InboundMessage


def test_the_callback_url_passes_wecom_verification(world):
    response = world.emulator.verify_callback_url()
    assert response.status_code == 200
    assert response.text == world.emulator.last_echo


def test_wecom_official_sample_verifies_and_decrypts_byte_for_byte(world, engine):
    assert requests.get(world.callback_url, params=SAMPLE_GET, timeout=5).status_code == 403  # 2014: too old

    sample = Config(
        delivery=DeliveryConfig(platform="wecom"),
        wecom=WeComConfig(
            corp_id=SAMPLE_CORP_ID,
            agent_id=218,
            secret=world.emulator.settings.secret,
            token=SAMPLE_TOKEN,
            encoding_aes_key=SAMPLE_AES_KEY,
            api_base_url=world.runtime.config.wecom.api_base_url,
            replay_window_seconds=0,
        ),
    )
    runtime = build_runtime(sample, *configured_platforms(sample, engine), database=engine)
    client = create_app(runtime).test_client()
    get = client.get("/wecom/callback", query_string=SAMPLE_GET)
    assert get.status_code == 200 and get.data == b"1616140317555161061"

    post = client.post("/wecom/callback", query_string=SAMPLE_POST, data=SAMPLE_ENVELOPE.encode())
    assert post.status_code == 200 and post.data == b""
    with runtime.factory() as session:
        stored = session.scalar(select(InboundMessage).where(InboundMessage.message_key == "msg:4561255354251345929"))
        assert stored.payload["user_id"] == "mycreate" and stored.payload["text"] == "hello"


def test_forged_foreign_malformed_and_oversized_callbacks_are_refused_and_change_nothing(world):
    good = world.emulator.member_says("zhang_dehua", "你好")
    request = good.request
    forged = requests.post(request.url.replace("msg_signature=", "msg_signature=0"), data=request.body, timeout=5)
    assert forged.status_code == 403

    foreign = WeComEmulator(
        replace(world.emulator.settings, corp_id="wwforeigncorp00000", callback_url=world.callback_url)
    )
    foreign.add_member("zhang_dehua", "张德华")
    assert foreign.member_says("zhang_dehua", "你好").status_code == 403

    malformed = requests.post(request.url, data=b"<xml><Encrypt>", timeout=5)
    assert malformed.status_code == 400
    oversized = requests.post(request.url, data=b"<xml>" + b"x" * 70000 + b"</xml>", timeout=5)
    assert oversized.status_code == 400
    entity = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Encrypt>&a;</Encrypt></xml>'
    assert requests.post(request.url, data=entity, timeout=5).status_code in (400, 403)

    with world.runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 1  # only the good one


def test_a_delivery_repeated_three_times_is_handled_once(world):
    world.say("li_minzheng", "/发布 低保月报 截止 后天18点 范围 松林村 不审核")
    world.take("zhang_dehua")
    world.emulator.member_says("zhang_dehua", "开始", msg_id="CAIQ5LbzswYY__8BIAIqBmhlbGxv")
    for _ in range(2):
        assert world.emulator.resend_last_callback().status_code == 200
    world.settle()
    questions = world.texts("zhang_dehua")
    assert len(questions) == 1 and "开始填写《低保月报》" in questions[0]


def test_a_report_filled_in_wecom_with_buttons_ends_with_the_summary_file(world):
    issued = world.say("wang_canlian", "/发布 残疾人两项补贴情况 截止 后天18点 范围 石庙村 不审核")
    assert "已发布《残疾人两项补贴情况》" in issued[0]
    [push] = world.texts("chen_guoping")
    assert "【区残联】发布了《残疾人两项补贴情况》" in push

    world.say("chen_guoping", "开始")
    for answer in ["12", "5", "8600"]:
        world.say("chen_guoping", answer)
    world.emulator.member_says("chen_guoping", "2024-11-20")
    world.settle()
    card = next(m for m in world.take("chen_guoping") if m["msgtype"] == "template_card")["template_card"]
    assert card["card_type"] == "button_interaction"
    assert [b["text"] for b in card["button_list"]] == ["社保卡", "银行卡", "现金"]

    clicked = world.emulator.member_clicks_card("chen_guoping", card["task_id"], "2", response_code="rc-1")
    assert clicked.status_code == 200
    world.settle()
    vote = next(m for m in world.take("chen_guoping") if m["msgtype"] == "template_card")["template_card"]
    assert vote["card_type"] == "vote_interaction"
    wait_for(lambda: world.emulator.card_updates)
    assert "银行卡" in str(world.emulator.card_updates[0])

    question_key = vote["checkbox"]["question_key"]
    world.emulator.member_clicks_card(
        "chen_guoping", vote["task_id"], vote["submit_button"]["key"], response_code="rc-2",
        selected={question_key: ["2", "4"]},
    )  # fmt: skip
    world.settle()
    world.say("chen_guoping", "110102199101010078")
    review = world.say("chen_guoping", "13650238871")[-1]
    assert "发放方式：银行卡" in review and "核查发现的问题：对象已死亡、重复享受" in review
    assert "已提交" in world.say("chen_guoping", "提交")[0]

    received = world.take("wang_canlian")
    digest = [m["text"]["content"] for m in received if m["msgtype"] == "text"]
    files = [m for m in received if m["msgtype"] == "file"]
    assert digest == ["《残疾人两项补贴情况》（任务#1）：1/1 已报，困难残疾人生活补贴人数合计 12 人"]
    [file] = files
    name, content = world.emulator.uploads[file["file"]["media_id"]]
    assert name.startswith("残疾人两项补贴情况汇总_") and name.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(content))["汇总"]
    assert sheet["B2"].value == "永川区/朱沱镇/石庙村" and sheet["E2"].value == 12


def test_an_unregistered_member_is_told_to_see_the_admin(world):
    world.emulator.add_member("stranger", "陌生人")
    assert world.say("stranger", "你好") == ["您还未登记，请联系管理员。"]


def test_a_file_from_a_member_is_downloaded_before_it_is_answered(world):
    world.emulator.member_sends_file("zhang_dehua", b"PK\x03\x04 fake workbook", "低保台账.xlsx")
    world.settle()
    [answer] = world.texts("zhang_dehua")
    assert "已收到文件" in answer
    with world.runtime.factory() as session:
        stored = session.scalar(select(InboundMessage).where(InboundMessage.file_id.is_not(None)))
        assert stored.file.name == "低保台账.xlsx" and stored.file.content.startswith(b"PK")


def wait_for(condition, seconds: float = 3.0) -> None:
    """The card update runs in the server thread after the response; give it a moment."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


SAMPLE_GET = {
    "msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
    "timestamp": "1409659589",
    "nonce": "263014780",
    "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
}
SAMPLE_POST = {
    "msg_signature": "477715d11cdb4164915debcba66cb864d751f3e6",
    "timestamp": "1409659813",
    "nonce": "1372623149",
}
SAMPLE_ENVELOPE = (
    "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA["
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3T"
    "UUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsij"
    "ff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5"
    "wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZ"
    "ZIs2pDBS8R07+qN+E7Q==]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>"
)


def test_a_reviewer_decides_by_the_buttons_of_the_review_card(world):
    world.say("wang_canlian", "/发布 残疾人两项补贴情况 截止 后天18点 范围 石庙村")
    world.say("chen_guoping", "开始")
    for answer in ["12", "5", "8600", "2024-11-20", "1", "1", "110102199101010078", "13650238871"]:
        world.say("chen_guoping", answer)
    assert "等待朱沱镇审核" in world.say("chen_guoping", "提交")[0]
    received = world.take("zhou_jianguo")
    request = next(m for m in received if m["msgtype"] == "text")["text"]["content"]
    assert request.startswith("【待审核】永川区/朱沱镇/石庙村 陈国平 提交了《残疾人两项补贴情况》（任务#1）：")
    assert "7. 抽查对象身份证号：1101**********0078" in request  # masked in the push
    card = next(m for m in received if m["msgtype"] == "template_card")["template_card"]
    assert [b["text"] for b in card["button_list"]] == ["通过", "退回"]

    world.emulator.member_clicks_card("zhou_jianguo", card["task_id"], "退回", response_code="rc-r1")
    world.settle()
    assert world.texts("zhou_jianguo") == [
        "永川区/朱沱镇/石庙村：" + "请回复退回原因；只退回几题就写题号，例如：第3题 第5题 户数与台账不符。"
    ]
    [returned] = world.say("zhou_jianguo", "第3题 发放金额与花名册不符")
    assert returned == "已退回：永川区/朱沱镇/石庙村 《残疾人两项补贴情况》（任务#1）（第3题），已通知填报人重填。"
    assert "需要重填：第3题" in world.texts("chen_guoping")[0]

    wait_for(lambda: world.emulator.card_updates)
    assert "退回" in str(world.emulator.card_updates[-1])  # the card now shows the choice, its buttons gone
