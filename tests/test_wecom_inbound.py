"""Decrypted WeCom callbacks, written as WeCom sends them, become Incoming messages with dedupe keys."""

from __future__ import annotations

import pytest
from wechatpy.enterprise.crypto import WeChatCrypto

from bot.platforms.wecom.inbound import (
    CardUpdate,
    InboundError,
    card_task_id,
    parse_inbound,
    token_of_task_id,
)
from handlers.core.messages import ButtonClick

SAMPLE_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3"
    "TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gs"
    "ijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUa"
    "x5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIG"
    "HBZZIs2pDBS8R07+qN+E7Q=="
)


def message(body: str, msg_type: str = "text", msg_id: str = "4561255354251345929") -> str:
    """A member's message to app 1000002, as WeCom's callback XML."""
    return (
        "<xml><ToUserName><![CDATA[ww5823bf96d3bd56c7]]></ToUserName>"
        "<FromUserName><![CDATA[hu_xiaoyan]]></FromUserName><CreateTime>1700000000</CreateTime>"
        f"<MsgType><![CDATA[{msg_type}]]></MsgType>{body}<MsgId>{msg_id}</MsgId>"
        "<AgentID>1000002</AgentID></xml>"
    )


def event(name: str, body: str = "", create_time: str = "1700000000") -> str:
    """An event about member hu_xiaoyan in app 1000002, as WeCom's callback XML."""
    return (
        "<xml><ToUserName><![CDATA[ww5823bf96d3bd56c7]]></ToUserName>"
        f"<FromUserName><![CDATA[hu_xiaoyan]]></FromUserName><CreateTime>{create_time}</CreateTime>"
        f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{name}]]></Event>{body}"
        "<AgentID>1000002</AgentID></xml>"
    )


def card_click(card_type: str, event_key: str, selected: str = "", task_id: str = "c12p3-a1b2") -> str:
    """A click on an interactive template card; `selected` is the SelectedItems element when there is one."""
    return event(
        "template_card_event",
        f"<EventKey><![CDATA[{event_key}]]></EventKey><TaskId><![CDATA[{task_id}]]></TaskId>"
        f"<CardType><![CDATA[{card_type}]]></CardType><ResponseCode><![CDATA[rc-77]]></ResponseCode>{selected}",
    )


def selected_item(question_key: str, *option_ids: str) -> str:
    """One SelectedItem with its OptionIds."""
    options = "".join(f"<OptionId><![CDATA[{option}]]></OptionId>" for option in option_ids)
    question = f"<QuestionKey><![CDATA[{question_key}]]></QuestionKey>"
    return f"<SelectedItem>{question}<OptionIds>{options}</OptionIds></SelectedItem>"


def test_text_with_numeric_msg_id():
    inbound = parse_inbound(message("<Content><![CDATA[3]]></Content>"), expected_agent_id=1000002)
    assert inbound.key == "msg:4561255354251345929"
    assert inbound.incoming.platform == "wecom"
    assert inbound.incoming.user_id == "hu_xiaoyan"
    assert inbound.incoming.text == "3"
    assert inbound.incoming.message_id == inbound.key
    assert inbound.media_id is None and inbound.card_update is None


def test_text_with_string_msg_id_is_kept_as_text():
    xml = message("<Content><![CDATA[好]]></Content>", msg_id="CAIQ8aPnqwYYy+ay5bKAgAMgtQE=")
    assert parse_inbound(xml).key == "msg:CAIQ8aPnqwYYy+ay5bKAgAMgtQE="


def test_chinese_text_in_cdata_keeps_markup_characters():
    xml = message("<Content><![CDATA[胡晓燕 <台账> & 2024年]]></Content>")
    assert parse_inbound(xml).incoming.text == "胡晓燕 <台账> & 2024年"


def test_empty_text():
    assert parse_inbound(message("<Content><![CDATA[]]></Content>")).incoming.text == ""


def test_file_asks_the_endpoint_to_download_it():
    xml = message("<MediaId><![CDATA[media-9]]></MediaId><FileName><![CDATA[人口台账.xlsx]]></FileName>", "file")
    inbound = parse_inbound(xml)
    assert inbound.media_id == "media-9"
    assert inbound.incoming.text == ""
    assert inbound.incoming.file_name == "人口台账.xlsx"
    assert inbound.incoming.unsupported is None


def test_file_without_a_name_gets_the_default_name():
    inbound = parse_inbound(message("<MediaId><![CDATA[media-9]]></MediaId>", "file"))
    assert inbound.incoming.file_name == "附件"


@pytest.mark.parametrize("msg_type", ["image", "hologram"])
def test_image_and_unknown_types_are_unsupported(msg_type):
    xml = message("<PicUrl><![CDATA[http://p.qpic.cn/x]]></PicUrl><MediaId><![CDATA[m1]]></MediaId>", msg_type)
    inbound = parse_inbound(xml)
    assert inbound.key == "msg:4561255354251345929"
    assert inbound.incoming.text == ""
    assert inbound.incoming.unsupported == msg_type
    assert inbound.incoming.file_name is None and inbound.media_id is None


