"""Reading spreadsheet files people upload: the rows of an .xlsx or .csv as cell texts, streamed.

An .xlsx is first checked by `xlsx_archive.check_workbook` (sizes, structure) before openpyxl opens it.
`read_rows` then streams the first sheet of an .xlsx (read-only mode, a column cap, so a sheet claiming 16,384
columns costs nothing) or a .csv (UTF-8 or GB18030, line by line with a bounded line length, a row the csv
module cannot take reported as that row's problem). Every cell comes back as the text a person typed, without
NUL and the other control characters; a row with a cell longer than Excel allows comes back as a `RowProblem`.
"""

from __future__ import annotations

import codecs
import csv
import math
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from ledger_store.characters import without_unstorable
from ledger_store.xlsx_archive import MB, Limits, UnsafeWorkbook, check_workbook
from ledger_store.xlsx_cells import MAX_CELL_CHARS

_FIFTEEN_DIGITS_LIMIT = 1e15  # spreadsheets keep 15 significant digits of a number
MAX_LINE_CHARS = 1 << 20  # one physical CSV line; a real row is a few hundred characters
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


def cell_text(value: Any) -> str:
    """A cell as the text a person typed: 13812341234.0 as 13812341234, a date as 2024-11-30, None as "",
    without control characters.

    A number cell of 16 digits or more is written as a spreadsheet shows it (5.00118197507142E+17): it keeps only
    15 significant digits, so an ID number typed into a number cell has lost its last ones, and no reader may take
    the zeros or the float's digits in their place for the real ones.
    """
    if value is None:
        return ""
    if isinstance(value, float) and math.isfinite(value):
        if abs(value) >= _FIFTEEN_DIGITS_LIMIT:
            return format(value, ".15G")
        return str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):
        return value.date().isoformat() if value == datetime.combine(value.date(), datetime.min.time()) else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return without_unstorable(str(value)).strip()


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
    """The sheet's rows as cell texts, each as wide as the header (row 1, read to `columns`); SheetFileError
    naming the row where a damaged file stops making sense."""
    number = 0
    try:
        header = next(sheet.iter_rows(max_row=1, max_col=columns, values_only=True), ())
        texts = _texts(header)
        yield texts
        # Cells right of the last titled column belong to no column; not padding rows to `columns` keeps a
        # million-row file as fast as its real width allows.
        titled = [index for index, text in enumerate(texts) if text] if isinstance(texts, list) else [len(header) - 1]
        rows = sheet.iter_rows(min_row=2, max_col=max(titled, default=0) + 1, values_only=True)
        number = 1
        for values in rows:
            number += 1
            yield _texts(values)
    except DAMAGED_FILE as error:
        raise SheetFileError(f"文件“{file_name}”从第 {number + 1} 行起已损坏，无法读取。") from error


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
