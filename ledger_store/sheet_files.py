"""Reading spreadsheet files people upload, with limits checked before anything is unpacked.

An .xlsx is a zip archive: 1.5 MB of it can unpack to gigabytes. `check_workbook` reads only the archive's
directory (the member count first, from the end record, so a directory of a million entries is never parsed)
and refuses a file whose members declare more than the caller's limit, one of which is compressed beyond any
real spreadsheet, or whose shared-strings part (which openpyxl keeps in memory whole) is too big. Python's
zipfile stops every member at its declared size, so a lying directory cannot unpack more than it declares.

`read_rows` then streams the first sheet of an .xlsx (read-only mode, a column cap, so a sheet claiming 16,384
columns costs nothing) or a .csv (UTF-8 or GB18030, line by line with a bounded line length, a row the csv
module cannot take reported as that row's problem). Every cell comes back as the text a person typed, without
NUL and the other control characters; a row with a cell longer than Excel allows comes back as a `RowProblem`.
"""

from __future__ import annotations

import codecs
import csv
import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from ledger_store.xlsx_cells import MAX_CELL_CHARS, strip_controls

MB = 1 << 20
MAX_LINE_CHARS = 1 << 20  # one physical CSV line; a real row is a few hundred characters
DIRECTORY_BYTES_PER_MEMBER = 300  # a directory entry is 46 bytes plus its name (an xlsx has short names)
# What openpyxl, zipfile and zlib raise for a file that is no .xlsx or is damaged: SyntaxError is bad XML,
# NotImplementedError an unknown compression method, RuntimeError an encrypted zip member.
DAMAGED_FILE = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    InvalidFileException,
    KeyError,
    ValueError,
    OSError,
    SyntaxError,
    NotImplementedError,
    RuntimeError,
)
_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"


@dataclass(frozen=True)
class Limits:
    """What one kind of upload may hold: unpacked bytes in all, the shared strings part, members, columns read."""

    unpacked_bytes: int
    shared_strings_bytes: int
    columns: int
    members: int = 5000
    ratio: int = 100  # unpacked / packed of one member, checked for members over `ratio_from_bytes`
    ratio_from_bytes: int = 5 * MB


# Forms and rosters sent in chat are small; an organisation is under 20,000 rows; a ledger may have millions
# (a file that large should be a CSV: the shared strings of an xlsx are held in memory).
CHAT = Limits(unpacked_bytes=20 * MB, shared_strings_bytes=10 * MB, columns=200)
ORGANISATION = Limits(unpacked_bytes=100 * MB, shared_strings_bytes=20 * MB, columns=100)
LEDGER = Limits(unpacked_bytes=1024 * MB, shared_strings_bytes=64 * MB, columns=1000)


class UnsafeWorkbook(ValueError):
    """A workbook refused before it was opened: `reason` is members, unpacked, ratio or shared_strings."""

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
        return f"文件“{file_name}”解压后超过 {self.limit // MB} MB，可能不是正常的表格，请检查后重新导入。"


class SheetFileError(ValueError):
    """A file that cannot be read at all; the message is a Chinese sentence for the command line."""


@dataclass(frozen=True)
class RowProblem:
    """A row that could not be taken: a cell longer than Excel allows (`column` 0-based when known)."""

    column: int | None = None

    def sentence(self) -> str:
        """Why the row was not read, in Chinese."""
        where = f"第 {self.column + 1} 列" if self.column is not None else "有一个单元格"
        return f"{where}超过 {MAX_CELL_CHARS} 个字（Excel 一个单元格的上限），请检查这一行"


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


def cell_text(value: Any) -> str:
    """A cell as the text a person typed: 13812341234.0 as 13812341234, a date as 2024-11-30, None as "",
    without control characters."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value == datetime.combine(value.date(), datetime.min.time()) else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return strip_controls(str(value)).strip()


@contextmanager
def read_rows(path: Path, limits: Limits) -> Iterator[Iterator[list[str] | RowProblem]]:
    """The rows of an .xlsx (first sheet) or .csv file as cell texts, streamed; SheetFileError or UnsafeWorkbook
    when the file cannot be read at all."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        encoding = csv_encoding(path)
        with path.open(encoding=encoding, newline="") as file:
            yield _csv_rows(file, limits.columns)
        return
    if suffix not in (".xlsx", ".xlsm"):
        raise SheetFileError(
            f"无法识别文件“{path.name}”的类型，请上传 .xlsx 或 .csv 文件（旧版 .xls 请先在 Excel 中另存为 .xlsx）。"
        )
    try:
        check_workbook(path, limits)
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except UnsafeWorkbook:
        raise
    except DAMAGED_FILE as error:
        raise SheetFileError(f"无法打开文件“{path.name}”，请确认它是 Excel（.xlsx）文件。") from error
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # a stated size can be wrong; read every row there is
        yield _sheet_rows(sheet, limits.columns, path.name)
    finally:
        workbook.close()


def _sheet_rows(sheet: Any, columns: int, file_name: str) -> Iterator[list[str] | RowProblem]:
    """The sheet's rows as cell texts; SheetFileError naming the row where a damaged file stops making sense."""
    rows = sheet.iter_rows(max_col=columns, values_only=True)
    number = 0
    while True:
        try:
            values = next(rows)
        except StopIteration:
            return
        except DAMAGED_FILE as error:
            raise SheetFileError(f"文件“{file_name}”从第 {number + 1} 行起已损坏，无法读取。") from error
        number += 1
        yield _texts(values)


def _texts(values: tuple[Any, ...]) -> list[str] | RowProblem:
    """A row of cell values as texts, or the problem of its first overlong cell."""
    texts = [cell_text(value) for value in values]
    for index, text in enumerate(texts):
        if len(text) > MAX_CELL_CHARS:
            return RowProblem(index)
    return texts


def csv_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) or GB18030, whichever decodes the whole file, read in chunks."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as file:
                while chunk := file.read(MB):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
        except OSError as error:
            raise SheetFileError(f"无法打开文件“{path.name}”，请检查文件路径。") from error
    raise SheetFileError(f"无法识别文件“{path.name}”的文字编码，请在 Excel 中另存为“CSV UTF-8（逗号分隔）”后重新导入。")


class _LineTooLong(Exception):
    """A physical line longer than MAX_LINE_CHARS; the rest of it was skipped."""


class _Lines:
    """The lines of a text file, each read with a bounded length: a file without line breaks cannot fill memory."""

    def __init__(self, file: IO[str]) -> None:
        self.file = file

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.file.readline(MAX_LINE_CHARS)
        if not line:
            raise StopIteration
        if len(line) >= MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
            while (rest := self.file.readline(MAX_LINE_CHARS)) and not rest.endswith(("\n", "\r")):
                pass
            raise _LineTooLong
        return line


def _csv_rows(file: IO[str], columns: int) -> Iterator[list[str] | RowProblem]:
    """CSV records as cell texts (the first `columns` of each); a record csv cannot read is a RowProblem.

    The csv module starts every record afresh, so after a refused record the next one is read normally.
    """
    reader = csv.reader(_Lines(file))
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except (csv.Error, _LineTooLong):  # a field over csv's own limit (131,072) or a line over ours
            yield RowProblem()
            continue
        yield _texts(tuple(record[:columns]))
