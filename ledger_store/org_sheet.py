"""Read an organisation sheet (.xlsx or .csv) into rows of stripped strings keyed by column, streamed and capped.

The file is read row by row (read-only xlsx, line by line CSV) and refused past MAX_ROWS filled rows, so a sheet
of a million rows is turned away after reading the first MAX_ROWS, in little memory; an archive that would
unpack beyond the organisation limits is refused before it is opened.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ledger_store.sheet_files import RowProblem, SheetFileError, read_rows
from ledger_store.xlsx_archive import ORGANISATION, UnsafeWorkbook

MAX_ROWS = 50_000  # filled data rows; a district's organisation is under 20,000
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


@dataclass(frozen=True)
class OrgSheet:
    """The filled data rows of a sheet, and the (row, reason) of rows that could not be read."""

    rows: list[SheetRow]
    problems: list[tuple[int, str]] = field(default_factory=list)


def read_org_sheet(path: Path) -> OrgSheet:
    """Read the first sheet of an .xlsx or a .csv file; the header is row 1."""
    try:
        with read_rows(path, ORGANISATION) as records:
            return _rows(records)
    except SheetFileError as error:
        raise OrgSheetError(str(error)) from error
    except UnsafeWorkbook as error:
        raise OrgSheetError(error.sentence(path.name)) from error


def _header_key(text: str) -> str:
    # Templates often mark required columns with an asterisk: "单位*".
    return text.strip().strip("*＊").strip()


def _rows(records: Iterable[list[str] | RowProblem]) -> OrgSheet:
    numbered: Iterator[tuple[int, list[str] | RowProblem]] = enumerate(records, start=1)
    header = next(numbered, (1, []))[1]
    if isinstance(header, RowProblem):
        raise OrgSheetError(f"第 1 行：{header.sentence()}。")
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
    sheet = OrgSheet([])
    for number, record in numbered:
        if isinstance(record, RowProblem):
            sheet.problems.append((number, record.sentence() + "。"))
            continue
        cells = {key: record[index] for index, key in columns.items() if index < len(record)}
        if any(cells.values()):
            if len(sheet.rows) + len(sheet.problems) >= MAX_ROWS:
                raise OrgSheetError(
                    f"文件的数据超过 {MAX_ROWS} 行，不能一次导入，未写入任何数据。"
                    "请分成几个文件（上级单位所在的文件先导入）分别导入。"
                )
            sheet.rows.append(SheetRow(number, cells))
    return sheet
