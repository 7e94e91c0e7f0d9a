"""What every platform's HTTP routes share: a body read that stops at a limit, and a bare text response."""

from __future__ import annotations

from flask import Response, request


def capped_body(limit: int) -> bytes | None:
    """The request body, or None when it is longer than `limit` bytes (read no further than that, chunked or not)."""
    if (request.content_length or 0) > limit:
        return None
    body = request.stream.read(limit + 1)
    return None if len(body) > limit else body


def plain(status: int, text: str) -> Response:
    """A bare text response, as WeCom expects (no quotes, no newline); also every error page of the app."""
    return Response(text, status=status, mimetype="text/plain")
