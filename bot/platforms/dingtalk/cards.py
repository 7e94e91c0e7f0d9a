"""DingTalk interactive cards: what a question's buttons become, and a click on one (by Stream or HTTP) as an Incoming.

The card template is made once in DingTalk's card platform (its id goes in [dingtalk] card_template_id) with these
variables, all filled as strings (DingTalk's rule for the /v1.0/card API):
  title     String   the question's first line
  content   String   the rest of the question (may be empty)
  options   Array    [{"value": "2", "label": "银行卡"}, ...]: one button per item (a loop), whose click is a
                     回传请求 (callback) carrying the parameter value = the item's value
  chosen    String   empty until a click, then "已选择：<label>"
  answered  Boolean  "false" until a click; the buttons are shown only while it is false
A click arrives as {"type": "actionCallback", "outTrackId", "userId", "corpId", "content": a JSON string
{"cardPrivateData": {"actionIds": [...], "params": {"value": ...}}}}, on the Stream topic CARD_TOPIC or POSTed to
the URL registered for the card's callbackRouteKey (card_callback.py).

For the Stream runner: `card_click(payload)` gives the Incoming to store (`engine.accept`) and, when it was new, the
card to update afterwards with `DingTalkPlatform.update_clicked_card(click)`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from bot.platforms.dingtalk import texts
from bot.platforms.dingtalk.inbound import PLATFORM
from handlers.core.messages import ButtonClick, Incoming
from ledger_store.outbox import Buttons

CARD_TOPIC = "/v1.0/card/instances/callback"
# DingTalk takes at most 1 KB for one value of cardParamMap.
MAX_PARAM_BYTES = 1024
# The question token leads the outTrackId, so a click names the question it was offered for.
TOKEN_PATTERN = re.compile(r"[0-9A-Za-z_@.]+")
OUT_TRACK_ID_PATTERN = re.compile(r"[0-9A-Za-z_@.-]{1,128}")
MAX_VALUE_CHARS = 200


class CardClickError(ValueError):
    """A card callback payload that is not a click on one of the bot's cards."""


@dataclass(frozen=True)
class CardDraw:
    """A question drawn as a card: its template variables, the text to send before it, what its buttons said."""

    params: dict[str, str]
    text_before: str | None
    labels: dict[str, str]


@dataclass(frozen=True)
class CardClick:
    """A click: the answer for the handlers, and the card (outTrackId) to update once it is stored."""

    incoming: Incoming
    out_track_id: str


def draw_card(buttons: Buttons, text: str | None) -> CardDraw | None:
    """The card for a question's buttons; None when it stays text (several may be ticked, or it does not fit)."""
    if buttons.multiple or not buttons.options or not TOKEN_PATTERN.fullmatch(buttons.token):
        return None
    options = json.dumps([{"value": o.value, "label": o.label} for o in buttons.options], ensure_ascii=False)
    if too_long(options):
        return None
    lines = (text or "").strip().splitlines()
    title, content = (lines[0].strip(), "\n".join(lines[1:]).strip()) if lines else ("", "")
    before = None
    if not title or too_long(title) or too_long(content):
        title, content, before = texts.CARD_TITLE, "", (text if text and text.strip() else None)
    params = {"title": title, "content": content, "options": options, "chosen": "", "answered": "false"}
    return CardDraw(params, before, {o.value: o.label for o in buttons.options})


def out_track_id(token: str, recipient_key: str) -> str:
    """The card's id, e.g. "c12p3-8f2a…": the question's token, then a digest of the outbox row and recipient, so
    a resend of the same row names the same card (DingTalk then answers that it exists) and no two rows share one."""
    return f"{token}-{hashlib.sha256(recipient_key.encode()).hexdigest()[:16]}"


def deliver_body(
    template_id: str, track_id: str, user_id: str, robot_code: str, params: dict[str, str], route_key: str
) -> dict[str, Any]:
    """createAndDeliver's body: one card into the person's one-to-one chat with the robot (IM_ROBOT space).

    Clicks come by Stream unless an HTTP callback route key is configured.
    """
    body: dict[str, Any] = {
        "cardTemplateId": template_id,
        "outTrackId": track_id,
        "cardData": {"cardParamMap": params},
        "openSpaceId": f"dtv1.card//IM_ROBOT.{user_id}",
        "imRobotOpenSpaceModel": {"supportForward": False},
        "imRobotOpenDeliverModel": {"spaceType": "IM_ROBOT", "robotCode": robot_code},
        "userIdType": 1,
        "callbackType": "HTTP" if route_key else "STREAM",
    }
    if route_key:
        body["callbackRouteKey"] = route_key
    return body


def update_body(track_id: str, label: str) -> dict[str, Any]:
    """The card update after a click: the choice named, the buttons gone; the question itself is kept."""
    params = {"chosen": texts.chosen(label), "answered": "true"}
    return {
        "outTrackId": track_id,
        "cardData": {"cardParamMap": params},
        "cardUpdateOptions": {"updateCardDataByKey": True},
        "userIdType": 1,
    }


def card_click(payload: Any) -> CardClick:
    """A card callback payload (Stream frame data or HTTP body, already JSON-decoded) as a click; CardClickError
    when it is not one.

    Its message_id is "card:<outTrackId>:<userId>:<value>": DingTalk's redelivery of a click repeats all three and is
    dropped, a click on another card or another button is a new message; the same button pressed twice on one card
    answers once (the card loses its buttons after the first click anyway).
    """
    if not isinstance(payload, dict):
        raise CardClickError("the payload is not a JSON object")
    if payload.get("type", "actionCallback") != "actionCallback":
        raise CardClickError(f"callback type {payload.get('type')!r} is not a click")
    track_id, user_id = required(payload, "outTrackId"), required(payload, "userId")
    if not OUT_TRACK_ID_PATTERN.fullmatch(track_id):
        raise CardClickError("outTrackId is not one of the bot's")
    value = clicked_value(payload.get("content"))
    button = ButtonClick(token=track_id.partition("-")[0], value=value)
    key = f"card:{track_id}:{user_id}:{value}"
    return CardClick(Incoming(PLATFORM, user_id, value, message_id=key, button=button), track_id)


def clicked_value(content: Any) -> str:
    """The button's value: the callback's parameter "value", else the first action id."""
    if isinstance(content, str):
        try:
            content = json.loads(content)
        except ValueError:
            raise CardClickError("content is not JSON") from None
    private = content.get("cardPrivateData") if isinstance(content, dict) else None
    if not isinstance(private, dict):
        raise CardClickError("content has no cardPrivateData")
    params, action_ids = private.get("params") or {}, private.get("actionIds") or []
    if not isinstance(params, dict) or not isinstance(action_ids, list):
        raise CardClickError("cardPrivateData's params or actionIds have the wrong shape")
    value = params.get("value", action_ids[0] if action_ids else None)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_VALUE_CHARS:
        raise CardClickError("the click carries no value")
    return value.strip()


def required(payload: dict[str, Any], name: str) -> str:
    """A field every click carries as a non-empty string."""
    value = payload.get(name)
    if not isinstance(value, str) or not value.strip():
        raise CardClickError(f"no {name}")
    return value.strip()


def too_long(value: str) -> bool:
    """Over DingTalk's limit for one template variable."""
    return len(value.encode()) > MAX_PARAM_BYTES
