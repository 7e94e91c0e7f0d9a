"""A local DingTalk: the token endpoint, robot batch send (texts and files), media uploads, sessionWebhooks and the
download of files members sent, and members who post signed robot callbacks (texts, files) to the bot. It records
what it received so tests can look."""

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
from typing import Any

import requests
from flask import Flask, Response, jsonify, request
from werkzeug.serving import WSGIRequestHandler, make_server

from bot.platforms.dingtalk.api import (
    BATCH_SEND_PATH,
    MEDIA_UPLOAD_PATH,
    MESSAGE_FILE_PATH,
    TOKEN_HEADER,
    TOKEN_PATH,
)
from bot.platforms.dingtalk.platform import MAX_BATCH_USERS
from bot.platforms.dingtalk.signing import callback_sign
from bot.platforms.wecom.emulator import GeneratedFile, ServerHandle

WEBHOOK_PATH = "/robot/sendBySession"
# The emulator's errcode for a sessionWebhook that is unknown or has expired (the bot reads no particular value).
SESSION_EXPIRED = 300001
# Where the emulator serves the files members sent (the downloadUrl it names).
FILE_PATH = "/emulated-files/"
# DingTalk's file limit for media/upload (type=file).
MAX_MEDIA_BYTES = 20 << 20


@dataclass
class EmulatorSettings:
    """One enterprise-internal app with its robot, as the emulator plays it."""

    app_key: str
    app_secret: str
    callback_url: str | None = None
    token_ttl: int = 7200
    # DingTalk gives a message's sessionWebhook about 90 minutes.
    webhook_ttl: int = 5400

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
        # media_id -> (name, content) of what the bot uploaded; downloadCode -> what a member sent.
        self.uploads: dict[str, tuple[str, bytes]] = {}
        self._sent_files: dict[str, tuple[str, bytes | GeneratedFile]] = {}
        self._file_urls: dict[str, str] = {}
        # The downloadUrl host, when a test wants DingTalk to name another one.
        self.download_base_url: str | None = None
        self._lock = threading.RLock()
        self.app = self._build_app()

    # --- seeding, inspection and fault injection --------------------------------------------------------------

    def add_member(self, userid: str, name: str) -> None:
        """Seed a member of the organisation."""
        with self._lock:
            self.members[userid] = name

    def inbox(self, userid: str) -> list[dict]:
        """What one member received so far, oldest first: {"via": "webhook" | "batch", "text": ...}; a file also has
        "file_name" and "file_bytes" (its text reads "[文件] name")."""
        with self._lock:
            return list(self._inboxes[userid])

    def flow_control(self, userid: str, times: int = 1) -> None:
        """The next `times` batch sends to this member report it in flowControlledStaffIdList and do not deliver."""
        with self._lock:
            self._flow_controlled[userid] += times

    def fail_next(self, name: str, status: int, code: str) -> None:
        """The next call of "token", "batch", "webhook", "upload" or "file_url" answers HTTP `status` with DingTalk
        error `code` (an upload, on the old host, answers with that errcode)."""
        with self._lock:
            self._failures[name].append((status, code))

    def expire_tokens(self) -> None:
        """Every access token given so far stops working (as after a secret reset)."""
        with self._lock:
            self._tokens.clear()

    def drop_uploads(self) -> None:
        """Every upload so far is forgotten, as if DingTalk had let it expire."""
        with self._lock:
            self.uploads.clear()

    # --- members talking to the bot ---------------------------------------------------------------------------

    def member_says(
        self, userid: str, text: str, msg_id: str | None = None, conversation_type: str = "1", sign: str | None = None
    ) -> requests.Response:
        """A member writes to the robot; the callback is signed with the app secret unless `sign` is given."""
        body = self.robot_message(userid, "text", {"text": {"content": text}}, msg_id, conversation_type)
        return self.post_signed(body, sign)

    def member_sends_file(
        self, userid: str, data: bytes | GeneratedFile, file_name: str, conversation_type: str = "1"
    ) -> requests.Response:
        """A member sends the robot a file: the callback names a downloadCode the bot can resolve here."""
        download_code = secrets.token_urlsafe(24)
        with self._lock:
            self._sent_files[download_code] = (file_name, data)
        content = {"downloadCode": download_code, "fileName": file_name, "fileId": secrets.token_hex(6)}
        body = self.robot_message(userid, "file", {"content": content}, conversation_type=conversation_type)
        return self.post_signed(body)

    def robot_message(
        self,
        userid: str,
        msgtype: str,
        content: dict[str, Any],
        msg_id: str | None = None,
        conversation_type: str = "1",
    ) -> dict[str, Any]:
        """The robot message DingTalk delivers for what a member sent (the same body by callback or by Stream),
        with a fresh sessionWebhook; `content` holds the msgtype's own field ("text" or "content")."""
        now_ms = int(self.clock() * 1000)
        session = secrets.token_hex(12)
        with self._lock:
            self._sessions[session] = (userid, self.clock() + self.settings.webhook_ttl)
        return {
            "msgtype": msgtype,
            **content,
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

    def post_signed(self, body: dict[str, Any], sign: str | None = None) -> requests.Response:
        """Post a robot message to the bot's callback, signed now with the app secret unless `sign` is given."""
        timestamp = str(int(self.clock() * 1000))
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
        app.post(MEDIA_UPLOAD_PATH)(self._media_upload)
        app.post(MESSAGE_FILE_PATH)(self._message_file_url)
        app.get(FILE_PATH + "<key>")(self._message_file)
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

    def _token_valid(self, token: str) -> bool:
        with self._lock:
            return self._tokens.get(token, 0) > self.clock()

    def _batch_send(self) -> tuple[Response, int] | Response:
        failed = self._injected("batch")
        if failed:
            return failed
        if not self._token_valid(request.headers.get(TOKEN_HEADER, "")):
            return jsonify(code="InvalidAuthentication", message="不合法的access_token"), 401
        body = request.get_json(silent=True) or {}
        user_ids, msg_key = body.get("userIds") or [], body.get("msgKey")
        if body.get("robotCode") != self.settings.robot_code:
            return jsonify(code="resource.not.found", message="robot 不存在"), 400
        if not user_ids or len(user_ids) > MAX_BATCH_USERS or msg_key not in ("sampleText", "sampleFile"):
            message = "userIds 须为 1-20 个，msgKey 须为 sampleText 或 sampleFile"
            return jsonify(code="invalidParameter", message=message), 400
        param = json.loads(body.get("msgParam") or "{}")
        if msg_key == "sampleFile":
            with self._lock:
                upload = self.uploads.get(param.get("mediaId", ""))
            if upload is None or not param.get("fileName") or not param.get("fileType"):
                return jsonify(code="invalidParameter.mediaId", message="mediaId 无效或已过期"), 400
            entry = {"text": f"[文件] {param['fileName']}", "file_name": param["fileName"], "file_bytes": upload[1]}
        else:
            entry = {"text": param.get("content", "")}
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
                    self._inboxes[userid].append({"via": "batch"} | entry)
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

    def _media_upload(self) -> tuple[Response, int] | Response:
        failed = self._injected("upload")
        if failed:
            status, code = failed[1], failed[0].get_json()["code"]
            return jsonify(errcode=int(code) if code.isdigit() else -1, errmsg=f"injected {code}"), status
        if not self._token_valid(request.args.get("access_token", "")):
            return jsonify(errcode=40014, errmsg="不合法的access_token")
        part = request.files.get("media")
        data = part.read() if part else b""
        if request.args.get("type") != "file" or not data:
            return jsonify(errcode=40005, errmsg="不支持的文件格式或文件为空")
        if len(data) > MAX_MEDIA_BYTES:
            return jsonify(errcode=40006, errmsg="不合法的文件大小")
        media_id = "@" + secrets.token_urlsafe(18)
        with self._lock:
            self.uploads[media_id] = (part.filename or "", data)
        return jsonify(errcode=0, errmsg="ok", type="file", media_id=media_id, created_at=int(self.clock() * 1000))

    def _message_file_url(self) -> tuple[Response, int] | Response:
        failed = self._injected("file_url")
        if failed:
            return failed
        if not self._token_valid(request.headers.get(TOKEN_HEADER, "")):
            return jsonify(code="InvalidAuthentication", message="不合法的access_token"), 401
        body = request.get_json(silent=True) or {}
        code = body.get("downloadCode", "")
        if body.get("robotCode") != self.settings.robot_code:
            return jsonify(code="resource.not.found", message="robot 不存在"), 400
        with self._lock:
            if code not in self._sent_files:
                return jsonify(code="invalidParameter.downloadCode", message="downloadCode 无效"), 400
            key = secrets.token_urlsafe(16)
            self._file_urls[key] = code
        base = self.download_base_url or self.url
        return jsonify(downloadUrl=f"{base}{FILE_PATH}{key}?Expires=3600")

    def _message_file(self, key: str) -> tuple[Response, int] | Response:
        with self._lock:
            self.calls.append("file")
            code = self._file_urls.get(key)
            _, data = self._sent_files.get(code or "", ("", b""))
        if code is None:
            return jsonify(code="NoSuchKey"), 404
        if isinstance(data, GeneratedFile):
            response = Response(data.chunks(), mimetype="application/octet-stream")
            if data.declared:
                response.headers["Content-Length"] = str(data.size)
            return response
        return Response(data, mimetype="application/octet-stream")


class _QuietRequestHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Calls are recorded in DingTalkEmulator.calls; keep the terminal for the conversation."""


def serve(emulator: DingTalkEmulator, host: str = "127.0.0.1", port: int = 0) -> ServerHandle:
    """Serve the emulator on a loopback address in a daemon thread; port 0 picks a free port."""
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
    return ServerHandle(emulator.url, server, thread)
