"""A local DingTalk: the token endpoint, robot batch send (texts and files), media uploads, work notifications,
sessionWebhooks and the download of files members sent, the contacts (oapi's department/get, department/listsub and
user/list, paged), interactive cards (emulator_cards.py), the Stream gateway (emulator_stream.py), and members who
post signed robot callbacks (texts, files) to the bot or, in stream mode, whose messages the gateway pushes over
the bot's websocket. It records what it received so tests can look, and can play the organisation's monthly
allowance of metered calls."""

from __future__ import annotations

import collections
import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from flask import Flask, Response, jsonify, request

from bot.platforms.dingtalk.api import (
    BATCH_SEND_PATH,
    CARD_CREATE_PATH,
    CARD_UPDATE_PATH,
    MEDIA_UPLOAD_PATH,
    MESSAGE_FILE_PATH,
    TOKEN_HEADER,
    TOKEN_PATH,
    WORK_NOTICE_PATH,
)
from bot.platforms.dingtalk.budget import ZONE
from bot.platforms.dingtalk.contacts import DEPARTMENT_GET_PATH, LISTSUB_PATH, PAGE_SIZE, ROOT_DEPT_ID, USER_LIST_PATH
from bot.platforms.dingtalk.emulator_cards import CardPlayer
from bot.platforms.dingtalk.emulator_stream import GATEWAY_PATH, StreamGateway
from bot.platforms.dingtalk.platform import MAX_BATCH_USERS, MAX_WORK_NOTICE_USERS
from bot.platforms.dingtalk.signing import callback_sign
from bot.platforms.emulator_server import GeneratedFile, ServerHandle, serve_on_loopback

WEBHOOK_PATH = "/robot/sendBySession"
# The emulator's errcode for a sessionWebhook that is unknown or has expired (the bot reads no particular value).
SESSION_EXPIRED = 300001
# oapi's errcodes: an access token it does not know, a department that does not exist, a parameter out of range.
INVALID_TOKEN, NO_DEPARTMENT, INVALID_PARAMETER = 40014, 60003, 400002
# DingTalk's answers once the organisation's monthly allowance is used up: the old host's errcode, the OpenAPI's code.
ALLOWANCE_ERRCODE = 90020
ALLOWANCE_CODE = "Forbidden.AccessDenied.ApiCountLimitForOrg"
# Where the emulator serves the files members sent (the downloadUrl it names).
FILE_PATH = "/emulated-files/"
# DingTalk's file limit for media/upload (type=file).
MAX_MEDIA_BYTES = 20 << 20
CARD_CALLBACK_REGISTER_PATH = "/v1.0/card/callbacks/register"


@dataclass
class EmulatorSettings:
    """One enterprise-internal app with its robot, as the emulator plays it."""

    app_key: str
    app_secret: str
    callback_url: str | None = None
    token_ttl: int = 7200
    # DingTalk gives a message's sessionWebhook about 90 minutes.
    webhook_ttl: int = 5400
    # user/list answers at most this many users a page, whatever size is asked, so that paging is exercised.
    user_page_limit: int = 2
    # The organisation's name: the root department's (dept_id 1) until add_department(1, ...) names it.
    org_name: str = "钉钉模拟企业"
    # The app's AgentId, which work notifications name.
    agent_id: int = 0
    # Metered calls (all but sessionWebhooks) a month before batch send and work notices are refused; 0: no limit.
    monthly_allowance: int = 0
    corp_id: str = "dingfakecorpid"
    # The one card template the emulator knows (as if made and published in DingTalk's card platform).
    card_template_id: str = "fake-question-card.schema"
    # Stream mode: members' messages go out as frames on the bot's websocket instead of callbacks; a frame not
    # acknowledged within redeliver_after seconds is sent again (DingTalk: about a minute), pings every ping_interval.
    stream: bool = False
    redeliver_after: float = 60.0
    ping_interval: float = 20.0

    @property
    def robot_code(self) -> str:
        """An app's own robot has the app key for its code."""
        return self.app_key


