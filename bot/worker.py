"""Finishes what a platform callback acknowledged, and keeps at it by itself: handle stored messages, push the outbox.

Handling and delivery take turns (a few messages, then what is due, then the next few), so replies flow during
a burst instead of waiting until the last message is handled. One worker thread per process runs the turns. A
callback only wakes it (`kick`); between wake-ups it sleeps until the next thing comes due: a push held back by a
limit or a retry, a message a crash left unhandled. So `serve` finishes its work with no scheduler and no new
callback, and picks up what a killed process left as soon as it starts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from bot.runtime import Runtime
from ledger_store.inbox import fewest_attempts_pending
from ledger_store.outbox import next_due_at

log = logging.getLogger(__name__)
# Messages handled in a turn before delivery gets its turn, and delivery passes (each up to batch_size rows) in one.
HANDLE_BATCH = 10
DELIVERY_PASSES = 3
# The worker looks at the database at least this often (seconds), so nothing waits long for a wake-up it missed.
LONGEST_SLEEP = 30.0
# Pushes that are due but could not go (the platform's minute is used up): look again this soon.
STALLED_SLEEP = 5.0
# Messages wait but none could be taken (their senders' older messages are in other workers' hands): this soon.
BLOCKED_SLEEP = 0.2


@dataclass
class Progress:
    """What a round of turns did: messages taken up (handled or failed) and pushes sent."""

    handled: int = 0
    sent: int = 0


def drain(runtime: Runtime, batch: int = HANDLE_BATCH, stopping: Callable[[], bool] = lambda: False) -> Progress:
    """Handle stored messages and deliver the outbox in turns until neither has more to do now; never raises.

    A message that fails is not taken again in the same round (it waits for the next one). Once `stopping()` is
    true, the message being handled is finished and no other is taken up (the turn's delivery pass still runs).
    """
    progress = Progress()
    failed: set[int] = set()
    while not stopping():
        try:
            handled = runtime.process_pending(batch, skip=failed, stopping=stopping)
        except Exception:
            log.exception("handling stored messages failed")
            handled = 0
        try:
            sent = runtime.deliver(max_batches=DELIVERY_PASSES)
        except Exception:
            log.exception("delivering the outbox failed")
            sent = 0
        progress.handled += handled
        progress.sent += sent
        if handled < batch and not sent:
            break
    return progress


class Worker:
    """Runs the slow part of message handling after the HTTP response, and what comes due later, in one thread."""

    def __init__(self, runtime: Runtime, longest_sleep: float = LONGEST_SLEEP) -> None:
        self.runtime = runtime
        self.longest_sleep = longest_sleep
        self._lock = threading.Lock()
        self._wanted = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def run(self, stopping: Callable[[], bool] = lambda: False) -> Progress:
        """One round of turns, handling and delivering until nothing more can be done now (or `stopping()`);
        never raises."""
        with self._lock:
            return drain(self.runtime, stopping=stopping)

    def kick(self) -> None:
        """Ask the worker thread for a round now (a callback stored a message); returns at once."""
        self._wanted.set()

    def start(self) -> None:
        """Start the worker thread; its first round handles and delivers whatever is waiting."""
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self.run_until_stopped, name="worker", daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the rounds once the message being handled is done; waits for the worker thread when there is one.

        Safe from a signal handler in the thread that runs the rounds (`python -m bot worker`): it only sets flags.
        """
        self._stopped.set()
        self._wanted.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def seconds_to_sleep(self, handled: int = 1) -> float:
        """How long the thread may sleep before work comes due, at most longest_sleep: 0 when a message waits,
        unless the round just before (which `handled` that many) could take none of them."""
        try:
            with self.runtime.factory() as session:
                fewest_attempts = fewest_attempts_pending(session)
                due = next_due_at(session)
        except Exception:
            log.exception("looking for waiting work failed")
            return self.longest_sleep
        if fewest_attempts == 0:
            # A message no one has tried yet (one that failed is tried again at the next wake-up). If the round
            # took none, each waits behind its sender's older message in another worker's hands: not a busy loop.
            return 0.0 if handled else min(BLOCKED_SLEEP, self.longest_sleep)
        moments = [self.longest_sleep]
        if due is not None:
            seconds = (due - self.runtime.engine.now()).total_seconds()
            # Due already after a round that sent all it could: the platform's minute is used up.
            moments.append(seconds if seconds > 0 else STALLED_SLEEP)
        return max(0.0, min(moments))

    def run_until_stopped(self) -> None:
        """Run rounds in this thread, sleeping between them until work comes due or a kick, until stop()."""
        while not self._stopped.is_set():
            self._wanted.clear()  # a kick from now on is either served by this round or wakes the next one
            try:
                progress = self.run(stopping=self._stopped.is_set)
                sleep = self.seconds_to_sleep(progress.handled)
            except Exception:  # run and seconds_to_sleep log their own errors; this keeps the thread alive
                log.exception("worker round failed")
                sleep = self.longest_sleep
            self._wanted.wait(sleep)