def test_enter_agent_is_ignored_but_keyed():
    inbound = parse_inbound(event("enter_agent", "<EventKey><![CDATA[]]></EventKey>"))
    assert inbound.incoming is None
    assert inbound.key == "event:hu_xiaoyan:1700000000:enter_agent"


def test_button_card_click_answers_its_question():
    inbound = parse_inbound(card_click("button_interaction", "是"))
    assert inbound.key == "event:hu_xiaoyan:1700000000:template_card_event:c12p3-a1b2:是"
    assert inbound.incoming.button == ButtonClick(token="c12p3", value="是")
    assert inbound.incoming.text == "是"
    assert inbound.card_update == CardUpdate("hu_xiaoyan", "rc-77", "是", "c12p3-a1b2")


def test_vote_card_with_one_option():
    selected = f"<SelectedItems>{selected_item('c12p3', '2')}</SelectedItems>"
    inbound = parse_inbound(card_click("vote_interaction", "submit", selected))
    assert inbound.incoming.button == ButtonClick(token="c12p3", value="2")
    assert inbound.card_update.chosen == "2"


def test_vote_card_with_several_options():
    selected = f"<SelectedItems>{selected_item('c12p3', '1', '3', '4')}</SelectedItems>"
    inbound = parse_inbound(card_click("vote_interaction", "submit", selected))
    assert inbound.incoming.button.value == "1 3 4"
    assert inbound.incoming.text == "1 3 4"


def test_card_with_several_selected_items():
    selected = f"<SelectedItems>{selected_item('q1', '1', '2')}{selected_item('q2', '5')}</SelectedItems>"
    inbound = parse_inbound(card_click("multiple_interaction", "submit", selected))
    assert inbound.incoming.button.value == "1 2 5"


def test_a_retried_delivery_has_the_same_key():
    first = parse_inbound(card_click("button_interaction", "1"))
    assert parse_inbound(card_click("button_interaction", "1")).key == first.key
    assert parse_inbound(message("<Content>3</Content>")).key == parse_inbound(message("<Content>3</Content>")).key


def test_two_clicks_in_one_second_have_different_keys():
    assert (
        parse_inbound(card_click("button_interaction", "1")).key
        != parse_inbound(card_click("button_interaction", "2")).key
    )


def test_task_id_round_trip():
    task_id = card_task_id("c12p3", "f00d_1")
    assert task_id == "c12p3-f00d_1"
    assert token_of_task_id(task_id) == "c12p3"
    with pytest.raises(ValueError):
        card_task_id("c12p3", "has space")
    with pytest.raises(ValueError):
        card_task_id("c12p3", "x" * 128)


@pytest.mark.parametrize(
    "xml",
    [
        '<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>' + message("<Content>&b;</Content>"),
        '<!DOCTYPE xml SYSTEM "http://example.com/evil.dtd">' + message("<Content>hi</Content>"),
    ],
)
def test_doctype_and_entities_are_refused(xml):
    with pytest.raises(InboundError):
        parse_inbound(xml)


def test_a_foreign_agent_is_refused():
    with pytest.raises(InboundError, match="AgentID"):
        parse_inbound(message("<Content>hi</Content>"), expected_agent_id=1000003)


def test_an_agent_id_beyond_32_bits_is_compared_exactly():
    xml = message("<Content>hi</Content>").replace("1000002", "5000000001")
    assert parse_inbound(xml, expected_agent_id=5000000001).incoming.text == "hi"


@pytest.mark.parametrize("xml", ["", "<xml><Content>hi</xml>", "not xml", "<xml>text</xml>", "<xml/><xml/>"])
def test_malformed_xml_is_refused(xml):
    with pytest.raises(InboundError):
        parse_inbound(xml)


@pytest.mark.parametrize("field", ["FromUserName", "MsgType", "CreateTime"])
def test_a_missing_required_field_is_named(field):
    xml = message("<Content>hi</Content>")
    start, end = xml.index(f"<{field}>"), xml.index(f"</{field}>") + len(f"</{field}>")
    with pytest.raises(InboundError, match=f"<{field}>"):
        parse_inbound(xml[:start] + xml[end:])


def test_official_sample_decrypts_and_parses():
    crypto = WeChatCrypto("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7")
    envelope = (
        "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>"
        f"<Encrypt><![CDATA[{SAMPLE_ENCRYPT}]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>"
    )
    plain = crypto.decrypt_message(envelope, "477715d11cdb4164915debcba66cb864d751f3e6", "1409659813", "1372623149")
    inbound = parse_inbound(plain, expected_agent_id=218)
    assert inbound.incoming.user_id == "mycreate"
    assert inbound.incoming.text == "hello"
    assert inbound.key == "msg:4561255354251345929"
