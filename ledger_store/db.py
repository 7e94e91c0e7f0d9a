"""Engine and session set-up, and schema migrations through Alembic."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout for a second process."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL survives a crash of the process; only a power cut can lose the last commits.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    if url.startswith(("mysql", "mariadb")):
        # As PostgreSQL does by default: each statement sees what was committed before it. Handlers of different
        # people's messages run at once and lock the rows they share (a task, a ledger record); under MariaDB's
        # REPEATABLE READ the one who waited for a lock would still read from a snapshot taken before it.
        return create_engine(url, pool_pre_ping=True, isolation_level="READ COMMITTED")
    return create_engine(url, pool_pre_ping=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session], wait_ms: int | None = None) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error.

    SQLite has one writer at a time and its busy wait is unfair (a loser may sleep for a second), so within
    a process write transactions on SQLite take turns on a lock instead; other databases need none. With
    `wait_ms`, a write on SQLite waits at most that long for the database's write lock (see brief_lock_wait).
    """
    bind = factory.kw.get("bind")
    lock = _sqlite_writer_lock(bind) if bind is not None and bind.dialect.name == "sqlite" else nullcontext()
    with lock, factory() as session, session.begin():
        if wait_ms is None:
            yield session
            return
        with brief_lock_wait(session, wait_ms):
            yield session


@contextmanager
def brief_lock_wait(session: Session, wait_ms: int) -> Iterator[None]:
    """On SQLite, wait at most `wait_ms` for the write lock inside this block, then restore the usual wait.

    For a write that may be made while this very thread's outer transaction holds SQLite's one write lock (a
    platform API call made while a message is handled): it fails at once instead of waiting for itself.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    usual = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(wait_ms)}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(usual)}")


_writer_locks: dict[str, threading.RLock] = {}
_writer_locks_guard = threading.Lock()


def _sqlite_writer_lock(bind: Engine) -> threading.RLock:
    """The in-process writer lock of one SQLite database file."""
    with _writer_locks_guard:
        return _writer_locks.setdefault(str(bind.url), threading.RLock())


def alembic_config(engine: Engine) -> AlembicConfig:
    """Alembic configuration pointing at our migrations and an existing engine."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


@cache
def head_revision() -> str | None:
    """The newest migration this code brings (Alembic's head), read once from the migration scripts."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def database_revision(connection: Connection) -> str | None:
    """The migration the database was last brought to (its alembic_version); None before the first."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration."""
    command.upgrade(alembic_config(engine), "head")


def ensure_row(
    factory: sessionmaker[Session], model: type, key: object, make: Callable[[], object], wait_ms: int | None = None
) -> None:
    """Create the row that others lock, if it is missing, in a short transaction of its own.

    Locking a row that does not exist yet and inserting it on a miss deadlocks on MariaDB: each transaction's
    miss takes a gap lock, and each insert then waits for the other's. A row created first, on its own, is
    then only ever locked by UPDATE, which every database queues.
    """
    with transaction(factory) as session:
        if session.get(model, key) is not None:
            return
    try:
        with transaction(factory, wait_ms) as session:
            session.add(make())
    except IntegrityError:
        pass  # another process created it a moment ago
