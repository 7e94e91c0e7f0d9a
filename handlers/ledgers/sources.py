"""Data sinking (数据下沉): rows of another system read on a timetable into a ledger, as an import would write them.

A source is a database query or a folder where another system drops a nightly export. A run reads it, checks
every row with the ledger import's readers, upserts by key through the import's write path (history source
"数据下沉：<name>"), keeps a SourceRun with its counts and its error workbook, and tells the ledger's owning
department in the same transaction. Two runs of one source never overlap: a run holds the lease "source:<name>",
and one that finds it taken is recorded as skipped. Nothing a source does raises into the scheduler.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from handlers.core.clock import Clock
from handlers.ledgers.source_rows import database_rows, file_digest, file_rows, newest_export
from handlers.texts import sources as t
from ledger_store.db import transaction
from ledger_store.file_names import stamped_name, store_named
from ledger_store.leases import acquire, release
from ledger_store.ledger_import import LedgerImportReport, import_rows
from ledger_store.ledgers import get_ledger
from ledger_store.models import SourceRun
from ledger_store.org import issuers_of_department
from ledger_store.outbox import enqueue

log = logging.getLogger(__name__)
LEASE_TTL = timedelta(minutes=30)  # renewed after every batch, so only a run that died lets it run out


class RunStatus(StrEnum):
    """How a run ended (running while it goes)."""

    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Source:
    """One configured source: a query on a database (`url`, `query`) or a folder of exports (`folder`)."""

    name: str
    ledger: str
    schedule: str
    url: str | None = None
    query: str | None = None
    folder: Path | None = None
    columns: Mapping[str, str] = field(default_factory=dict)  # source column -> field name

    @property
    def lease(self) -> str:
        """The lease a run holds, so that two runs of this source never overlap."""
        return f"source:{self.name}"


@dataclass(frozen=True)
class SinkResult:
    """What one run did, as its SourceRun row keeps it, and what the department was told (None: nobody)."""

    run_id: int
    status: RunStatus
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    refused: int = 0
    message: str | None = None
    told: str | None = None


def run_source(factory: sessionmaker[Session], source: Source, clock: Clock, tz: ZoneInfo, holder: str) -> SinkResult:
    """Run the source now, unless a run of it holds its lease (then the run is recorded as skipped)."""
    now = _stored(clock.now())
    if not acquire(factory, source.lease, holder, now, LEASE_TTL):
        return _record_skipped(factory, source, now, t.ALREADY_RUNNING)
    try:
        return _run(factory, source, clock, tz, holder)
    finally:
        release(factory, source.lease, holder, _stored(clock.now()))


def _run(factory: sessionmaker[Session], source: Source, clock: Clock, tz: ZoneInfo, holder: str) -> SinkResult:
    now = _stored(clock.now())
    with transaction(factory) as session:
        run = SourceRun(source=source.name, started_at=now, status=RunStatus.RUNNING)
        session.add(run)
        session.flush()
        run_id = run.id
    try:
        return _sink(factory, source, clock, tz, holder, run_id)
    except Exception:
        log.exception("data source %s: run %s failed", source.name, run_id)
        return _finish(factory, source, run_id, _stored(clock.now()), None, t.INTERNAL, None)


def _sink(
    factory: sessionmaker[Session], source: Source, clock: Clock, tz: ZoneInfo, holder: str, run_id: int
) -> SinkResult:
    """Read the source into its ledger and finish the run."""
    opened: Callable[[], Any]
    if source.folder is not None:
        found = _unread_export(factory, source)
        if isinstance(found, _Nothing):
            skipped = not found.failed
            return _finish(factory, source, run_id, _stored(clock.now()), None, found.why, None, skipped=skipped)
        path, digest = found
        opened, name, input_name = (lambda: file_rows(path, source.columns)), path.name, (path.name, digest)
    else:
        assert source.url is not None and source.query is not None  # the configuration holds one or the other
        url, query = source.url, source.query
        opened, name, input_name = (lambda: database_rows(url, query, source.columns)), source.name, None

    def renew(_rows: int) -> None:
        acquire(factory, source.lease, holder, _stored(clock.now()), LEASE_TTL)

    now = clock.now()
    with tempfile.TemporaryDirectory() as scratch:
        errors = Path(scratch) / "errors.xlsx"
        report = import_rows(
            factory, source.ledger, opened, name, t.HISTORY_SOURCE.format(name=source.name), None, _stored(now),
            renew, error_path=errors, today=now.astimezone(tz).date(),
        )  # fmt: skip
        content = report.error_path.read_bytes() if report.error_path is not None else None
    when = now.astimezone(tz)
    return _finish(factory, source, run_id, _stored(clock.now()), report, report.problem, content, input_name, when)


@dataclass(frozen=True)
class _Nothing:
    """Why a folder source has no export to read now: a failure (no such folder) or nothing new yet."""

    why: str
    failed: bool = False


def _unread_export(factory: sessionmaker[Session], source: Source) -> tuple[Path, str] | _Nothing:
    """The newest export with its digest, or why there is none to read."""
    assert source.folder is not None
    if not source.folder.is_dir():
        return _Nothing(t.NO_FOLDER.format(folder=source.folder), failed=True)
    path = newest_export(source.folder)
    if path is None:
        return _Nothing(t.NO_FILE.format(folder=source.folder))
    digest = file_digest(path)
    read = (SourceRun.source == source.name) & (SourceRun.input_digest == digest) & (SourceRun.status == RunStatus.OK)
    with transaction(factory) as session:
        if session.scalar(select(exists().where(read))):
            return _Nothing(t.NO_NEW_FILE.format(file=path.name))
    return path, digest


def _finish(
    factory: sessionmaker[Session],
    source: Source,
    run_id: int,
    now: datetime,
    report: LedgerImportReport | None,
    problem: str | None,
    errors: bytes | None,
    input_name: tuple[str, str] | None = None,
    local: datetime | None = None,
    skipped: bool = False,
) -> SinkResult:
    """Write the run's outcome, keep its error workbook and tell the owning department, in one transaction."""
    status = RunStatus.SKIPPED if skipped else RunStatus.FAILED if problem or report is None else RunStatus.OK
    with transaction(factory) as session:
        run = session.get_one(SourceRun, run_id)
        run.finished_at, run.status, run.message = now, status, problem
        if input_name is not None:
            run.input_name, run.input_digest = input_name
        if report is not None:
            run.added, run.changed, run.unchanged, run.refused = (
                report.inserted, report.updated, report.unchanged, report.invalid
            )  # fmt: skip
        stored = None
        if errors is not None:
            label = f"{source.name}{t.ERROR_BOOK}"
            stored = store_named(session, stamped_name(label, local or now), errors, now)
            run.error_file_id = stored.id
        told = None if skipped else _tell(session, source, run, report, stored, now)
        return SinkResult(run.id, status, run.added, run.changed, run.unchanged, run.refused, problem, told)


