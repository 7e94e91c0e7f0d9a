"""Departments take data from the ledgers instead of asking for it: /查询 counts and shows, /导出 sends a workbook.

Only ledgers the department owns or was granted (handlers.ledgers.access); within them, the records of its own
unit and the units below it (admins: all). Chat always masks ID numbers and mobiles; an export masks sensitive
fields unless the department owns the ledger or was granted it in full. Records that left their unit are not
counted or exported.
"""

from __future__ import annotations

import difflib
import io
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select

from handlers.commands.scope import Scope, data_scope, unit_named
from handlers.core.context import Context
from handlers.core.masking import mask_sensitive
from handlers.ledgers.access import Access, ledger_access, sensitive_labels
from handlers.ledgers.conditions import parse_conditions
from handlers.texts import ledgers as t
from ledger_store import audit, xlsx_cells
from ledger_store.file_names import stamped_name, store_named
from ledger_store.ledger_query import Condition, count_matching, find_matching
from ledger_store.ledgers import UNIT_HEADER, from_json, is_sensitive, masked_value
from ledger_store.models import Ledger, LedgerRecord, OrgUnit, Person
from ledger_store.org import subtree_ids
from ledger_store.outbox import enqueue

SHOWN_ROWS = 5


@dataclass(frozen=True)
class Request:
    """A checked /查询 or /导出: ledger, field conditions, units (None: all), the asker's scope and access."""

    ledger: Ledger
    conditions: list[Condition]
    unit_ids: set[int] | None
    scope: str | None  # the department's unit when it sees only part of the district
    access: Access


def query(ctx: Context, person: Person, args: str) -> list[str]:
    """/查询 台账 [条件 …]: how many records match, and a few of them with sensitive values masked."""
    request = parse(ctx, person, args)
    if isinstance(request, str):
        return [mask_sensitive(request)]
    ledger = request.ledger
    count = count_matching(ctx.session, ledger, request.conditions, request.unit_ids)
    units = unit_names(ctx)
    lines = [t.query_count(ledger.title, mask_sensitive(describe(args)), count, request.scope)]
    for record in find_matching(ctx.session, ledger, request.conditions, request.unit_ids, limit=SHOWN_ROWS):
        lines.append("· " + masked_row(ledger, values_of(ledger, record), units.get(record.org_unit_id, "")))
    if count > SHOWN_ROWS:
        lines.append(t.more_rows(count - SHOWN_ROWS))
    return ["\n".join(lines)]


def export(ctx: Context, person: Person, args: str) -> list[str]:
    """/导出 台账 [条件 …]: every matching record in the asker's scope as a workbook sent to them; audited.

    Sensitive fields are masked unless the asker's department owns the ledger or was granted it in full.
    """
    request = parse(ctx, person, args)
    if isinstance(request, str):
        return [mask_sensitive(request)]
    ledger, masked = request.ledger, not request.access.full
    units = unit_names(ctx)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(xlsx_cells.sheet_title(ledger.title))
    titles = [*(field["label"] for field in ledger.fields), UNIT_HEADER]
    sheet.append([xlsx_cells.cell(sheet, title) for title in titles])
    rows = 0
    for record in find_matching(ctx.session, ledger, request.conditions, request.unit_ids):
        values = values_of(ledger, record)
        cells = [cell(field, values.get(field["name"]), masked) for field in ledger.fields]
        # Formula-looking text is kept as typed and marked to stay text (no apostrophe added).
        sheet.append(xlsx_cells.row_cells(sheet, [*cells, units.get(record.org_unit_id, "")]))
        rows += 1
    buffer = io.BytesIO()
    book.save(buffer)
    stored = store_named(ctx.session, stamped_name(ledger.title, ctx.local_now()), buffer.getvalue(), ctx.now())
    # Keyed by the file: two exports in the same second are two files, and each is sent.
    enqueue(ctx.session, person_id=person.id, dedupe_key=f"export:{stored.id}", now=ctx.now(), file=stored)
    hidden = sensitive_labels(ledger) if masked else []
    asked = {"ledger": ledger.title, "conditions": describe(args), "scope": request.scope, "rows": rows,
             "sensitive": "masked" if hidden else "full", "access": request.access.basis.value}  # fmt: skip
    audit.record(ctx.session, at=ctx.now(), actor_id=person.id, action="export", entity="ledger",
                 entity_id=ledger.id, new=asked)  # fmt: skip
    return [t.exported(ledger.title, rows, hidden)]


