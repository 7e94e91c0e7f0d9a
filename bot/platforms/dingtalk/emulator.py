"""A local DingTalk: the token endpoint, robot batch send and sessionWebhooks the bot calls, and members who post
signed robot callbacks to the bot, or (in stream mode) whose messages its Stream gateway pushes over a websocket.
It records what it received so tests can look."""

from __future__ import annotations

import collections
import ipaddress
import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests
from flask import Flask, Response, jsonify, request
from werkzeug.serving import WSGIRequestHandler, make_server

from bot.platforms.dingtalk.api import BATCH_SEND_PATH, TOKEN_HEADER, TOKEN_PATH
from bot.platforms.dingtalk.emulator_stream import GATEWAY_PATH, StreamGateway
from bot.platforms.dingtalk.platform import MAX_BATCH_USERS
from bot.platforms.dingtalk.signing import callback_sign
from bot.platforms.wecom.emulator import ServerHandle

WEBHOOK_PATH = "/robot/sendBySession"
# The emulator's errcode for a sessionWebhook that is unknown or has expired (the bot reads no particular value).
SESSION_EXPIRED = 300001


@dataclass
class EmulatorSettings:
    """One enterprise-internal app with its robot, as the emulator plays it."""

    app_key: str
    app_secret: str
    callback_url: str | None = None
    token_ttl: int = 7200
    # DingTalk gives a message's sessionWebhook about 90 minutes.
    webhook_ttl: int = 5400
    # Stream mode: members' messages go out as frames on the bot's websocket instead of callbacks; a frame not
    # acknowledged within redeliver_after seconds is sent again (DingTalk: about a minute), pings every ping_interval.
    stream: bool = False
    redeliver_after: float = 60.0
    ping_interval: float = 20.0

    @property
    def robot_code(self) -> str:
        """An app's own robot has the app key for its code."""
        return self.app_key


