"""Ledger import: CSV and xlsx, row-numbered errors in a workbook, units, encodings, idempotent re-runs."""

from __future__ import annotations

import csv
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger_store.ledger_import import LedgerImportReport, import_ledger
from ledger_store.ledgers import UNIT, define_ledger, get_ledger, history, known_values
from ledger_store.models import AuditEntry, LedgerChange, LedgerRecord, OrgUnit

NOW = datetime(2024, 11, 28, 2, 0)
LATER = datetime(2024, 12, 5, 2, 0)
FIELDS = [
    {"name": "id_number", "label": "身份证号", "type": "id_number", "required": True},
    {"name": "name", "label": "姓名", "type": "text", "required": True},
    {"name": "born", "label": "出生日期", "type": "date"},
    {"name": "mobile", "label": "手机号", "type": "mobile"},
    {"name": "poor", "label": "是否脱贫户", "type": "yes_no"},
    {"name": "income", "label": "人均年收入", "type": "decimal"},
    {"name": "members", "label": "家庭人口", "type": "integer"},
    {"name": "relation", "label": "与户主关系", "type": "select_one",
     "choices": [{"value": "head", "label": "户主"}, {"value": "spouse", "label": "配偶"}]},
    {"name": "aid", "label": "享受政策", "type": "select_multiple",
     "choices": [{"value": "dibao", "label": "低保"}, {"value": "tekun", "label": "特困"}]},
]  # fmt: skip

RESIDENTS = """
| 身份证号           | 姓名   | 单位   | 出生日期      | 手机号            | 是否脱贫户 | 人均年收入 | 家庭人口 |
| 110102199101010078 | 张德华 | 松林村 | 1991-01-01    | 15823617730       | 是         | 12,500.50  | 4        |
| 44011320141005001x | 张小华 | 松林村 | 2014年10月5日 | 　                | 否         | 0          | 4        |
| 110101199003070038 | 胡晓燕 | 永兴村 | 1990/3/7      | +86 139 0831 5526 | 1          | 8000       | 3.0      |
"""
# The same rows go on: the last columns of RESIDENTS.
RESIDENTS_MORE = """
| 与户主关系 | 享受政策   | 备注 |
| 户主       | 低保、特困 | 无   |
| 配偶       |            |      |
| head       | dibao      |      |
"""

BROKEN = """
| 身份证号           | 姓名   | 单位   | 出生日期   | 手机号      | 是否脱贫户 | 家庭人口 | 与户主关系 |
| 110102199101010078 | 张德华 | 松林村 | 1991-01-01 | 15823617730 | 是         | 4        | 户主       |
| 36042619910102009X | 李四   | 松林村 | 1991-01-02 |             |            |          |            |
| 110101199003070038 |        | 石坝村 | 1990-02-30 | 12345678901 | 也许       | 三口人   | 表哥       |
| 110102199101010078 | 张德华 | 松林村 |            |             |            |          |            |
| 1101021991010100   | =1+1   |        | 1991       |             |            |          |            |
| 110101199003070038 |        | 永兴村 | 1990-03-07 |             |            |          |            |
"""


def table_rows(*tables: str) -> list[list[str]]:
    """Markdown-like tables as rows of cells, side by side; the first row is the header."""
    parts = [
        [[c.strip() for c in line.strip().strip("|").split("|")] for line in t.strip().splitlines()] for t in tables
    ]
    return [sum(row, []) for row in zip(*parts, strict=True)]


def write_csv(path: Path, *tables: str, encoding: str = "utf-8-sig") -> Path:
    """The tables, side by side, as a CSV file the way Excel saves one."""
    with path.open("w", encoding=encoding, newline="") as file:
        csv.writer(file).writerows(table_rows(*tables))
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    """The rows as the first sheet of a workbook."""
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path


@pytest.fixture
def ledger_db(db: sessionmaker[Session]) -> sessionmaker[Session]:
    """The residents ledger and two villages."""
    with db.begin() as session:
        session.add_all([OrgUnit(name="松林村", level="village"), OrgUnit(name="永兴村", level="village")])
        define_ledger(session, "residents", "常住人口台账", "id_number", FIELDS, NOW)
    return db


def run(db: sessionmaker[Session], path: Path, now: datetime = NOW, **options) -> LedgerImportReport:
    return import_ledger(db, "residents", path, None, now, **options)


def known(db: sessionmaker[Session], key: str) -> dict[str, object]:
    with db() as session:
        return {name: v.value for name, v in known_values(session, get_ledger(session, "residents"), key, NOW).items()}


def count(db: sessionmaker[Session], model: type) -> int:
    with db() as session:
        return session.scalar(select(func.count()).select_from(model))


def unit_of(db: sessionmaker[Session], key: str) -> str | None:
    with db() as session:
        query = select(OrgUnit.name).join(LedgerRecord, LedgerRecord.org_unit_id == OrgUnit.id)
        return session.scalar(query.where(LedgerRecord.key == key))


