"""DingTalk as a delivery platform: a reply goes to the person's sessionWebhook while it is valid, everything else
through the robot's one-to-one batch send (every file too), or pushes as work notifications when configured;
DingTalk's answers become results or structured errors. Files people send the robot are fetched from the download
address DingTalk gives for them."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import Blueprint

from bot.config import DingTalkConfig
from bot.platforms.base import MAX_FILE_BYTES, DeliveryError, Directory, Outgoing, Recipient, SendResult
from bot.platforms.dingtalk import errors
from bot.platforms.dingtalk.api import TOKEN_ERRORS, DingTalkApiError, DingTalkClient, NetworkError
from bot.platforms.dingtalk.budget import ZONE
from bot.platforms.dingtalk.callback import dingtalk_blueprint
from bot.platforms.dingtalk.card_callback import add_card_callback
from bot.platforms.dingtalk.cards import CardClick, CardDraw, deliver_body, draw_card, out_track_id, update_body
from bot.platforms.dingtalk.contacts import dingtalk_directory
from bot.platforms.dingtalk.inbound import SessionWebhook, read_file_reference
from handlers.core.masking import mask_sensitive
from ledger_store.outbox import REPLY_PREFIX

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)
# At most this many userIds per batch send call (DingTalk's documented limit).
MAX_BATCH_USERS = 20
# DingTalk documents no text limit we could confirm; pieces this long stay well inside what its clients show.
MAX_TEXT_CHARS = 4000
THROTTLED_CODES = frozenset({"Throttling", "Throttling.Api", "Forbidden.AccessDenied.QpsLimitForApi"})
# oapi's errcode (or errcode 88's sub_code) for an app without the permission an API needs: 没有调用该接口的权限.
FORBIDDEN_CODES = frozenset({"60011"})
# The organisation's monthly allowance is used up: the old host's errcode, and the OpenAPI's code for the same.
ALLOWANCE_CODES = frozenset({"90020", "Forbidden.AccessDenied.ApiCountLimitForOrg"})
# Work notifications: DingTalk's documents have said 100 and later 5000 userids a call; we keep to the older, lower
# figure. A notification's msg may hold 2048 bytes: 600 characters stay inside it even when all are Chinese.
MAX_WORK_NOTICE_USERS = 100
MAX_WORK_NOTICE_CHARS = 600
# DingTalk documents no expiry for an upload; a resend within a day names the same upload, later ones upload afresh
# (and a failed file send forgets the upload at once, in case DingTalk dropped it).
MEDIA_REUSE_SECONDS = 24 * 3600
# createAndDeliver's answers: the card was created before (a resend), the user is unknown, the template is unusable.
CARD_EXISTS, USER_UNKNOWN = "param.cardAlreadyExist", "param.userIdNotExist"
TEMPLATE_CODES = frozenset({"param.templateNotExist", "param.templateUnpublished", "param.cardTemplateIdEmpty"})
# What a card's buttons said is kept this long, so the update after a click can name the choice.
CARD_LABEL_SECONDS = 7 * 24 * 3600


class DingTalkDeliveryError(DeliveryError):
    """A failed DingTalk call, with DingTalk's code ("network" when it could not be reached)."""

    def __init__(self, message: str, reason: str, retry: bool, code: str) -> None:
        super().__init__(message, reason, retry=retry, code=f"dingtalk:{code}")


