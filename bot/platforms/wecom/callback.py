"""The WeCom callback URL: verify and decrypt with wechatpy, store the message, answer at once.

WeCom waits five seconds and then delivers again. The request only checks, decrypts, parses and stores;
handling, file downloads and replies happen after the response, in the worker.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from xml.parsers.expat import ExpatError

import xmltodict
from flask import Blueprint, Response, request
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException
from werkzeug.datastructures import MultiDict

from bot.config import WeComConfig
from bot.engine import Engine
from bot.platforms.http import capped_body, plain
from bot.platforms.wecom.inbound import Inbound, InboundError, parse_inbound

log = logging.getLogger(__name__)
# What WeCom sends: a Unix time in seconds, a short nonce, a SHA1 hex signature, a base64 echostr (a "+" that
# arrived unencoded reads as a space: the signature check refuses it then). Only ASCII digits count as digits
# ("²³".isdigit() is True and int() of it raises), and lengths are bounded, so no number overflows a float.
PARAMETER_SHAPES = {
    "timestamp": re.compile(r"[0-9]{1,12}"),
    "nonce": re.compile(r"[!-~]{1,64}"),
    "msg_signature": re.compile(r"[0-9a-fA-F]{40}"),
    "echostr": re.compile(r"[0-9A-Za-z+/= ]{1,4096}"),
}


def wecom_blueprint(
    config: WeComConfig,
    engine: Engine,
    after_response: Callable[[Inbound], None],
    now: Callable[[], datetime],
) -> Blueprint:
    """Routes for GET (URL verification) and POST (messages) on /wecom/callback."""
    crypto = WeChatCrypto(config.token, config.encoding_aes_key, config.corp_id)
    blueprint = Blueprint("wecom", __name__)

    @blueprint.get("/wecom/callback")
    def verify() -> Response:
        args = request.args
        problem = malformed(args, "msg_signature", "timestamp", "nonce", "echostr") or stale(
            args["timestamp"], config.replay_window_seconds, now()
        )
        if problem:
            return plain(problem[1], problem[0])
        try:
            echo = crypto.check_signature(args["msg_signature"], args["timestamp"], args["nonce"], args["echostr"])
        except (InvalidSignatureException, InvalidCorpIdException) as error:
            log.warning("wecom URL verification refused: %s", type(error).__name__)
            return plain(403, "forbidden")
        except ValueError:
            return plain(400, "bad echostr")
        return plain(200, echo.decode("utf-8") if isinstance(echo, bytes) else echo)

    @blueprint.post("/wecom/callback")
    def receive() -> Response:
        args = request.args
        body = capped_body(config.max_callback_bytes)
        if body is None:
            return plain(400, "body too large")
        problem = malformed(args, "msg_signature", "timestamp", "nonce") or stale(
            args["timestamp"], config.replay_window_seconds, now()
        )
        if problem:
            return plain(problem[1], problem[0])
        try:
            envelope = xmltodict.parse(body)["xml"]
            xml = crypto.decrypt_message(envelope, args["msg_signature"], args["timestamp"], args["nonce"])
            inbound = parse_inbound(xml, expected_agent_id=config.agent_id or None)
        except (InvalidSignatureException, InvalidCorpIdException) as error:
            log.warning("wecom callback refused: %s", type(error).__name__)
            return plain(403, "forbidden")
        except (ExpatError, KeyError, TypeError, ValueError, InboundError) as error:
            log.warning("wecom callback malformed: %s", type(error).__name__)
            return plain(400, "malformed")
        incoming = inbound.incoming
        if incoming is not None and inbound.media_id:
            incoming = replace(incoming, media_id=inbound.media_id)
        if incoming is not None and not engine.accept(incoming):
            log.info("wecom delivery %s seen before, dropped", inbound.key)
            return plain(200, "")
        response = plain(200, "")
        response.call_on_close(lambda: after_response(inbound))
        return response

    return blueprint


def malformed(args: MultiDict[str, str], *names: str) -> tuple[str, int] | None:
    """A 400 for a query parameter WeCom always sends once, in its own shape, that is absent, repeated or odd.

    A signature that is not 40 hex digits cannot match: 403, as for any forged one.
    """
    absent = [name for name in names if not args.get(name)]
    if absent:
        return f"missing {', '.join(absent)}", 400
    repeated = [name for name in names if len(args.getlist(name)) > 1]
    if repeated:
        return f"repeated {', '.join(repeated)}", 400
    for name in names:
        if not PARAMETER_SHAPES[name].fullmatch(args[name]):
            return ("forbidden", 403) if name == "msg_signature" else (f"bad {name}", 400)
    return None


def stale(timestamp: str, window: int, now: datetime) -> tuple[str, int] | None:
    """A 403 when the callback's timestamp is outside the replay window (0 turns the check off)."""
    if not PARAMETER_SHAPES["timestamp"].fullmatch(timestamp):
        return ("bad timestamp", 400)
    if window and abs(now.timestamp() - int(timestamp)) > window:
        return ("timestamp outside the replay window", 403)
    return None
