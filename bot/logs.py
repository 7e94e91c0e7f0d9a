"""Logging set-up: every line written is masked, tracebacks included, so no ID or mobile reaches a log."""

from __future__ import annotations

import logging
from types import TracebackType

from handlers.core.masking import mask_sensitive

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


class MaskingFormatter(logging.Formatter):
    """A formatter whose whole output (message, arguments, traceback, stack) passes through mask_sensitive."""

    def format(self, record: logging.LogRecord) -> str:
        """Format as usual, then mask ID numbers and mobile numbers."""
        return mask_sensitive(super().format(record))

    def formatException(self, ei: ExcInfo) -> str:
        """The traceback masked: logging caches it on the record, where other handlers would reuse it."""
        return mask_sensitive(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        """The stack masked, like the traceback."""
        return mask_sensitive(super().formatStack(stack_info))


def configure_logging(level: int = logging.WARNING) -> None:
    """Send logs to stderr through the masking formatter."""
    handler = logging.StreamHandler()
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
