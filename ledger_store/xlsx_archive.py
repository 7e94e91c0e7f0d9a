"""Checking an .xlsx archive before anything is unpacked: a zip bomb never reaches openpyxl.

An .xlsx is a zip archive: 1.5 MB of it can unpack to gigabytes. `check_workbook` first reads the end record
(the member count and directory size, so a directory of a million entries is never parsed), then the
directory: it refuses a file whose members declare more than the caller's limit, a big member compressed
beyond any real spreadsheet, or a shared-strings part (which openpyxl keeps in memory whole) that is too big.
Python's zipfile stops every member at its declared size, so a lying directory cannot unpack more than it
declares. Last it streams every member once through `_XmlCount`, which counts elements without parsing,
because openpyxl keeps a small object for every row it has read and for every element that is not a row,
and parses a whole row at once: a sheet of a million empty rows, or of a million cells in one row, fits in a
small archive yet takes gigabytes to open.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

MB = 1 << 20
DIRECTORY_BYTES_PER_MEMBER = 300  # a directory entry is 46 bytes plus its name (an xlsx has short names)
_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"
# The name of a row tag, found as a literal (fast) and then checked to be a tag: <row r="2">, <x:row/>, </row>.
_ROW_NAME = re.compile(rb"row(?=[\s/>])")
_NAME_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_KEPT_TAG_BYTES = 4096  # of an unfinished tag at the end of a chunk, kept for the next (a row tag is short)


@dataclass(frozen=True)
class Limits:
    """What one kind of upload may hold: unpacked bytes, the shared strings part, columns read, members, and
    how many rows and elements openpyxl may be made to keep."""

    unpacked_bytes: int
    shared_strings_bytes: int
    columns: int
    members: int = 5000
    rows: int = 20_000  # row elements in one part
    loose_elements: int = 300_000  # elements outside rows in one part (shared strings, merged cells …)
    row_elements: int = 16_384 * 8  # elements in one row: Excel's 16,384 columns, a few elements each
    ratio: int = 100  # unpacked / packed of one member, checked for members over `ratio_from_bytes`
    ratio_from_bytes: int = 5 * MB


# Forms and rosters sent in chat are small (5,000 rows are read); an organisation is under 20,000 rows (50,000
# are taken); a ledger may have millions, but past 500,000 rows it should come as a CSV, which streams in flat
# memory, while openpyxl keeps something of every row and every shared string.
CHAT = Limits(unpacked_bytes=20 * MB, shared_strings_bytes=10 * MB, columns=200)
ORGANISATION = Limits(
    unpacked_bytes=100 * MB, shared_strings_bytes=20 * MB, columns=100, rows=100_000, loose_elements=2_000_000
)
LEDGER = Limits(
    unpacked_bytes=1024 * MB, shared_strings_bytes=32 * MB, columns=1000, rows=500_000, loose_elements=4_000_000
)


class UnsafeWorkbook(ValueError):
    """A workbook refused before it was opened: `reason` is members, unpacked, ratio, shared_strings, rows or
    elements (more than openpyxl should be made to keep)."""

    def __init__(self, reason: str, limit: int, member: str = "") -> None:
        super().__init__(f"{reason} over {limit} {member}".strip())
        self.reason, self.limit, self.member = reason, limit, member

    def sentence(self, file_name: str) -> str:
        """The Chinese sentence for the command line (the chat has its own in handlers/texts)."""
        if self.reason == "members":
            return f"文件“{file_name}”里的部件超过 {self.limit} 个，可能不是正常的表格，请检查后重新导入。"
        if self.reason == "shared_strings":
            return (
                f"文件“{file_name}”里的文字解压后超过 {self.limit // MB} MB，"
                "请在 Excel 中另存为“CSV UTF-8（逗号分隔）”后再导入。"
            )
        if self.reason == "ratio":
            return f"文件“{file_name}”解压后是原来的 {self.limit} 倍以上，可能不是正常的表格，请检查后重新导入。"
        if self.reason == "rows":
            return (
                f"文件“{file_name}”的工作表超过 {self.limit} 行，请删去多余的行，"
                "或在 Excel 中另存为“CSV UTF-8（逗号分隔）”后再导入。"
            )
        if self.reason == "elements":
            return f"文件“{file_name}”的内容结构异常（单元格或其他元素过多），可能不是正常的表格，请检查后重新导入。"
        return f"文件“{file_name}”解压后超过 {self.limit // MB} MB，可能不是正常的表格，请检查后重新导入。"


def check_workbook(source: bytes | Path, limits: Limits) -> None:
    """Refuse (UnsafeWorkbook) an archive that would unpack beyond `limits`; zipfile.BadZipFile when it is no zip."""
    with io.BytesIO(source) if isinstance(source, bytes) else source.open("rb") as file:
        count, directory_bytes = _directory_size(file)
        # zipfile reads the whole directory into objects, trusting its size rather than the count: bound both.
        if count > limits.members or directory_bytes > limits.members * DIRECTORY_BYTES_PER_MEMBER:
            raise UnsafeWorkbook("members", limits.members)
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            members = archive.infolist()
            _check_declared(members, limits)
            for member in members:
                with archive.open(member) as stream:
                    _XmlCount(limits, member.filename).read(stream)


def _check_declared(members: list[zipfile.ZipInfo], limits: Limits) -> None:
    """The sizes the directory declares: the total, the shared strings part, and each big member's ratio."""
    if len(members) > limits.members:
        raise UnsafeWorkbook("members", limits.members)
    total = 0
    for member in members:
        total += member.file_size
        if total > limits.unpacked_bytes:
            raise UnsafeWorkbook("unpacked", limits.unpacked_bytes)
        if member.filename.casefold().endswith("sharedstrings.xml") and member.file_size > limits.shared_strings_bytes:
            raise UnsafeWorkbook("shared_strings", limits.shared_strings_bytes, member.filename)
        if member.file_size > limits.ratio_from_bytes and member.file_size > limits.ratio * member.compress_size:
            raise UnsafeWorkbook("ratio", limits.ratio, member.filename)


