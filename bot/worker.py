"""Finishes what a platform callback acknowledged: handle the stored messages, then push the outbox.

One worker thread per process does this work. A callback only signals it (`kick`), so a burst of callbacks
does not leave one waiting thread per response behind; the thread keeps going while work remains.
"""

from __future__ import annotations

import logging
import threading

from bot.runtime import Runtime

log = logging.getLogger(__name__)


class Worker:
    """Runs the slow part of message handling after the HTTP response, one pass at a time per process."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._lock = threading.Lock()
        self._wanted = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def run(self) -> None:
        """Handle every stored message, then deliver what is due; errors are logged, never raised."""
        with self._lock:
            try:
                while self.runtime.process_pending():
                    pass
            except Exception:
                log.exception("handling stored messages failed")
            try:
                self.runtime.deliver()
            except Exception:
                log.exception("delivering the outbox failed")

    def kick(self) -> None:
        """Ask the worker thread for a pass (starting it on first use); returns at once."""
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="worker", daemon=True)
                self._thread.start()
        self._wanted.set()

    def _loop(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            self.run()
