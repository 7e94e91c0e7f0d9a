"""A local WeCom (企业微信) server: the API endpoints the bot calls, with WeCom's errors, and members who talk back."""

from __future__ import annotations

import collections
import itertools
import json
import mimetypes
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask import Flask, Response, abort, jsonify, request

from bot.platforms.emulator_server import GeneratedFile, ServerHandle, serve_on_loopback
from bot.platforms.wecom.emulator_members import MemberPlayer

# WeCom's own sample app (developer docs and SDK samples): demo defaults that every WeCom library can decrypt.
SAMPLE_TOKEN = "QDG6eK"
SAMPLE_AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
SAMPLE_CORP_ID = "wx5823bf96d3bd56c7"

MEDIA_TTL = 3 * 24 * 3600
RESPONSE_CODE_TTL = 72 * 3600
MAX_DUPLICATE_INTERVAL = 4 * 3600
MAX_TEXT_BYTES = 2048
MEDIA_LIMITS = {"image": 10 * 2**20, "voice": 2 * 2**20, "video": 10 * 2**20, "file": 20 * 2**20}
INTERACTIVE_CARDS = {"button_interaction", "vote_interaction", "multiple_interaction"}
CARD_TYPES = INTERACTIVE_CARDS | {"text_notice", "news_notice"}
TASK_ID = re.compile(r"[0-9A-Za-z_\-@]{1,128}")
INJECTED_ERRMSG = {
    -1: "system busy",
    40001: "invalid credential",
    40014: "invalid access_token",
    42001: "access_token expired",
    45009: "api freq out of limit",
    45033: "api concurrent out of limit",
    60020: "not allow to access from your ip",
}


@dataclass
class EmulatorSettings:
    """One self-built app of one corp, as the emulator plays it."""

    corp_id: str
    secret: str
    agent_id: int
    token: str
    encoding_aes_key: str
    callback_url: str | None = None
    rate_limit_per_minute: int = 0
    token_ttl: int = 7200


class ApiError(Exception):
    """A WeCom error answer: errcode, errmsg and any extra fields (invaliduser ...)."""

    def __init__(self, errcode: int, errmsg: str, **extra: str) -> None:
        super().__init__(errmsg)
        self.errcode, self.errmsg, self.extra = errcode, errmsg, extra


