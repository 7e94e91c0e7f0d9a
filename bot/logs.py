"""Logging set-up: every line written is masked, tracebacks included, so no ID or mobile reaches a log."""

from __future__ import annotations

import logging

from handlers.masking import mask_sensitive


class MaskingFormatter(logging.Formatter):
    """A formatter whose whole output (message, arguments, traceback) passes through mask_sensitive."""

    def format(self, record: logging.LogRecord) -> str:
        """Format as usual, then mask ID numbers and mobile numbers."""
        return mask_sensitive(super().format(record))


def configure_logging(level: int = logging.WARNING) -> None:
    """Send logs to stderr through the masking formatter."""
    handler = logging.StreamHandler()
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
