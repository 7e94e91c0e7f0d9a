"""Every way a value comes in reads it alike: one table of inputs, one verdict for each entry point.

The entry points: a chat answer (the parser the conversation uses), a ledger import row (an .xlsx, so number,
date and boolean cells stay what Excel makes them), a roster workbook row sent back, a /查询 condition (which must
then find the record the import wrote), and, for mobiles, an organisation sheet row.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from handlers.conversation.roster_book import read_roster_workbook
from handlers.forms.answers import Invalid, parse_answer, to_json
from handlers.forms.fields import Field, FieldType
from handlers.ledgers.conditions import parse_conditions
from ledger_store.ledger_import import import_ledger
from ledger_store.ledger_query import count_matching
from ledger_store.ledgers import define_ledger, field_map, get_ledger, get_record
from ledger_store.ledgers import to_json as stored_json
from ledger_store.models import Person
from ledger_store.org_import import import_org
from ledger_store.values.choices import choices_of

TODAY = date(2024, 11, 28)
NOW = datetime(2024, 11, 28, 2, 0)
RELATIONS = [
    {"value": "head", "label": "户主"},
    {"value": "spouse", "label": "配偶"},
    {"value": "child", "label": "子女"},
]
AID = [{"value": "dibao", "label": "低保"}, {"value": "tekun", "label": "特困"}, {"value": "medical", "label": "救助"}]
FIELDS = [
    {"name": "flag", "label": "是否脱贫户", "type": "yes_no"},
    {"name": "count", "label": "家庭人口", "type": "integer"},
    {"name": "amount", "label": "年收入", "type": "decimal"},
    {"name": "day", "label": "核查日期", "type": "date"},
    {"name": "relation", "label": "与户主关系", "type": "select_one", "choices": RELATIONS},
    {"name": "aid", "label": "享受政策", "type": "select_multiple", "choices": AID},
    {"name": "id_number", "label": "身份证号", "type": "id_number"},
    {"name": "mobile", "label": "手机号", "type": "mobile"},
]
BY_NAME = {field["name"]: field for field in FIELDS}
REFUSED = "refused"
EXCEL_ID = 5.00118197507142e17  # 500118197507141937 typed into a number cell: Excel keeps 15 digits


def case(field: str, typed: str, verdict: Any, cell: Any = None, mentions: str = "") -> Any:
    """One row of the table: what is typed (and what a cell holds, when it is no text), the value as stored or
    REFUSED, and the words every refusal's reason contains."""
    return pytest.param(field, typed, typed if cell is None else cell, verdict, mentions, id=f"{field}-{typed[:20]}")


CASES = [
    case("flag", "没", False),
    case("flag", "2", False),
    case("flag", "有", True),
    case("flag", "没有。", False),
    case("flag", "否", False),
    case("flag", "TRUE", True, cell=True),
    case("flag", "也许", REFUSED),
    case("count", "三百五十", 350),
    case("count", "1.5万", 15000),
    case("count", "37", 37, cell=37),
    case("count", "３７", 37),
    case("count", "3.5", REFUSED),
    case("count", "很多", REFUSED),
    case("count", "9" * 400, REFUSED),  # beyond what a stored value holds, and beyond a float
    case("amount", "十二点五", "12.5"),
    case("amount", "12.5", "12.5", cell=12.5),
    case("day", "2024年11月30日", "2024-11-30"),
    case("day", "2024-11-30", "2024-11-30", cell=datetime(2024, 11, 30)),
    case("day", "2024-02-30", REFUSED),
    case("relation", "2", "spouse"),
    case("relation", "子", "child"),
    case("relation", "4", REFUSED),
    case("relation", "三", "child"),
    case("aid", "1、3", ["dibao", "medical"]),
    case("aid", "13", ["dibao", "medical"]),
    case("id_number", "500118197507141937", "500118197507141937"),
    case("id_number", "50011819750714103x", "50011819750714103X"),
    case("id_number", "５００１１８１９７５０７１４１９３７", "500118197507141937"),
    case("id_number", "500118197507141935", REFUSED, mentions="校验位不对"),  # its check digit is 7
    case("id_number", "5.00118197507142E+17", REFUSED, cell=EXCEL_ID, mentions="存成了数字"),
    case("mobile", "１３８ 0013 8000", "13800138000"),
    case("mobile", "13800138000", "13800138000", cell=13800138000),
    case("mobile", "+86 138-0013-8000", "13800138000"),
    case("mobile", "1380013800", REFUSED, mentions="位数不对"),
    case("mobile", "12800138000", REFUSED),
]


@pytest.fixture
def ledger_db(db: sessionmaker[Session]) -> sessionmaker[Session]:
    """A database holding a ledger with a field of every checked type, keyed by a plain code."""
    with db.begin() as session:
        key = {"name": "code", "label": "编号", "type": "text", "required": True}
        define_ledger(session, "checked", "核验台账", "code", [key, *FIELDS], NOW)
    return db