def test_a_csv_imports_typed_values_by_chinese_labels(ledger_db: sessionmaker[Session], tmp_path: Path) -> None:
    seen: list[int] = []
    report = run(
        ledger_db, write_csv(tmp_path / "人口.csv", RESIDENTS, RESIDENTS_MORE), progress=seen.append, batch_size=2
    )

    assert (report.rows_read, report.inserted, report.updated, report.unchanged, report.invalid) == (3, 3, 0, 0, 0)
    assert seen == [2, 3]
    assert report.ignored_columns == ["备注"]
    assert known(ledger_db, "110102199101010078") == {
        "name": "张德华", "born": date(1991, 1, 1), "mobile": "15823617730", "poor": True,
        "income": Decimal("12500.5"), "members": 4, "relation": "head", "aid": ["dibao", "tekun"],
    }  # fmt: skip
    assert known(ledger_db, "44011320141005001X") == {
        "name": "张小华", "born": date(2014, 10, 5), "poor": False, "income": Decimal(0), "members": 4,
        "relation": "spouse",
    }  # fmt: skip
    assert known(ledger_db, "110101199003070038")["mobile"] == "13908315526"
    assert unit_of(ledger_db, "110101199003070038") == "永兴村"
    assert count(ledger_db, LedgerChange) == 0  # a first import keeps no "None -> value" history
    assert report.summary().startswith(
        "“常住人口台账”导入完成：读取 3 行，新增 3 条，更新 0 条，无变化 0 条，有误 0 行"
    )


def test_running_the_same_file_again_changes_nothing(ledger_db: sessionmaker[Session], tmp_path: Path) -> None:
    path = write_csv(tmp_path / "人口.csv", RESIDENTS, RESIDENTS_MORE)
    run(ledger_db, path)
    audits = count(ledger_db, AuditEntry)

    again = run(ledger_db, path, now=LATER)

    assert (again.inserted, again.updated, again.unchanged, again.invalid) == (0, 0, 3, 0)
    assert (count(ledger_db, LedgerRecord), count(ledger_db, LedgerChange), count(ledger_db, AuditEntry)) == (
        3, 0, audits
    )  # fmt: skip
    with ledger_db() as session:
        assert {record.updated_at for record in session.scalars(select(LedgerRecord))} == {NOW}


def test_a_later_file_updates_changed_values_with_history(ledger_db: sessionmaker[Session], tmp_path: Path) -> None:
    run(ledger_db, write_csv(tmp_path / "人口.csv", RESIDENTS, RESIDENTS_MORE))
    update = """
    | 身份证号           | 家庭人口 | 单位   | 手机号 |
    | 110102199101010078 | 5        | 永兴村 |        |
    | 44011320141005001X | 4        |        |        |
    """
    report = run(ledger_db, write_csv(tmp_path / "更新.csv", update), now=LATER)

    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 1)
    assert known(ledger_db, "110102199101010078")["members"] == 5
    assert known(ledger_db, "110102199101010078")["mobile"] == "15823617730"  # an empty cell keeps the value
    assert unit_of(ledger_db, "110102199101010078") == "永兴村"
    with ledger_db() as session:
        ledger = get_ledger(session, "residents")
        changes = history(session, ledger, "110102199101010078")
        assert [(c.field, c.at, c.source) for c in changes] == [
            ("members", LATER, "import:更新.csv"),
            (UNIT, LATER, "import:更新.csv"),
        ]
        assert (changes[0].old, changes[0].new) == (4, 5)
        times = known_values(session, ledger, "110102199101010078", LATER)
        assert (times["members"].confirmed_at, times["name"].confirmed_at) == (LATER, NOW)
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry.new == {"source": "import:更新.csv", "rows": "2-3", "inserted": 0, "updated": 1}