def parse(ctx: Context, person: Person, args: str) -> Request | str:
    """The ledger, conditions and units of a query within the asker's scope, or the sentence saying what is wrong."""
    words = args.split()
    ledgers = list(ctx.session.scalars(select(Ledger).order_by(Ledger.id)))
    if not words:
        return t.usage(readable_titles(ctx, person, ledgers))
    ledger = next((item for item in ledgers if words[0] in (item.title, item.code)), None)
    if ledger is None:
        close = difflib.get_close_matches(words[0], [item.title for item in ledgers], n=3, cutoff=0.3)
        return t.unknown_ledger(words[0], close, readable_titles(ctx, person, ledgers))
    scope = data_scope(ctx, person)
    if isinstance(scope, str):
        return scope
    access = ledger_access(ctx.session, person, ledger)
    if isinstance(access, str):
        return access
    conditions = parse_conditions(ledger, words[1:], ctx.local_now().date(), masked=not access.full)
    if isinstance(conditions, str):
        return conditions
    unit_ids = units_within(ctx, scope, conditions.units)
    if isinstance(unit_ids, str):
        return unit_ids
    return Request(ledger, conditions.fields, unit_ids, scope.unit, access)


def units_within(ctx: Context, scope: Scope, units: list[list[str]]) -> set[int] | None | str:
    """The units a query looks at (None: all): the scope narrowed by each 单位=…, or the sentence saying what is
    wrong with a unit named."""
    unit_ids = scope.unit_ids
    for names in units:
        chosen: set[int] = set()
        for name in names:
            unit = unit_named(ctx, name)
            if isinstance(unit, str):
                return unit
            if scope.unit_ids is not None and unit.id not in scope.unit_ids:
                return t.unit_out_of_scope(name, scope.unit or "")
            chosen |= subtree_ids(ctx.session, unit.id)
        unit_ids = chosen if unit_ids is None else unit_ids & chosen
    return unit_ids


def readable_titles(ctx: Context, person: Person, ledgers: list[Ledger]) -> list[str]:
    """The titles of the ledgers the person may read, to offer when none or an unknown one was named."""
    return [ledger.title for ledger in ledgers if isinstance(ledger_access(ctx.session, person, ledger), Access)]


def values_of(ledger: Ledger, record: LedgerRecord) -> dict[str, Any]:
    """A record's stored values with its key under the key field's name."""
    return {**record.values, ledger.key_field: record.key}


def describe(args: str) -> str:
    """The conditions as typed, for the answer's first line."""
    return " ".join(args.split()[1:])


def masked_row(ledger: Ledger, values: dict[str, Any], unit: str) -> str:
    """A record for chat: every value, sensitive ones masked, and no whole ID number or mobile whatever the field."""
    shown = [cell(field, values.get(field["name"]), masked=True) for field in ledger.fields]
    return mask_sensitive(" ".join([*(str(value) for value in shown if value not in (None, "")), unit]).strip())


def cell(field: dict[str, Any], stored: Any, masked: bool) -> Any:
    """A stored value as people read it (choices joined, 是/否), a sensitive one masked when `masked`; one that does not
    read as the field's type (an old record's, from before the type changed) as it was stored."""
    if stored is None:
        return None
    if masked and is_sensitive(field):
        return masked_value(field, stored)
    try:
        value = from_json(field, stored)
    except (ArithmeticError, TypeError, ValueError):  # Decimal('待核实') raises InvalidOperation, an ArithmeticError
        return stored
    if isinstance(value, list):
        return "、".join(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def unit_names(ctx: Context) -> dict[int, str]:
    """Org unit id -> name."""
    return dict(ctx.session.execute(select(OrgUnit.id, OrgUnit.name)).all())
