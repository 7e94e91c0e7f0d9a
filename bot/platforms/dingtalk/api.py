"""The DingTalk HTTP client: the access token (shared by every process), robot batch send, sessionWebhook posts,
work notifications, media uploads and the files people send the robot, and the old API host's (oapi) calls such as
the contacts; every call it makes is counted by its meter (DingTalk meters an organisation's calls) and, failed or
not, by its counter (the operator's totals on /metrics)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any, Protocol

import requests

from bot.platforms.api_calls import CallCounter, counted
from bot.platforms.base import MAX_FILE_BYTES
from bot.platforms.files import multipart_file, read_capped

log = logging.getLogger(__name__)

# Connect and read timeouts in seconds: a slow DingTalk must not stall the delivery loop.
TIMEOUT = (5, 15)
TOKEN_PATH = "/v1.0/oauth2/accessToken"
BATCH_SEND_PATH = "/v1.0/robot/oToMessages/batchSend"
TOKEN_HEADER = "x-acs-dingtalk-access-token"
# Work notifications (工作通知) live on the old host, with the access token as a query parameter.
WORK_NOTICE_PATH = "/topapi/message/corpconversation/asyncsend_v2"
# Interactive cards: create one and deliver it (POST), and change its data (PUT).
CARD_CREATE_PATH = "/v1.0/card/instances/createAndDeliver"
CARD_UPDATE_PATH = "/v1.0/card/instances"
# Media uploads are still served by the old host (oapi.dingtalk.com) only, with the token as ?access_token=.
MEDIA_UPLOAD_PATH = "/media/upload"
# The downloadCode of a file a person sent the robot -> a short-lived downloadUrl.
MESSAGE_FILE_PATH = "/v1.0/robot/messageFiles/download"
# The OpenAPI's answer to a missing, expired or revoked access token, and the old host's errcodes for a token it does
# not take (DingTalk's global error codes): 40014 不合法的access_token, 42001 access_token超时,
# 40001 获取access_token时Secret错误或者access_token无效.
TOKEN_ERRORS = frozenset({"InvalidAuthentication", "40014", "42001", "40001"})
# oapi's errcode that says "look at sub_code" (an authorisation failure such as a missing permission).
OAPI_SEE_SUB_CODE = 88
# Calls DingTalk does not count against the organisation's monthly allowance: a reply posted to the conversation's
# own sessionWebhook (the reference says webhook traffic "may" be metered on some editions; we count these apart).
UNMETERED = frozenset({"sessionWebhook"})


class Storage(Protocol):
    """A cache every process shares (see bot.platforms.token_cache): get, set with a time to live, delete."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def set(self, key: str, value: Any, ttl: int | None = None) -> None: ...

    def delete(self, key: str) -> None: ...


class CallMeter(Protocol):
    """Counts the client's calls for every process (see budget.UsageMeter)."""

    def count(self, metered: bool) -> None: ...


class NetworkError(Exception):
    """DingTalk could not be reached, or did not answer in time."""


class DingTalkApiError(Exception):
    """DingTalk answered with an error: its code ("InvalidAuthentication", "300001" ...) and the HTTP status."""

    def __init__(self, what: str, code: str, message: str, status: int) -> None:
        super().__init__(f"{what}: HTTP {status}, {code}: {message}")
        self.what, self.code, self.status = what, code, status


