"""Reading a file a platform hands over without ever holding more than the cap: what every adapter's download shares."""

from __future__ import annotations

import requests

from bot.platforms.base import FileTooLarge

# A file is read this many bytes at a time, so a download can stop soon after passing its cap.
DOWNLOAD_CHUNK = 64 * 1024


def read_capped(response: requests.Response, limit: int) -> bytes:
    """A streamed response's content: FileTooLarge as soon as it is known to pass `limit` bytes, from its
    Content-Length or while reading. A network failure mid-read is requests' own exception, for the caller to word."""
    declared = response.headers.get("Content-Length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise FileTooLarge(limit)
    chunks, size = [], 0
    for chunk in response.iter_content(DOWNLOAD_CHUNK):
        size += len(chunk)
        if size > limit:
            raise FileTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)