@pytest.mark.parametrize(("field", "typed", "cell", "verdict", "mentions"), CASES)
def test_every_entry_point_gives_the_same_verdict(
    ledger_db: sessionmaker[Session], tmp_path: Path, field: str, typed: str, cell: Any, verdict: Any, mentions: str
) -> None:
    heard = {
        "chat answer": chat_answer(field, typed),
        "ledger import": ledger_import_row(ledger_db, tmp_path, field, cell),
        "roster workbook": roster_workbook_row(field, cell),
        "query condition": query_condition(ledger_db, field, typed, imported=verdict != REFUSED),
    }
    if field == "mobile":
        heard["org import"] = org_import_row(ledger_db, tmp_path, cell)

    assert {entry: value for entry, (value, _) in heard.items()} == dict.fromkeys(heard, verdict)
    reasons = {entry: reason for entry, (_, reason) in heard.items() if entry != "org import"}
    assert all(mentions in reason for reason in reasons.values()), reasons


def test_an_id_number_excel_kept_as_a_number_is_refused_with_how_to_keep_it_whole(
    ledger_db: sessionmaker[Session], tmp_path: Path
) -> None:
    _, imported = ledger_import_row(ledger_db, tmp_path, "id_number", EXCEL_ID)
    _, sent_back = roster_workbook_row("id_number", EXCEL_ID)

    assert "存成了数字" in imported and "设为“文本”格式" in imported
    assert "存成了数字" in sent_back and "设为“文本”格式" in sent_back


def chat_answer(name: str, typed: str) -> tuple[Any, str]:
    """The answer to the question as the conversation stores it, or REFUSED with the reason the person reads."""
    question = chat_field(name)
    answer = parse_answer(question, typed, TODAY)
    return (REFUSED, answer.reason) if isinstance(answer, Invalid) else (to_json(question, answer), "")


def ledger_import_row(db: sessionmaker[Session], directory: Path, name: str, cell: Any) -> tuple[Any, str]:
    """The value one imported .xlsx row stored, or REFUSED with the row's reason."""
    path = workbook(directory / "台账.xlsx", ["编号", BY_NAME[name]["label"]], ["r1", cell])
    report = import_ledger(db, "checked", path, None, NOW, today=TODAY)
    if report.errors:
        return REFUSED, report.errors[0]
    with db() as session:
        return get_record(session, get_ledger(session, "checked"), "r1").values[name], ""


def roster_workbook_row(name: str, cell: Any) -> tuple[Any, str]:
    """The value one row of a roster workbook sent back would store, or REFUSED with the reply."""
    fields = [Field("person", "姓名", FieldType.TEXT), chat_field(name)]
    path = workbook(None, ["姓名", BY_NAME[name]["label"]], ["张三", cell])
    rows = read_roster_workbook(fields, path, TODAY, key=None)
    return (REFUSED, rows) if isinstance(rows, str) else (rows[0][name], "")


def query_condition(db: sessionmaker[Session], name: str, typed: str, imported: bool) -> tuple[Any, str]:
    """The value `字段=…` asks for, or REFUSED with the reply; an accepted one must find the imported record."""
    with db() as session:
        ledger = get_ledger(session, "checked")
        conditions = parse_conditions(ledger, f"{BY_NAME[name]['label']}={typed}".split(), TODAY)
        if isinstance(conditions, str):
            return REFUSED, conditions
        values = conditions.fields[0].values
        definition = field_map(ledger)[name]
        asked = stored_json(definition, list(values) if definition["type"] == "select_multiple" else values[0])
        assert count_matching(session, ledger, conditions.fields) == int(imported)
        return asked, ""


def org_import_row(db: sessionmaker[Session], directory: Path, cell: Any) -> tuple[Any, str]:
    """The mobile an organisation sheet row stored for its person, or REFUSED with the row's reason."""
    header = ["单位", "层级", "姓名", "账号", "手机号"]
    path = workbook(directory / "组织架构.xlsx", header, ["永川区", "区", "张三", "zhang_san", cell])
    with db.begin() as session:
        report = import_org(session, path, now=NOW)
    if report.errors:
        return REFUSED, report.errors[0]
    with db() as session:
        return session.scalar(select(Person.mobile).where(Person.account == "zhang_san")), ""


def chat_field(name: str) -> Field:
    """The question a form would ask for this ledger field."""
    definition = BY_NAME[name]
    choices = choices_of(definition.get("choices", ()))
    return Field(name, definition["label"], FieldType(definition["type"]), required=False, choices=choices)


def workbook(path: Path | None, header: list[str], row: list[Any]) -> Any:
    """A one-row workbook saved at `path`, or its bytes when there is no path (a file sent in chat)."""
    book = openpyxl.Workbook()
    book.active.append(header)
    book.active.append(row)
    if path is None:
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
    book.save(path)
    return path