class DingTalkEmulator(CardPlayer):
    """DingTalk's API for one app over seeded members; members post signed messages to the bot's callback."""

    def __init__(self, settings: EmulatorSettings, clock: Callable[[], float] = time.time) -> None:
        self.settings, self.clock = settings, clock
        self.url = ""  # set by serve(): sessionWebhooks point here
        self.members: dict[str, str] = {}
        self.profiles: dict[str, dict] = {}  # userid -> user/list's fields other than the name
        self.departments: dict[int, dict] = {ROOT_DEPT_ID: {"dept_id": ROOT_DEPT_ID, "name": settings.org_name}}
        self._oapi_failures: dict[str, list[tuple[int, int]]] = collections.defaultdict(list)
        self.calls: list[str] = []
        self.batches: list[dict] = []
        self._inboxes: dict[str, list[dict]] = collections.defaultdict(list)
        self._tokens: dict[str, float] = {}
        self._sessions: dict[str, tuple[str, float]] = {}
        self._flow_controlled: collections.Counter[str] = collections.Counter()
        self._failures: dict[str, list[tuple[int, str]]] = collections.defaultdict(list)
        self._msg_ids = itertools.count(1)
        self._metered: collections.Counter[str] = collections.Counter()  # month -> metered calls received
        self._noticed: set[tuple[str, str, str]] = set()  # (userid, content, day) of work notifications delivered
        self._last_callback: tuple[dict[str, str], bytes] | None = None
        # media_id -> (name, content) of what the bot uploaded; downloadCode -> what a member sent.
        self.uploads: dict[str, tuple[str, bytes]] = {}
        self._sent_files: dict[str, tuple[str, bytes | GeneratedFile]] = {}
        self._file_urls: dict[str, str] = {}
        # The downloadUrl host, when a test wants DingTalk to name another one.
        self.download_base_url: str | None = None
        self.cards: dict[str, dict] = {}
        self.card_updates: list[dict] = []
        self.card_routes: dict[str, tuple[str, str]] = {}
        self._last_card_click: tuple[str, dict[str, str], bytes] | None = None
        self._lock = threading.RLock()
        self.gateway = StreamGateway(settings.app_key, settings.redeliver_after, settings.ping_interval)
        self.app = self._build_app()

    # --- seeding, inspection and fault injection --------------------------------------------------------------

    def add_member(
        self, userid: str, name: str, departments: list[int] | None = None, mobile: str = "", active: bool = True
    ) -> None:
        """Seed a member of the organisation (in the root department unless told), or change one seeded before."""
        with self._lock:
            self.members[userid] = name
            self.profiles[userid] = {
                "dept_id_list": list(departments or [ROOT_DEPT_ID]),
                "mobile": mobile,
                "active": active,
            }

    def remove_member(self, userid: str) -> None:
        """A member leaves the organisation: DingTalk lists them nowhere any more."""
        with self._lock:
            self.members.pop(userid, None)
            self.profiles.pop(userid, None)

    def add_department(self, dept_id: int, name: str, parent_id: int = ROOT_DEPT_ID) -> None:
        """Seed a department under `parent_id`, or rename the root (dept_id 1)."""
        with self._lock:
            self.departments[dept_id] = {"dept_id": dept_id, "name": name}
            if dept_id != ROOT_DEPT_ID:
                self.departments[dept_id]["parent_id"] = parent_id

    def fail_oapi(self, name: str, errcode: int, after: int = 0) -> None:
        """The call of "department_get", "listsub" or "user_list" after `after` more good ones answers `errcode`."""
        with self._lock:
            self._oapi_failures[name].append((after, errcode))

    def inbox(self, userid: str) -> list[dict]:
        """What one member received so far, oldest first: {"via": "webhook" | "batch" | "work_notice", "text": ...};
        a file also has "file_name" and "file_bytes" (its text reads "[文件] name"); a card is
        {"via": "card", "text": ..., "options": [(value, label), ...], "out_track_id": ...}."""
        with self._lock:
            return list(self._inboxes[userid])

    def flow_control(self, userid: str, times: int = 1) -> None:
        """The next `times` batch sends to this member report it in flowControlledStaffIdList and do not deliver."""
        with self._lock:
            self._flow_controlled[userid] += times

    def fail_next(self, name: str, status: int, code: str) -> None:
        """The next call of "token", "batch", "webhook", "upload", "file_url", "card", "card_update" or "gateway"
        answers HTTP `status` with DingTalk error `code` (an upload, on the old host, answers with that errcode)."""
        with self._lock:
            self._failures[name].append((status, code))

    def metered_calls(self, month: str | None = None) -> int:
        """Metered calls received in a month ("YYYY-MM", China time; this month when None)."""
        with self._lock:
            return self._metered[month or self._month()]

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
    ) -> requests.Response | str:
        """A member writes to the robot; the callback is signed with the app secret unless `sign` is given.

        In stream mode the message is pushed on the gateway instead, and its frame's messageId comes back.
        """
        body = self.robot_message(userid, "text", {"text": {"content": text}}, msg_id, conversation_type)
        return self.deliver(body, sign)

    def member_sends_file(
        self, userid: str, data: bytes | GeneratedFile, file_name: str, conversation_type: str = "1"
    ) -> requests.Response | str:
        """A member sends the robot a file: the message names a downloadCode the bot can resolve here."""
        download_code = secrets.token_urlsafe(24)
        with self._lock:
            self._sent_files[download_code] = (file_name, data)
        content = {"downloadCode": download_code, "fileName": file_name, "fileId": secrets.token_hex(6)}
        body = self.robot_message(userid, "file", {"content": content}, conversation_type=conversation_type)
        return self.deliver(body)

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

    def deliver(self, body: dict[str, Any], sign: str | None = None) -> requests.Response | str:
        """A robot message to the bot: pushed on the Stream gateway in stream mode (its frame's messageId comes
        back), else posted to the bot's callback, signed now with the app secret unless `sign` is given."""
        if self.settings.stream:
            return self.gateway.push(body)
        return self.post_signed(body, sign)

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
        app.post(DEPARTMENT_GET_PATH)(self._department_get)
        app.post(LISTSUB_PATH)(self._listsub)
        app.post(USER_LIST_PATH)(self._user_list)
        app.post(WORK_NOTICE_PATH)(self._work_notice)
        app.post(MEDIA_UPLOAD_PATH)(self._media_upload)
        app.post(MESSAGE_FILE_PATH)(self._message_file_url)
        app.get(FILE_PATH + "<key>")(self._message_file)
        app.post(CARD_CREATE_PATH)(self._create_and_deliver)
        app.put(CARD_UPDATE_PATH)(self._update_card)
        app.post(CARD_CALLBACK_REGISTER_PATH)(self._register_card_callback)
        app.post(GATEWAY_PATH)(self._open_connection)
        return app

    def _month(self) -> str:
        return f"{datetime.fromtimestamp(self.clock(), ZONE):%Y-%m}"

    def _over_allowance(self) -> bool:
        """Has this month's allowance been used up before the call being answered?"""
        with self._lock:
            allowance = self.settings.monthly_allowance
            return bool(allowance) and self._metered[self._month()] > allowance

    def _injected(self, name: str) -> tuple[Response, int] | None:
        with self._lock:
            self.calls.append(name)
            if name != "webhook":
                self._metered[self._month()] += 1
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
        if self._over_allowance():
            return jsonify(code=ALLOWANCE_CODE, message="企业本月 API 调用量已超过限制"), 403
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

    def _oapi_refusal(self, name: str) -> Response | None:
        """oapi's answer to an injected failure or a token it did not give (HTTP 200 with an errcode), or None."""
        with self._lock:
            self.calls.append(name)
            self._metered[self._month()] += 1
            failures = self._oapi_failures[name]
            if failures:
                after, errcode = failures[0]
                if after == 0:
                    failures.pop(0)
                    return jsonify(errcode=errcode, errmsg=f"injected {errcode}")
                failures[0] = (after - 1, errcode)
            if not self._token_valid(request.args.get("access_token", "")):
                return jsonify(errcode=INVALID_TOKEN, errmsg="不合法的access_token")
        return None

    def _department_get(self) -> Response:
        refused = self._oapi_refusal("department_get")
        if refused:
            return refused
        dept_id = (request.get_json(silent=True) or {}).get("dept_id")
        with self._lock:
            department = self.departments.get(dept_id)
            if department is None:
                return jsonify(errcode=NO_DEPARTMENT, errmsg="部门不存在")
            return jsonify(errcode=0, errmsg="ok", result=dict(department))

    def _listsub(self) -> Response:
        refused = self._oapi_refusal("listsub")
        if refused:
            return refused
        dept_id = (request.get_json(silent=True) or {}).get("dept_id", ROOT_DEPT_ID)
        with self._lock:
            if dept_id not in self.departments:
                return jsonify(errcode=NO_DEPARTMENT, errmsg="部门不存在")
            children = [dict(d) for d in self.departments.values() if d.get("parent_id") == dept_id]
        return jsonify(errcode=0, errmsg="ok", result=children)

    def _user_list(self) -> Response:
        refused = self._oapi_refusal("user_list")
        if refused:
            return refused
        body = request.get_json(silent=True) or {}
        dept_id, cursor, size = body.get("dept_id"), body.get("cursor"), body.get("size")
        if not isinstance(cursor, int) or cursor < 0 or not isinstance(size, int) or not 1 <= size <= PAGE_SIZE:
            return jsonify(errcode=INVALID_PARAMETER, errmsg="无效的参数：cursor 须 ≥ 0，size 须为 1-100")
        with self._lock:
            if dept_id not in self.departments:
                return jsonify(errcode=NO_DEPARTMENT, errmsg="部门不存在")
            listed = [userid for userid, profile in self.profiles.items() if dept_id in profile["dept_id_list"]]
            page = listed[cursor : cursor + min(size, self.settings.user_page_limit)]
            users = [{"userid": u, "name": self.members[u], **self.profiles[u]} for u in page]
        more = cursor + len(page) < len(listed)
        result = {"has_more": more, "list": users} | ({"next_cursor": cursor + len(page)} if more else {})
        return jsonify(errcode=0, errmsg="ok", result=result)

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

    def _work_notice(self) -> tuple[Response, int] | Response:
        """asyncsend_v2: the same content reaches a member at most once a (China) day; repeats vanish silently."""
        failed = self._injected("work_notice")
        if failed:
            return failed
        if not self._token_valid(request.args.get("access_token", "")):
            return jsonify(errcode=40014, errmsg="不合法的access_token")
        if self._over_allowance():
            return jsonify(errcode=ALLOWANCE_ERRCODE, errmsg="您的企业本月api调用量已超过限制")
        body = request.get_json(silent=True) or {}
        user_ids = [userid for userid in str(body.get("userid_list") or "").split(",") if userid]
        msg = body.get("msg") or {}
        if body.get("agent_id") != self.settings.agent_id or not self.settings.agent_id:
            return jsonify(errcode=400035, errmsg="agent_id 不存在")
        if not user_ids or len(user_ids) > MAX_WORK_NOTICE_USERS or msg.get("msgtype") != "text":
            return jsonify(errcode=40035, errmsg="userid_list 须为 1-100 个，msgtype 须为 text")
        text = msg["text"]["content"]
        day = f"{datetime.fromtimestamp(self.clock(), ZONE):%Y-%m-%d}"
        with self._lock:
            for userid in user_ids:
                if userid in self.members and (userid, text, day) not in self._noticed:
                    self._noticed.add((userid, text, day))
                    self._inboxes[userid].append({"via": "work_notice", "text": text})
        return jsonify(errcode=0, errmsg="ok", task_id=next(self._msg_ids), request_id=secrets.token_hex(8))

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
    handle = serve_on_loopback(emulator.app, "dingtalk-emulator", host, port)
    emulator.url = handle.url
    if emulator.settings.stream:
        emulator.gateway.start(host)
    return EmulatorHandle(
        handle.url, handle.server, handle.thread, emulator.gateway if emulator.settings.stream else None
    )
