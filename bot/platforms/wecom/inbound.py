"""Decrypted WeCom callback XML -> what the engine needs: an Incoming, a dedupe key, a media id, a card update."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from xml.parsers import expat

import xmltodict

from handlers.core.messages import ButtonClick, Incoming

PLATFORM = "wecom"
# WeCom documents no name for a file a member sends to an app; used when the callback carries none.
DEFAULT_FILE_NAME = "附件"
# Card kinds whose answer is the ticked options rather than the button pressed.
SELECTION_CARDS = frozenset({"vote_interaction", "multiple_interaction"})
TASK_ID_MAX_BYTES = 128
TOKEN_PATTERN = re.compile(r"[0-9A-Za-z_@]+")
TASK_ID_PATTERN = re.compile(r"[0-9A-Za-z_@-]+")
NUMBER_PATTERN = re.compile(r"[0-9]+")


class InboundError(ValueError):
    """The callback XML is malformed or has a structure this parser does not accept."""


@dataclass(frozen=True)
class CardUpdate:
    """What to show on an interactive card after a member clicked it."""

    user_id: str
    response_code: str
    chosen: str
    task_id: str = ""  # the card clicked: its labels are looked up by it, not by the member's latest card


@dataclass(frozen=True)
class Inbound:
    """One delivery: its dedupe key, the message for the handlers (None: ignore), a file to fetch, a card to update."""

    key: str
    incoming: Incoming | None
    media_id: str | None = None
    card_update: CardUpdate | None = None


def card_task_id(token: str, unique: str) -> str:
    """The task_id of a card offered for question `token`, e.g. "c12p3-8f2a"; WeCom allows [0-9A-Za-z_-@], 128 bytes."""
    if not TOKEN_PATTERN.fullmatch(token):
        raise ValueError(f"question token {token!r} must match [0-9A-Za-z_@]+")
    task_id = f"{token}-{unique}"
    if not TASK_ID_PATTERN.fullmatch(task_id) or len(task_id) > TASK_ID_MAX_BYTES:
        raise ValueError(f"task_id {task_id!r} must match [0-9A-Za-z_@-]+ and be at most {TASK_ID_MAX_BYTES} bytes")
    return task_id


def token_of_task_id(task_id: str) -> str:
    """The question token a card's task_id was made from (a foreign task_id yields a token no question has)."""
    return task_id.partition("-")[0]


def parse_inbound(xml: str, expected_agent_id: int | None = None) -> Inbound:
    """Parse one decrypted callback; raises InboundError when the XML is malformed or lacks a required field."""
    data = _parse_xml(xml)
    agent_id = _text(data, "AgentID")
    if expected_agent_id is not None and agent_id is not None:
        if not NUMBER_PATTERN.fullmatch(agent_id):
            raise InboundError(f"AgentID {agent_id!r} is not a number")
        if int(agent_id) != expected_agent_id:
            raise InboundError(f"AgentID {agent_id} is not this app's ({expected_agent_id})")
    user_id = _required(data, "FromUserName")
    msg_type = _required(data, "MsgType").lower()
    create_time = _required(data, "CreateTime")
    if not NUMBER_PATTERN.fullmatch(create_time):
        raise InboundError(f"CreateTime {create_time!r} is not a number")
    if msg_type == "event":
        return _event(data, user_id, create_time)
    # MsgId is kept as text: it is a 64-bit number or, lately, a base64-like string.
    key = "msg:" + _required(data, "MsgId")
    if msg_type == "text":
        text = _text(data, "Content") or ""
        return Inbound(key, Incoming(PLATFORM, user_id, text, message_id=key))
    if msg_type == "file":
        media_id = _required(data, "MediaId")
        file_name = _text(data, "FileName") or _text(data, "Title") or DEFAULT_FILE_NAME
        return Inbound(key, Incoming(PLATFORM, user_id, "", message_id=key, file_name=file_name), media_id=media_id)
    return Inbound(key, Incoming(PLATFORM, user_id, "", message_id=key, unsupported=msg_type))


def _event(data: dict[str, Any], user_id: str, create_time: str) -> Inbound:
    """An event: a card click becomes an answer; every other event only gets a key so its retries are dropped."""
    event = _required(data, "Event").lower()
    key = f"event:{user_id}:{create_time}:{event}"
    if event != "template_card_event":
        return Inbound(key, None)
    task_id = _required(data, "TaskId")
    event_key = _text(data, "EventKey") or ""
    # Two real clicks in one second differ by card or button; a retried delivery repeats both.
    key = f"{key}:{task_id}:{event_key}"
    card_type = (_text(data, "CardType") or "").lower()
    if card_type == "button_interaction":
        value = event_key
    elif card_type in SELECTION_CARDS:
        value = " ".join(_selected_options(data))
    else:
        return Inbound(key, None)
    button = ButtonClick(token=token_of_task_id(task_id), value=value)
    incoming = Incoming(PLATFORM, user_id, value, message_id=key, button=button)
    response_code = _text(data, "ResponseCode")
    update = CardUpdate(user_id, response_code, value, task_id) if response_code else None
    return Inbound(key, incoming, card_update=update)


def _selected_options(data: dict[str, Any]) -> list[str]:
    """Every ticked option id, in order, across all questions of a vote or multiple-choice card."""
    options: list[str] = []
    items = data.get("SelectedItems")
    if items is None:
        return options
    if not isinstance(items, dict):
        raise InboundError("SelectedItems must contain SelectedItem elements")
    for item in _as_list(items.get("SelectedItem")):
        if not isinstance(item, dict):
            raise InboundError("SelectedItem must contain QuestionKey and OptionIds")
        option_ids = item.get("OptionIds")
        if option_ids is None:
            continue
        if not isinstance(option_ids, dict):
            raise InboundError("OptionIds must contain OptionId elements")
        for option in _as_list(option_ids.get("OptionId")):
            if not isinstance(option, str):
                raise InboundError("OptionId must be text")
            options.append(option)
    return options


def _as_list(value: Any) -> list[Any]:
    """xmltodict's element value as a list: it makes a list only when an element repeats."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _parse_xml(xml: str) -> dict[str, Any]:
    """The children of the <xml> root; a DOCTYPE (and so any entity declaration) is refused."""
    try:
        parsed = xmltodict.parse(xml, expat=_NoDoctypeExpat, disable_entities=True)
    except (expat.ExpatError, ValueError) as error:
        raise InboundError(f"malformed callback XML: {error}") from error
    data = parsed.get("xml")
    if not isinstance(data, dict):
        raise InboundError("callback XML must be an <xml> element with child elements")
    return data


def _text(data: dict[str, Any], name: str) -> str | None:
    """The text of a single child element; None when it is absent or empty."""
    value = data.get(name)
    if value is None or isinstance(value, str):
        return value or None
    raise InboundError(f"<{name}> must appear once and hold only text")


def _required(data: dict[str, Any], name: str) -> str:
    """The text of a child element the callback cannot be understood without."""
    value = _text(data, name)
    if value is None:
        raise InboundError(f"callback XML has no <{name}>")
    return value


def _refuse_doctype(*_args: object) -> None:
    raise ValueError("a DOCTYPE is not allowed in a WeCom callback")


class _NoDoctypeExpat:
    """The part of the expat module xmltodict uses, making parsers that refuse any DOCTYPE."""

    # Named as in pyexpat, because xmltodict calls it by that name.
    @staticmethod
    def ParserCreate(*args: Any) -> Any:
        parser = expat.ParserCreate(*args)
        parser.StartDoctypeDeclHandler = _refuse_doctype
        return parser