def test_invalid_rows_go_to_an_error_workbook_with_row_numbers_and_reasons(
    ledger_db: sessionmaker[Session], tmp_path: Path
) -> None:
    errors = tmp_path / "错误.xlsx"
    report = run(ledger_db, write_csv(tmp_path / "人口.csv", BROKEN), error_path=errors, batch_size=2)

    assert (report.rows_read, report.inserted, report.invalid) == (6, 1, 5)
    assert report.error_path == errors
    assert report.errors == [
        "第 3 行：身份证号：校验位不对，请核对",
        "第 4 行：单位“石坝村”不存在，请核对名称，或先导入组织架构；"
        "出生日期：“1990-02-30”这一天不存在；手机号：号段不对，请核对；是否脱贫户：“也许”不是“是”或“否”；"
        "家庭人口：“三口人”不是整数；与户主关系：“表哥”不是可选项，可选：户主、配偶",
        "第 5 行：与第 2 行重复（主键相同）",
        "第 6 行：身份证号：位数不对，应为 18 位，这里是 16 位；"
        "出生日期：“1991”不是日期，请写成 2024-11-30 或 2024年11月30日",
        "第 7 行：姓名：新记录必填，不能为空",
    ]
    sheet = openpyxl.load_workbook(errors).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == [
        "行号",
        "身份证号",
        "姓名",
        "单位",
        "出生日期",
        "手机号",
        "是否脱贫户",
        "家庭人口",
        "与户主关系",
        "错误原因",
    ]
    assert [row[0] for row in rows[1:]] == [3, 4, 5, 6, 7]
    assert rows[1][1:3] == ["36042619910102009X", "李四"]
    assert rows[4][2] == "=1+1" and sheet.cell(5, 3).data_type == "s"  # never a formula
    assert rows[2][-1] == report.errors[1].removeprefix("第 4 行：")
    marked = [cell.column for cell in sheet[3] if cell.fill.fgColor.rgb == "00FFC7CE"]
    assert marked == [4, 5, 6, 7, 8, 9]
    assert "有误的行没有导入" in report.summary() and "“错误.xlsx”" in report.summary()


def test_a_key_repeated_in_a_later_batch_is_an_error_and_reruns_agree(
    ledger_db: sessionmaker[Session], tmp_path: Path
) -> None:
    table = """
    | 身份证号           | 姓名   |
    | 110102199101010078 | 张德华 |
    | 44011320141005001X | 张小华 |
    | 110102199101010078 | 张得华 |
    """
    path = write_csv(tmp_path / "人口.csv", table)
    first = run(ledger_db, path, batch_size=1)
    second = run(ledger_db, path, batch_size=1, now=LATER)

    assert first.errors == second.errors == ["第 4 行：与第 2 行重复（主键相同）"]
    assert (second.updated, second.unchanged, known(ledger_db, "110102199101010078")["name"]) == (0, 2, "张德华")


def test_an_xlsx_is_streamed_with_excel_numbers_and_dates(ledger_db: sessionmaker[Session], tmp_path: Path) -> None:
    rows = [
        ["身份证号*", "姓名*", "单位", "出生日期", "手机号", "是否脱贫户", "人均年收入", "家庭人口"],
        ["110102199101010078", "张德华", "松林村", datetime(1991, 1, 1), 15823617730, True, 12500.5, 4],
        [],
        ["44011320141005001X", "张小华", None, date(2014, 10, 5), None, False, 0, 4.0],
        ["110101199003070038", "胡晓燕", "不存在村", None, None, None, None, None],
    ]
    report = run(ledger_db, write_xlsx(tmp_path / "人口.xlsx", rows))

    assert (report.rows_read, report.inserted, report.invalid) == (3, 2, 1)
    assert report.errors == ["第 5 行：单位“不存在村”不存在，请核对名称，或先导入组织架构"]
    assert known(ledger_db, "110102199101010078") == {
        "name": "张德华", "born": date(1991, 1, 1), "mobile": "15823617730", "poor": True,
        "income": Decimal("12500.5"), "members": 4,
    }  # fmt: skip
    assert unit_of(ledger_db, "44011320141005001X") is None


def test_a_gb18030_csv_from_chinese_excel_is_read(ledger_db: sessionmaker[Session], tmp_path: Path) -> None:
    path = write_csv(tmp_path / "人口.csv", RESIDENTS, RESIDENTS_MORE, encoding="gb18030")
    report = run(ledger_db, path, error_path=tmp_path / "错误.xlsx")

    assert (report.inserted, report.invalid, report.error_path) == (3, 0, None)
    assert not (tmp_path / "错误.xlsx").exists()
    assert known(ledger_db, "110102199101010078")["name"] == "张德华"


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        (
            "人口.csv",
            "姓名,手机号\n张德华,15823617730\n",
            "第 1 行缺少“身份证号”列（台账的主键）。第 1 行现有的列名是：姓名、手机号。",
        ),
        ("人口.xls", "", "无法识别文件“人口.xls”的类型"),
        ("人口.xlsx", "not a zip", "无法打开文件“人口.xlsx”"),
    ],
)
def test_a_file_that_cannot_be_read_writes_nothing(
    ledger_db: sessionmaker[Session], tmp_path: Path, name: str, content: str, problem: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    report = run(ledger_db, path)

    assert report.problem.startswith(problem)
    assert report.summary().startswith("导入失败，未写入任何数据：")
    assert count(ledger_db, LedgerRecord) == 0


def test_an_unknown_ledger_is_a_problem(ledger_db: sessionmaker[Session], tmp_path: Path) -> None:
    report = import_ledger(ledger_db, "parcels", write_csv(tmp_path / "a.csv", RESIDENTS), None, NOW)

    assert report.problem == "没有编号为“parcels”的台账。"
