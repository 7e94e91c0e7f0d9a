"""The standard ledgers (标准台账) every district starts with, read from the workbooks in handlers/ledgers/standard.

Each workbook is a ledger definition as an owner would write it (ledger_store.ledger_book): the fields, the
department that owns the ledger and those it is shared with. `python -m bot.demo.make_ledger_books` writes them.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger_store.ledger_book import LedgerBook, read_ledger_book
from ledger_store.ledger_grants import set_owner, share
from ledger_store.ledgers import DataLoss, define_ledger, get_ledger, ledger_versions
from ledger_store.models import Department, Ledger

STANDARD_DIR = Path(__file__).parent / "standard"
STANDARD_SOURCE = "standard"  # LedgerVersion.definition["source"] of a version the shipped workbook defined


@cache  # the shipped workbooks are part of the code: they change only with a new release
def standard_books() -> tuple[LedgerBook, ...]:
    """The standard ledgers, in the order of their file names."""
    books = []
    for path in sorted(STANDARD_DIR.glob("*.xlsx")):
        book = read_ledger_book(path)
        if isinstance(book, list):
            raise RuntimeError(f"{path} is not a valid ledger definition: {book}")
        books.append(book)
    return tuple(books)


def ensure_standard_ledgers(session: Session, now: datetime) -> None:
    """Define (or bring up to date) every standard ledger, and give it its owner if that department exists.

    A standard ledger its owner redefined with a workbook of her own keeps her definition, and a shipped change
    that would lose stored values is not made at start-up: the owner decides that with a workbook.
    """
    for book in standard_books():
        ledger = get_ledger(session, book.code)
        versions = ledger_versions(session, ledger) if ledger is not None else []
        if versions and versions[-1].definition.get("source") != STANDARD_SOURCE:
            continue
        try:  # DataLoss is raised before anything is written
            define_ledger(
                session,
                book.code,
                book.title,
                book.key_field,
                book.fields,
                now,
                board=book.board,
                entity_kind=book.entity_kind,
                description=book.description,
                source=STANDARD_SOURCE,
            )
        except DataLoss:
            continue
    assign_standard_owners(session, now)


def assign_standard_owners(session: Session, now: datetime) -> None:
    """Give each standard ledger without an owner its workbook's owner and shares, once that department exists.

    Runs at start-up and after an organisation import. A ledger that has an owner is left alone, so what an
    admin set with /台账权限 is never overwritten (and shares an admin removed are not brought back).
    """
    departments = {department.name: department for department in session.scalars(select(Department))}
    for book in standard_books():
        ledger, owner = get_ledger(session, book.code), departments.get(book.owner)
        if ledger is None or owner is None or ledger.owner_department_id is not None:
            continue
        set_owner(session, ledger, owner, None, now)
        for name, full in book.shares:
            if name in departments:
                share(session, ledger, departments[name], full, None, now)


def find_ledger(session: Session, code_or_title: str) -> Ledger | None:
    """A ledger by its code or its Chinese title."""
    wanted = code_or_title.strip()
    return session.scalar(select(Ledger).where((Ledger.code == wanted) | (Ledger.title == wanted)))
