"""Bulk import of a ledger from an .xlsx or .csv file, streamed in batches so memory stays flat at millions of rows.

Every row is checked; valid rows are upserted by key, `batch_size` rows per transaction, and invalid rows go
to an error workbook with their row number, their cells and a Chinese reason per cell. An empty cell keeps
what is stored, so a file may update a few columns. A key repeated in the file makes the later rows invalid
(the first one wins), so a re-run of the same file writes nothing at all.

History: a record an import creates gets no LedgerChange rows (at 1.2 M rows, "None -> value" rows would
double the import and say nothing that the record's created_at, its value_times and the batch's audit entry
do not); a value an import changes on an existing record gets one, with source "import:<file name>" (or the
source `import_rows` is given, such as "数据下沉：<source name>" for rows another system offers). Every
batch that writes leaves one audit entry (file, rows, counts, never personal data). Unchanged values are not
re-confirmed: a file is not a person confirming, and a re-run must change nothing.

Shared fields (标准字段): after each batch, the shared values its rows wrote go on to the records other ledgers of
the same entity kind hold for the same keys (`ledgers.share_values`, one query per batch), where they differ.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import sqlalchemy as sa
from openpyxl.cell import Cell
from openpyxl.styles import PatternFill
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from ledger_store import audit, rollups
from ledger_store.ledgers import (
    UNIT,
    UNIT_HEADER,
    UNIT_KEY,
    decimal_text,
    get_ledger,
    naive_utc,
    share_values,
    shared_names,
)
from ledger_store.models import Ledger, LedgerChange, LedgerRecord, OrgUnit
from ledger_store.sheet_files import RowProblem, SheetFileError, read_rows
from ledger_store.values import read_value
from ledger_store.values.choices import choices_of
from ledger_store.values.problems import Problem, Refused
from ledger_store.xlsx_archive import LEDGER, UnsafeWorkbook
from ledger_store.xlsx_cells import cell

MAX_ERRORS_SHOWN = 30
MAX_KEY_LENGTH = 64
_BAD_CELL = PatternFill("solid", fgColor="FFC7CE")
# Why a cell was refused, after its column's label: the text, the part refused, "整数" or "数字", the options,
# the options an ambiguous part matched, and an ID number's or mobile's expected and actual number of digits.
_CELL_PROBLEMS = {
    Problem.NOT_A_NUMBER: "“{text}”不是{number}",
    Problem.NOT_AN_INTEGER: "“{text}”不是整数",
    Problem.TOO_LARGE: "“{text}”太大，最多 15 位整数",
    Problem.NOT_A_DATE: "“{text}”不是日期，请写成 2024-11-30 或 2024年11月30日",
    Problem.NO_SUCH_DAY: "“{text}”这一天不存在",
    Problem.NOT_YES_NO: "“{text}”不是“是”或“否”",
    Problem.UNKNOWN_OPTION: "“{part}”不是可选项，可选：{labels}",
    Problem.NO_SUCH_OPTION_NUMBER: "“{part}”不是可选项，可选：{labels}",
    Problem.AMBIGUOUS_OPTION: "“{part}”对应多个选项（{matches}），请写完整名称",
    Problem.ONLY_ONE_OPTION: "只能选一项，可选：{labels}",
    Problem.WRONG_LENGTH: "位数不对，应为 {digits} 位，这里是 {length} 位",
    Problem.BAD_CHARACTER: "含有非法字符，请核对",
    Problem.BAD_BIRTH_DATE: "出生日期不对，请核对",
    Problem.BAD_CHECK_DIGIT: "校验位不对，请核对",
    Problem.STORED_AS_NUMBER: "被 Excel 存成了数字，后几位已丢失，请把这一列设为“文本”格式后重新填写",
    Problem.BAD_MOBILE_PREFIX: "号段不对，请核对",
}
_DIGITS = {"id_number": 18, "mobile": 11}
_TEXT_STORED = ("decimal", "date")  # kept as text in the JSON values, as `ledgers.to_json` writes them


class LedgerFileError(ValueError):
    """The file cannot be imported at all; the message is a Chinese sentence."""


@dataclass
class LedgerImportReport:
    """What an import read, wrote and refused."""

    ledger_title: str
    file_name: str
    problem: str | None = None
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0
    seconds: float = 0.0
    error_path: Path | None = None
    ignored_columns: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # the first MAX_ERRORS_SHOWN row errors

    def summary(self) -> str:
        """A Chinese paragraph for the person who uploaded the file."""
        if self.problem and not (self.inserted or self.updated):
            return f"导入失败，未写入任何数据：{self.problem}"
        if self.problem:
            return (
                f"导入中途停止：{self.problem}已写入的部分保留（新增 {self.inserted} 条，更新 {self.updated} 条）；"
                "改正文件后重新导入整个文件即可，已导入的行不会重复。"
            )
        lines = [
            f"“{self.ledger_title}”导入完成：读取 {self.rows_read} 行，"
            f"新增 {self.inserted} 条，更新 {self.updated} 条，无变化 {self.unchanged} 条，"
            f"有误 {self.invalid} 行，用时 {self.seconds:.1f} 秒。"
        ]
        if self.ignored_columns:
            lines.append(f"以下列不属于这个台账，已忽略：{'、'.join(self.ignored_columns)}。")
        if self.invalid:
            lines.append("有误的行没有导入，改正后可重新导入整个文件，已导入的行不会重复：")
            lines += self.errors
            if self.invalid > len(self.errors):
                lines.append(f"……另有 {self.invalid - len(self.errors)} 行有误未列出。")
            if self.error_path:
                lines.append(f"全部有误的行及原因见文件“{self.error_path.name}”。")
        return "\n".join(lines)


def import_ledger(
    factory: sessionmaker[Session],
    ledger_code: str,
    path: Path,
    actor_id: int | None,
    now: datetime,
    progress: Callable[[int], None] | None = None,
    batch_size: int = 1000,
    error_path: Path | None = None,
    today: date | None = None,
) -> LedgerImportReport:
    """Import a ledger file batch by batch; `progress` gets the rows read so far after every batch.

    `today` is the local day cells are read on (a birth date after it is refused); the day of `now` by default.
    """
    return import_rows(
        factory, ledger_code, lambda: read_rows(path, LEDGER), path.name, f"import:{path.name}", actor_id, now,
        progress, batch_size, error_path, today,
    )  # fmt: skip


def import_rows(
    factory: sessionmaker[Session],
    ledger_code: str,
    open_rows: Callable[[], AbstractContextManager[Iterator[list[str] | RowProblem]]],
    name: str,
    source: str,
    actor_id: int | None,
    now: datetime,
    progress: Callable[[int], None] | None = None,
    batch_size: int = 1000,
    error_path: Path | None = None,
    today: date | None = None,
) -> LedgerImportReport:
    """Import rows of cell texts (a header first) from `open_rows()`, checked and written as a file's are.

    `name` names the input in the report; `source` is the history's source of every value changed. Rows that
    cannot be read at all end the import with a LedgerFileError or SheetFileError sentence as its problem.
    """
    started = time.perf_counter()
    with factory() as session:
        with session.begin():
            ledger = get_ledger(session, ledger_code)
            units = dict(session.execute(select(OrgUnit.name, OrgUnit.id)).tuples().all())
            # Read inside the transaction: a factory that expires objects on commit must not reload them later.
            definition = None if ledger is None else (ledger.id, ledger.title, ledger.key_field, ledger.fields)
            shared = ledger is not None and bool(shared_names(ledger))
        if definition is None:
            return LedgerImportReport(ledger_code, name, problem=f"没有编号为“{ledger_code}”的台账。")
        ledger_id, title, key_field, fields = definition
        report = LedgerImportReport(title, name)
        batch = _Batch(session, ledger_id, source[:200], actor_id, naive_utc(now))
        batch.shared = shared
        errors: _ErrorBook | None = None
        try:
            with open_rows() as records, tempfile.TemporaryDirectory() as scratch:
                header = next(records, [])
                if isinstance(header, RowProblem):
                    raise LedgerFileError(f"第 1 行：{header.sentence()}。")
                columns = _Columns(fields, key_field, header, units, today or now.date())
                report.ignored_columns, batch.required = columns.ignored, columns.required
                errors = _ErrorBook(error_path, header, report)
                with closing(_SeenKeys(Path(scratch) / "keys.sqlite3")) as seen:
                    for number, record in enumerate(records, start=2):
                        if isinstance(record, RowProblem):
                            report.rows_read += 1
                            errors.add(_Row(number, [], problems=[(-1, record.sentence())]))
                        elif any(record):
                            report.rows_read += 1
                            batch.add(columns.check(number, record), errors)
                        if len(batch.rows) >= batch_size:
                            batch.write(seen, errors)
                            _tell(progress, report.rows_read)
                    batch.write(seen, errors)
                    _tell(progress, report.rows_read)
        except (LedgerFileError, SheetFileError) as error:
            report.problem = str(error)
        except UnsafeWorkbook as error:
            report.problem = error.sentence(name)
        finally:
            if errors is not None:
                errors.close()  # the rows refused before a file stopped making sense are listed too
    report.inserted, report.updated, report.unchanged = batch.inserted, batch.updated, batch.unchanged
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class _Row:
    """One data row: its number, cells, and either its key, unit and JSON values or its problems."""

    number: int
    cells: list[str]
    key: str = ""
    unit_id: int | None = None
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (column index or -1, reason)


class _Columns:
    """The header mapped to fields, and the check that turns one row of text into JSON values."""

    def __init__(
        self, fields: list[dict[str, Any]], key_field: str, header: list[str], units: dict[str, int], today: date
    ) -> None:
        by_header = {text: f for f in fields for text in (f["name"], f["label"])}
        self.units, self.key_field, self.today = units, key_field, today
        self.choices = {f["name"]: choices_of(f["choices"]) for f in fields}
        self.unit_index: int | None = None
        self.fields: list[tuple[int, dict[str, Any]]] = []
        self.ignored: list[str] = []
        titles = [title.strip().strip("*＊").strip() for title in header]
        for index, title in enumerate(titles):
            found = by_header.get(title)
            if title == UNIT_HEADER and self.unit_index is None:
                self.unit_index = index
            elif found and all(f is not found for _, f in self.fields):
                self.fields.append((index, found))
            elif title:
                self.ignored.append(title)
        columns = {f["name"]: index for index, f in self.fields}
        # Checked per new record when written: a file updating a few columns of known records may omit them.
        self.required = [
            (columns.get(f["name"], -1), f["name"], f["label"])
            for f in fields
            if f["required"] and f["name"] != key_field
        ]
        if key_field not in columns:
            found = "、".join(title for title in titles if title) or "（空）"
            label = next(f["label"] for f in fields if f["name"] == key_field)
            raise LedgerFileError(f"第 1 行缺少“{label}”列（台账的主键）。第 1 行现有的列名是：{found}。")

    def check(self, number: int, record: list[str]) -> _Row:
        """The row typed, or with a reason for each bad cell."""
        row = _Row(number, record)
        for index, f in self.fields:
            text = record[index].strip() if index < len(record) else ""
            if not text:
                if f["name"] == self.key_field:
                    row.problems.append((index, f"{f['label']}：必填，不能为空"))
                continue
            value = read_value(f["type"], text, self.today, self.choices[f["name"]])
            if isinstance(value, Refused):
                row.problems.append((index, f"{f['label']}：{_refusal(f, text, value)}"))
                continue
            if f["type"] in _TEXT_STORED:
                value = decimal_text(value) if f["type"] == "decimal" else value.isoformat()
            if f["name"] != self.key_field:
                row.values[f["name"]] = value
            elif len(str(value)) > MAX_KEY_LENGTH:
                row.problems.append((index, f"{f['label']}：太长，最多 {MAX_KEY_LENGTH} 个字"))
            else:
                row.key = unicodedata.normalize("NFKC", str(value))  # as ledgers.normalize_key stores keys
        unit = record[self.unit_index].strip() if self.unit_index is not None and self.unit_index < len(record) else ""
        if not unit and self.key_field == UNIT_KEY and row.key:
            unit = row.key  # a unit ledger's record belongs to the unit it describes
        if unit and unit not in self.units:
            row.problems.append((self.unit_index, f"单位“{unit}”不存在，请核对名称，或先导入组织架构"))
        row.unit_id = self.units.get(unit)
        return row


class _Batch:
    """Valid rows waiting to be written, and the writing: one SELECT, bulk inserts and updates, one commit."""

    def __init__(self, session: Session, ledger_id: int, source: str, actor_id: int | None, now: datetime) -> None:
        self.session, self.ledger_id, self.source, self.actor_id, self.now = session, ledger_id, source, actor_id, now
        self.stamp = now.isoformat()
        self.required: list[tuple[int, str, str]] = []  # (column index or -1, field name, label)
        self.rows: dict[str, _Row] = {}
        self.shared = False  # does the ledger hold shared fields, whose values go on to other ledgers?
        self.inserted = self.updated = self.unchanged = self.analyzed_at = 0

    def add(self, row: _Row, errors: _ErrorBook) -> None:
        """Keep a valid row for the next write; an invalid one or a repeated key goes to the errors."""
        earlier = self.rows.get(row.key)
        if earlier is not None and not row.problems:
            row.problems.append((-1, f"与第 {earlier.number} 行重复（主键相同）"))
        if row.problems:
            errors.add(row)
        else:
            self.rows[row.key] = row

    def write(self, seen: _SeenKeys, errors: _ErrorBook) -> None:
        """Upsert the kept rows in one transaction; rows whose key an earlier batch had go to the errors."""
        for key, number in seen.earlier({key: row.number for key, row in self.rows.items()}).items():
            self.rows[key].problems.append((-1, f"与第 {number} 行重复（主键相同）"))
            errors.add(self.rows.pop(key))
        if not self.rows:
            return
        with self.session.begin():
            self._upsert(list(self.rows.values()), errors)
        self.rows = {}
        # PostgreSQL plans the key lookup from statistics taken when the table was small, and would then scan the
        # whole ledger for every batch; refreshing them each time this import doubles the table keeps it indexed.
        if self.inserted >= max(1000, 2 * self.analyzed_at) and self.session.get_bind().dialect.name == "postgresql":
            with self.session.begin():
                self.session.execute(sa.text("ANALYZE ledger_records"))
            self.analyzed_at = self.inserted

    def _upsert(self, rows: list[_Row], errors: _ErrorBook) -> None:
        columns = (LedgerRecord.key, LedgerRecord.id, LedgerRecord.org_unit_id, LedgerRecord.values)
        query = select(*columns, LedgerRecord.value_times).where(
            LedgerRecord.ledger_id == self.ledger_id, LedgerRecord.key.in_([row.key for row in rows])
        )
        existing = {key: stored for key, *stored in self.session.execute(query)}
        inserts, updates, changes = [], [], []
        old_units: list[tuple[int, int | None]] = []
        written: dict[str, dict[str, Any]] = {}
        for row in rows:
            if row.key not in existing:
                if self._insert(row, inserts, errors):
                    written[row.key] = row.values
            elif diff := self._diff(row, *existing[row.key][1:3]):
                record_id, unit_id, values, times = existing[row.key]
                old_units.append((record_id, unit_id))
                changed = written[row.key] = {name: new for name, _, new in diff if name != UNIT}
                updates.append(
                    {"id": record_id, "values": {**values, **changed}, "updated_at": self.now,
                     "value_times": {**times, **dict.fromkeys(changed, self.stamp)},
                     "org_unit_id": unit_id if row.unit_id is None else row.unit_id}
                )  # fmt: skip
                changes += [
                    {"record_id": record_id, "field_name": name, "old": old, "new": new, "at": self.now,
                     "actor_id": self.actor_id, "source": self.source}
                    for name, old, new in diff
                ]  # fmt: skip
            else:
                self.unchanged += 1
        for statement, parameters in ((insert(LedgerRecord), inserts), (update(LedgerRecord), updates),
                                      (insert(LedgerChange), changes)):  # fmt: skip
            if parameters:
                self.session.execute(statement, parameters)
        if inserts or updates:  # the units whose records changed (a moved record's old unit too), for analysis
            units = [one["org_unit_id"] for one in (*inserts, *updates)] + [unit for _id, unit in old_units]
            rollups.mark_units(self.session, self.ledger_id, units)
        shared_to = self._share(written)
        if inserts or updates:
            counts = {"rows": f"{rows[0].number}-{rows[-1].number}", "inserted": len(inserts), "updated": len(updates)}
            counts |= {"shared_to": shared_to} if shared_to else {}
            audit.record(
                self.session, at=self.now, actor_id=self.actor_id, action="ledger_import", entity="ledger",
                entity_id=self.ledger_id, new={"source": self.source, **counts},
            )  # fmt: skip
        self.inserted += len(inserts)
        self.updated += len(updates)

    def _share(self, written: dict[str, dict[str, Any]]) -> list[str]:
        """Carry the batch's shared values to the same entities' records in other ledgers, where they differ."""
        if not self.shared or not written:
            return []
        ledger = self.session.get(Ledger, self.ledger_id)
        assert ledger is not None  # read at the start of this import; ledgers are never deleted
        return share_values(self.session, ledger, written, self.now, reconfirm=False)

    def _insert(self, row: _Row, inserts: list[dict[str, Any]], errors: _ErrorBook) -> bool:
        """Queue a new record, or refuse the row when it lacks a value the ledger requires; was it queued?"""
        missing = [(index, label) for index, name, label in self.required if name not in row.values]
        if missing:
            row.problems += [(index, f"{label}：新记录必填，不能为空") for index, label in missing]
            errors.add(row)
            return False
        inserts.append(
            {"ledger_id": self.ledger_id, "key": row.key, "org_unit_id": row.unit_id, "values": row.values,
             "value_times": dict.fromkeys(row.values, self.stamp), "created_at": self.now, "updated_at": self.now}
        )  # fmt: skip
        return True

    def _diff(self, row: _Row, unit_id: int | None, values: dict[str, Any]) -> list[tuple[str, Any, Any]]:
        """(field, old, new) for each value the row changes, and `UNIT` when it names another unit."""
        diff = [(name, values.get(name), new) for name, new in row.values.items() if values.get(name) != new]
        if row.unit_id is not None and row.unit_id != unit_id:
            diff.append((UNIT, unit_id, row.unit_id))
        return diff


class _SeenKeys:
    """Every key read so far with its first row, in a scratch SQLite file so memory stays flat at any size."""

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(path)
        self.connection.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            "CREATE TABLE seen (key TEXT PRIMARY KEY, row INTEGER) WITHOUT ROWID;"
            "CREATE TEMP TABLE batch (key TEXT PRIMARY KEY, row INTEGER) WITHOUT ROWID;"
        )

    def earlier(self, keys: dict[str, int]) -> dict[str, int]:
        """The keys an earlier batch had, with that row's number; remembers the others."""
        with self.connection:
            self.connection.executemany("INSERT INTO batch VALUES (?, ?)", keys.items())
            found = dict(self.connection.execute("SELECT key, seen.row FROM batch JOIN seen USING (key)"))
            self.connection.execute("INSERT OR IGNORE INTO seen SELECT key, row FROM batch")
            self.connection.execute("DELETE FROM batch")
        return found

    def close(self) -> None:
        """Close the scratch database (its directory removes the file)."""
        self.connection.close()