def _tell(
    session: Session, source: Source, run: SourceRun, report: LedgerImportReport | None, stored: Any, now: datetime
) -> str | None:
    """Queue the run's report (and its error workbook) to the issuers of the department owning the ledger."""
    ledger = get_ledger(session, source.ledger)
    title = ledger.title if ledger is not None else source.ledger
    if run.status == RunStatus.OK:
        text = t.run_report(source.name, title, run.added, run.changed, run.unchanged, run.refused)
    else:
        text = t.failed_report(source.name, title, run.message or t.INTERNAL, run.added, run.changed, run.refused)
    if report is not None and report.ignored_columns:
        text += "\n" + t.ignored_columns(report.ignored_columns)
    if ledger is None or ledger.owner_department_id is None:
        log.warning("data source %s: ledger %s has no owning department to tell", source.name, source.ledger)
        return text
    for person in issuers_of_department(session, ledger.owner_department_id):
        key = f"source-run:{run.id}:{person.id}"
        enqueue(session, person_id=person.id, dedupe_key=key + ":text", now=now, text=text)
        if stored is not None:
            enqueue(session, person_id=person.id, dedupe_key=key + ":file", now=now, file=stored)
    return text


def _record_skipped(factory: sessionmaker[Session], source: Source, now: datetime, message: str) -> SinkResult:
    with transaction(factory) as session:
        run = SourceRun(source=source.name, started_at=now, finished_at=now, status=RunStatus.SKIPPED, message=message)
        session.add(run)
        session.flush()
        return SinkResult(run.id, RunStatus.SKIPPED, message=message)


def _stored(moment: datetime) -> datetime:
    """Naive UTC, as the database keeps times."""
    return moment.astimezone(UTC).replace(tzinfo=None)
