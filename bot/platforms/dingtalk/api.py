"""The DingTalk HTTP client: the access token (shared by every process), robot batch send, sessionWebhook posts,
and the old API host's (oapi) calls such as the contacts."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any, Protocol
from urllib.parse import urlencode

import requests

log = logging.getLogger(__name__)

# Connect and read timeouts in seconds: a slow DingTalk must not stall the delivery loop.
TIMEOUT = (5, 15)
TOKEN_PATH = "/v1.0/oauth2/accessToken"
BATCH_SEND_PATH = "/v1.0/robot/oToMessages/batchSend"
TOKEN_HEADER = "x-acs-dingtalk-access-token"
# Interactive cards: create one and deliver it (POST), and change its data (PUT).
CARD_CREATE_PATH = "/v1.0/card/instances/createAndDeliver"
CARD_UPDATE_PATH = "/v1.0/card/instances"
# The OpenAPI's answer to a missing, expired or revoked access token.
TOKEN_ERRORS = frozenset({"InvalidAuthentication"})
# oapi's errcodes for a token it does not take (DingTalk's global error codes): 40014 不合法的access_token,
# 42001 access_token超时, 40001 获取access_token时Secret错误或者access_token无效.
OAPI_TOKEN_ERRORS = frozenset({"40014", "42001", "40001"})
# oapi's errcode that says "look at sub_code" (an authorisation failure such as a missing permission).
OAPI_SEE_SUB_CODE = 88


class Storage(Protocol):
    """A cache every process shares (see wecom.token_store): get, set with a time to live, delete."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def set(self, key: str, value: Any, ttl: int | None = None) -> None: ...

    def delete(self, key: str) -> None: ...


class NetworkError(Exception):
    """DingTalk could not be reached, or did not answer in time."""


class DingTalkApiError(Exception):
    """DingTalk answered with an error: its code ("InvalidAuthentication", "300001" ...) and the HTTP status."""

    def __init__(self, what: str, code: str, message: str, status: int) -> None:
        super().__init__(f"{what}: HTTP {status}, {code}: {message}")
        self.what, self.code, self.status = what, code, status


