"""Names of the files the bot makes: a label made safe and short, then the local time, never a stored file's name.

The label comes from what people typed (a task's title, a roster's name, a ledger's title): it may hold characters
a file system refuses (`/ \\ : * ? " < > |`, control characters) or run to hundreds of characters. A phone or a
folder keeps files by name, so two files made in one second must not share one either.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger_store.characters import without_unstorable
from ledger_store.models import StoredFile
from ledger_store.outbox import store_file

FORBIDDEN = re.compile(r'[\\/:*?"<>|]')
MAX_LABEL_CHARS = 60
# 60 Chinese characters are 180 bytes in UTF-8; rarer 4-byte characters are cut sooner, so that with the tag, time
# and number a name stays well under the 255 bytes most file systems allow.
MAX_LABEL_BYTES = 180
# The part of an .xlsx that records when it was saved: two saves of one workbook differ only there.
SAVE_TIME_PART = "docProps/core.xml"


def safe_label(label: str, fallback: str = "file") -> str:
    """The label fit for a file name: whitespace runs as one space, control characters dropped, the characters file
    systems refuse as _, no dot or space at either end, at most MAX_LABEL_CHARS characters; `fallback` if empty."""
    text = FORBIDDEN.sub("_", " ".join(without_unstorable(label).split()))
    text = text[:MAX_LABEL_CHARS]
    while len(text.encode()) > MAX_LABEL_BYTES:
        text = text[:-1]
    return text.strip(" .") or fallback


def stamped_name(label: str, when: datetime, tag: str = "", extension: str = ".xlsx") -> str:
    """The safe label, our tag and the local time: ("低保月报", when, "汇总_任务12") gives
    低保月报汇总_任务12_20241128-100503.xlsx."""
    return f"{safe_label(label)}{tag}_{when:%Y%m%d-%H%M%S}{extension}"


def unique_name(session: Session, name: str) -> str:
    """The name, or name_2, name_3 … when a stored file has it already (two files made in one second)."""
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    taken = set(session.scalars(select(StoredFile.name).where(StoredFile.name.startswith(stem, autoescape=True))))
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{stem}_{number}{dot}{suffix}"
    return candidate


def store_named(session: Session, name: str, content: bytes, now: datetime) -> StoredFile:
    """Keep a file the bot made, to send, under `name` made unique among the stored files."""
    return store_file(session, unique_name(session, name), content, now)


def content_digest(content: bytes) -> str:
    """A digest of what a file holds: of an .xlsx, its parts unpacked but the save time, so that one workbook saved
    twice has one digest; of anything else, its bytes."""
    digest = hashlib.sha256()
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            for info in sorted(archive.infolist(), key=lambda info: info.filename):
                if info.filename != SAVE_TIME_PART:
                    part = archive.read(info)
                    digest.update(f"{info.filename}\0{len(part)}\0".encode() + part)
    except zipfile.BadZipFile:
        return hashlib.sha256(content).hexdigest()
    return digest.hexdigest()
