"""The DingTalk robot's HTTP callback (outgoing robot): check timestamp and sign, store the message, answer at once.

Only checking, parsing and storing happen inside the request; handling and replies follow in the worker, so the
acknowledgement never waits on the handlers. A callback that fails its check stores and handles nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, Response, request

from bot.config import DingTalkConfig
from bot.engine import Engine
from bot.platforms.dingtalk.inbound import InboundError, SessionWebhook, parse_inbound
from bot.platforms.dingtalk.signing import refusal
from bot.platforms.http import capped_body, plain

log = logging.getLogger(__name__)


def dingtalk_blueprint(
    config: DingTalkConfig,
    engine: Engine,
    remember_webhook: Callable[[SessionWebhook], None],
    stored: Callable[[], None],
    now: Callable[[], datetime],
) -> Blueprint:
    """POST /dingtalk/callback: 403 unless signed by the app's secret within the window, 400 for a body that is
    not a robot message, else the message is stored (a repeated msgId once) and 200 comes back at once."""
    blueprint = Blueprint("dingtalk", __name__)

    @blueprint.post("/dingtalk/callback")
    def receive() -> Response:
        problem = refusal(
            request.headers.get("timestamp"),
            request.headers.get("sign"),
            config.app_secret,
            config.replay_window_seconds,
            now(),
        )
        if problem:
            log.warning("dingtalk callback refused: %s", problem)
            return plain(403, "forbidden")
        body = capped_body(config.max_callback_bytes)
        if body is None:
            return plain(400, "body too large")
        try:
            inbound = parse_inbound(json.loads(body), config.webhook_base_url, now())
        except (ValueError, InboundError) as error:
            log.warning("dingtalk callback malformed: %s", error)
            return plain(400, "malformed")
        if inbound.webhook is not None:
            remember_webhook(inbound.webhook)  # before the message is stored, so its reply can find it
        if not engine.accept(inbound.incoming):
            log.info("dingtalk message %s seen before, dropped", inbound.incoming.message_id)
            return ok()
        response = ok()
        response.call_on_close(stored)
        return response

    return blueprint


def ok() -> Response:
    """DingTalk's robot reads a JSON body; an empty object says "received" without a message of its own."""
    return Response("{}", status=200, mimetype="application/json")