class _XmlCount:
    """Counts, without parsing, what openpyxl would keep of one part: its rows, the elements of each row, and
    the elements outside rows. Tags are found by their "<"; closing tags, comments and declarations are not
    elements. Parts that are no XML (an image) count as text and pass."""

    def __init__(self, limits: Limits, name: str) -> None:
        self.limits, self.name = limits, name
        self.rows = self.loose = self.in_row = 0
        self.inside = False

    def read(self, stream: IO[bytes]) -> None:
        """Count the part chunk by chunk; UnsafeWorkbook at the first limit passed."""
        pending = b""
        while chunk := stream.read(MB):
            data = pending + chunk
            cut = data.rfind(b"<")  # an unfinished tag waits for the next chunk
            body, pending = (data, b"") if cut < 0 else (data[:cut], data[cut : cut + _KEPT_TAG_BYTES])
            self.count(body)
        self.count(pending)

    def count(self, body: bytes) -> None:
        """Count one stretch of the part, row tag by row tag."""
        position = 0
        for name in _ROW_NAME.finditer(body):
            tag = _tag_start(body, name.start())
            if tag is None or tag < position:
                continue  # "row" in text or inside another tag
            self.add(_elements(body, position, tag))
            end = body.find(b">", name.end())
            end = len(body) if end < 0 else end + 1
            if body[tag + 1] == ord("/"):  # </row>
                self.inside = False
            else:
                self.rows += 1
                if self.rows > self.limits.rows:
                    raise UnsafeWorkbook("rows", self.limits.rows, self.name)
                self.inside, self.in_row = not body[tag:end].endswith(b"/>"), 0
            position = end
        self.add(_elements(body, position, len(body)))

    def add(self, elements: int) -> None:
        """Add elements to the open row, or to those outside rows."""
        if self.inside:
            self.in_row += elements
            if self.in_row > self.limits.row_elements:
                raise UnsafeWorkbook("elements", self.limits.row_elements, self.name)
        else:
            self.loose += elements
            if self.loose > self.limits.loose_elements:
                raise UnsafeWorkbook("elements", self.limits.loose_elements, self.name)


def _tag_start(body: bytes, name: int) -> int | None:
    """Where the tag whose name starts at `name` begins ("<" of <row, </row, <x:row), or None if it is no tag."""
    at = name - 1
    if at >= 0 and body[at] == ord(":"):  # a namespace prefix
        at -= 1
        while at >= 0 and body[at] in _NAME_BYTES:
            at -= 1
    if at >= 0 and body[at] == ord("/"):
        at -= 1
    return at if at >= 0 and body[at] == ord("<") else None


def _elements(body: bytes, start: int, end: int) -> int:
    """Start tags between two offsets: every "<" but those of closing tags, comments and declarations."""
    return (
        body.count(b"<", start, end)
        - body.count(b"</", start, end)
        - body.count(b"<!", start, end)
        - body.count(b"<?", start, end)
    )


def _directory_size(file: IO[bytes]) -> tuple[int, int]:
    """(members, bytes) of the archive's directory as its end record declares them (zip64 too), read before it."""
    size = file.seek(0, io.SEEK_END)
    tail_length = min(size, 22 + 0xFFFF)  # the end record, then a comment of up to 64 KB
    file.seek(size - tail_length)
    tail = file.read(tail_length)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        raise zipfile.BadZipFile("no end of central directory")
    count, directory_bytes = struct.unpack("<HL", tail[at + 10 : at + 16])
    if count != 0xFFFF and directory_bytes != 0xFFFFFFFF:
        return count, directory_bytes
    locator = tail[at - 20 : at] if at >= 20 else b""
    if not locator.startswith(_EOCD64_LOCATOR):
        return count, directory_bytes  # exactly 65,535 members, or a damaged archive zipfile will refuse
    file.seek(struct.unpack("<Q", locator[8:16])[0])
    record = file.read(56)
    if len(record) < 56 or not record.startswith(_EOCD64):
        raise zipfile.BadZipFile("zip64 end record damaged")
    count, directory_bytes = struct.unpack("<QQ", record[32:48])
    return count, directory_bytes
