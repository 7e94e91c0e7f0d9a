"""Ledgers defined in Excel: a definition workbook (from chat or `python -m bot define-ledger`) becomes a ledger
version, a data-losing change waits for 确认修改, and /空白台账 sends a blank workbook with instructions.

An admin may define any ledger; an issuer only ledgers her own department owns (and none another department
owns). Initial rows (sheet 数据) are written like any other ledger change; in chat an issuer of a department
below the district may write only rows of units within her department's reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from handlers.commands.scope import Scope, data_scope
from handlers.core.context import Context
from handlers.ledgers.access import whole_ledger_ids
from handlers.texts import ledger_define as t
from ledger_store.file_names import stamped_name, store_named
from ledger_store.ledger_book import DataRow, LedgerBook, check_data, read_ledger_book, write_ledger_book
from ledger_store.ledgers import (
    DataLoss,
    KeyLocked,
    define_ledger,
    field_map,
    find_records,
    from_json,
    get_ledger,
    write_values,
)
from ledger_store.models import Department, Ledger, LedgerRecord, LedgerSession, OrgUnit, Person, Role
from ledger_store.outbox import enqueue

MAX_LISTED = 30
PENDING_KIND = "define"  # LedgerSession.kind of a data-losing definition waiting for 确认修改
PENDING_FOR = timedelta(days=1)


@dataclass(frozen=True)
class Definition:
    """What came of one workbook: the reply, and the book when its change waits for confirmation."""

    text: str
    saved: bool = False
    waiting: LedgerBook | None = None
    version: int | None = None  # the ledger's version the waiting change was checked against


def define_from_workbook(
    ctx: Context, source: bytes | Path, file_name: str, person: Person | None, *, confirm_loss: bool = False
) -> Definition:
    """Read a definition workbook and define the ledger it states, or say what is wrong; `person` None: the CLI."""
    departments = [department.name for department in ctx.session.scalars(select(Department))]
    book = read_ledger_book(source, departments)
    if isinstance(book, list):
        return Definition(_refused(book))
    return define_book(ctx, book, file_name, person, confirm_loss=confirm_loss)


def define_book(
    ctx: Context, book: LedgerBook, file_name: str, person: Person | None, *, confirm_loss: bool = False
) -> Definition:
    """Define the ledger a checked book states and write its initial rows; nothing at all when anything is wrong."""
    departments = {department.name: department for department in ctx.session.scalars(select(Department))}
    missing = [name for name in (book.owner, *(name for name, _ in book.shares)) if name not in departments]
    if missing:
        return Definition(_refused([f"部门“{name}”不存在，请写组织架构里的部门全称" for name in missing]))
    refusal = _refusal(ctx, book, person)
    if refusal is not None:
        return Definition(refusal)
    units = dict(ctx.session.execute(select(OrgUnit.name, OrgUnit.id)).tuples().all())
    rows, problems = check_data(book, units, ctx.local_now().date())
    existing = get_ledger(ctx.session, book.code)
    if rows and not problems:
        known = existing is not None and existing.key_field == book.key_field
        records = find_records(ctx.session, existing, [row.key for row in rows]) if known else {}
        problems = _outside_reach(ctx, person, rows, records)
    if problems:
        return Definition(_refused(problems))
    before = existing.version if existing is not None else 0
    try:
        ledger = define_ledger(
            ctx.session,
            book.code,
            book.title,
            book.key_field,
            book.fields,
            ctx.now(),
            actor_id=person.id if person is not None else None,
            board=book.board,
            entity_kind=book.entity_kind,
            description=book.description,
            owner=departments[book.owner],
            shares=[(departments[name], full) for name, full in book.shares],
            confirm_loss=confirm_loss,
            source=file_name,
        )
    except DataLoss as loss:
        lines = [t.loss_line(n, lost.change, lost.label, lost.records) for n, lost in enumerate(loss.losses, 1)]
        return Definition(t.losses(book.title, lines, in_chat=person is not None), waiting=book, version=before)
    except KeyLocked as locked:
        key = field_map(existing)[existing.key_field]["label"] if existing is not None else ""
        return Definition(t.key_locked(book.title, key, locked.records))
    _write_rows(ctx, ledger, rows, file_name, person)
    changed = ledger.version != before
    return Definition(t.defined(ledger.title, ledger.version, len(ledger.fields), len(rows), changed), saved=True)


def load_rows(ctx: Context, path: Path) -> list[str]:
    """Write the 数据 rows of a definition workbook into the ledger already defined under its code (the demo's
    records); the problems instead when there are any. Nothing is redefined."""
    book = read_ledger_book(path)
    ledger = None if isinstance(book, list) else get_ledger(ctx.session, book.code)
    if isinstance(book, list) or ledger is None:
        return book if isinstance(book, list) else [f"没有编号为“{book.code}”的台账"]
    units = dict(ctx.session.execute(select(OrgUnit.name, OrgUnit.id)).tuples().all())
    rows, problems = check_data(book, units, ctx.local_now().date())
    if not problems:
        _write_rows(ctx, ledger, rows, path.name, None)
    return problems


def _write_rows(ctx: Context, ledger: Ledger, rows: list[DataRow], file_name: str, person: Person | None) -> None:
    """Write checked initial rows: values by key, a new record placed in its row's unit (a known one stays put).

    A record the rows create has no history rows, as one an import creates (its created_at says it); a change to a
    known record has them."""
    fields = field_map(ledger)
    # a department's rows carry shared fields only into ledgers it holds whole (an admin's or the CLI's anywhere)
    reach = None if person is None or person.has_role(Role.ADMIN) else whole_ledger_ids(ctx.session, person.department)
    for row in rows:
        values = {name: from_json(fields[name], value) for name, value in row.values.items()}
        write_values(ctx.session, ledger, row.key, None, values, person.id if person else None,
                     f"define:{file_name}"[:200], ctx.now(), unit_if_new=row.unit_id, history_of_new=False,
                     sibling_ledgers=reach)  # fmt: skip


def received_book(ctx: Context, person: Person, content: bytes, file_name: str) -> str:
    """A definition workbook sent in chat: defined, refused, or kept waiting for 确认修改."""
    if not (person.has_role(Role.ISSUER) or person.has_role(Role.ADMIN)):
        return t.NOT_ALLOWED
    result = define_from_workbook(ctx, content, file_name, person)
    if result.waiting is None:
        return result.text
    pending = ctx.session.get(LedgerSession, person.id)
    if pending is not None and pending.kind != PENDING_KIND:
        return t.BUSY
    state = {"book": result.waiting.to_json(), "file": file_name, "version": result.version}
    if pending is None:
        pending = LedgerSession(person_id=person.id, kind=PENDING_KIND, state=state, started_at=ctx.now())
        ctx.session.add(pending)
    pending.state, pending.updated_at = state, ctx.now()
    return result.text


def answer_pending(ctx: Context, person: Person, text: str) -> list[str] | None:
    """确认修改 or 放弃修改 for a waiting data-losing change; None for any other text."""
    if text not in (t.CONFIRM_WORD, t.DROP_WORD):
        return None
    pending = ctx.session.get(LedgerSession, person.id)
    if pending is None or pending.kind != PENDING_KIND:
        return [t.NOTHING_PENDING] if text == t.CONFIRM_WORD else None
    ctx.session.delete(pending)
    if ctx.now() - pending.updated_at > PENDING_FOR:
        return [t.NOTHING_PENDING]
    if text == t.DROP_WORD:
        return [t.DROPPED]
    book = LedgerBook.from_json(pending.state["book"])
    ledger = get_ledger(ctx.session, book.code)
    if (ledger.version if ledger is not None else 0) != pending.state["version"]:
        return [t.STALE_PENDING]
    return [define_book(ctx, book, pending.state["file"], person, confirm_loss=True).text]


def blank_ledger(ctx: Context, person: Person, args: str) -> list[str]:
    """/空白台账: send a definition workbook to fill in (an example ledger of the sender's department)."""
    owner = person.department.name if person.department is not None else "区民政局"
    content = write_ledger_book(example_book(owner), extra_sheets=(("说明", t.GUIDE_HEADER, list(t.GUIDE_ROWS)),))
    stored = store_named(ctx.session, stamped_name(t.BLANK_LABEL, ctx.local_now()), content, ctx.now())
    enqueue(ctx.session, person_id=person.id, dedupe_key=f"blank-ledger:{stored.id}", now=ctx.now(), file=stored)
    return [t.BLANK_SENT]


def example_book(owner: str) -> LedgerBook:
    """The example ledger of the blank workbook: a register of elderly people, with the 数据 sheet's header."""
    fields = (
        {"name": "id_number", "label": "身份证号", "type": "id_number", "required": True, "choices": []},
        {"name": "name", "label": "姓名", "type": "text", "required": True, "choices": [], "standard": "name"},
        {"name": "mobile", "label": "联系电话", "type": "mobile", "validity_days": 365, "choices": [],
         "standard": "mobile"},
        {"name": "allowance", "label": "补贴类别", "type": "select_one", "validity_days": 365,
         "choices": [{"value": c, "label": c} for c in ("高龄津贴", "护理补贴", "无")]},
        {"name": "lives_alone", "label": "是否独居", "type": "yes_no", "validity_days": 180, "choices": []},
    )  # fmt: skip
    header = (*(field["label"] for field in fields), "单位")
    return LedgerBook("elderly_people", "高龄老人台账", "民生服务", "person", "id_number", owner, (),
                      "80 岁以上老人，一人一条。", fields, header)  # fmt: skip


def _refusal(ctx: Context, book: LedgerBook, person: Person | None) -> str | None:
    """Why this person may not define this ledger, or None (admins and the command line may define any)."""
    if person is None or person.has_role(Role.ADMIN):
        return None
    if not person.has_role(Role.ISSUER):
        return t.NOT_ALLOWED
    department = person.department
    if department is None:
        return t.NO_DEPARTMENT
    if book.owner != department.name:
        return t.not_own_department(book.title, book.owner, department.name)
    existing = get_ledger(ctx.session, book.code)
    if existing is not None and existing.owner_department_id != department.id:
        return t.owned_elsewhere(existing.title, existing.owner.name if existing.owner else None)
    return None


def _outside_reach(
    ctx: Context, person: Person | None, rows: list[DataRow], records: dict[str, LedgerRecord]
) -> list[str]:
    """Rows naming a unit, or a record of a unit, outside the sender's reach (none for admins and the CLI)."""
    if person is None or person.has_role(Role.ADMIN):
        return []
    scope = data_scope(ctx, person)
    if not isinstance(scope, Scope):
        return [scope]
    if scope.unit_ids is None:
        return []
    outside = []
    for row in rows:
        record = records.get(row.key)
        unit = record.org_unit_id if record is not None else row.unit_id
        if unit not in scope.unit_ids:
            outside.append(t.row_elsewhere(row.number))
    return outside


def _refused(problems: list[str]) -> str:
    """The reply listing a workbook's problems (at most MAX_LISTED)."""
    listed = [f"{n}. {p}" for n, p in enumerate(problems[:MAX_LISTED], start=1)]
    return t.refused(len(problems), listed, max(len(problems) - MAX_LISTED, 0))
