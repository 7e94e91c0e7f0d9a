"""Retention: handled inbound messages and sent pushes past the kept period are deleted, a small batch at a time.

What is deleted, and why it is safe:

- inbound_messages handled (done or failed) and received before the cutoff. After handling, a row only lets
  `Engine._record` drop a platform's retry of the same (platform, message_key). WeCom retries an unanswered
  callback three times within seconds, DingTalk redelivers an unacknowledged Stream frame or callback within
  minutes to hours, and our own retries of a stored message work on pending rows, which are never deleted.
  A retry weeks later does not happen, so a period of weeks keeps every retry dropped.
- outbox rows sent before the cutoff (by `sent_at`, which is never earlier than `created_at`). Dead rows stay
  for /投递; pending rows stay. `enqueue` skips a dedupe key already present, so a pruned key could be queued
  again if its job came back to it. Every family of keys, and why none comes back once its row is this old:

  reply:{inbound id}:{n}          one inbound message is handled once (its row is done before it can be pruned)
  assigned:{assignment}           queued once, when the task is issued
  remind:{task}:{filler}:{kind}   the riskiest: a pass re-queues the latest reached kind while the task is listed,
                                  i.e. until its next moment or OVERDUE_DAYS + 1 days after the deadline; a
                                  "提醒 N 天" kind (N <= 30) waits up to 30 days for the next. Not past ~31 days.
  escalate:{task}:{reviewer}      re-tried by every pass from the first late reminder until the task drops out
                                  of the reminders, OVERDUE_DAYS + 1 days after the deadline: under 31 days.
  remind:{assignment}:manual-{minute}  /催报, keyed by the minute: never again once that minute has passed
  closed:{task}:{filler}, summary:{task}:deadline:*   once, when the deadline is handled (closed_at is set)
  summary:{task}:complete:*       when the last unit's answers count; guarded by summary_sent_at, and a submitted
                                  assignment never goes back, so the task completes once
  summary:{task}:file-{id}|digest-{time}:*   /汇总 on demand: a new file id or moment each time
  review:{step}:{reviewer}, reviewed:{step}, corrected:{step}   one review step is asked, decided, corrected once
  review-remind:{person}:{step}   guarded by the step's reminded_at
  period-refused:{recurrence}:{period}:{person}   the recurrence moves past the period before it is refused
  on-behalf:task|recurrence:{id}:{issuer}   once, when the task or recurrence is made
  warning:{rule}:{record}:{person}   the (rule, record) hit is claimed once ever (warning_hits)
  warning-broken:{rule}:{version}:{person}   guarded by the rule's broken_version
  transfer:{record}:{moves}:{filler}   the count of moves only grows
  ledger-access:{uuid}            new each time
  export:{file}, blank-form:{file}, blank-ledger:{file}, roster:{conversation}:{repeat}:{file}:{sends}
                                  a new stored file (or a higher count of sends) each time
  source-run:{run}:*              one data-source run reports once
  api-budget:{platform}:{month}:{admin}   guarded by the month's warned_at
  invalid-user:{platform}:{user}:{day}:{admin}   keyed by the day: a pruned row's day is over

  So no family comes back more than ~31 days after its row was queued; the configuration refuses a kept period
  shorter than that (bot/config.py RetentionConfig), and the default keeps 90 days.

- stored_files that only pruned rows referred to. Every foreign key to stored_files is checked first (outbox,
  inbound_messages, source_runs' error workbooks); a roster conversation also names its last workbook by id in
  its JSON state, and stores a fresh one when that file is gone.

Ids are never reused: the row with the highest id of each table stays (SQLite would otherwise hand out its id
again, and keys such as reply:{inbound id} and export:{file} would collide with rows that stayed, dead ones say).
audit_log is never touched. What was deleted is counted (cached_values), so the /metrics counters never go down.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger_store.db import ensure_row, transaction
from ledger_store.models import (
    CachedValue,
    InboundMessage,
    InboundStatus,
    OutboxMessage,
    OutboxStatus,
    SourceRun,
    StoredFile,
)

# Rows deleted per transaction: short enough that SQLite's write lock and the row locks of PostgreSQL and MariaDB
# are held for a moment, and chat goes on between batches.
BATCH = 5000
# Ids per IN (...) list.
CHUNK = 500
COUNTER_PREFIX = "retention:pruned:"
HANDLED = (InboundStatus.DONE, InboundStatus.FAILED)


@dataclass(frozen=True)
class Pruned:
    """What one pass deleted, and whether it stopped at its batch limit with more left."""

    inbound: int = 0
    outbox: int = 0
    files: int = 0
    more: bool = False


def prune(factory: sessionmaker[Session], cutoff: datetime, max_batches: int, batch: int = BATCH) -> Pruned:
    """Delete handled inbound messages received and sent pushes sent before `cutoff`, and files left unreferenced,
    in at most `max_batches` transactions of at most `batch` rows each."""
    ensure_counters(factory)
    inbound = outbox = files = batches = 0
    for table in (InboundMessage, OutboxMessage):
        while True:
            if batches == max_batches:
                return Pruned(inbound, outbox, files, more=True)
            with transaction(factory) as session:
                rows, freed = prune_batch(session, table, cutoff, batch)
            batches += bool(rows)  # a look that finds nothing is not a batch
            if table is InboundMessage:
                inbound += rows
            else:
                outbox += rows
            files += freed
            if rows < batch:
                break
    return Pruned(inbound, outbox, files)


def prune_batch(session: Session, table: type, cutoff: datetime, batch: int) -> tuple[int, int]:
    """Delete the oldest `batch` prunable rows of one table and the files only they referred to; (rows, files)."""
    newest = session.scalar(select(func.max(table.id)))
    if newest is None:
        return 0, 0
    # In id order: the oldest rows have the lowest ids, so the scan finds them first without an index on time.
    rows = session.execute(
        select(table.id, table.status, table.file_id)
        .where(prunable(table, cutoff), table.id < newest)
        .order_by(table.id)
        .limit(batch)
        .with_for_update()
    ).all()
    ids = [row.id for row in rows]
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        session.execute(delete(table).where(table.id.in_(chunk)).execution_options(synchronize_session=False))
    for status, count in Counter(row.status for row in rows).items():
        add_to_counter(session, f"{table.__tablename__}:{status}", count)
    files = sorted({row.file_id for row in rows if row.file_id is not None})
    return len(ids), delete_unreferenced_files(session, files)


def prunable(table: type, cutoff: datetime) -> ColumnElement[bool]:
    """SQL for the rows of `table` that may go: handled inbound messages, or sent pushes, older than `cutoff`."""
    if table is InboundMessage:
        return InboundMessage.status.in_(HANDLED) & (InboundMessage.received_at < cutoff)
    return (OutboxMessage.status == OutboxStatus.SENT) & (OutboxMessage.sent_at < cutoff)


def delete_unreferenced_files(session: Session, ids: list[int]) -> int:
    """Delete those of the files no row refers to any more (the newest file always stays); how many went."""
    if not ids:
        return 0
    newest = session.scalar(select(func.max(StoredFile.id)))
    deleted = 0
    for start in range(0, len(ids), CHUNK):
        chunk = [file_id for file_id in ids[start : start + CHUNK] if file_id != newest]
        used = set(referenced(session, chunk))
        unused = [file_id for file_id in chunk if file_id not in used]
        if unused:
            deleted += session.execute(
                delete(StoredFile).where(StoredFile.id.in_(unused)).execution_options(synchronize_session=False)
            ).rowcount
    return deleted


def referenced(session: Session, ids: list[int]) -> Iterable[int]:
    """The files among `ids` that a row still refers to, through any foreign key to stored_files."""
    for column in (OutboxMessage.file_id, InboundMessage.file_id, SourceRun.error_file_id):
        yield from session.scalars(select(column).where(column.in_(ids)).distinct())


def counter_keys() -> list[str]:
    """The cached_values keys counting deleted rows, one per table and status."""
    tables = {InboundMessage.__tablename__: HANDLED, OutboxMessage.__tablename__: (OutboxStatus.SENT,)}
    return [f"{COUNTER_PREFIX}{name}:{status}" for name, statuses in tables.items() for status in statuses]


def ensure_counters(factory: sessionmaker[Session]) -> None:
    """Make sure the counters exist, each in its own short transaction (see ensure_row)."""
    for key in counter_keys():
        ensure_row(factory, CachedValue, key, lambda key=key: CachedValue(key=key, value="0"))


def add_to_counter(session: Session, name: str, count: int) -> None:
    """Add to a counter of deleted rows, locked until the transaction ends."""
    row = session.scalar(select(CachedValue).where(CachedValue.key == COUNTER_PREFIX + name).with_for_update())
    row.value = str(int(row.value) + count)


def pruned_counts(session: Session) -> dict[str, int]:
    """Rows deleted so far, by "table:status" (zero for each not pruned yet)."""
    rows = session.execute(select(CachedValue.key, CachedValue.value).where(CachedValue.key.in_(counter_keys())))
    counts = {key.removeprefix(COUNTER_PREFIX): 0 for key in counter_keys()}
    counts.update({key.removeprefix(COUNTER_PREFIX): int(value) for key, value in rows})
    return counts


LAST_DAY_KEY = "retention:last-day"


def last_day(session: Session) -> str | None:
    """The local day (ISO) whose deletion was finished last; None before the first."""
    row = session.get(CachedValue, LAST_DAY_KEY)
    return None if row is None else row.value


def finish_day(factory: sessionmaker[Session], day: str) -> None:
    """Record that the deletion of local day `day` (ISO) is finished."""
    ensure_row(factory, CachedValue, LAST_DAY_KEY, lambda: CachedValue(key=LAST_DAY_KEY, value=day))
    with transaction(factory) as session:
        session.get(CachedValue, LAST_DAY_KEY).value = day
