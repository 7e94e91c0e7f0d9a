"""WeCom as a delivery platform: an Outgoing becomes message/send calls; WeCom's answers become results or errors."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from wechatpy.exceptions import WeChatClientException

from bot.config import WeComConfig
from bot.platforms.base import DeliveryError, Directory, Outgoing, Recipient, SendResult
from bot.platforms.wecom import errors, texts
from bot.platforms.wecom.api import NetworkError, WeComClient
from bot.platforms.wecom.callback import wecom_blueprint
from bot.platforms.wecom.contacts import wecom_directory
from bot.platforms.wecom.inbound import CardUpdate, Inbound, card_task_id
from handlers.core.masking import mask_sensitive
from ledger_store.outbox import Buttons

if TYPE_CHECKING:
    from flask import Blueprint

    from bot.runtime import Runtime

log = logging.getLogger(__name__)
T = TypeVar("T")

# WeCom drops a request identical to one it accepted this recently, so a resend after a crash is not seen twice.
DUPLICATE_CHECK_SECONDS = 1800
MAX_TEXT_BYTES = 2048
# Template card limits (发送应用消息, 模板卡片): counts, and the lengths WeCom shows in full, in characters.
MAX_BUTTONS, BUTTON_CHARS = 6, 10
MAX_CHECKBOX_OPTIONS, CHECKBOX_CHARS = 20, 17
TITLE_CHARS, SUB_TITLE_CHARS = 36, 160
# Short waits before trying a busy WeCom again within one send; longer waits are the outbox's job.
RETRY_DELAYS = (0.5, 2.0)
BUSY = frozenset({-1, 45009, 45033})
ALL_INVALID = 81013
INVALID_MEDIA = 40007
# WeCom keeps an upload 3 days; reuse it a little less, so a resend names the same file and is deduplicated.
MEDIA_REUSE_SECONDS = 3 * 24 * 3600 - 3600
# A card can be updated for 72 hours after a click; its labels are kept as long.
CARD_SECONDS = 72 * 3600
# Errors that waiting cannot fix: someone has to change WeCom's admin console or our configuration.
FATAL = {
    60020: "WeCom refuses calls from this server's IP address (60020): add it to the app's trusted IPs "
    "(企业可信IP) in the WeCom admin console",
    40056: "WeCom does not accept [wecom] agent_id for this corp and secret (40056): check agent_id",
    41011: "WeCom got no agent id (41011): set [wecom] agent_id",
    40013: "WeCom does not know [wecom] corp_id (40013): check corp_id",
    40001: "WeCom rejected the app secret (40001): check [wecom] secret or YBT_WECOM_SECRET",
}


class WeComDeliveryError(DeliveryError):
    """A failed WeCom call, with WeCom's errcode (None for a network or HTTP failure)."""

    def __init__(self, message: str, retry: bool, errcode: int | None) -> None:
        reason = errors.NETWORK if errcode is None else errors.REASONS.get(errcode) or errors.unknown_code(errcode)
        code = "network" if errcode is None else f"wecom:{errcode}"
        super().__init__(message, reason, retry=retry, code=code)
        self.errcode = errcode


