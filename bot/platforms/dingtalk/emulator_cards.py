"""The emulator's interactive cards: createAndDeliver into a member's robot chat, the card update, the HTTP callback
registration, and members clicking (pushed on the Stream gateway, or POSTed signed as HTTP callbacks are)."""

from __future__ import annotations

import json
import secrets
from typing import Any

import requests
from flask import Response, jsonify, request

from bot.platforms.dingtalk.api import TOKEN_HEADER
from bot.platforms.dingtalk.card_callback import SIGNATURE_HEADER, TIMESTAMP_HEADER, card_signature
from bot.platforms.dingtalk.cards import CARD_TOPIC, MAX_PARAM_BYTES

CALLBACK_TIMEOUT = 10
ROBOT_SPACE = "dtv1.card//IM_ROBOT."


def refused(code: str, message: str, status: int = 400) -> tuple[Response, int]:
    """DingTalk's error answer: HTTP status, code and message."""
    return jsonify(code=code, message=message), status


class CardPlayer:
    """The card half of DingTalkEmulator, whose state (settings, clock, members, inboxes, tokens, lock) it uses;
    its own: `cards` (outTrackId -> the card), `card_updates` (the PUT bodies), `card_routes` (route key -> URL,
    secret)."""

    def register_card_route(self, route_key: str, url: str, secret: str) -> None:
        """Register an HTTP card callback, as /v1.0/card/callbacks/register does."""
        with self._lock:
            self.card_routes[route_key] = (url, secret)

    def card_click_payload(self, userid: str, out_track_id: str, value: str) -> dict[str, Any]:
        """A member clicks the button of `value` on a card they received: the callback as DingTalk carries it (the
        data of a Stream frame on /v1.0/card/instances/callback, or the body of an HTTP callback)."""
        with self._lock:
            card = self.cards.get(out_track_id)
            if card is None or card["user"] != userid:
                raise ValueError(f"{userid} never received a card {out_track_id!r}")
            if card["params"].get("answered") == "true":
                raise ValueError(f"card {out_track_id!r} was already answered: it has no buttons left")
            if value not in dict(card["options"]):
                raise ValueError(f"card {out_track_id!r} has no button {value!r}")
        content = {"cardPrivateData": {"actionIds": ["option"], "params": {"value": value}}}
        return {
            "type": "actionCallback",
            "outTrackId": out_track_id,
            "corpId": self.settings.corp_id,
            "userId": userid,
            "userIdType": 1,
            "spaceType": "IM_ROBOT",
            "spaceId": userid,
            "content": json.dumps(content, ensure_ascii=False),
        }

    def member_clicks_card(
        self, userid: str, out_track_id: str, value: str, signature: str | None = None
    ) -> requests.Response | str:
        """A member clicks a card. One created with callbackType STREAM, in stream mode: the click is pushed on the
        gateway's card topic and its frame's messageId comes back. One created with HTTP: the click is POSTed to its
        route's URL, signed with the route's secret (unless `signature` is given)."""
        payload = self.card_click_payload(userid, out_track_id, value)
        with self._lock:
            card = self.cards[out_track_id]
            route = self.card_routes.get(card["route_key"] or "")
        if self.settings.stream and card["callback_type"] == "STREAM":
            return self.gateway.push(payload, CARD_TOPIC)
        if route is None:
            raise ValueError(f"card {out_track_id!r} has no registered HTTP callback route (a Stream card?)")
        url, secret = route
        timestamp = str(int(self.clock() * 1000))
        headers = {
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature or card_signature(timestamp, secret),
            "Content-Type": "application/json; charset=utf-8",
        }
        body = json.dumps(payload, ensure_ascii=False).encode()
        with self._lock:
            self._last_card_click = (url, headers, body)
        return requests.post(url, data=body, headers=headers, timeout=CALLBACK_TIMEOUT)

    def resend_last_card_click(self) -> requests.Response:
        """Deliver the last HTTP card click again, byte for byte."""
        if self._last_card_click is None:
            raise ValueError("no card was clicked yet")
        url, headers, body = self._last_card_click
        return requests.post(url, data=body, headers=headers, timeout=CALLBACK_TIMEOUT)

    # --- the API ----------------------------------------------------------------------------------------------

    def _card_token_refusal(self, name: str) -> tuple[Response, int] | None:
        failed = self._injected(name)
        if failed:
            return failed
        with self._lock:
            if self._tokens.get(request.headers.get(TOKEN_HEADER, ""), 0) <= self.clock():
                return refused("InvalidAuthentication", "不合法的access_token", 401)
        return None

    def _register_card_callback(self) -> tuple[Response, int] | Response:
        refusal = self._card_token_refusal("card_register")
        if refusal:
            return refusal
        body = request.get_json(silent=True) or {}
        route_key, url = body.get("callbackRouteKey"), body.get("callbackUrl")
        if not route_key or not url:
            return refused("param.empty", "callbackRouteKey 和 callbackUrl 不能为空")
        with self._lock:
            if route_key in self.card_routes and not body.get("forceUpdate"):
                url, secret = self.card_routes[route_key]
                return jsonify(success=True, result={"callbackUrl": url, "apiSecret": secret})
        self.register_card_route(route_key, url, body.get("apiSecret") or "")
        return jsonify(success=True, result={"callbackUrl": url, "apiSecret": body.get("apiSecret") or ""})

    def _create_and_deliver(self) -> tuple[Response, int] | Response:
        refusal = self._card_token_refusal("card")
        if refusal:
            return refusal
        body = request.get_json(silent=True) or {}
        track_id, space = body.get("outTrackId") or "", body.get("openSpaceId") or ""
        params = (body.get("cardData") or {}).get("cardParamMap") or {}
        userid = space.removeprefix(ROBOT_SPACE)
        problem = self._card_problem(body, track_id, space, params)
        if problem:
            return refused(*problem)
        with self._lock:
            if userid not in self.members:
                return refused("param.userIdNotExist", "用户user不存在")
            if track_id in self.cards:
                return refused("param.cardAlreadyExist", "卡片已经存在")
            options = [(o["value"], o["label"]) for o in json.loads(params.get("options") or "[]")]
            self.cards[track_id] = {
                "user": userid,
                "params": dict(params),
                "options": options,
                "route_key": body.get("callbackRouteKey") if body.get("callbackType") == "HTTP" else None,
                "callback_type": body.get("callbackType"),
            }
            text = "\n".join(part for part in (params.get("title"), params.get("content")) if part)
            self._inboxes[userid].append({"via": "card", "text": text, "options": options, "out_track_id": track_id})
        delivered = {"spaceType": "IM_ROBOT", "spaceId": userid, "success": True, "carrierId": secrets.token_hex(8)}
        return jsonify(success=True, result={"outTrackId": track_id, "deliverResults": [delivered]})

    def _card_problem(self, body: dict, track_id: str, space: str, params: dict) -> tuple[str, str] | None:
        """What DingTalk would refuse in a createAndDeliver body, as (code, message)."""
        template = body.get("cardTemplateId")
        if not template:
            return "param.cardTemplateIdEmpty", "卡片模板Id为空"
        if template != self.settings.card_template_id:
            return "param.templateNotExist", "模板不存在"
        if not track_id:
            return "param.outTrackIdEmpty", "业务标识outTrackId为空"
        if not space.startswith(ROBOT_SPACE) or ";" in space or space == ROBOT_SPACE:
            return "param.openSpaceIdInvalid", "openSpaceId不符合规范（模拟器只投放机器人单聊）"
        deliver = body.get("imRobotOpenDeliverModel") or {}
        if deliver.get("spaceType") != "IM_ROBOT" or deliver.get("robotCode") != self.settings.robot_code:
            return "param.openDeliverModelError", "场域投放模型格式错误"
        if body.get("callbackType") == "HTTP" and not body.get("callbackRouteKey"):
            return "param.invalid", "HTTP 回调须有 callbackRouteKey"
        if not params or not all(isinstance(v, str) and len(v.encode()) <= MAX_PARAM_BYTES for v in params.values()):
            return "param.invalid", "cardParamMap 的值须为不超过 1KB 的字符串"
        return None

    def _update_card(self) -> tuple[Response, int] | Response:
        refusal = self._card_token_refusal("card_update")
        if refusal:
            return refusal
        body = request.get_json(silent=True) or {}
        params = (body.get("cardData") or {}).get("cardParamMap") or {}
        with self._lock:
            card = self.cards.get(body.get("outTrackId") or "")
            if card is None:
                return refused("param.cardNotExist", "卡片不存在")
            by_key = (body.get("cardUpdateOptions") or {}).get("updateCardDataByKey")
            card["params"] = (card["params"] | params) if by_key else dict(params)
            self.card_updates.append(body)
        return jsonify(success=True, result=True)
