"""Read an organisation sheet (.xlsx or .csv) into rows of stripped strings keyed by column."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl

# Chinese header -> the key a row's cells are stored under.
COLUMNS = {
    "单位": "unit",
    "上级单位": "parent",
    "层级": "level",
    "姓名": "name",
    "账号": "account",
    "角色": "roles",
    "手机号": "mobile",
    "企业微信账号": "wecom",
    "钉钉账号": "dingtalk",
}
REQUIRED = ("单位", "层级")


class OrgSheetError(ValueError):
    """The file cannot be read as an organisation sheet; the message is a Chinese sentence."""


@dataclass(frozen=True)
class SheetRow:
    """One non-empty data row: its spreadsheet row number and its cells by column key."""

    number: int
    cells: dict[str, str]

    def get(self, key: str) -> str:
        """The stripped cell text, or "" when the column is absent or the cell is empty."""
        return self.cells.get(key, "")


def read_org_sheet(path: Path) -> list[SheetRow]:
    """Read the first sheet of an .xlsx or a .csv file; the header is row 1."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _rows(_xlsx_records(path))
    if suffix == ".csv":
        return _rows(_csv_records(path))
    raise OrgSheetError(
        f"无法识别文件“{path.name}”的类型，请上传 .xlsx 或 .csv 文件（旧版 .xls 请先在 Excel 中另存为 .xlsx）。"
    )


def cell_text(value: Any) -> str:
    """A cell as the text a person typed: 13812341234.0 as 13812341234, a date as 2024-11-30, None as ""."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value == datetime.combine(value.date(), datetime.min.time()) else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _xlsx_records(path: Path) -> list[list[str]]:
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError) as error:
        raise OrgSheetError(f"无法打开文件“{path.name}”，请确认它是 Excel（.xlsx）文件。") from error
    try:
        sheet = workbook.worksheets[0]
        return [[cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _csv_records(path: Path) -> list[list[str]]:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise OrgSheetError(f"无法打开文件“{path.name}”，请检查文件路径。") from error
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Chinese Windows saves "CSV" in the local code page.
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError as error:
            raise OrgSheetError(
                f"无法识别文件“{path.name}”的文字编码，请在 Excel 中另存为“CSV UTF-8（逗号分隔）”后重新上传。"
            ) from error
    return [[cell_text(value) for value in record] for record in csv.reader(io.StringIO(text))]


def _header_key(text: str) -> str:
    # Templates often mark required columns with an asterisk: "单位*".
    return text.strip().strip("*＊").strip()


def _rows(records: Iterable[list[str]]) -> list[SheetRow]:
    numbered: Iterator[tuple[int, list[str]]] = enumerate(records, start=1)
    header = next(numbered, (1, []))[1]
    columns: dict[int, str] = {}
    for index, title in enumerate(header):
        key = COLUMNS.get(_header_key(title))
        if key and key not in columns.values():
            columns[index] = key
    missing = [name for name in REQUIRED if COLUMNS[name] not in columns.values()]
    if missing:
        found = "、".join(title for title in header if title) or "（空）"
        wanted = "".join(f"“{name}”" for name in missing)
        raise OrgSheetError(
            f"第 1 行缺少{wanted}列。第 1 行现有的列名是：{found}。"
            "请在第 1 行写上列名：单位、层级（必填），以及按需填写的 上级单位、姓名、账号、角色、手机号、"
            "企业微信账号、钉钉账号。"
        )
    rows = []
    for number, record in numbered:
        cells = {key: record[index] for index, key in columns.items() if index < len(record)}
        if any(cells.values()):
            rows.append(SheetRow(number, cells))
    return rows
