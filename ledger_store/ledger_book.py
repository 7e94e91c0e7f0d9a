"""A ledger defined by its owner in Excel (台账定义表): sheets 台账, 字段 and an optional 数据, read and written.

Sheet 台账 has two columns, 项目 and 内容, one row per item (台账名称, 台账代码, 板块, 对象类型, 主键, 归属部门,
共享部门, 说明). Sheet 字段 has one header row (字段名称, 字段代码, 类型, 选项, 必填, 有效期（天）, 敏感, 标准字段)
and one row per field. Sheet 数据 holds initial rows: a header of field labels (or codes) and 单位 for the org
unit. Every cell is read as text first and typed after; every problem names its sheet and row, and a workbook
with any problem gives no definition at all.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from ledger_store.ledger_import import LedgerFileError, _Columns
from ledger_store.ledger_kinds import BOARDS, KIND_BY_CODE, KIND_BY_LABEL, STANDARD_FIELDS, standard_field
from ledger_store.ledgers import (
    FIELD_TYPES,
    MAX_VALIDITY_DAYS,
    SELECT_TYPES,
    SENSITIVE_TYPES,
    UNIT_HEADER,
    UNIT_KEY,
)
from ledger_store.sheet_files import DAMAGED_FILE, cell_text
from ledger_store.xlsx_archive import CHAT, UnsafeWorkbook, check_workbook
from ledger_store.xlsx_cells import cell

LEDGER_SHEET, FIELD_SHEET, DATA_SHEET = "台账", "字段", "数据"
LEDGER_HEADER = ("项目", "内容")
LEDGER_ITEMS = ("台账名称", "台账代码", "板块", "对象类型", "主键", "归属部门", "共享部门", "说明")
FIELD_HEADER = ("字段名称", "字段代码", "类型", "选项", "必填", "有效期（天）", "敏感", "标准字段")
TYPE_LABELS = {
    "整数": "integer",
    "小数": "decimal",
    "文本": "text",
    "日期": "date",
    "是否": "yes_no",
    "单选": "select_one",
    "多选": "select_multiple",
    "身份证号": "id_number",
    "手机号": "mobile",
}
LABEL_OF_TYPE = {kind: label for label, kind in TYPE_LABELS.items()}
FULL_MARK = "（完整）"  # after a department in 共享部门: it sees sensitive fields whole
MAX_DATA_ROWS = 2000  # initial rows in a definition; a whole register goes through /导入 or import-ledger
_LIST_SPLIT = re.compile(r"[、，,；;\n]+")
_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")
_Cells = tuple[int, tuple[str, ...]]  # a row number in its sheet and the row's cell texts
_YES, _NO = ("是", "y", "yes", "true", "1"), ("否", "", "n", "no", "false", "0")


@dataclass(frozen=True)
class LedgerBook:
    """A ledger definition as a workbook states it, with its initial rows (cell texts) when it has a 数据 sheet."""

    code: str
    title: str
    board: str
    entity_kind: str
    key_field: str
    owner: str
    shares: tuple[tuple[str, bool], ...]
    description: str | None
    fields: tuple[dict[str, Any], ...]
    data_header: tuple[str, ...] = ()
    data_rows: tuple[_Cells, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The book as JSON (kept while a data-losing change waits for 确认修改)."""
        return {
            "code": self.code,
            "title": self.title,
            "board": self.board,
            "entity_kind": self.entity_kind,
            "key_field": self.key_field,
            "owner": self.owner,
            "shares": [list(share) for share in self.shares],
            "description": self.description,
            "fields": list(self.fields),
            "data_header": list(self.data_header),
            "data_rows": [[number, list(cells)] for number, cells in self.data_rows],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LedgerBook:
        """Inverse of `to_json`."""
        return cls(
            code=data["code"],
            title=data["title"],
            board=data["board"],
            entity_kind=data["entity_kind"],
            key_field=data["key_field"],
            owner=data["owner"],
            shares=tuple((name, bool(full)) for name, full in data["shares"]),
            description=data["description"],
            fields=tuple(data["fields"]),
            data_header=tuple(data["data_header"]),
            data_rows=tuple((number, tuple(cells)) for number, cells in data["data_rows"]),
        )


def is_ledger_book(source: bytes | Path) -> bool:
    """Does the workbook have a 台账 sheet (a ledger definition rather than a form)? False for anything unreadable."""
    try:
        check_workbook(source, CHAT)
        data = source.read_bytes() if isinstance(source, Path) else source
        workbook = load_workbook(io.BytesIO(data), read_only=True)
    except (UnsafeWorkbook, *DAMAGED_FILE):
        return False
    try:
        return any(title.strip() == LEDGER_SHEET for title in workbook.sheetnames)
    finally:
        workbook.close()


def read_ledger_book(source: bytes | Path, departments: Collection[str] | None = None) -> LedgerBook | list[str]:
    """The definition a workbook states, or every problem found (Chinese, by sheet and row).

    `departments` are the names 归属部门 and 共享部门 may use; None skips that check (the shipped standard books
    are read before any organisation exists).
    """
    try:
        check_workbook(source, CHAT)
        data = source.read_bytes() if isinstance(source, Path) else source
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except UnsafeWorkbook as error:
        return [f"文件太大或结构异常，无法读取（{error.reason}）。"]
    except DAMAGED_FILE:
        return ["无法打开这个文件，请上传 Excel（.xlsx）格式的台账定义表。"]
    try:
        sheets = {title.strip(): workbook[title] for title in workbook.sheetnames}
        rows = {name: _sheet_rows(sheets[name]) for name in (LEDGER_SHEET, FIELD_SHEET, DATA_SHEET) if name in sheets}
    except DAMAGED_FILE:
        return ["文件已损坏，无法读取，请在 Excel 中另存为 .xlsx 后重新发送。"]
    finally:
        workbook.close()
    return _Reader(departments).read(rows)


def write_ledger_book(book: LedgerBook, with_data: bool = True, extra_sheets: tuple[Any, ...] = ()) -> bytes:
    """The workbook stating `book` (its 数据 sheet only when `with_data` and it has rows); every cell plain text.

    `extra_sheets` are (title, header, rows) written after, e.g. an instruction sheet.
    """
    workbook = Workbook()
    items = workbook.active
    items.title = LEDGER_SHEET
    by_name = {field["name"]: field for field in book.fields}
    shares = "、".join(name + (FULL_MARK if full else "") for name, full in book.shares)
    values = (book.title, book.code, book.board, KIND_BY_CODE[book.entity_kind].label,
              by_name[book.key_field]["label"], book.owner, shares, book.description or "")  # fmt: skip
    _fill(items, LEDGER_HEADER, list(zip(LEDGER_ITEMS, values, strict=True)), {"A": 14, "B": 48})
    rows = [_field_row(f, book.entity_kind) for f in book.fields]
    _fill(workbook.create_sheet(FIELD_SHEET), FIELD_HEADER, rows, {"A": 18, "D": 40})
    if with_data and book.data_header:
        _fill(workbook.create_sheet(DATA_SHEET), book.data_header, [cells for _, cells in book.data_rows], {})
    for title, header, rows in extra_sheets:
        _fill(workbook.create_sheet(title), header, rows, {"A": 16, "B": 80})
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _field_row(field: dict[str, Any], kind: str) -> tuple[str, ...]:
    """One row of the 字段 sheet for a field definition (a standard field by its Chinese label)."""
    days = field.get("validity_days")
    standard = standard_field(kind, field["standard"]) if field.get("standard") else None
    sensitive = field.get("sensitive", field["type"] in SENSITIVE_TYPES)
    return (
        field["label"],
        field["name"],
        LABEL_OF_TYPE[field["type"]],
        "、".join(choice["label"] for choice in field.get("choices") or ()),
        "是" if field.get("required") else "否",
        str(days) if days else "",
        "是" if sensitive else "否",
        standard.label if standard is not None else "",
    )


def _fill(sheet: Any, header: tuple[str, ...], rows: list[tuple[str, ...]], widths: dict[str, int]) -> None:
    """A bold header and the rows through the safe cell writer (text, never a formula)."""
    sheet.append([cell(sheet, title, font=Font(bold=True)) for title in header])
    for row in rows:
        sheet.append([cell(sheet, value or None) for value in row])
    for index in range(len(header)):
        letter = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[index] if index < 26 else None
        if letter:
            sheet.column_dimensions[letter].width = widths.get(letter, 14)


def _sheet_rows(sheet: Any) -> list[tuple[int, list[str]]]:
    """The sheet's non-empty rows as (row number, cell texts), capped at what a definition may hold."""
    rows = []
    for number, values in enumerate(sheet.iter_rows(max_col=60, values_only=True), start=1):
        texts = [cell_text(value) for value in values]
        if any(texts):
            rows.append((number, texts))
        if len(rows) > MAX_DATA_ROWS + 1:
            break
    return rows


def _yes_no(text: str) -> bool | None:
    """是 / 否 (empty is 否), or None for anything else."""
    folded = text.strip().lower()
    return True if folded in _YES else False if folded in _NO else None


class _Reader:
    """Reads the sheets of one workbook, collecting every problem instead of stopping at the first."""

    def __init__(self, departments: Collection[str] | None) -> None:
        self.departments = departments
        self.problems: list[str] = []
        self.where: dict[str, int] = {}  # 台账 sheet item -> its row

    def problem(self, sheet: str, row: int | None, text: str) -> None:
        """Note a problem at a row of a sheet (or of the workbook when row is None)."""
        self.problems.append(f"{sheet} 表第 {row} 行：{text}" if row else text)

    def read(self, rows: dict[str, list[tuple[int, list[str]]]]) -> LedgerBook | list[str]:
        """The book, or the problems."""
        for name in (LEDGER_SHEET, FIELD_SHEET):
            if name not in rows:
                self.problems.append(f"缺少“{name}”表。发送 /空白台账 可拿到带说明的空白台账定义表。")
        if self.problems:
            return self.problems
        items = self.ledger_items(rows[LEDGER_SHEET])
        fields = self.fields(rows[FIELD_SHEET], items.get("对象类型"))
        key = self.key(items, fields)
        header, data = self.data(rows.get(DATA_SHEET, []))
        if self.problems:
            return self.problems
        kind = items["对象类型"]
        return LedgerBook(
            code=items["台账代码"],
            title=items["台账名称"],
            board=items["板块"],
            entity_kind=KIND_BY_LABEL[kind].code if kind in KIND_BY_LABEL else kind,
            key_field=key,
            owner=items["归属部门"],
            shares=self.shares(items.get("共享部门", ""), items["归属部门"]),
            description=items.get("说明") or None,
            fields=tuple(fields),
            data_header=header,
            data_rows=data,
        )

    def ledger_items(self, rows: list[tuple[int, list[str]]]) -> dict[str, str]:
        """项目 -> 内容 of the 台账 sheet, each checked."""
        items: dict[str, str] = {}
        where = self.where
        for number, cells in rows:
            item, value = (cells + ["", ""])[0].strip(), (cells + ["", ""])[1].strip()
            if (item, value) == LEDGER_HEADER:
                continue
            if item not in LEDGER_ITEMS:
                self.problem(LEDGER_SHEET, number, f"“{item}”不是台账的项目，可填：{'、'.join(LEDGER_ITEMS)}")
                continue
            items[item], where[item] = value, number
        for item in ("台账名称", "台账代码", "板块", "对象类型", "主键", "归属部门"):
            if not items.get(item):
                self.problem(LEDGER_SHEET, where.get(item), f"{LEDGER_SHEET} 表缺少“{item}”，请在 内容 列填写")
        code, board, kind = items.get("台账代码", ""), items.get("板块", ""), items.get("对象类型", "")
        if code and not _CODE.fullmatch(code):
            self.problem(LEDGER_SHEET, where["台账代码"], f"台账代码“{code}”须以英文字母开头，只用字母、数字和下划线")
        if board and board not in BOARDS:
            self.problem(LEDGER_SHEET, where["板块"], f"板块“{board}”不认识，可填：{'、'.join(BOARDS)}")
        if kind and kind not in KIND_BY_LABEL and kind not in KIND_BY_CODE:
            self.problem(LEDGER_SHEET, where["对象类型"], f"对象类型“{kind}”不认识，可填：{'、'.join(KIND_BY_LABEL)}")
        if kind in KIND_BY_CODE:
            items["对象类型"] = KIND_BY_CODE[kind].label
        for item in ("归属部门", "共享部门"):
            for name, _ in self.shares(items.get(item, ""), None):
                if self.departments is not None and name not in self.departments:
                    self.problem(LEDGER_SHEET, where[item], f"{item}“{name}”不存在，请写组织架构里的部门全称")
        owner = items.get("归属部门", "")
        if "、" in owner or FULL_MARK in owner:
            self.problem(LEDGER_SHEET, where["归属部门"], "归属部门只能写一个部门")
        return items

    def shares(self, text: str, owner: str | None) -> tuple[tuple[str, bool], ...]:
        """共享部门 as (name, full) pairs, without the owner and without repeats."""
        found: dict[str, bool] = {}
        for part in _LIST_SPLIT.split(text):
            part = part.strip().replace("(完整)", FULL_MARK)
            name = part.removesuffix(FULL_MARK).strip()
            if name and name != owner:
                found[name] = found.get(name, False) or part.endswith(FULL_MARK)
        return tuple(found.items())

    def fields(self, rows: list[tuple[int, list[str]]], kind_label: str | None) -> list[dict[str, Any]]:
        """The field definitions of the 字段 sheet, each checked."""
        kind = KIND_BY_LABEL[kind_label].code if kind_label in KIND_BY_LABEL else None
        fields: list[dict[str, Any]] = []
        if not rows or [c.strip() for c in rows[0][1][:2]] != list(FIELD_HEADER[:2]):
            self.problem(FIELD_SHEET, 1, f"第一行应是表头：{'、'.join(FIELD_HEADER)}")
            return fields
        header = [text.strip() for text in rows[0][1]]
        columns = {title: header.index(title) for title in FIELD_HEADER if title in header}
        seen: dict[str, int] = {}
        for number, cells in rows[1:]:
            value = {title: (cells[i].strip() if i < len(cells) else "") for title, i in columns.items()}
            field = self.field(number, value, kind)
            if field is None:
                continue
            for text in {field["name"], field["label"]}:
                if text in seen:
                    self.problem(FIELD_SHEET, number, f"“{text}”与第 {seen[text]} 行重复，字段名称和代码都不能重复")
                seen.setdefault(text, number)
            fields.append(field)
        if not fields and len(rows) == 1:
            self.problem(FIELD_SHEET, None, f"{FIELD_SHEET} 表还没有字段，请至少写一行")
        return fields

    def field(self, number: int, value: dict[str, str], kind: str | None) -> dict[str, Any] | None:
        """One field definition from its row, or None after noting its problems."""
        before = len(self.problems)
        label, name, type_label = value.get("字段名称", ""), value.get("字段代码", ""), value.get("类型", "")
        if not label:
            self.problem(FIELD_SHEET, number, "字段名称不能为空")
        if label == UNIT_HEADER:
            self.problem(FIELD_SHEET, number, f"“{UNIT_HEADER}”留给数据表的单位列，字段请换个名称")
        if not _CODE.fullmatch(name):
            self.problem(FIELD_SHEET, number, f"字段代码“{name}”须以英文字母开头，只用字母、数字和下划线")
        field_type = TYPE_LABELS.get(type_label) or (type_label if type_label in FIELD_TYPES else None)
        if field_type is None:
            self.problem(FIELD_SHEET, number, f"类型“{type_label}”不认识，可填：{'、'.join(TYPE_LABELS)}")
        options = [part.strip() for part in _LIST_SPLIT.split(value.get("选项", "")) if part.strip()]
        if field_type in SELECT_TYPES and not options:
            self.problem(FIELD_SHEET, number, "单选、多选要在“选项”里写出可选项，用顿号分开，如 A类、B类")
        if field_type is not None and field_type not in SELECT_TYPES and options:
            self.problem(FIELD_SHEET, number, "只有单选、多选才写选项")
        if len(set(options)) != len(options):
            self.problem(FIELD_SHEET, number, "选项有重复")
        required, sensitive = _yes_no(value.get("必填", "")), _yes_no(value.get("敏感", ""))
        for title, answer in (("必填", required), ("敏感", sensitive)):
            if answer is None:
                self.problem(FIELD_SHEET, number, f"{title}只能填“是”或“否”")
        days_text = unicodedata.normalize("NFKC", value.get("有效期（天）", "")).strip()  # full-width digits too
        plain = days_text.isascii() and days_text.isdigit() and len(days_text) <= 5
        days = int(days_text) if plain and 0 < int(days_text) <= MAX_VALIDITY_DAYS else None
        if days_text and days is None:
            self.problem(
                FIELD_SHEET,
                number,
                f"有效期（天）“{days_text[:20]}”应是 1 到 {MAX_VALIDITY_DAYS} 的整数（天数），不限期就空着",
            )
        standard_text = value.get("标准字段", "")
        standard = standard_field(kind, standard_text) if standard_text else None
        if standard_text and kind is not None and (standard is None or standard.type != field_type):
            known = (
                "、".join(f"{f.label}（{LABEL_OF_TYPE[f.type]}）" for f in STANDARD_FIELDS.get(kind or "", ())) or "无"
            )
            self.problem(
                FIELD_SHEET, number, f"标准字段“{standard_text}”不是这类对象的标准字段或类型不符，可填：{known}"
            )
        if len(self.problems) > before or field_type is None:
            return None
        field: dict[str, Any] = {
            "name": name,
            "label": label,
            "type": field_type,
            "required": bool(required),
            "choices": [{"value": option, "label": option} for option in options],
            "validity_days": days,
            "sensitive": bool(sensitive) if value.get("敏感") else field_type in SENSITIVE_TYPES,
        }
        if standard is not None:
            field["standard"] = standard.name
        return field

    def key(self, items: dict[str, str], fields: list[dict[str, Any]]) -> str:
        """The key field's code, checked against the entity kind."""
        wanted, kind = items.get("主键", ""), KIND_BY_LABEL.get(items.get("对象类型", ""))
        row = self.where.get("主键")
        if not wanted or not fields:
            return ""
        key = next((f for f in fields if wanted in (f["name"], f["label"])), None)
        if key is None:
            self.problem(LEDGER_SHEET, row, f"主键“{wanted}”不是字段表里的字段，请写字段名称或字段代码")
            return ""
        if kind is not None and key["type"] not in kind.key_types:
            allowed = "、".join(LABEL_OF_TYPE[t] for t in kind.key_types)
            self.problem(LEDGER_SHEET, row, f"对象类型为“{kind.label}”时，主键的类型只能是：{allowed}")
        if kind is not None and kind.code == "unit" and key["name"] != UNIT_KEY:
            self.problem(LEDGER_SHEET, row, f"对象类型为“本单位”时，主键字段的代码须为 {UNIT_KEY}（单位名称）")
        return key["name"]

    def data(
        self, rows: list[tuple[int, list[str]]]
    ) -> tuple[tuple[str, ...], tuple[tuple[int, tuple[str, ...]], ...]]:
        """The 数据 sheet's header and rows as texts (typed later, against the units that exist)."""
        if not rows:
            return (), ()
        if len(rows) > MAX_DATA_ROWS + 1:
            self.problem(DATA_SHEET, None, f"{DATA_SHEET} 表最多 {MAX_DATA_ROWS} 行；更多的数据请定义台账后用导入")
        header = tuple(text.strip() for text in rows[0][1])
        width = len(header)
        return header, tuple((number, tuple((cells + [""] * width)[:width])) for number, cells in rows[1:])


@dataclass(frozen=True)
class DataRow:
    """One initial row typed: its sheet row, the record key, its org unit (None: not placed) and JSON values."""

    number: int
    key: str
    unit_id: int | None
    values: dict[str, Any]


def check_data(book: LedgerBook, units: dict[str, int], today: date) -> tuple[list[DataRow], list[str]]:
    """The 数据 sheet's rows typed against the definition and the org units by name, or their problems."""
    if not book.data_header:
        return [], []
    try:
        columns = _Columns(list(book.fields), book.key_field, list(book.data_header), units, today)
    except LedgerFileError as error:
        return [], [f"{DATA_SHEET} 表{error}"]
    problems = [f"{DATA_SHEET} 表第 1 行：“{title}”不是这个台账的字段" for title in columns.ignored]
    required = [f for f in book.fields if f["required"] and f["name"] != book.key_field]
    rows, seen = [], {}
    for number, cells in book.data_rows:
        row = columns.check(number, list(cells))
        reasons = [reason for _, reason in row.problems]
        reasons += [f"{f['label']}：必填，不能为空" for f in required if row.values.get(f["name"]) is None]
        if row.key and row.key in seen:
            reasons.append(f"主键与第 {seen[row.key]} 行重复")
        seen.setdefault(row.key, number)
        problems += [f"{DATA_SHEET} 表第 {number} 行：{reason}" for reason in reasons]
        if not reasons:
            rows.append(DataRow(number, row.key, row.unit_id, row.values))
    return rows, problems