class DingTalkClient:
    """Calls DingTalk's OpenAPI on `api_base_url` with an access token kept in the shared `storage`.

    Every API call goes through `_call` (by `_post`, or `_post_file` for an upload), which hands each answered call
    to the `meter` and every call, failed or not, to the `counter`: a new API method only has to use them to be
    counted. A file fetched from a downloadUrl is no API call.
    """

    def __init__(
        self,
        app_key: str,
        app_secret: str,
        storage: Storage,
        api_base_url: str = "https://api.dingtalk.com",
        timeout: tuple[float, float] = TIMEOUT,
        meter: CallMeter | None = None,
        oapi_base_url: str = "https://oapi.dingtalk.com",
        counter: CallCounter | None = None,
    ) -> None:
        self.app_key, self.app_secret, self.storage, self.timeout = app_key, app_secret, storage, timeout
        self.api_base_url = api_base_url.rstrip("/")
        self.oapi_base_url = oapi_base_url.rstrip("/")
        self.meter, self.counter = meter, counter
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
        return self._with_token(
            lambda token: self._post("robot/oToMessages/batchSend", url, body, {TOKEN_HEADER: token})
        )

    def post_webhook(self, url: str, message: dict[str, Any]) -> dict[str, Any]:
        """Post a robot message to a conversation's sessionWebhook; DingTalk's errcode other than 0 raises."""
        return self._post("sessionWebhook", url, message, {})

    def work_notice(self, agent_id: int, user_ids: list[str], text: str) -> dict[str, Any]:
        """A text work notification (工作通知) from the app to `user_ids`; DingTalk's errcode other than 0 raises."""
        body = {
            "agent_id": agent_id,
            "userid_list": ",".join(user_ids),
            "msg": {"msgtype": "text", "text": {"content": text}},
        }
        return self.oapi_answer(WORK_NOTICE_PATH, body)

    def create_and_deliver_card(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create an interactive card and deliver it to the spaces its openSpaceId names; DingTalk's answer."""
        return self._openapi("card/createAndDeliver", CARD_CREATE_PATH, body, "POST")

    def update_card(self, body: dict[str, Any]) -> dict[str, Any]:
        """Change the data of a card delivered before (by its outTrackId)."""
        return self._openapi("card/update", CARD_UPDATE_PATH, body, "PUT")

    def _openapi(self, what: str, path: str, body: dict[str, Any], method: str) -> dict[str, Any]:
        """One OpenAPI call with the shared token; a token DingTalk refuses is fetched again, once."""
        url = self.api_base_url + path
        return self._with_token(lambda token: self._post(what, url, body, {TOKEN_HEADER: token}, method=method))

    def oapi(self, path: str, body: dict[str, Any]) -> Any:
        """POST to the oapi host; the answer's `result` (see oapi_answer)."""
        return self.oapi_answer(path, body).get("result")

    def oapi_answer(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST to the oapi host with the access token as a query parameter; its answer, or DingTalkApiError for
        an errcode other than 0. A token oapi refuses is fetched again, once."""
        return self._with_token(lambda token: self._oapi_call(path, body, token))

    def upload_file(self, name: str, data: bytes) -> str:
        """Upload a file as media on the old host (type=file, multipart field `media`); returns its media_id."""
        url = self.oapi_base_url + MEDIA_UPLOAD_PATH

        def upload(token: str) -> dict[str, Any]:
            return self._post_file("media/upload", url, {"access_token": token, "type": "file"}, "media", name, data)

        result = self._with_token(upload)
        media_id = result.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise DingTalkApiError("media/upload", "NoMediaId", "the answer holds no media_id", 200)
        return media_id

    def message_file_url(self, robot_code: str, download_code: str) -> str:
        """Where a file a person sent the robot can be fetched for a while: the downloadUrl for its downloadCode."""
        url = self.api_base_url + MESSAGE_FILE_PATH
        body = {"downloadCode": download_code, "robotCode": robot_code}
        result = self._with_token(
            lambda token: self._post("robot/messageFiles/download", url, body, {TOKEN_HEADER: token})
        )
        download_url = result.get("downloadUrl")
        if not isinstance(download_url, str) or not download_url:
            raise DingTalkApiError(
                "robot/messageFiles/download", "NoDownloadUrl", "the answer holds no downloadUrl", 200
            )
        return download_url

    def fetch_file(self, url: str, limit: int = MAX_FILE_BYTES) -> bytes:
        """A file's content from a download URL DingTalk gave, streamed: FileTooLarge as soon as it is known to pass
        `limit` bytes (from Content-Length, or while reading). No token is sent and no redirect followed: the URL
        is checked by the caller, and a redirect would lead past that check."""
        try:
            response = self.http.get(url, stream=True, allow_redirects=False, timeout=self.timeout)
        except requests.RequestException as error:
            raise NetworkError(f"messageFile: {type(error).__name__}") from None
        with response:  # closing an unread response drops the connection: the rest is never received
            if response.status_code != 200:
                raise DingTalkApiError("messageFile", f"HTTP{response.status_code}", "no file", response.status_code)
            try:
                return read_capped(response, limit)
            except requests.RequestException as error:
                raise NetworkError(f"messageFile: {type(error).__name__}") from None

    def _with_token(self, call: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
        """One call with the shared token, made once more with a new token when DingTalk refuses the first."""
        try:
            return call(self.access_token())
        except DingTalkApiError as error:
            if error.code not in TOKEN_ERRORS:
                raise
            log.info("DingTalk refused the access token; fetching a new one")
        return call(self.fetch_access_token())

    def _post_file(
        self, what: str, url: str, params: dict[str, str], field: str, name: str, data: bytes
    ) -> dict[str, Any]:
        """POST one file as multipart/form-data to the old host and read its JSON (see _call)."""
        body, content_type = multipart_file(field, name, data)
        return self._call(what, "POST", url, params=params, data=body, headers={"Content-Type": content_type})

    def _oapi_call(self, path: str, body: dict[str, Any], token: str) -> dict[str, Any]:
        what = path.removeprefix("/topapi/").removeprefix("message/")
        return self._post(what, self.oapi_base_url + path, body, {}, params={"access_token": token})

    def _post(
        self,
        what: str,
        url: str,
        body: dict[str, Any],
        headers: dict[str, str],
        params: dict[str, str] | None = None,
        method: str = "POST",
    ) -> dict[str, Any]:
        """POST (or PUT) JSON and read JSON back (see _call)."""
        return self._call(what, method, url, json=body, headers=headers, params=params)

    def _call(self, what: str, method: str, url: str, **request: Any) -> dict[str, Any]:
        """Make one API call and read DingTalk's answer; an error answer raises DingTalkApiError (see answer_of).

        Every call that DingTalk answered, whatever it answered, is metered (a call that got no answer is not);
        every call, answered or not, is counted, and counted as failed when it raises.
        """
        with counted(self.counter):
            try:
                response = self.http.request(method, url, timeout=self.timeout, **request)
            except requests.RequestException as error:
                raise NetworkError(f"{what}: {type(error).__name__}") from None
            if self.meter is not None:
                self.meter.count(metered=what not in UNMETERED)
            return answer_of(what, response)


def answer_of(what: str, response: requests.Response) -> dict[str, Any]:
    """DingTalk's answer; DingTalkApiError for an errcode other than 0 (the old host and webhooks answer so, with
    the sub_code when errcode says to look there) or for an HTTP error (the OpenAPI's, with DingTalk's code)."""
    result = json_answer(what, response)
    errcode = result.get("errcode", 0)
    if errcode != 0:
        code = result.get("sub_code") if errcode == OAPI_SEE_SUB_CODE and result.get("sub_code") else errcode
        message = str(result.get("sub_msg") or result.get("errmsg") or "")
        raise DingTalkApiError(what, str(code), message, response.status_code)
    if response.status_code >= 400:
        code = str(result.get("code") or f"HTTP{response.status_code}")
        raise DingTalkApiError(what, code, str(result.get("message") or ""), response.status_code)
    return result


def json_answer(what: str, response: requests.Response) -> dict[str, Any]:
    """DingTalk's answer as a JSON object; DingTalkApiError when it is none (an HTML error page, a proxy's reply)."""
    try:
        result = response.json()
    except ValueError:
        result = None
    if not isinstance(result, dict):
        raise DingTalkApiError(what, f"HTTP{response.status_code}", "the answer is not JSON", response.status_code)
    return result
