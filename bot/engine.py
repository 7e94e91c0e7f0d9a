"""Runs one incoming message through the handlers inside one transaction, once per platform message id."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from handlers import router
from handlers.clock import Clock
from handlers.context import Context
from handlers.masking import mask_sensitive
from handlers.messages import Incoming
from handlers.texts import commands as texts
from ledger_store.db import transaction
from ledger_store.models import InboundMessage

log = logging.getLogger(__name__)


class Engine:
    """The bot's core as the edges see it: a message in, the replies to its sender out."""

    def __init__(self, factory: sessionmaker[Session], clock: Clock, tz: ZoneInfo) -> None:
        self.factory = factory
        self.clock = clock
        self.tz = tz

    def receive(self, incoming: Incoming) -> list[str]:
        """Handle a message; a repeat of an already handled message id gets no second answer."""
        try:
            with transaction(self.factory) as session:
                if incoming.message_id and self._seen_before(session, incoming):
                    log.info("duplicate %s message %s dropped", incoming.platform, incoming.message_id)
                    return []
                return router.handle(Context(session, self.clock, self.tz), incoming)
        except IntegrityError:
            if incoming.message_id:
                log.info("concurrent duplicate of %s message %s dropped", incoming.platform, incoming.message_id)
                return []
            log.exception("handling a message from %s failed", mask_sensitive(incoming.user_id))
            return [texts.INTERNAL_ERROR]
        except Exception:
            # The transaction was rolled back: nothing the message changed is half-written.
            log.exception("handling a message from %s failed", mask_sensitive(incoming.user_id))
            return [texts.INTERNAL_ERROR]

    def now(self) -> datetime:
        """The engine's current time as stored (naive UTC)."""
        return self.clock.now().astimezone(UTC).replace(tzinfo=None)

    def context(self, session: Session) -> Context:
        """A handler context on a session the caller manages (CLI jobs, the scheduler)."""
        return Context(session, self.clock, self.tz)

    def _seen_before(self, session: Session, incoming: Incoming) -> bool:
        """Record the message id; True when it was recorded already."""
        key = incoming.message_id or ""
        found = session.scalar(
            select(InboundMessage.id).where(
                InboundMessage.platform == incoming.platform, InboundMessage.message_key == key
            )
        )
        if found is not None:
            return True
        received_at = self.now()
        session.add(InboundMessage(platform=incoming.platform, message_key=key, received_at=received_at))
        session.flush()
        return False
