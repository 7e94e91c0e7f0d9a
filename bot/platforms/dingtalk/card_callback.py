"""DingTalk's HTTP card callback: a click on a card created with callbackType HTTP is POSTed to the URL registered
for its callbackRouteKey, signed with the apiSecret given at registration.

DingTalk's card documentation (卡片互动 > 事件回调 > 回调签名验证): the headers x-ddpaas-signature-timestamp and
x-ddpaas-signature, the signature being base64(HMAC-SHA256(key=apiSecret, message=the timestamp as sent)). Like the
robot's sign it does not cover the body, so the click is also checked against the question it names (the token).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, Response, request

from bot.config import DingTalkConfig
from bot.engine import Engine
from bot.platforms.dingtalk.callback import ok
from bot.platforms.dingtalk.cards import CardClick, CardClickError, card_click
from bot.platforms.dingtalk.signing import TIMESTAMP
from bot.platforms.http import capped_body, plain

log = logging.getLogger(__name__)
CARD_CALLBACK_PATH = "/dingtalk/card-callback"
TIMESTAMP_HEADER, SIGNATURE_HEADER = "x-ddpaas-signature-timestamp", "x-ddpaas-signature"
# The documentation does not name the timestamp's unit; DingTalk's others are milliseconds. Fewer digits than
# this are read as seconds, so either passes the replay window when it is recent.
MILLISECOND_DIGITS = 12


def card_signature(timestamp: str, secret: str) -> str:
    """The signature DingTalk sends beside `timestamp` for a card callback registered with `secret`."""
    return base64.b64encode(hmac.new(secret.encode(), timestamp.encode(), hashlib.sha256).digest()).decode()


def card_refusal(
    timestamp: str | None, signature: str | None, secret: str, window_seconds: int, now: datetime
) -> str | None:
    """Why a card callback is refused (a 403), or None when it is signed with the secret and recent."""
    if not secret:
        return "no [dingtalk] card_callback_secret: an unsigned click cannot be told from a forged one"
    if not timestamp or not signature:
        return "missing signature headers"
    if not TIMESTAMP.fullmatch(timestamp):
        return "bad timestamp"
    seconds = int(timestamp) / 1000 if len(timestamp) >= MILLISECOND_DIGITS else int(timestamp)
    if abs(now.timestamp() - seconds) > window_seconds:
        return "timestamp outside the replay window"
    if not hmac.compare_digest(card_signature(timestamp, secret).encode(), signature.encode()):
        return "signature does not match"
    return None


def add_card_callback(
    blueprint: Blueprint,
    config: DingTalkConfig,
    engine: Engine,
    after_click: Callable[[CardClick], None],
    now: Callable[[], datetime],
    belongs: Callable[[CardClick], bool],
) -> None:
    """POST /dingtalk/card-callback: 403 unless signed, 400 for what is not a click, 403 for a click on a card not sent
    to the person it names (`belongs`), else the click is stored (once per card, person and value) and 200 comes back
    at once; `after_click` runs after the response."""

    @blueprint.post(CARD_CALLBACK_PATH)
    def card_clicked() -> Response:
        headers = request.headers
        problem = card_refusal(
            headers.get(TIMESTAMP_HEADER),
            headers.get(SIGNATURE_HEADER),
            config.card_callback_secret,
            config.replay_window_seconds,
            now(),
        )
        if problem:
            log.warning("dingtalk card callback refused: %s", problem)
            return plain(403, "forbidden")
        body = capped_body(config.max_callback_bytes)
        if body is None:
            return plain(400, "body too large")
        try:
            click = card_click(json.loads(body))
        except (ValueError, CardClickError) as error:
            log.warning("dingtalk card callback malformed: %s", error)
            return plain(400, "malformed")
        if not belongs(click):
            # The signature covers only the timestamp: a body naming someone else's card, or a card of ours we do not
            # know, is no click of the person it names.
            log.warning("dingtalk card click on card %s by someone it was not sent to, refused", click.out_track_id)
            return plain(403, "forbidden")
        if not engine.accept(click.incoming):
            log.info("dingtalk card click %s seen before, dropped", click.incoming.message_id)
            return ok()
        response = ok()
        response.call_on_close(lambda: after_click(click))
        return response