class DingTalkEmulator:
    """DingTalk's API for one app over seeded members; members post signed messages to the bot's callback."""

    def __init__(self, settings: EmulatorSettings, clock: Callable[[], float] = time.time) -> None:
        self.settings, self.clock = settings, clock
        self.url = ""  # set by serve(): sessionWebhooks point here
        self.members: dict[str, str] = {}
        self.calls: list[str] = []
        self.batches: list[dict] = []
        self._inboxes: dict[str, list[dict]] = collections.defaultdict(list)
        self._tokens: dict[str, float] = {}
        self._sessions: dict[str, tuple[str, float]] = {}
        self._flow_controlled: collections.Counter[str] = collections.Counter()
        self._failures: dict[str, list[tuple[int, str]]] = collections.defaultdict(list)
        self._msg_ids = itertools.count(1)
        self._last_callback: tuple[dict[str, str], bytes] | None = None
        self._lock = threading.RLock()
        self.gateway = StreamGateway(settings.app_key, settings.redeliver_after, settings.ping_interval)
        self.app = self._build_app()

    # --- seeding, inspection and fault injection --------------------------------------------------------------

    def add_member(self, userid: str, name: str) -> None:
        """Seed a member of the organisation."""
        with self._lock:
            self.members[userid] = name

    def inbox(self, userid: str) -> list[dict]:
        """What one member received so far, oldest first: {"via": "webhook" | "batch", "text": ...}."""
        with self._lock:
            return list(self._inboxes[userid])

    def flow_control(self, userid: str, times: int = 1) -> None:
        """The next `times` batch sends to this member report it in flowControlledStaffIdList and do not deliver."""
        with self._lock:
            self._flow_controlled[userid] += times

    def fail_next(self, name: str, status: int, code: str) -> None:
        """The next call of "token", "batch", "webhook" or "gateway" answers HTTP `status` with error `code`."""
        with self._lock:
            self._failures[name].append((status, code))

    def expire_tokens(self) -> None:
        """Every access token given so far stops working (as after a secret reset)."""
        with self._lock:
            self._tokens.clear()

    # --- members talking to the bot ---------------------------------------------------------------------------

    def member_says(
        self, userid: str, text: str, msg_id: str | None = None, conversation_type: str = "1", sign: str | None = None
    ) -> requests.Response | str:
        """A member writes to the robot; the callback is signed with the app secret unless `sign` is given.

        In stream mode the message is pushed on the gateway instead, and its frame's messageId comes back.
        """
        now_ms = int(self.clock() * 1000)
        session = secrets.token_hex(12)
        with self._lock:
            self._sessions[session] = (userid, self.clock() + self.settings.webhook_ttl)
        body = {
            "msgtype": "text",
            "text": {"content": text},
            "msgId": msg_id or f"msg{next(self._msg_ids):06d}",
            "createAt": now_ms,
            "conversationType": conversation_type,
            "conversationId": f"cid-{userid}",
            "senderStaffId": userid,
            "senderNick": self.members.get(userid, userid),
            "robotCode": self.settings.robot_code,
            "sessionWebhook": f"{self.url}{WEBHOOK_PATH}?session={session}",
            "sessionWebhookExpiredTime": now_ms + self.settings.webhook_ttl * 1000,
        }
        if self.settings.stream:
            return self.gateway.push(body)
        timestamp = str(now_ms)
        headers = {"timestamp": timestamp, "sign": sign or callback_sign(timestamp, self.settings.app_secret)}
        return self.post_callback(headers, json.dumps(body, ensure_ascii=False).encode())

    def post_callback(self, headers: dict[str, str], body: bytes) -> requests.Response:
        """Post one callback as DingTalk does: JSON with the timestamp and sign headers."""
        if not self.settings.callback_url:
            raise ValueError("no callback URL: the bot's address is not set")
        with self._lock:
            self._last_callback = (headers, body)
        headers = headers | {"Content-Type": "application/json; charset=utf-8"}
        return requests.post(self.settings.callback_url, data=body, headers=headers, timeout=10)

    def resend_last_callback(self) -> requests.Response:
        """Deliver the last callback again, byte for byte, as DingTalk does when it doubts the first arrived."""
        if self._last_callback is None:
            raise ValueError("nothing was posted yet")
        return self.post_callback(*self._last_callback)

    # --- the API ----------------------------------------------------------------------------------------------

    def _build_app(self) -> Flask:
        app = Flask(__name__)
        app.json.ensure_ascii = False
        app.post(TOKEN_PATH)(self._token)
        app.post(BATCH_SEND_PATH)(self._batch_send)
        app.post(WEBHOOK_PATH)(self._webhook)
        app.post(GATEWAY_PATH)(self._open_connection)
        return app

    def _injected(self, name: str) -> tuple[Response, int] | None:
        with self._lock:
            self.calls.append(name)
            if self._failures[name]:
                status, code = self._failures[name].pop(0)
                return jsonify(code=code, message=f"injected {code}"), status
        return None

    def _token(self) -> tuple[Response, int] | Response:
        failed = self._injected("token")
        if failed:
            return failed
        body = request.get_json(silent=True) or {}
        if body.get("appKey") != self.settings.app_key or body.get("appSecret") != self.settings.app_secret:
            return jsonify(code="invalidClientIdOrSecret", message="无效的appKey或appSecret"), 400
        token = secrets.token_hex(16)
        with self._lock:
            self._tokens[token] = self.clock() + self.settings.token_ttl
        return jsonify(accessToken=token, expireIn=self.settings.token_ttl)

    def _batch_send(self) -> tuple[Response, int] | Response:
        failed = self._injected("batch")
        if failed:
            return failed
        token = request.headers.get(TOKEN_HEADER, "")
        with self._lock:
            if self._tokens.get(token, 0) <= self.clock():
                return jsonify(code="InvalidAuthentication", message="不合法的access_token"), 401
        body = request.get_json(silent=True) or {}
        user_ids, msg_key = body.get("userIds") or [], body.get("msgKey")
        if body.get("robotCode") != self.settings.robot_code:
            return jsonify(code="resource.not.found", message="robot 不存在"), 400
        if not user_ids or len(user_ids) > MAX_BATCH_USERS or msg_key != "sampleText":
            return jsonify(code="invalidParameter", message="userIds 须为 1-20 个，msgKey 须为 sampleText"), 400
        text = json.loads(body.get("msgParam") or "{}").get("content", "")
        invalid, throttled = [], []
        with self._lock:
            self.batches.append(body)
            for userid in user_ids:
                if userid not in self.members:
                    invalid.append(userid)
                elif self._flow_controlled[userid] > 0:
                    self._flow_controlled[userid] -= 1
                    throttled.append(userid)
                else:
                    self._inboxes[userid].append({"via": "batch", "text": text})
        return jsonify(
            processQueryKey=secrets.token_hex(8), invalidStaffIdList=invalid, flowControlledStaffIdList=throttled
        )

    def _webhook(self) -> tuple[Response, int] | Response:
        failed = self._injected("webhook")
        if failed:
            return failed
        with self._lock:
            userid, expires = self._sessions.get(request.args.get("session", ""), ("", 0.0))
            if expires <= self.clock():
                return jsonify(errcode=SESSION_EXPIRED, errmsg="session 不存在或已过期")
            body = request.get_json(silent=True) or {}
            if body.get("msgtype") != "text":
                return jsonify(errcode=400105, errmsg="不支持的 msgtype")
            self._inboxes[userid].append({"via": "webhook", "text": body["text"]["content"]})
        return jsonify(errcode=0, errmsg="ok")

    def _open_connection(self) -> tuple[Response, int] | Response:
        failed = self._injected("gateway")
        if failed:
            return failed
        body = request.get_json(silent=True) or {}
        if body.get("clientId") != self.settings.app_key or body.get("clientSecret") != self.settings.app_secret:
            return jsonify(code="invalidClientIdOrSecret", message="无效的clientId或clientSecret"), 401
        if not self.gateway.url:
            return jsonify(code="forbidden.stream", message="应用未开启 Stream 模式"), 403
        return jsonify(endpoint=self.gateway.url, ticket=self.gateway.ticket())


class _QuietRequestHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Calls are recorded in DingTalkEmulator.calls; keep the terminal for the conversation."""


@dataclass
class EmulatorHandle(ServerHandle):
    """A running emulator, with its Stream gateway when the app is in stream mode."""

    gateway: StreamGateway | None = None

    def shutdown(self) -> None:
        """Stop the gateway, then the HTTP server."""
        if self.gateway is not None:
            self.gateway.stop()
        super().shutdown()


def serve(emulator: DingTalkEmulator, host: str = "127.0.0.1", port: int = 0) -> EmulatorHandle:
    """Serve the emulator on a loopback address in a daemon thread (and, in stream mode, its Stream gateway in
    another); port 0 picks a free port."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"the DingTalk emulator only listens on loopback addresses, not {host!r}")
    server = make_server(host, port, emulator.app, threaded=True, request_handler=_QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="dingtalk-emulator", daemon=True)
    thread.start()
    shown = f"[{host}]" if ":" in host else host
    emulator.url = f"http://{shown}:{server.port}"
    if emulator.settings.stream:
        emulator.gateway.start(host)
    return EmulatorHandle(emulator.url, server, thread, emulator.gateway if emulator.settings.stream else None)
