"""Departments take data from the ledgers instead of asking for it: /查询 counts and shows, /导出 sends a workbook."""

from __future__ import annotations

import difflib
import io
import re
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select

from handlers.context import Context
from handlers.masking import mask_id_number, mask_mobile
from handlers.summary import FORMULA_TRIGGERS
from handlers.texts import ledgers as t
from ledger_store import audit
from ledger_store.ledger_query import Condition, Operator, count_matching, find_matching
from ledger_store.ledgers import from_json
from ledger_store.models import Ledger, LedgerRecord, OrgUnit, Person
from ledger_store.outbox import enqueue, store_file

CONDITION = re.compile(r"^(?P<field>[^=＝:：]+)[=＝:：](?P<value>.+)$")
SHOWN_ROWS = 5
UNIT = "单位"


def query(ctx: Context, person: Person, args: str) -> list[str]:
    """/查询 台账 [字段=值 …]: how many records match, and a few of them with ID numbers and mobiles masked."""
    parsed = parse(ctx, args)
    if isinstance(parsed, str):
        return [parsed]
    ledger, filters, unit_ids = parsed
    count = count_matching(ctx.session, ledger, filters, unit_ids)
    units = unit_names(ctx)
    lines = [t.query_count(ledger.title, describe(args), count)]
    for record in find_matching(ctx.session, ledger, filters, unit_ids, limit=SHOWN_ROWS):
        lines.append("· " + masked_row(ledger, values_of(ledger, record), units.get(record.org_unit_id, "")))
    if count > SHOWN_ROWS:
        lines.append(t.more_rows(count - SHOWN_ROWS))
    return ["\n".join(lines)]


def export(ctx: Context, person: Person, args: str) -> list[str]:
    """/导出 台账 [字段=值 …]: every matching record as a workbook sent to the asker; the export is audited."""
    parsed = parse(ctx, args)
    if isinstance(parsed, str):
        return [parsed]
    ledger, filters, unit_ids = parsed
    units = unit_names(ctx)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(ledger.title[:31])
    sheet.append([field["label"] for field in ledger.fields] + [UNIT])
    rows = 0
    for record in find_matching(ctx.session, ledger, filters, unit_ids):
        values = values_of(ledger, record)
        cells = [exported(field, values.get(field["name"])) for field in ledger.fields]
        sheet.append([*cells, units.get(record.org_unit_id, "")])
        rows += 1
    buffer = io.BytesIO()
    book.save(buffer)
    name = f"{ledger.title}_{ctx.local_now():%Y%m%d-%H%M}.xlsx"
    stored = store_file(ctx.session, name, buffer.getvalue(), ctx.now())
    # Keyed by the file: two exports in the same second are two files, and each is sent.
    enqueue(ctx.session, person_id=person.id, dedupe_key=f"export:{stored.id}", now=ctx.now(), file=stored)
    conditions = {condition.field: str(condition.values[0]) for condition in filters}
    audit.record(ctx.session, at=ctx.now(), actor_id=person.id, action="export", entity="ledger",
                 entity_id=ledger.id, new={"filters": conditions, "rows": rows})  # fmt: skip
    return [t.exported(ledger.title, rows)]


def parse(ctx: Context, args: str) -> tuple[Ledger, list[Condition], list[int] | None] | str:
    """The ledger, field filters (by label or name) and unit scope of a query, or the sentence saying what is wrong."""
    words = args.split()
    ledgers = list(ctx.session.scalars(select(Ledger).order_by(Ledger.id)))
    if not words:
        return t.usage([ledger.title for ledger in ledgers])
    ledger = next((item for item in ledgers if words[0] in (item.title, item.code)), None)
    if ledger is None:
        close = difflib.get_close_matches(words[0], [item.title for item in ledgers], n=3, cutoff=0.3)
        return t.unknown_ledger(words[0], close, [item.title for item in ledgers])
    by_label = {field["label"]: field for field in ledger.fields} | {field["name"]: field for field in ledger.fields}
    filters: list[Condition] = []
    unit_ids: list[int] | None = None
    for word in words[1:]:
        condition = CONDITION.match(word)
        if condition is None:
            return t.bad_condition(word)
        label, value = condition.group("field").strip(), condition.group("value").strip()
        if label == UNIT:
            unit = ctx.session.scalar(select(OrgUnit).where(OrgUnit.name == value))
            if unit is None:
                return t.unknown_unit(value)
            unit_ids = [unit.id]
            continue
        field = by_label.get(label)
        if field is None or field["name"] == ledger.key_field or field["type"] == "select_multiple":
            return t.unknown_field(label, [f["label"] for f in ledger.fields if f["type"] != "select_multiple"])
        filters.append(Condition(field["name"], Operator.EQUAL, (typed(field, value),)))
    return ledger, filters, unit_ids


def values_of(ledger: Ledger, record: LedgerRecord) -> dict[str, Any]:
    """A record's stored values with its key under the key field's name."""
    return {**record.values, ledger.key_field: record.key}


def typed(field: dict[str, Any], value: str) -> Any:
    """A condition's value in the field's type (numbers as numbers, 是/否 as booleans)."""
    if field["type"] == "yes_no":
        return value in ("是", "有", "yes", "1")
    if field["type"] == "integer" and value.lstrip("-").isdigit():
        return int(value)
    return value


def describe(args: str) -> str:
    """The conditions as typed, for the answer's first line."""
    return " ".join(args.split()[1:])


def masked_row(ledger: Ledger, values: dict[str, Any], unit: str) -> str:
    """A record for chat: every value, ID numbers and mobiles masked."""
    shown = []
    for field in ledger.fields:
        stored = values.get(field["name"])
        value = None if stored is None else from_json(field, stored)
        if value is None or value == []:
            continue
        if field["type"] == "id_number":
            value = mask_id_number(str(value))
        elif field["type"] == "mobile":
            value = mask_mobile(str(value))
        elif isinstance(value, list):
            value = "、".join(value)
        shown.append(str(value))
    return " ".join([*shown, unit]).strip()


def exported(field: dict[str, Any], stored: Any) -> Any:
    """A stored value as a spreadsheet cell; text that would become a formula is defused with a leading quote."""
    value = None if stored is None else from_json(field, stored)
    if isinstance(value, list):
        value = "、".join(value)
    if isinstance(value, bool):
        value = "是" if value else "否"
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        value = "'" + value
    return value


def unit_names(ctx: Context) -> dict[int, str]:
    """Org unit id -> name."""
    return dict(ctx.session.execute(select(OrgUnit.id, OrgUnit.name)).all())
