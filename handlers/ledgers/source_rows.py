"""The rows a data source offers, as cell texts with a header first: a query's result or an exported file.

A source database is only read: the query runs in a transaction that is rolled back, its rows streamed. A source
that cannot be reached or queried ends the rows with a LedgerFileError whose sentence says what to check, with the
database's address but never its password.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from handlers.texts import sources as t
from ledger_store.ledger_import import LedgerFileError
from ledger_store.sheet_files import RowProblem, cell_text, read_rows
from ledger_store.xlsx_archive import LEDGER

log = logging.getLogger(__name__)
Rows = Iterator[list[str] | RowProblem]
EXPORT_SUFFIXES = (".xlsx", ".xlsm", ".csv")
CONNECT_TIMEOUT_SECONDS = 10
STREAM_ROWS = 1000


def database_rows(url: str, query: str, columns: Mapping[str, str]) -> AbstractContextManager[Rows]:
    """The query's result on the source database, the header renamed by `columns` (source column -> field)."""
    return _database_rows(url, query, columns)


@contextmanager
def _database_rows(url: str, query: str, columns: Mapping[str, str]) -> Iterator[Rows]:
    where = described(url)
    try:
        engine = sa.create_engine(url, poolclass=NullPool, connect_args=_timeout(url))
    except (ArgumentError, NoSuchModuleError, ValueError) as error:
        raise LedgerFileError(t.UNREACHABLE.format(where=where)) from error
    try:
        try:
            connection = engine.connect()
        except SQLAlchemyError as error:
            log.warning("data source %s unreachable: %s", where, error)
            raise LedgerFileError(t.UNREACHABLE.format(where=where)) from error
        with connection:
            try:
                streamed = connection.execution_options(stream_results=True, max_row_buffer=STREAM_ROWS)
                result = streamed.execute(sa.text(query))
            except SQLAlchemyError as error:
                log.warning("data source %s: the query failed: %s", where, error)
                raise LedgerFileError(_failure(error, where)) from error
            yield _result_rows(result, columns, where)
            connection.rollback()  # nothing is ever written to another system's database
    finally:
        engine.dispose()


def _result_rows(result: sa.CursorResult[Any], columns: Mapping[str, str], where: str) -> Rows:
    yield [columns.get(name, name) for name in list(result.keys())]
    try:
        for row in result:
            yield [_text(value) for value in row]
    except SQLAlchemyError as error:
        log.warning("data source %s: reading the rows failed: %s", where, error)
        raise LedgerFileError(_failure(error, where)) from error


def _failure(error: SQLAlchemyError, where: str) -> str:
    """A connection lost on the way reads as unreachable; anything else the database refused is the query's fault."""
    lost = isinstance(error, DBAPIError) and error.connection_invalidated
    return (t.UNREACHABLE if lost else t.QUERY_FAILED).format(where=where)


def _text(value: object) -> str:
    """A database value as the text a person would have typed into the export."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, date | datetime | float) or value is None:
        return cell_text(value)
    if isinstance(value, bytes):
        return cell_text(value.decode("utf-8", "replace"))
    return cell_text(str(value))


def _timeout(url: str) -> dict[str, Any]:
    """Give up on a source that does not answer, instead of holding the scheduler's thread for minutes."""
    backend = make_url(url).get_backend_name()
    return {"connect_timeout": CONNECT_TIMEOUT_SECONDS} if backend in ("postgresql", "mysql", "mariadb") else {}


def described(url: str) -> str:
    """The database's address for people and logs: the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "地址无法识别"


def newest_export(folder: Path) -> Path | None:
    """The most recently written .xlsx or .csv file in the folder (Excel's ~$ lock files left out)."""
    files = [
        path
        for path in folder.iterdir()
        if path.is_file() and path.suffix.lower() in EXPORT_SUFFIXES and not path.name.startswith(("~$", "."))
    ]
    return max(files, key=lambda path: (path.stat().st_mtime, path.name), default=None)


def file_digest(path: Path) -> str:
    """The file's SHA-256, read in chunks: the same export dropped again is recognised and not read twice."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def file_rows(path: Path, columns: Mapping[str, str]) -> AbstractContextManager[Rows]:
    """The rows of an exported file, as an upload's are read, the header renamed by `columns`."""
    return _file_rows(path, columns)


@contextmanager
def _file_rows(path: Path, columns: Mapping[str, str]) -> Iterator[Rows]:
    with read_rows(path, LEDGER) as rows:
        yield _renamed(rows, columns)


def _renamed(rows: Rows, columns: Mapping[str, str]) -> Rows:
    header = next(rows, [])
    yield header if isinstance(header, RowProblem) else [columns.get(title.strip(), title) for title in header]
    yield from rows
