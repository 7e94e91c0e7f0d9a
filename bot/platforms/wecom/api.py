"""The WeCom API client: wechatpy's enterprise client on the configured host, with a timeout and a shared token;
every call it makes is counted, failed or not (the operator's totals on /metrics)."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

import requests
from wechatpy.enterprise import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage
from werkzeug.http import parse_options_header

from bot.config import WeComConfig
from bot.platforms import files
from bot.platforms.api_calls import CallCounter, counted
from bot.platforms.base import MAX_FILE_BYTES
from bot.platforms.files import read_capped

log = logging.getLogger(__name__)

# Connect and read timeouts in seconds: generous enough for a 20 MB upload, short enough not to stall delivery.
TIMEOUT = (5, 30)
# WeCom's answers to a missing, expired or revoked access token.
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
SECRET_PARAMS = re.compile(r"(access_token|corpsecret)=[^&\s'\"]+")


class NetworkError(Exception):
    """WeCom could not be reached, or answered with an HTTP error instead of JSON."""


class WeComClient(WeChatClient):
    """wechatpy's WeCom client on `api_base_url`: one token refresh per call, never a secret in an error.

    Every API call goes through `fetch_access_token` or `_request_once`, which hand it to the `counter`.
    """

    def __init__(
        self,
        corp_id: str,
        secret: str,
        session: SessionStorage,
        api_base_url: str = WeChatClient.API_BASE_URL,
        timeout: tuple[float, float] = TIMEOUT,
        counter: CallCounter | None = None,
    ) -> None:
        # wechatpy's own retry on a token error recurses without bound; _request below retries once.
        super().__init__(corp_id, secret, session=session, timeout=timeout, auto_retry=False)
        self.API_BASE_URL = api_base_url.rstrip("/") + "/"
        self.counter = counter

    @classmethod
    def from_config(
        cls, config: WeComConfig, session: SessionStorage, counter: CallCounter | None = None
    ) -> WeComClient:
        """A client for the configured app, keeping its token in `session` and counting its calls with `counter`."""
        return cls(config.corp_id, config.secret, session, config.api_base_url, counter=counter)

    @property
    def access_token_key(self) -> str:
        """The storage key: the corp and a digest of host and secret, so no part of the secret is stored."""
        digest = hashlib.sha256(f"{self.API_BASE_URL}\n{self.secret}".encode()).hexdigest()[:16]
        return f"{self.corp_id}_{digest}_access_token"

    @property
    def access_token(self) -> str:
        """The shared token; the storage drops it before it expires, and then a new one is fetched."""
        return self.session.get(self.access_token_key) or self.fetch_access_token()["access_token"]

    def fetch_access_token(self) -> dict[str, Any]:
        """Ask gettoken on the configured host and put the token in the shared storage."""
        log.info("fetching a WeCom access token")
        params = {"corpid": self.corp_id, "corpsecret": self.secret}
        with counted(self.counter):
            try:
                response = self._http.get(self.API_BASE_URL + "gettoken", params=params, timeout=self.timeout)
                response.raise_for_status()
            except requests.RequestException as error:
                raise NetworkError(f"gettoken: {scrub(str(error))}") from None
            result = self._handle_result(response)
        self.session.set(self.access_token_key, result["access_token"], int(result.get("expires_in", 7200)))
        return result

    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
        """wechatpy's request; a token error fetches a new token and tries once more."""
        try:
            return self._request_once(method, url_or_endpoint, kwargs)
        except WeChatClientException as error:
            if error.errcode not in TOKEN_ERRORS:
                raise
            log.info("WeCom refused the access token (%s); fetching a new one", error.errcode)
        self.fetch_access_token()
        return self._request_once(method, url_or_endpoint, kwargs)

    def _request_once(self, method: str, url_or_endpoint: str, kwargs: dict[str, Any]) -> Any:
        # wechatpy fills params and encodes data in place: give it copies so a retry starts clean. The token is
        # put in first, so a gettoken it takes is a call of its own, counted apart from this one.
        params = {key: value for key, value in (kwargs.get("params") or {}).items() if key != "access_token"}
        params["access_token"] = self.access_token
        with counted(self.counter):
            try:
                return super()._request(method, url_or_endpoint, **{**kwargs, "params": params})
            except requests.RequestException as error:
                raise NetworkError(f"{url_or_endpoint}: {scrub(str(error))}") from None
            except WeChatClientException as error:
                if error.errcode is None:
                    status = error.response.status_code if error.response is not None else "?"
                    raise NetworkError(f"{url_or_endpoint}: HTTP {status}") from None
                raise

    def _decode_result(self, res: requests.Response) -> Any:
        # A file download is the response itself; anything else is WeCom's JSON.
        if "Content-Disposition" in res.headers:
            return res
        return super()._decode_result(res)

    def send(self, agent_id: int, user_ids: Iterable[str], msg: dict[str, Any]) -> dict[str, Any]:
        """message/send to the members named; `msg` holds msgtype, its content and any options."""
        return self.message.send(agent_id, list(user_ids), msg=msg)

    def upload_file(self, name: str, data: bytes) -> str:
        """Upload a temporary file (kept 3 days by WeCom); returns its media_id."""
        body, content_type = multipart_file(name, data)
        result = self.post("media/upload", params={"type": "file"}, data=body, headers={"Content-Type": content_type})
        return result["media_id"]

    def download(self, media_id: str, limit: int = MAX_FILE_BYTES) -> tuple[str, bytes]:
        """A temporary file's name and content, streamed: FileTooLarge as soon as it is known to pass `limit`
        bytes (from Content-Length, or while reading); WeCom's JSON answer instead of a file raises its error."""
        response = self.get("media/get", params={"media_id": media_id}, stream=True)
        if not isinstance(response, requests.Response):
            raise WeChatClientException(None, f"media/get returned no file: {response!r}", client=self)
        with response:  # closing an unread response drops the connection: the rest is never received
            name = file_name_of(response.headers["Content-Disposition"])
            try:
                return name, read_capped(response, limit)
            except requests.RequestException as error:
                raise NetworkError(f"media/get: {scrub(str(error))}") from None

    def update_card(
        self, agent_id: int, user_ids: Iterable[str], response_code: str, replace_name: str
    ) -> dict[str, Any]:
        """Turn the buttons of an interactive card into one disabled button reading `replace_name`."""
        data = {
            "userids": list(user_ids),
            "agentid": agent_id,
            "response_code": response_code,
            "button": {"replace_name": replace_name},
        }
        return self.post("message/update_template_card", data=data)

    def departments(self) -> list[dict[str, Any]]:
        """Every department the app can see: id, name, parentid, order."""
        return self.department.get()

    def members(self, department_id: int) -> list[dict[str, Any]]:
        """The members directly in one department, with their details (mobile only where the app may see it)."""
        return self.user.list(department_id)


def multipart_file(name: str, data: bytes) -> tuple[bytes, str]:
    """The multipart body WeCom expects: the file name as raw UTF-8 in filename="...", plus filelength."""
    return files.multipart_file("media", name, data, extra=f"; filelength={len(data)}")


def file_name_of(disposition: str) -> str:
    """The file name in a Content-Disposition header: RFC 6266 filename*, raw UTF-8 or percent-encoded."""
    name = parse_options_header(disposition)[1].get("filename", "")
    if "filename*" not in disposition:
        # http.client reads header bytes as Latin-1: raw UTF-8 arrives garbled and is put right here.
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            name = name.encode("latin-1").decode("utf-8")
        name = unquote(name)
    return name


def scrub(text: str) -> str:
    """An error text without the access token or secret a URL in it may carry."""
    return SECRET_PARAMS.sub(r"\1=***", text)