class WeComPlatform:
    """Pushes to WeCom members through the self-built app: texts, files and interactive cards."""

    name = "wecom"
    max_recipients = 1000

    def __init__(
        self,
        config: WeComConfig,
        client: WeComClient,
        sleep: Callable[[float], None] = time.sleep,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        duplicate_check_seconds: int = DUPLICATE_CHECK_SECONDS,
    ) -> None:
        self.config, self.client, self.sleep, self.retry_delays = config, client, sleep, retry_delays
        self.agent_id, self.per_member_per_minute = config.agent_id, config.per_member_per_minute
        self.duplicate_check = {"enable_duplicate_check": 1, "duplicate_check_interval": duplicate_check_seconds}

    def send(self, recipients: list[Recipient], message: Outgoing) -> SendResult:
        """Text first (split at WeCom's 2048 bytes), then the file, then the card; unknown members come back."""
        user_ids = [recipient.user_id for recipient in recipients]
        invalid: set[str] = set()
        for msg in self._messages(recipients, message) if user_ids else ():
            try:
                result = self._call("message/send", lambda msg=msg: self.client.send(self.agent_id, user_ids, msg))
            except WeComDeliveryError as error:
                if error.errcode == ALL_INVALID:
                    invalid = set(user_ids)
                    break
                if error.errcode == INVALID_MEDIA and message.file_bytes is not None:
                    # WeCom dropped the upload early: forget it, so the next attempt uploads afresh.
                    self.client.session.delete(self._media_key(message))
                raise
            invalid |= undelivered(result, user_ids)
        if invalid:
            log.warning("WeCom does not know %d of %d recipients: %s", len(invalid), len(user_ids),
                        mask_sensitive(", ".join(sorted(invalid))))  # fmt: skip
        return SendResult(invalid=frozenset(invalid))

    def directory(self) -> Directory:
        """WeCom's departments and members (see contacts.wecom_directory)."""
        return wecom_directory(self.client)

    def routes(self, runtime: Runtime, stored: Callable[[], None]) -> Blueprint:
        """/wecom/callback; after each acknowledgement the clicked card (if any) is updated, then `stored()`."""

        def after_response(inbound: Inbound) -> None:
            if inbound.card_update is not None:
                try:
                    self.update_card(inbound.card_update)
                except Exception:
                    log.exception("updating the clicked card failed")
            stored()

        return wecom_blueprint(self.config, runtime.engine, after_response, runtime.engine.clock.now)

    def update_card(self, update: CardUpdate) -> None:
        """Turn the clicked card's buttons into a disabled "已选择：…" naming the member's choice."""
        labels = self.client.session.get(self._labels_key(update.user_id, update.task_id)) or {}
        chosen = labels.get(update.chosen) or "、".join(labels.get(value, value) for value in update.chosen.split())
        replace_name = texts.chosen(chosen)
        self._call(
            "message/update_template_card",
            lambda: self.client.update_card(self.agent_id, [update.user_id], update.response_code, replace_name),
        )

    def download(self, media_id: str) -> tuple[str, bytes]:
        """A file a member sent: its name and content."""
        return self._call("media/get", lambda: self.client.download(media_id))

    def _messages(self, recipients: list[Recipient], message: Outgoing) -> Iterator[dict[str, Any]]:
        """The message/send bodies for one Outgoing, in the order the member should see them."""
        text, card = message.text, None
        check = {} if message.repeatable else self.duplicate_check
        if message.buttons is not None:
            card, text = self._card(message.buttons, text, recipients)
        for part in split_text(text or ""):
            yield {"msgtype": "text", "text": {"content": part}} | check
        if message.file_bytes is not None:
            media_id = self._media_id(message)
            yield {"msgtype": "file", "file": {"media_id": media_id}} | check
        if card is not None:
            yield {"msgtype": "template_card", "template_card": card} | check

    def _card(self, card: Buttons, text: str | None, recipients: list[Recipient]) -> tuple[dict | None, str | None]:
        """The template card for the buttons, and the text still to send before it (None when the card holds it)."""
        single_buttons = not card.multiple and len(card.options) <= MAX_BUTTONS
        if single_buttons and all(len(label) <= BUTTON_CHARS for _, label in card.options):
            kind = "button_interaction"
        elif len(card.options) <= MAX_CHECKBOX_OPTIONS:
            kind = "vote_interaction"
        else:
            return None, text  # too many options for a card: the text lists them and the member types one
        unique = hashlib.sha256("\n".join(sorted(r.dedupe_key for r in recipients)).encode()).hexdigest()[:16]
        try:
            task_id = card_task_id(card.token, unique)
        except ValueError:
            log.warning("question token %r cannot name a WeCom card; sending the text alone", card.token)
            return None, text
        main_title, sub_title, text = card_titles(text, card.multiple)
        body: dict[str, Any] = {"card_type": kind, "main_title": main_title, "task_id": task_id}
        if sub_title:
            body["sub_title_text"] = sub_title
        if kind == "button_interaction":
            body["button_list"] = [
                {"type": 0, "text": label, "style": 1, "key": value} for value, label in card.options
            ]
        else:
            options = [
                {"id": value, "text": clip(label, CHECKBOX_CHARS), "is_checked": False} for value, label in card.options
            ]
            body["checkbox"] = {"question_key": card.token, "option_list": options, "mode": int(card.multiple)}
            body["submit_button"] = {"text": texts.SUBMIT, "key": f"submit-{task_id}"}
        # A click brings back only the value: remember the card's labels so it can say what was chosen (by card, as
        # the next question's card may already be out when the click's update is made).
        for recipient in recipients:
            key = self._labels_key(recipient.user_id, task_id)
            self.client.session.set(key, dict(card.options), CARD_SECONDS)
        return body, text

    def _media_id(self, message: Outgoing) -> str:
        """The media_id of an upload of this very file, reused while WeCom keeps it."""
        key = self._media_key(message)
        media_id = self.client.session.get(key)
        if not media_id:
            name, data = file_name(message), message.file_bytes
            media_id = self._call("media/upload", lambda: self.client.upload_file(name, data))
            self.client.session.set(key, media_id, MEDIA_REUSE_SECONDS)
        return media_id

    def _labels_key(self, user_id: str, task_id: str) -> str:
        return f"{self.config.corp_id}_card_labels_{user_id.lower()}_{task_id}"

    def _media_key(self, message: Outgoing) -> str:
        head = f"{file_name(message)}\0{message.file_key or ''}\0".encode()
        digest = hashlib.sha256(head + message.file_bytes).hexdigest()
        return f"{self.config.corp_id}_media_{digest}"

    def _call(self, what: str, call: Callable[[], T]) -> T:
        """One API call, tried again shortly while WeCom is busy or unreachable; failures as WeComDeliveryError."""
        for delay in (*self.retry_delays, None):
            try:
                return call()
            except NetworkError as error:
                failure: Exception = error
                errcode = None
            except WeChatClientException as error:
                failure, errcode = error, error.errcode
            if delay is None or not (errcode is None or errcode in BUSY):
                raise self._failure(what, failure, errcode)
            log.info("WeCom %s: %s; trying again in %.1f s", what, mask_sensitive(str(failure)), delay)
            self.sleep(delay)
        raise AssertionError("unreachable: the last delay is None")

    def _failure(self, what: str, error: Exception, errcode: int | None) -> WeComDeliveryError:
        """A DeliveryError that says whether waiting can help and, when not, what a person must fix."""
        detail = error.errmsg if isinstance(error, WeChatClientException) else str(error)
        if errcode in FATAL:
            return WeComDeliveryError(f"{FATAL[errcode]}. WeCom said: {detail}", retry=False, errcode=errcode)
        code = "network" if errcode is None else f"errcode {errcode}"
        return WeComDeliveryError(f"WeCom {what} failed ({code}): {detail}", retry=True, errcode=errcode)