class DingTalkClient:
    """Calls DingTalk's OpenAPI on `api_base_url` with an access token kept in the shared `storage`."""

    def __init__(
        self,
        app_key: str,
        app_secret: str,
        storage: Storage,
        api_base_url: str = "https://api.dingtalk.com",
        timeout: tuple[float, float] = TIMEOUT,
        oapi_base_url: str = "https://oapi.dingtalk.com",
    ) -> None:
        self.app_key, self.app_secret, self.storage, self.timeout = app_key, app_secret, storage, timeout
        self.api_base_url = api_base_url.rstrip("/")
        self.oapi_base_url = oapi_base_url.rstrip("/")
        self.http = requests.Session()

    @property
    def access_token_key(self) -> str:
        """The storage key: the app and a digest of host and secret, so no part of the secret is stored."""
        digest = hashlib.sha256(f"{self.api_base_url}\n{self.app_secret}".encode()).hexdigest()[:16]
        return f"{self.app_key}_{digest}_access_token"

    def access_token(self) -> str:
        """The shared token; the storage drops it before it expires, and then a new one is fetched."""
        return self.storage.get(self.access_token_key) or self.fetch_access_token()

    def fetch_access_token(self) -> str:
        """Ask the token endpoint and put the token in the shared storage."""
        log.info("fetching a DingTalk access token")
        body = {"appKey": self.app_key, "appSecret": self.app_secret}
        result = self._post("oauth2/accessToken", self.api_base_url + TOKEN_PATH, body, {})
        token = result.get("accessToken")
        if not isinstance(token, str) or not token:
            raise DingTalkApiError("oauth2/accessToken", "NoToken", "the answer holds no accessToken", 200)
        self.storage.set(self.access_token_key, token, int(result.get("expireIn") or 7200))
        return token

    def batch_send(self, robot_code: str, user_ids: list[str], msg_key: str, msg_param: dict) -> dict[str, Any]:
        """The robot's one-to-one batch send; the answer lists invalidStaffIdList and flowControlledStaffIdList."""
        body = {
            "robotCode": robot_code,
            "userIds": user_ids,
            "msgKey": msg_key,
            "msgParam": json.dumps(msg_param, ensure_ascii=False),
        }
        url = self.api_base_url + BATCH_SEND_PATH
        try:
            return self._post("robot/oToMessages/batchSend", url, body, {TOKEN_HEADER: self.access_token()})
        except DingTalkApiError as error:
            if error.code not in TOKEN_ERRORS:
                raise
            log.info("DingTalk refused the access token; fetching a new one")
        return self._post("robot/oToMessages/batchSend", url, body, {TOKEN_HEADER: self.fetch_access_token()})

    def post_webhook(self, url: str, message: dict[str, Any]) -> dict[str, Any]:
        """Post a robot message to a conversation's sessionWebhook; DingTalk's errcode other than 0 raises."""
        result = self._post("sessionWebhook", url, message, {})
        errcode = result.get("errcode", 0)
        if errcode != 0:
            raise DingTalkApiError("sessionWebhook", str(errcode), str(result.get("errmsg") or ""), 200)
        return result

    def create_and_deliver_card(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create an interactive card and deliver it to the spaces its openSpaceId names; DingTalk's answer."""
        return self._with_token("card/createAndDeliver", CARD_CREATE_PATH, body, "POST")

    def update_card(self, body: dict[str, Any]) -> dict[str, Any]:
        """Change the data of a card delivered before (by its outTrackId)."""
        return self._with_token("card/update", CARD_UPDATE_PATH, body, "PUT")

    def _with_token(self, what: str, path: str, body: dict[str, Any], method: str) -> dict[str, Any]:
        """One OpenAPI call with the shared token; a token DingTalk refuses is fetched again, once."""
        url = self.api_base_url + path
        try:
            return self._post(what, url, body, {TOKEN_HEADER: self.access_token()}, method=method)
        except DingTalkApiError as error:
            if error.code not in TOKEN_ERRORS:
                raise
            log.info("DingTalk refused the access token; fetching a new one")
        return self._post(what, url, body, {TOKEN_HEADER: self.fetch_access_token()}, method=method)

    def oapi(self, path: str, body: dict[str, Any]) -> Any:
        """POST to the oapi host with the access token as a query parameter; its `result`, or DingTalkApiError for
        an errcode other than 0. A token oapi refuses is fetched again, once."""
        try:
            return self._oapi_call(path, body, self.access_token())
        except DingTalkApiError as error:
            if error.code not in OAPI_TOKEN_ERRORS:
                raise
            log.info("DingTalk's oapi refused the access token; fetching a new one")
        return self._oapi_call(path, body, self.fetch_access_token())

    def _oapi_call(self, path: str, body: dict[str, Any], token: str) -> Any:
        what = path.removeprefix("/topapi/")
        url = f"{self.oapi_base_url}{path}?{urlencode({'access_token': token})}"
        answer = self._post(what, url, body, {})
        errcode = answer.get("errcode", 0)
        if errcode != 0:
            code = answer.get("sub_code") if errcode == OAPI_SEE_SUB_CODE and answer.get("sub_code") else errcode
            message = str(answer.get("sub_msg") or answer.get("errmsg") or "")
            raise DingTalkApiError(what, str(code), message, 200)
        return answer.get("result")

    def _post(
        self, what: str, url: str, body: dict[str, Any], headers: dict[str, str], method: str = "POST"
    ) -> dict[str, Any]:
        """POST (or PUT) JSON and read JSON back; an HTTP error becomes DingTalkApiError with DingTalk's code."""
        try:
            response = self.http.request(method, url, json=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as error:
            raise NetworkError(f"{what}: {type(error).__name__}") from None
        try:
            result = response.json()
        except ValueError:
            result = None
        if not isinstance(result, dict):
            raise DingTalkApiError(what, f"HTTP{response.status_code}", "the answer is not JSON", response.status_code)
        if response.status_code >= 400:
            code = str(result.get("code") or f"HTTP{response.status_code}")
            raise DingTalkApiError(what, code, str(result.get("message") or ""), response.status_code)
        return result