class _ErrorBook:
    """Invalid rows: counted, the first few kept for the summary, all streamed to a workbook when asked."""

    def __init__(self, path: Path | None, header: list[str], report: LedgerImportReport) -> None:
        self.path, self.header, self.report = path, header, report
        self.workbook: openpyxl.Workbook | None = None

    def add(self, row: _Row) -> None:
        """Count the row, keep its message while few, and write it with its bad cells marked."""
        reasons = "；".join(reason for _, reason in sorted(row.problems, key=lambda problem: problem[0]))
        self.report.invalid += 1
        if len(self.report.errors) < MAX_ERRORS_SHOWN:
            self.report.errors.append(f"第 {row.number} 行：{reasons}")
        if self.path is None:
            return
        if self.workbook is None:
            self.workbook = openpyxl.Workbook(write_only=True)
            self.sheet = self.workbook.create_sheet("有误的行")
            self.sheet.append([cell(self.sheet, title) for title in ["行号", *self.header, "错误原因"]])
        width = max(len(self.header), len(row.cells))
        self.sheet.append([row.number, *(self._cell(row, index) for index in range(width)), cell(self.sheet, reasons)])

    def _cell(self, row: _Row, index: int) -> Cell:
        """A cell as the person typed it, kept text (never a formula), filled red when it is one of the bad ones."""
        value = row.cells[index] if index < len(row.cells) else None
        if any(index == bad for bad, _ in row.problems):
            return cell(self.sheet, value, fill=_BAD_CELL)
        return cell(self.sheet, value)

    def close(self) -> None:
        """Save the workbook, if any row was invalid."""
        if self.workbook is not None:
            self.workbook.save(self.path)
            self.report.error_path = self.path


def _tell(progress: Callable[[int], None] | None, rows: int) -> None:
    if progress is not None:
        progress(rows)


def _echo(text: str) -> str:
    return text if len(text) <= 20 else text[:20] + "…"


def _refusal(f: dict[str, Any], text: str, refused: Refused) -> str:
    """Why a cell cannot be read as its field's type, in the import's words."""
    return _CELL_PROBLEMS[refused.problem].format(
        text=_echo(text),
        part=_echo(refused.part),
        number="整数" if f["type"] == "integer" else "数字",
        labels="、".join(choice["label"] for choice in f["choices"]),
        matches="、".join(refused.matches),
        digits=_DIGITS.get(f["type"]),
        length=len(refused.part),
    )
