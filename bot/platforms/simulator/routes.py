"""The simulator's HTTP door, POST /simulator/messages: only this machine, or whoever holds the configured secret.

Whoever can post here speaks as any account, the admin included, so the app offers the route only while the
simulator is the platform (see bot.app), and answers only a client on loopback whose request no proxy forwarded,
or, when [simulator] secret is set, only a request carrying that secret (from anywhere, loopback too: a proxy on
this machine makes every client look local). X-Forwarded-For is never believed: it only ever counts against.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import uuid
from collections.abc import Callable

from flask import Blueprint, jsonify, request

from bot.config import SimulatorConfig
from bot.engine import Engine
from bot.platforms.http import capped_body
from handlers.core.messages import Incoming
from ledger_store.org import SIMULATOR

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Simulator-Secret"
# A request carrying any of these came through a proxy: its loopback address says nothing about the client.
PROXY_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")
MAX_BODY_BYTES = 64 * 1024
MAX_ACCOUNT_CHARS = 64
MAX_MESSAGE_ID_CHARS = 128
BAD_REQUEST = (
    '需要 JSON：{"account": 账号, "text": 文本}，可以另加 "message_id"（不超过 128 个字符）；请求体不超过 64 KB'
)
FORBIDDEN = "模拟器接口只接受本机不经代理的请求；设置了 [simulator] secret 时，请求头 X-Simulator-Secret 要带上它"


def simulator_blueprint(config: SimulatorConfig, engine: Engine, deliver: Callable[[], int]) -> Blueprint:
    """The route that runs one message through the bot and answers with its replies (pushes are delivered too)."""
    blueprint = Blueprint("simulator", __name__)

    @blueprint.post("/simulator/messages")
    def simulator_message():
        if not admitted(config.secret):
            log.warning("simulator request from %s refused", request.remote_addr)
            return jsonify(error=FORBIDDEN), 403
        incoming = parse_message(capped_body(MAX_BODY_BYTES)) if request.is_json else None
        if incoming is None:
            return jsonify(error=BAD_REQUEST), 400
        replies = engine.receive(incoming)
        try:
            deliver()
        except Exception:  # the pushes stay in the outbox for the worker; the replies are the answer
            log.exception("delivering after a simulator message failed")
        return jsonify(replies=[reply.text for reply in replies])

    return blueprint


def admitted(secret: str) -> bool:
    """With a secret: the request carries it. Without: the client is this machine and no proxy forwarded it."""
    if secret:
        # WSGI hands header bytes over decoded as Latin-1: encoding back gives what the client sent.
        given = request.headers.get(SECRET_HEADER, "").encode("latin-1", errors="replace")
        return hmac.compare_digest(given, secret.encode())
    forwarded = any(name in request.headers for name in PROXY_HEADERS)
    return is_loopback(request.remote_addr) and not forwarded


def is_loopback(address: str | None) -> bool:
    """127.0.0.0/8, ::1, or 127.x written as an IPv4-mapped IPv6 address; anything else (or no address) is not."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def parse_message(body: bytes | None) -> Incoming | None:
    """The message a body holds: account, text and an optional message_id, each of a sane type and length."""
    if body is None:
        return None
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, a number of 5000 digits, nesting 10000 deep
        return None
    if not isinstance(payload, dict):
        return None
    account, text, message_id = payload.get("account"), payload.get("text"), payload.get("message_id")
    if not isinstance(account, str) or not 0 < len(account) <= MAX_ACCOUNT_CHARS or not isinstance(text, str):
        return None
    if message_id is None:
        message_id = uuid.uuid4().hex
    elif isinstance(message_id, bool) or not isinstance(message_id, str | int):
        return None
    message_id = str(message_id)
    if not 0 < len(message_id) <= MAX_MESSAGE_ID_CHARS:
        return None
    return Incoming(SIMULATOR, account, text, message_id=message_id)
