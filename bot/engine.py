"""Runs incoming messages through the handlers, one transaction each, once per platform message key.

Two paths: `receive` answers at once (the simulator); `accept` + `process_pending` store the message,
let the platform's HTTP request return, and handle it afterwards with the replies going through the outbox.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bot.platforms.base import DeliveryError, FileTooLarge
from handlers.chat import router
from handlers.core.clock import Clock
from handlers.core.context import Context, DashboardLinks
from handlers.core.masking import mask_sensitive
from handlers.core.messages import ButtonClick, Incoming, Reply
from handlers.core.workdays import WorkCalendar
from handlers.texts import commands as texts
from ledger_store.db import transaction
from ledger_store.inbox import (
    MissingHandlingLock,
    claim_next,
    create_handling_lock,
    fewest_attempts_pending,
    sender_key,
    store_once,
)
from ledger_store.models import InboundMessage, InboundStatus, Person
from ledger_store.org import find_person
from ledger_store.outbox import REPLY_PREFIX, enqueue, store_file

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
# How long a worker downloading a message's file keeps the message from the others (downloads time out sooner).
FETCH_LEASE = timedelta(minutes=2)
MAX_KEY_CHARS = 200
# Downloads the file a platform message refers to: (file name, bytes).
FileFetcher = Callable[[Incoming], tuple[str, bytes]]


class Engine:
    """The bot's core as the edges see it: a message in, the replies to its sender out."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        clock: Clock,
        tz: ZoneInfo,
        calendar: WorkCalendar | None = None,
        dashboard: DashboardLinks | None = None,
    ) -> None:
        self.factory = factory
        self.clock = clock
        self.tz = tz
        self.calendar = calendar or WorkCalendar()
        self.dashboard = dashboard or DashboardLinks()

    def now(self) -> datetime:
        """The engine's current time as stored (naive UTC)."""
        return self.clock.now().astimezone(UTC).replace(tzinfo=None)

    def today(self) -> date:
        """The local day, for reading what people write (昨天, a birth date that has not come yet)."""
        return self.clock.now().astimezone(self.tz).date()

    def context(self, session: Session) -> Context:
        """A handler context on a session the caller manages (CLI jobs, the scheduler)."""
        return Context(session, self.clock, self.tz, self.calendar, self.dashboard)

    def receive(self, incoming: Incoming) -> list[Reply]:
        """Handle a message now; a repeat of an already handled message key gets no second answer."""
        try:
            with transaction(self.factory) as session:
                if self._record(session, incoming, InboundStatus.DONE) is None:
                    log.info("duplicate %s message %s dropped", incoming.platform, incoming.message_id)
                    return []
                return router.handle(self.context(session), incoming)
        except Exception:
            # The transaction was rolled back: nothing the message changed is half-written.
            log.exception("handling a message from %s failed", mask_sensitive(incoming.user_id))
        return [Reply(texts.INTERNAL_ERROR)]

    def accept(self, incoming: Incoming) -> bool:
        """Store a message to handle after the platform's request returns; False for a repeat (also one stored by
        another request at this very moment)."""
        with transaction(self.factory) as session:
            return self._record(session, incoming, InboundStatus.PENDING) is not None

    def process_pending(
        self,
        limit: int = 100,
        fetch_file: FileFetcher | None = None,
        skip: set[int] | None = None,
        stopping: Callable[[], bool] | None = None,
    ) -> int:
        """Handle stored messages in arrival order; replies go to the outbox. Returns how many were taken up.

        Each message is handled in one transaction that first claims it (see ledger_store.inbox): no message is
        handled twice, and one person's messages are handled one after another in the order they came, while other
        processes handle other people's. A crash mid-message rolls it back and leaves it for the next pass. A
        message that fails is counted and put in `skip` (so this caller does not take it again at once, nor that
        person's later ones); after MAX_ATTEMPTS it is answered with an apology. When `stopping()` turns true, no
        further message is taken up.
        """
        skip = set() if skip is None else skip
        with self.factory() as session:
            if fewest_attempts_pending(session) is None:
                return 0  # a plain read: an idle pass writes nothing, not even the lock row
        for taken in range(limit):
            if (stopping is not None and stopping()) or not self._handle_next(fetch_file, skip):
                return taken
        return limit

    def _handle_next(self, fetch_file: FileFetcher | None, skip: set[int]) -> bool:
        """Handle the oldest message this process may claim, leaving out `skip` (see claim_next); False when none
        can be taken now.

        A message whose file is still to fetch is left, the transaction closed, while the file is downloaded (see
        _fetch_file), and then taken up again with the file. Meanwhile no other worker takes it (it is marked as being
        fetched, until FETCH_LEASE has passed should this process die), nor its sender's later messages.
        """
        row_id, incoming, fetching = None, None, False
        try:
            with transaction(self.factory) as session:
                row = claim_next(session, self.now(), skip)
                if row is None:
                    return False
                row_id, incoming = row.id, self._incoming(row)
                fetching = fetch_file is not None and needs_file(incoming)
                if fetching:  # kept from other workers while this one downloads, for FETCH_LEASE at most
                    row.fetch_until = self.now() + FETCH_LEASE
                else:
                    person, replies = router.handle_for(self.context(session), incoming)
                    self._queue_replies(session, row_id, incoming, person, replies)
                    self._finish(session, row_id, InboundStatus.DONE)
            if not fetching:
                return True
        except MissingHandlingLock:
            create_handling_lock(self.factory, self.now())
            return self._handle_next(fetch_file, skip)
        except Exception:
            if row_id is None:
                raise  # the database itself failed before any message was taken: the caller logs it
            log.exception("handling stored %s message %s failed", incoming.platform, row_id)
            skip.add(row_id)
            self._count_failure(row_id, incoming)
            return True
        if not self._fetch_file(fetch_file, row_id, incoming, skip):
            return True  # its download failed: counted, and left for a later pass
        return self._handle_next(fetch_file, skip)

    def _fetch_file(self, fetch: FileFetcher, row_id: int, incoming: Incoming, skip: set[int]) -> bool:
        """Download a stored message's file outside any transaction and keep it with the message; False when the
        download failed (the try is counted).

        A platform can take seconds to hand a file over. Meanwhile no transaction is open here, so on SQLite the
        database's one write lock stays free and every new message is stored (and its callback or Stream frame
        acknowledged) at once. Should another process take the message first, the download was only wasted. A file
        over the platform's cap is not kept: the message goes on without it, saying how big a file may be.
        """
        try:
            name, content = fetch(incoming)
        except FileTooLarge as error:
            log.info("stored %s message %s: the file is over %d bytes, refused", incoming.platform, row_id, error.limit)
            limit = error.limit
            self._keep_file(row_id, lambda session, row: row.payload.update(file_too_large=limit))
            return True
        except Exception as error:
            log.exception("downloading the file of stored %s message %s failed", incoming.platform, row_id)
            skip.add(row_id)
            # A platform that says trying again cannot help (an expired file, an address refused) is not asked again.
            self._count_failure(row_id, incoming, final=isinstance(error, DeliveryError) and not error.retry)
            return False

        def keep(session: Session, row: InboundMessage) -> None:
            row.payload["file_name"] = name
            row.file = store_file(session, name, content, self.now())

        self._keep_file(row_id, keep)
        return True

    def _keep_file(self, row_id: int, keep: Callable[[Session, InboundMessage], None]) -> None:
        """Keep what a download brought with the stored message, if it still waits for handling without a file."""
        with transaction(self.factory) as session:
            row = session.get(InboundMessage, row_id)
            if row is None or row.status != InboundStatus.PENDING or row.file_id is not None:
                return
            row.payload = dict(row.payload or {})
            row.fetch_until = None
            keep(session, row)

    def _count_failure(self, row_id: int, incoming: Incoming, final: bool = False) -> None:
        """Count a failed try; the last one (or a `final` one) marks the message failed and apologises (a failing
        apology is logged)."""
        with transaction(self.factory) as session:
            row = session.get(InboundMessage, row_id)
            if row.status != InboundStatus.PENDING:
                return  # another process handled it after this try was rolled back
            row.attempts += 1
            row.fetch_until = None  # a download that failed: the next round may try again
            if row.attempts < MAX_ATTEMPTS and not final:
                return
            self._finish(session, row_id, InboundStatus.FAILED)
        try:
            with transaction(self.factory) as session:
                person = find_person(session, incoming.platform, incoming.user_id)
                self._queue_replies(session, row_id, incoming, person, [Reply(texts.INTERNAL_ERROR)])
        except Exception:
            # The message is already marked failed, so it cannot block those after it.
            log.exception("apologising for stored %s message %s failed", incoming.platform, row_id)

    def _record(self, session: Session, incoming: Incoming, status: InboundStatus) -> int | None:
        """Write the inbound row (None when its key was seen before), keeping the message when queued; its id."""
        key = incoming.message_id or uuid.uuid4().hex
        if len(key) > MAX_KEY_CHARS:
            # Still one key per message, and a retry of it maps to the same one; the column holds 200 characters.
            key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
        payload = None
        if status == InboundStatus.PENDING:
            payload = {
                "user_id": incoming.user_id,
                "text": incoming.text,
                "file_name": incoming.file_name,
                "unsupported": incoming.unsupported,
                "media_id": incoming.media_id,
            }
            if incoming.button is not None:
                payload["button"] = asdict(incoming.button)
        row_id = store_once(
            session,
            {
                "platform": incoming.platform,
                "message_key": key,
                "sender": sender_key(incoming.user_id),
                "received_at": self.now(),
                "status": status,
                "payload": payload,
                "attempts": 0,
            },
        )
        if row_id is not None and status == InboundStatus.PENDING and incoming.file_bytes is not None:
            file = store_file(session, incoming.file_name or "file", incoming.file_bytes, self.now())
            session.execute(update(InboundMessage).where(InboundMessage.id == row_id).values(file_id=file.id))
        return row_id

    def _incoming(self, row: InboundMessage) -> Incoming:
        """Rebuild the message a stored row holds."""
        payload = row.payload or {}
        button = payload.get("button")
        return Incoming(
            platform=row.platform,
            user_id=payload.get("user_id", ""),
            text=payload.get("text", ""),
            message_id=row.message_key,
            file_name=payload.get("file_name"),
            file_bytes=row.file.content if row.file else None,
            button=ButtonClick(**button) if button else None,
            unsupported=payload.get("unsupported"),
            media_id=payload.get("media_id"),
            file_too_large=payload.get("file_too_large"),
        )

    def _queue_replies(
        self, session: Session, row_id: int, incoming: Incoming, person: Person | None, replies: list[Reply]
    ) -> None:
        """Replies to a stored message leave through the outbox, on the platform it came from."""
        for index, reply in enumerate(replies):
            enqueue(
                session,
                person_id=person.id if person else None,
                user_id=None if person else incoming.user_id,
                dedupe_key=f"{REPLY_PREFIX}{row_id}:{index}",
                now=self.now(),
                text=reply.text,
                platform=incoming.platform,
                buttons=reply.buttons,
            )

    def _finish(self, session: Session, row_id: int, status: InboundStatus) -> None:
        row = session.get(InboundMessage, row_id)
        row.status = status
        row.processed_at = self.now()


def needs_file(incoming: Incoming) -> bool:
    """Does a stored message name a file not fetched yet (nor already known to be too large)?"""
    return bool(incoming.media_id) and incoming.file_bytes is None and not incoming.file_too_large
