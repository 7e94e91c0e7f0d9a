"""Files to and from a platform: a download read without ever holding more than the cap, and an upload's
multipart body; what every adapter shares."""

from __future__ import annotations

import re
import secrets

import requests

from bot.platforms.base import FileTooLarge

# A file is read this many bytes at a time, so a download can stop soon after passing its cap.
DOWNLOAD_CHUNK = 64 * 1024
# Characters a multipart file name cannot hold as they are (quotes, backslashes and line breaks would end the header).
UNSAFE_FILE_NAME = re.compile(r'["\\\r\n\x00-\x1f]')


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


def multipart_file(field: str, name: str, data: bytes, extra: str = "") -> tuple[bytes, str]:
    """A multipart/form-data body holding one file in `field`, its name as raw UTF-8 (what WeCom and DingTalk read;
    requests' own encoding of a non-ASCII name, RFC 2231's filename*=, has changed between urllib3 versions and is
    not read by them), and its content type. `extra` goes after the file name in the Content-Disposition."""
    boundary = secrets.token_hex(16)
    safe_name = UNSAFE_FILE_NAME.sub("_", name)
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{field}"; filename="{safe_name}"{extra}\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    return head.encode() + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"
