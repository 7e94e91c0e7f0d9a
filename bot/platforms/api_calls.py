"""Counts a platform client's API calls and failed calls in the database every process shares (for /metrics)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ledger_store.api_calls import add_calls

log = logging.getLogger(__name__)
# How long a count waits for SQLite's write lock before it is left pending for the next call (milliseconds).
LOCK_WAIT_MS = 200


class CallCounter:
    """One platform's calls, counted by its client as each call ends (see WeComClient and DingTalkClient)."""

    def __init__(self, factory: sessionmaker[Session], platform: str) -> None:
        self.factory, self.platform = factory, platform
        # Calls and failed calls counted here but not yet in the database: see count.
        self._pending = [0, 0]
        self._pending_lock = threading.Lock()

    def count(self, failed: bool) -> None:
        """Count one call, failed or not, with any counts still pending in this process.

        The call has already been made: a database failure here is logged, never raised, so a push is neither
        failed nor sent again for want of a count. A call made while this thread's own transaction holds SQLite's
        write lock (a file downloaded while its message is handled) cannot be written at once: the count waits at
        most LOCK_WAIT_MS, stays pending in this process and is added with the next call's.
        """
        with self._pending_lock:
            self._pending[0] += 1
            self._pending[1] += int(failed)
            calls, errors = self._pending
            self._pending = [0, 0]
        try:
            add_calls(self.factory, self.platform, calls, errors, LOCK_WAIT_MS)
        except SQLAlchemyError as error:
            with self._pending_lock:
                self._pending = [self._pending[0] + calls, self._pending[1] + errors]
            log.info("%s API calls counted with the next one (%s)", self.platform, type(error).__name__)


@contextmanager
def counted(counter: CallCounter | None) -> Iterator[None]:
    """Count the one API call made in this block (when there is a counter): failed when an exception leaves it."""
    try:
        yield
    except Exception:
        if counter is not None:
            counter.count(failed=True)
        raise
    if counter is not None:
        counter.count(failed=False)
