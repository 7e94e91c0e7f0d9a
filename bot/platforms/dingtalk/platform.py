"""DingTalk as a delivery platform: a reply goes to the person's sessionWebhook while it is valid, everything else
through the robot's one-to-one batch send; DingTalk's answers become results or structured errors."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.config import DingTalkConfig
from bot.platforms.base import DeliveryError, Outgoing, Recipient, SendResult
from bot.platforms.dingtalk import errors
from bot.platforms.dingtalk.api import TOKEN_ERRORS, DingTalkApiError, DingTalkClient, NetworkError
from bot.platforms.dingtalk.callback import dingtalk_blueprint
from bot.platforms.dingtalk.inbound import SessionWebhook
from handlers.core.masking import mask_sensitive
from ledger_store.outbox import REPLY_PREFIX

if TYPE_CHECKING:
    from flask import Blueprint

    from bot.runtime import Runtime

log = logging.getLogger(__name__)
# At most this many userIds per batch send call (DingTalk's documented limit).
MAX_BATCH_USERS = 20
# DingTalk documents no text limit we could confirm; pieces this long stay well inside what its clients show.
MAX_TEXT_CHARS = 4000
THROTTLED_CODES = frozenset({"Throttling", "Throttling.Api", "Forbidden.AccessDenied.QpsLimitForApi"})


class DingTalkDeliveryError(DeliveryError):
    """A failed DingTalk call, with DingTalk's code ("network" when it could not be reached)."""

    def __init__(self, message: str, reason: str, retry: bool, code: str) -> None:
        super().__init__(message, reason, retry=retry, code=f"dingtalk:{code}")


class DingTalkPlatform:
    """Pushes texts to DingTalk users through the app's robot."""

    name = "dingtalk"
    max_recipients = MAX_BATCH_USERS
    per_member_per_minute = 0

    def __init__(self, config: DingTalkConfig, client: DingTalkClient) -> None:
        self.config, self.client = config, client

    def send(self, recipients: list[Recipient], message: Outgoing) -> SendResult:
        """Each reply by its sessionWebhook when one is valid, the rest by batch send in groups of 20.

        Users DingTalk does not know come back as invalid; those it flow-controlled come back as failed (retried).
        """
        if message.file_bytes is not None:
            raise DingTalkDeliveryError("DingTalk file sending is not built", errors.FILES_NOT_BUILT, False, "file")
        parts = split_text(message.text or "")
        if not parts:
            return SendResult()
        by_batch = [recipient.user_id for recipient in recipients if not self._replied(recipient, parts)]
        invalid: set[str] = set()
        throttled: set[str] = set()
        for start in range(0, len(by_batch), MAX_BATCH_USERS):
            chunk = by_batch[start : start + MAX_BATCH_USERS]
            for part in parts:
                result = self._call(lambda part=part, chunk=chunk: self.client.batch_send(
                    self.config.robot, chunk, "sampleText", {"content": part}))  # fmt: skip
                invalid |= listed(result, "invalidStaffIdList", chunk)
                throttled |= listed(result, "flowControlledStaffIdList", chunk)
        if invalid:
            log.warning("DingTalk does not know %d of %d recipients: %s", len(invalid), len(by_batch),
                        mask_sensitive(", ".join(sorted(invalid))))  # fmt: skip
        flow = DingTalkDeliveryError("DingTalk flow-controlled the user", errors.FLOW_CONTROLLED, True, "flow_control")
        return SendResult(invalid=frozenset(invalid), failed={user_id: flow for user_id in throttled - invalid})

    def remember_webhook(self, webhook: SessionWebhook) -> None:
        """Keep a one-to-one chat's sessionWebhook, for every process, until shortly before it expires."""
        self.client.storage.set(self._webhook_key(webhook.user_id), webhook.url, webhook.seconds_left)

    def download(self, media_id: str) -> tuple[str, bytes]:
        """Not built yet: a file sent to the robot arrives as an unsupported message, so this is never asked."""
        raise DingTalkDeliveryError("DingTalk file download is not built", errors.DOWNLOAD_NOT_BUILT, False, "file")

    def directory(self) -> None:
        """Not built yet: DingTalk's people come from the organisation import (its 钉钉账号 column)."""
        return None

    def routes(self, runtime: Runtime, stored: Callable[[], None]) -> Blueprint | None:
        """/dingtalk/callback: checked, stored and acknowledged; `stored()` after each response. None in stream mode:
        messages then come over the Stream connection (bot/platforms/dingtalk/stream.py), and the door stays shut."""
        if self.config.mode == "stream":
            return None
        return dingtalk_blueprint(self.config, runtime.engine, self.remember_webhook, stored, runtime.engine.clock.now)

    def _replied(self, recipient: Recipient, parts: list[str]) -> bool:
        """Post a reply to the recipient's sessionWebhook; False when it is no reply, has none, or the post failed."""
        if not recipient.dedupe_key.startswith(REPLY_PREFIX):
            return False
        url = self.client.storage.get(self._webhook_key(recipient.user_id))
        if not url:
            return False
        try:
            for part in parts:
                self.client.post_webhook(url, {"msgtype": "text", "text": {"content": part}})
        except (DingTalkApiError, NetworkError) as error:
            # Only a session's first part can have gone out: the batch send repeats it rather than lose the rest.
            log.info("DingTalk sessionWebhook failed (%s); sending by batch send", error)
            self.client.storage.delete(self._webhook_key(recipient.user_id))
            return False
        return True

    def _webhook_key(self, user_id: str) -> str:
        return f"{self.config.app_key}_session_webhook_{user_id}"

    def _call(self, call: Callable[[], dict]) -> dict:
        """One API call; its failure as a DingTalkDeliveryError that says whether waiting can help."""
        try:
            return call()
        except NetworkError as error:
            raise DingTalkDeliveryError(str(error), errors.NETWORK, True, "network") from None
        except DingTalkApiError as error:
            raise failure(error) from None


def failure(error: DingTalkApiError) -> DingTalkDeliveryError:
    """DingTalk's error as a delivery error: credentials are fatal, throttling and server trouble pass."""
    if error.what == "oauth2/accessToken" and 400 <= error.status < 500:
        return DingTalkDeliveryError(str(error), errors.CREDENTIALS, False, error.code)
    if error.code in TOKEN_ERRORS:
        return DingTalkDeliveryError(str(error), errors.TOKEN, True, error.code)
    if error.status == 429 or error.code in THROTTLED_CODES:
        return DingTalkDeliveryError(str(error), errors.THROTTLED, True, error.code)
    if error.status >= 500:
        return DingTalkDeliveryError(str(error), errors.BUSY, True, error.code)
    return DingTalkDeliveryError(str(error), errors.unknown_code(error.code), True, error.code)


def listed(result: dict, field: str, user_ids: list[str]) -> set[str]:
    """The user ids of this call that DingTalk names in one list of its answer."""
    named = result.get(field) or []
    return {user_id for user_id in user_ids if user_id in named}


def split_text(text: str, limit: int = MAX_TEXT_CHARS) -> list[str]:
    """The text in pieces of at most `limit` characters, cut between lines where it can be."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        while len(line) > limit:
            pieces.append(line[:limit])
            line = line[limit:]
        current = line
    if current.strip():
        pieces.append(current)
    return pieces