def undelivered(result: dict[str, Any], user_ids: list[str]) -> set[str]:
    """Our ids of the members WeCom did not deliver to: unknown ones, and those without an interface licence.

    WeCom lists them lower-cased, whatever the spelling it was given.
    """
    listed = "|".join(str(result.get(field) or "") for field in ("invaliduser", "unlicenseduser"))
    returned = {user_id.lower() for user_id in listed.split("|") if user_id}
    return {user_id for user_id in user_ids if user_id.lower() in returned}


def file_name(message: Outgoing) -> str:
    """The name the member sees on a pushed file."""
    return message.file_name or "file"


def card_titles(text: str | None, multiple: bool) -> tuple[dict[str, str], str | None, str | None]:
    """The card's main_title and sub_title_text, and the text to send before the card when it does not fit."""
    lines = (text or "").strip().splitlines()
    first, rest = (lines[0].strip(), "\n".join(lines[1:]).strip()) if lines else ("", "")
    hint = {"desc": texts.MULTIPLE_HINT} if multiple else {}
    if first and len(first) <= TITLE_CHARS and len(rest) <= SUB_TITLE_CHARS:
        return {"title": first} | hint, rest or None, None
    before = text if text and text.strip() else None
    see_above = {"desc": texts.CARD_SEE_ABOVE} if before else {}
    return {"title": texts.CARD_TITLE} | (hint or see_above), None, before


def split_text(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """The text in pieces of at most `limit` UTF-8 bytes, cut between lines where it can be."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate.encode()) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        while len(line.encode()) > limit:
            head = line.encode()[:limit].decode(errors="ignore")
            pieces.append(head)
            line = line[len(head) :]
        current = line
    if current.strip():
        pieces.append(current)
    return pieces


def clip(label: str, limit: int) -> str:
    """A label cut to what WeCom shows, with an ellipsis when cut."""
    return label if len(label) <= limit else label[: limit - 1] + "…"