class WeComEmulator(MemberPlayer):
    """WeCom's API for one app over seeded members and departments; members can post to the bot's callback."""

    def __init__(self, settings: EmulatorSettings, clock: Callable[[], float] = time.time) -> None:
        self.settings, self.clock = settings, clock
        self.members: dict[str, dict] = {}
        self.departments: list[dict] = []
        self.sent: list[dict] = []
        self.uploads: dict[str, tuple[str, bytes | GeneratedFile]] = {}
        self.card_updates: list[dict] = []
        self.calls: list[tuple[str, str]] = []
        self.callback_errors: list[str] = []
        self.last_echo: str | None = None
        self._inboxes: dict[str, list[dict]] = collections.defaultdict(list)
        self._tokens: dict[str, float] = {}
        self._failures: dict[str, list[int]] = collections.defaultdict(list)
        self._send_times: collections.deque[float] = collections.deque()
        self._delivered_at: dict[str, float] = {}
        self._media_created: dict[str, float] = {}
        self._cards: dict[str, dict] = {}
        self._response_codes: dict[str, dict] = {}
        self._msg_ids = itertools.count(7_410_000_000_000_000_001)
        self._last_callback: tuple[str, dict[str, str], bytes] | None = None
        self._lock = threading.RLock()
        self.app = self._build_app()

    # --- seeding, inspection and fault injection --------------------------------------------------------------

    def add_department(self, department_id: int, name: str, parentid: int = 0, order: int = 0) -> dict:
        """Seed a department; WeCom's root is id 1 with parentid 0."""
        department = {"id": department_id, "name": name, "parentid": parentid, "order": order}
        with self._lock:
            self.departments.append(department)
        return department

    def add_member(
        self, userid: str, name: str, department: list[int] | tuple[int, ...] = (1,), mobile: str = "", **fields: Any
    ) -> dict:
        """Seed a member (status 1 = active unless given); extra fields such as position are kept as given."""
        member = {"userid": userid, "name": name, "department": list(department), "mobile": mobile}
        member |= {"position": "", "status": 1} | fields
        with self._lock:
            self.members[userid] = member
        return member

    def inbox(self, userid: str) -> list[dict]:
        """The messages delivered to one member so far, oldest first."""
        with self._lock:
            return list(self._inboxes[self._canonical(userid) or userid])

    def expire_tokens(self) -> None:
        """Make every issued access_token expired: the next call with one gets 42001."""
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, float("-inf"))

    def fail_next(self, path: str, errcode: int, times: int = 1) -> None:
        """Answer the next `times` calls of an endpoint ("message/send" or "/cgi-bin/message/send") with errcode."""
        with self._lock:
            self._failures[path.removeprefix("/").removeprefix("cgi-bin/")].extend([errcode] * times)

    def put_media(self, data: bytes | GeneratedFile, name: str) -> str:
        """Store a file as temporary media (what a member sent, or an upload) and return its media_id."""
        media_id = "3" + secrets.token_urlsafe(48)
        with self._lock:
            self.uploads[media_id] = (name, data)
            self._media_created[media_id] = self.clock()
        return media_id

    # --- the HTTP API under /cgi-bin/ -------------------------------------------------------------------------

    def _build_app(self) -> Flask:
        app = Flask(__name__)
        app.json.ensure_ascii = False
        app.json.sort_keys = False
        routes: dict[tuple[str, str], Callable[[], dict | Response]] = {
            ("GET", "gettoken"): self._gettoken,
            ("POST", "message/send"): self._message_send,
            ("POST", "message/update_template_card"): self._update_template_card,
            ("POST", "media/upload"): self._media_upload,
            ("GET", "media/get"): self._media_get,
            ("GET", "department/list"): self._department_list,
            ("GET", "user/list"): lambda: self._user_list(simple=False),
            ("GET", "user/simplelist"): lambda: self._user_list(simple=True),
        }

        @app.route("/cgi-bin/<path:endpoint>", methods=["GET", "POST"])
        def api(endpoint: str):
            with self._lock:
                self.calls.append((request.method, request.path))
                handler = routes.get((request.method, endpoint))
                if handler is None:
                    abort(404)
                try:
                    if self._failures[endpoint]:
                        code = self._failures[endpoint].pop(0)
                        raise ApiError(code, INJECTED_ERRMSG.get(code, "injected error"))
                    if endpoint != "gettoken":
                        self._check_token()
                    result = handler()
                except ApiError as error:
                    return jsonify({"errcode": error.errcode, "errmsg": self._errmsg(error), **error.extra})
                return result if isinstance(result, Response) else jsonify({"errcode": 0, "errmsg": "ok", **result})

        return app

    def _errmsg(self, error: ApiError) -> str:
        hint = f"{int(self.clock())}{secrets.randbelow(10**9):09d}"
        return (
            f"{error.errmsg}, hint: [{hint}], from ip: {request.remote_addr}, "
            f"more info at https://open.work.weixin.qq.com/devtool/query?e={error.errcode}"
        )

    def _gettoken(self) -> dict:
        corpid, secret = request.args.get("corpid"), request.args.get("corpsecret")
        if not corpid:
            raise ApiError(41002, "corpid missing")
        if not secret:
            raise ApiError(41004, "corpsecret missing")
        if corpid != self.settings.corp_id:
            raise ApiError(40013, "invalid corpid")
        if secret != self.settings.secret:
            raise ApiError(40001, "invalid credential")
        now = self.clock()
        live = [(expires_at, token) for token, expires_at in self._tokens.items() if expires_at > now]
        if live:  # WeCom hands out the same token until it expires
            expires_at, token = max(live)
        else:
            token, expires_at = secrets.token_urlsafe(96), now + self.settings.token_ttl
            self._tokens[token] = expires_at
        return {"access_token": token, "expires_in": int(expires_at - now)}

    def _check_token(self) -> None:
        token = request.args.get("access_token")
        if not token:
            raise ApiError(41001, "access_token missing")
        if token not in self._tokens:
            raise ApiError(40014, "invalid access_token")
        if self.clock() >= self._tokens[token]:
            raise ApiError(42001, "access_token expired")

    def _json_body(self) -> dict:
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            raise ApiError(47001, "data format error")
        self._check_agent(body)
        return body

    def _check_agent(self, body: dict) -> None:
        if body.get("agentid") in (None, ""):
            raise ApiError(41011, "agentid missing")
        if str(body["agentid"]) != str(self.settings.agent_id):
            raise ApiError(40056, "invalid agentid")

    def _message_send(self) -> dict:
        self._count_send()
        body = self._json_body()
        msgtype = body.get("msgtype")
        self._check_content(body, msgtype)
        users, parties, tags = (_split(body.get(key)) for key in ("touser", "toparty", "totag"))
        if len(users) > 1000:
            raise ApiError(40032, "invalid userid list size: at most 1000")
        if len(parties) > 100:
            raise ApiError(82002, "invalid partyid list size: at most 100")
        if len(tags) > 100:
            raise ApiError(82003, "invalid tagid list size: at most 100")
        recipients, invalid = self._resolve(users, parties, tags)
        if not recipients:
            raise ApiError(81013, "user & party & tag all invalid", **invalid)
        reply = {**invalid, "msgid": secrets.token_urlsafe(24)}
        fingerprint = json.dumps(
            {k: v for k, v in body.items() if k not in ("enable_duplicate_check", "duplicate_check_interval")},
            sort_keys=True,
            ensure_ascii=False,
        )
        if self._is_duplicate(body, fingerprint):
            self.sent.append(body)
            return reply
        card = body.get("template_card") if msgtype == "template_card" else None
        # WeCom documents no code for a reused task_id or response_code: 40058 (invalid parameter) is our choice.
        if card and card.get("task_id") in self._cards:
            raise ApiError(40058, f"task_id {card['task_id']} already used by this app")
        self.sent.append(body)
        self._delivered_at[fingerprint] = self.clock()
        if card:
            reply |= self._register_card(card, recipients)
        message = {"msgtype": msgtype, msgtype: _truncated(msgtype, body.get(msgtype)), "msgid": reply["msgid"]}
        for userid in recipients:
            self._inboxes[userid].append(message)
        return reply

    def _count_send(self) -> None:
        limit, now = self.settings.rate_limit_per_minute, self.clock()
        if limit <= 0:
            return
        self._send_times.append(now)
        while self._send_times[0] <= now - 60:
            self._send_times.popleft()
        if len(self._send_times) > limit:
            raise ApiError(45009, "api freq out of limit")

    def _check_content(self, body: dict, msgtype: Any) -> None:
        if not msgtype or not isinstance(msgtype, str):
            raise ApiError(40008, "invalid message type")
        content = body.get(msgtype)
        if msgtype in ("text", "markdown") and not (isinstance(content, dict) and content.get("content")):
            raise ApiError(44004, "empty content")
        if msgtype in MEDIA_LIMITS:
            if not (isinstance(content, dict) and content.get("media_id")):
                raise ApiError(41006, "media_id missing")
            self._media(content["media_id"])
        if msgtype == "template_card":
            if not isinstance(content, dict) or content.get("card_type") not in CARD_TYPES:
                raise ApiError(40058, "invalid template_card.card_type")
            task_id = content.get("task_id")
            if task_id is None and (content["card_type"] in INTERACTIVE_CARDS or content.get("action_menu")):
                raise ApiError(40058, "template_card.task_id missing")
            if task_id is not None and not TASK_ID.fullmatch(str(task_id)):
                raise ApiError(40058, "invalid template_card.task_id")

    def _resolve(self, users: list[str], parties: list[str], tags: list[str]) -> tuple[list[str], dict[str, str]]:
        """Valid recipients in order, and WeCom's invaliduser/invalidparty/invalidtag for the rest."""
        active = {u.lower(): u for u, m in self.members.items() if m["status"] == 1}
        if users == ["@all"]:  # WeCom then ignores toparty and totag
            return list(active.values()), {}
        found = dict.fromkeys(active[u.lower()] for u in users if u.lower() in active)
        bad_users = [u.lower() for u in users if u.lower() not in active]
        bad_parties = []
        for party in parties:
            subtree = self._subtree(int(party)) if _ascii_number(party) else set()
            if not subtree:
                bad_parties.append(party)
            found |= dict.fromkeys(u for u in active.values() if subtree & set(self.members[u]["department"]))
        invalid = {"invaliduser": bad_users, "invalidparty": bad_parties, "invalidtag": tags}
        return list(found), {key: "|".join(ids) for key, ids in invalid.items() if ids}

    def _is_duplicate(self, body: dict, fingerprint: str) -> bool:
        if str(body.get("enable_duplicate_check", 0)) not in ("1", "True"):
            return False
        given = str(body.get("duplicate_check_interval") or 1800)
        if not _ascii_number(given):
            raise ApiError(40058, "invalid duplicate_check_interval")
        interval = min(int(given), MAX_DUPLICATE_INTERVAL)
        return fingerprint in self._delivered_at and self.clock() - self._delivered_at[fingerprint] < interval

    def _register_card(self, card: dict, recipients: list[str]) -> dict:
        if card.get("task_id") is None:
            return {}
        self._cards[card["task_id"]] = {"card_type": card["card_type"], "recipients": set(recipients), "closed": set()}
        if card["card_type"] not in INTERACTIVE_CARDS:
            return {}
        return {"response_code": self._issue_response_code(card["task_id"])}

    def _issue_response_code(self, task_id: str, code: str | None = None) -> str:
        code = code or secrets.token_urlsafe(32)
        self._response_codes[code] = {"task_id": task_id, "issued": self.clock(), "used": False}
        return code

    def _update_template_card(self) -> dict:
        body = self._json_body()
        entry = self._response_codes.get(body.get("response_code") or "")
        if entry is None or entry["used"] or self.clock() - entry["issued"] > RESPONSE_CODE_TTL:
            raise ApiError(40058, "invalid response_code: unknown, expired or already used")
        if not isinstance(body.get("button"), dict) and not isinstance(body.get("template_card"), dict):
            raise ApiError(40058, "button or template_card required")
        entry["used"] = True
        card = self._cards[entry["task_id"]]
        named = {self._canonical(u) for u in body.get("userids") or []}
        card["closed"] |= card["recipients"] if body.get("atall") or not named else card["recipients"] & named
        self.card_updates.append(body)
        return {}

    def _media_upload(self) -> dict:
        media_type = request.args.get("type")
        if media_type not in MEDIA_LIMITS:
            raise ApiError(40005, "invalid media type")
        part = request.files.get("media")
        data = part.read() if part else b""
        if not data:
            raise ApiError(44001, "empty media data")
        if len(data) < 5:
            raise ApiError(40006, "invalid file size: at least 5 bytes")
        if len(data) > MEDIA_LIMITS[media_type]:
            raise ApiError(45001, "media size out of limit")
        media_id = self.put_media(data, part.filename or "")
        return {"type": media_type, "media_id": media_id, "created_at": str(int(self.clock()))}

    def _media(self, media_id: Any) -> tuple[str, bytes | GeneratedFile]:
        if media_id not in self.uploads or self.clock() - self._media_created[media_id] > MEDIA_TTL:
            raise ApiError(40007, "invalid media_id")
        return self.uploads[media_id]

    def _media_get(self) -> Response:
        name, data = self._media(request.args.get("media_id"))
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if isinstance(data, GeneratedFile):
            response = Response(data.chunks(), mimetype=mimetype)
            if data.declared:
                response.headers["Content-Length"] = str(data.size)
        else:
            response = Response(data, mimetype=mimetype)
        quoted = quote(name)
        response.headers["Content-Disposition"] = f"attachment; filename=\"{quoted}\"; filename*=UTF-8''{quoted}"
        return response

    def _department_list(self) -> dict:
        wanted = request.args.get("id")
        if not wanted:
            return {"department": [dict(d) for d in self.departments]}
        subtree = self._subtree(int(wanted)) if _ascii_number(wanted) else set()
        if not subtree:
            raise ApiError(60003, "department not found")
        return {"department": [dict(d) for d in self.departments if d["id"] in subtree]}

    def _user_list(self, simple: bool) -> dict:
        wanted = request.args.get("department_id") or ""
        if not _ascii_number(wanted):
            raise ApiError(60003, "department not found")
        subtree = self._subtree(int(wanted))
        if request.args.get("fetch_child") != "1":
            subtree &= {int(wanted)}
        if not subtree:
            raise ApiError(60003, "department not found")
        members = [m for m in self.members.values() if subtree & set(m["department"])]
        fields = ("userid", "name", "department") if simple else None
        return {"userlist": [{f: m[f] for f in fields} if fields else dict(m) for m in members]}

    def _subtree(self, root: int) -> set[int]:
        """The department and all below it; empty when it does not exist."""
        found = {root} if any(d["id"] == root for d in self.departments) else set()
        frontier = list(found)
        while frontier:
            parent = frontier.pop()
            children = {d["id"] for d in self.departments if d["parentid"] == parent} - found
            found |= children
            frontier.extend(children)
        return found

    def _canonical(self, userid: str) -> str | None:
        """The seeded spelling of a userid; WeCom compares userids case-insensitively."""
        return next((u for u in self.members if u.lower() == userid.lower()), None)


def _ascii_number(text: str) -> bool:
    """Digits 0-9 only, as WeCom reads ids and intervals ("²³".isdigit() is True, yet int() refuses it)."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def _split(ids: Any) -> list[str]:
    return [part.strip() for part in str(ids or "").split("|") if part.strip()]


def _truncated(msgtype: str, content: Any) -> Any:
    """Text and markdown content as a member sees it: WeCom cuts it at 2048 bytes."""
    if msgtype not in ("text", "markdown"):
        return content
    cut = content["content"].encode()[:MAX_TEXT_BYTES].decode(errors="ignore")
    return {**content, "content": cut}


def serve(emulator: WeComEmulator, host: str = "127.0.0.1", port: int = 0) -> ServerHandle:
    """Serve the emulator's API on a loopback address in a daemon thread; port 0 picks a free port."""
    handle = serve_on_loopback(emulator.app, "wecom-emulator", host, port)
    handle.url += "/cgi-bin/"
    return handle