class DingTalkPlatform:
    """Pushes texts to DingTalk users through the app's robot, or as the app's work notifications."""

    name = "dingtalk"
    max_recipients = MAX_BATCH_USERS
    per_member_per_minute = 0

    def __init__(
        self, config: DingTalkConfig, client: DingTalkClient, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.config, self.client, self.clock = config, client, clock
        if config.push == "work_notice":
            self.max_recipients = MAX_WORK_NOTICE_USERS

    def send(self, recipients: list[Recipient], message: Outgoing) -> SendResult:
        """Each reply by its sessionWebhook when one is valid, the rest by batch send in groups of 20; with
        push = "work_notice", pushes as work notifications to up to 100 people a call.

        Users DingTalk does not know come back as invalid; those it flow-controlled come back as failed (retried).
        A file is uploaded before anything goes out and follows the text by batch send (a sessionWebhook carries
        no files); a resend of the same file reuses the upload.
        """
        card = None
        if message.buttons and self.config.card_template_id and message.file_bytes is None:
            card = draw_card(message.buttons, message.text)
        if card is not None:
            return self._send_cards(recipients, message, card)
        # A question (it has buttons) belongs in the robot's chat, where it is answered, not among work notices.
        return self._send_plain(recipients, message, notices=self.config.push == "work_notice" and not message.buttons)

    def _send_plain(self, recipients: list[Recipient], message: Outgoing, notices: bool) -> SendResult:
        """The text (and file) of `send`, pushes as work notifications when `notices`."""
        file, media_key = self._file_param(message) if message.file_bytes is not None else (None, None)
        parts = split_text(message.text or "")
        if not parts and file is None:
            return SendResult()
        replied = {recipient.user_id for recipient in recipients if parts and self._replied(recipient, parts)}
        left = [recipient for recipient in recipients if recipient.user_id not in replied]
        if notices and parts:
            self._notify([r.user_id for r in left if not r.dedupe_key.startswith(REPLY_PREFIX)], message.text or "")
            left = [recipient for recipient in left if recipient.dedupe_key.startswith(REPLY_PREFIX)]
        by_batch = [recipient.user_id for recipient in left]
        pieces = [("sampleText", {"content": part}) for part in parts]
        files = [("sampleFile", file)] if file else []
        invalid, throttled = self._batch_send(by_batch, pieces + files, media_key)
        file_only = sorted({recipient.user_id for recipient in recipients} - set(by_batch))
        if files and file_only:
            more_invalid, more_throttled = self._batch_send(file_only, files, media_key)
            invalid, throttled = invalid | more_invalid, throttled | more_throttled
        if invalid:
            log.warning("DingTalk does not know %d of %d recipients: %s", len(invalid), len(recipients),
                        mask_sensitive(", ".join(sorted(invalid))))  # fmt: skip
        flow = DingTalkDeliveryError("DingTalk flow-controlled the user", errors.FLOW_CONTROLLED, True, "flow_control")
        return SendResult(invalid=frozenset(invalid), failed={user_id: flow for user_id in throttled - invalid})

    def _notify(self, user_ids: list[str], text: str) -> None:
        """Work notifications to `user_ids`, 100 a call. DingTalk reports no unknown users here (it sends later)."""
        if not user_ids:
            return
        parts = [self._unrepeated(part) for part in split_text(text, MAX_WORK_NOTICE_CHARS)]
        for start in range(0, len(user_ids), MAX_WORK_NOTICE_USERS):
            chunk = user_ids[start : start + MAX_WORK_NOTICE_USERS]
            for part in parts:
                self._call(lambda part=part, chunk=chunk: self.client.work_notice(self.config.agent_id, chunk, part))

    def _unrepeated(self, text: str) -> str:
        """The text, with the time it goes out added when it already went out as a work notification today.

        DingTalk delivers the same content to a person at most once a day and drops repeats silently, so a second
        reminder worded like the first must differ. Who got it is not tracked: the text's first sending of the day
        goes as it is, every later one carries the time (one shared key per text and day, for every process).
        """
        now = self.clock().astimezone(ZONE)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        key = f"{self.config.app_key}_work_notice_{digest}_{now:%Y%m%d}"
        if self.client.storage.get(key):
            return text + errors.sent_at_suffix(f"{now:%H:%M}")
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), ZONE)
        self.client.storage.set(key, "1", int((midnight - now).total_seconds()) + 60)
        return text

    def card_belongs(self, click: CardClick) -> bool:
        """Whether a click comes from the person its card was sent to (kept when the card went out, for as long as its
        labels); neither DingTalk's card signature nor its Stream frame vouches for the body's userId by itself."""
        kept = self.client.storage.get(self._card_key(click.out_track_id)) or {}
        return kept.get("user_id") == click.incoming.user_id

    def update_clicked_card(self, click: CardClick) -> None:
        """Show the choice on the clicked card ("已选择：…") in place of its buttons; a failure is only logged."""
        kept = self.client.storage.get(self._card_key(click.out_track_id)) or {}
        value = click.incoming.text
        label = (kept.get("labels") or {}).get(value, value)
        try:
            self.client.update_card(update_body(click.out_track_id, label))
        except (DingTalkApiError, NetworkError) as error:
            log.warning("updating the clicked DingTalk card %s failed: %s", click.out_track_id, error)

    def remember_webhook(self, webhook: SessionWebhook) -> None:
        """Keep a one-to-one chat's sessionWebhook, for every process, until shortly before it expires."""
        self.client.storage.set(self._webhook_key(webhook.user_id), webhook.url, webhook.seconds_left)

    def download(self, media_id: str) -> tuple[str, bytes]:
        """A file a person sent the robot: its downloadCode resolved to a downloadUrl, which is fetched (streamed,
        FileTooLarge past MAX_FILE_BYTES) only when `fetchable`."""
        reference = read_file_reference(media_id)
        url = self._call(lambda: self.client.message_file_url(self.config.robot, reference.download_code))
        if not fetchable(url, self.config.api_base_url):
            log.warning("DingTalk named a download address that is not https; not fetched: %s", url.split("?")[0])
            raise DingTalkDeliveryError("download URL refused", errors.FILE_URL_REFUSED, False, "file_url")
        try:
            return reference.file_name, self.client.fetch_file(url, MAX_FILE_BYTES)
        except NetworkError as error:
            raise DingTalkDeliveryError(str(error), errors.NETWORK, True, "network") from None
        except DingTalkApiError as error:
            raise DingTalkDeliveryError(str(error), errors.FILE_NOT_FETCHED, True, error.code) from None

    def directory(self) -> Directory:
        """DingTalk's departments and users (see contacts.dingtalk_directory), all read before anything is applied;
        a failure is a DingTalkDeliveryError with its Chinese reason."""
        try:
            return dingtalk_directory(self.client)
        except NetworkError as error:
            raise DingTalkDeliveryError(str(error), errors.NETWORK, True, "network") from None
        except DingTalkApiError as error:
            if error.code in FORBIDDEN_CODES:
                raise DingTalkDeliveryError(str(error), errors.CONTACTS_FORBIDDEN, False, error.code) from None
            if error.code in TOKEN_ERRORS:
                raise DingTalkDeliveryError(str(error), errors.TOKEN, True, error.code) from None
            raise failure(error) from None

    def routes(self, runtime: Runtime, stored: Callable[[], None]) -> Blueprint | None:
        """/dingtalk/callback and /dingtalk/card-callback: checked, stored and acknowledged; `stored()` after each
        response, after a click's card was updated. In stream mode messages come over the Stream connection
        (bot/platforms/dingtalk/stream.py) and /dingtalk/callback stays shut; only card clicks registered for HTTP
        (a card_callback_route_key) still come to /dingtalk/card-callback."""
        now = runtime.engine.clock.now
        if self.config.mode == "stream":
            if not self.config.card_callback_route_key:
                return None
            blueprint = Blueprint("dingtalk", __name__)
        else:
            blueprint = dingtalk_blueprint(self.config, runtime.engine, self.remember_webhook, stored, now)

        def after_click(click: CardClick) -> None:
            try:
                self.update_clicked_card(click)
            except Exception:
                log.exception("updating the clicked DingTalk card failed")
            stored()

        add_card_callback(blueprint, self.config, runtime.engine, after_click, now, self.card_belongs)
        return blueprint

    def _send_cards(self, recipients: list[Recipient], message: Outgoing, card: CardDraw) -> SendResult:
        """The question's text when it does not fit the card, then one card per recipient (each is clicked and
        updated alone). A card created before (a resend) counts as delivered."""
        result = SendResult()
        if card.text_before:
            result = self._send_plain(recipients, replace(message, text=card.text_before, buttons=None), notices=False)
        invalid, failed = set(result.invalid), dict(result.failed)
        token = message.buttons.token if message.buttons else ""
        for recipient in recipients:
            if recipient.user_id in invalid or recipient.user_id in failed:
                continue
            track_id = out_track_id(token, f"{recipient.dedupe_key}\n{recipient.user_id}")
            # Kept before the card goes out: a click may come back before the call returns.
            kept = {"user_id": recipient.user_id, "labels": card.labels}
            self.client.storage.set(self._card_key(track_id), kept, CARD_LABEL_SECONDS)
            body = deliver_body(self.config.card_template_id, track_id, recipient.user_id, self.config.robot,
                                card.params, self.config.card_callback_route_key)  # fmt: skip
            try:
                answer = self.client.create_and_deliver_card(body)
            except NetworkError as error:
                raise DingTalkDeliveryError(str(error), errors.NETWORK, True, "network") from None
            except DingTalkApiError as error:
                if error.code == CARD_EXISTS:
                    continue
                if error.code == USER_UNKNOWN:
                    invalid.add(recipient.user_id)
                    continue
                if error.code in TEMPLATE_CODES:
                    raise DingTalkDeliveryError(str(error), errors.CARD_TEMPLATE, False, error.code) from None
                raise failure(error) from None
            if not card_delivered(answer):
                failed[recipient.user_id] = DingTalkDeliveryError(
                    f"DingTalk did not deliver card {track_id}", errors.CARD_NOT_DELIVERED, True, "card_not_delivered"
                )
        return SendResult(invalid=frozenset(invalid), failed=failed)

    def _card_key(self, track_id: str) -> str:
        return f"{self.config.app_key}_card_{track_id}"

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

    def _batch_send(
        self, user_ids: list[str], pieces: list[tuple[str, dict]], media_key: str | None = None
    ) -> tuple[set[str], set[str]]:
        """Each piece (msgKey, msgParam) to every user, in groups of 20: those DingTalk did not know, and those it
        flow-controlled. A failed file send forgets the upload, so the next attempt uploads afresh."""
        invalid: set[str] = set()
        throttled: set[str] = set()
        for start in range(0, len(user_ids), MAX_BATCH_USERS):
            chunk = user_ids[start : start + MAX_BATCH_USERS]
            for msg_key, param in pieces:
                try:
                    result = self._call(lambda chunk=chunk, msg_key=msg_key, param=param: self.client.batch_send(
                        self.config.robot, chunk, msg_key, param))  # fmt: skip
                except DingTalkDeliveryError:
                    if msg_key == "sampleFile" and media_key:
                        self.client.storage.delete(media_key)
                    raise
                invalid |= listed(result, "invalidStaffIdList", chunk)
                throttled |= listed(result, "flowControlledStaffIdList", chunk)
        return invalid, throttled

    def _file_param(self, message: Outgoing) -> tuple[dict[str, str], str]:
        """sampleFile's msgParam for the message's file, uploaded now unless an upload of this very push is kept;
        and the key the upload is kept under."""
        name = message.file_name or "file"
        key = self._media_key(message)
        media_id = self.client.storage.get(key)
        if not media_id:
            media_id = self._call(lambda: self.client.upload_file(name, message.file_bytes or b""))
            self.client.storage.set(key, media_id, MEDIA_REUSE_SECONDS)
        file_type = name.rsplit(".", 1)[-1].lower() if "." in name else "file"
        return {"mediaId": media_id, "fileName": name, "fileType": file_type}, key

    def _media_key(self, message: Outgoing) -> str:
        head = f"{message.file_name or ''}\0{message.file_key or ''}\0".encode()
        digest = hashlib.sha256(head + (message.file_bytes or b"")).hexdigest()
        return f"{self.config.app_key}_media_{digest}"

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
    """DingTalk's error as a delivery error: credentials are fatal, throttling and server trouble pass, the month's
    allowance used up waits for next month (not retried: an admin's /投递 重试 sends it again)."""
    if error.code in ALLOWANCE_CODES:
        return DingTalkDeliveryError(str(error), errors.ALLOWANCE_USED_UP, False, error.code)
    if error.what == "oauth2/accessToken" and 400 <= error.status < 500:
        return DingTalkDeliveryError(str(error), errors.CREDENTIALS, False, error.code)
    if error.code in TOKEN_ERRORS:
        return DingTalkDeliveryError(str(error), errors.TOKEN, True, error.code)
    if error.status == 429 or error.code in THROTTLED_CODES:
        return DingTalkDeliveryError(str(error), errors.THROTTLED, True, error.code)
    if error.status >= 500:
        return DingTalkDeliveryError(str(error), errors.BUSY, True, error.code)
    if error.what == "media/upload":
        return DingTalkDeliveryError(str(error), errors.upload_failed(error.code), True, error.code)
    return DingTalkDeliveryError(str(error), errors.unknown_code(error.code), True, error.code)


def fetchable(url: str, api_base_url: str) -> bool:
    """Whether a download address DingTalk named may be fetched: https on any host (DingTalk's file storage hosts
    vary), or under the configured api host (the emulator's plain http). Plain http elsewhere is refused: the
    address is not ours to trust, and an http address inside the network (a metadata service, an admin page) must
    not be reachable through the bot. Redirects are not followed, and no token goes with the request."""
    if url.startswith(api_base_url.rstrip("/") + "/"):
        return True
    try:
        parts = urlsplit(url)
        return parts.scheme == "https" and bool(parts.hostname) and parts.username is None
    except ValueError:
        return False


def card_delivered(answer: dict) -> bool:
    """Whether createAndDeliver's answer reports every space it was delivered to as reached."""
    results = (answer.get("result") or {}).get("deliverResults") if isinstance(answer.get("result"), dict) else None
    if answer.get("success") is False:
        return False
    return not isinstance(results, list) or all(isinstance(r, dict) and r.get("success") for r in results)


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
