"""A simulated month at Chongqing's size: 1,031 towns, 11,000 villages, 11 reviewed reports each, reminders.

Run from the repository root against an empty PostgreSQL database (its schema is built by the migrations):

    YBT_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/ybt_city \\
        .venv/bin/python -m bench.city_month [--towns 1031] [--villages 11000] [--reports 11]

What is real code and what is synthetic:
- real: the org (ORM rows), every /发布 (the chat command through the engine: assignments and one notice per
  filler), one town's fillers and reviewer driven by chat through the webhook path (accept, then
  process_pending: inbound rows, replies in the outbox) for the first report, every TimedWork.tick() of the month
  (reminders, escalations, closing at the deadline, the summaries of 11,000 units), the summary build timed at the
  end, and the idle ticks timed against the full database;
- synthetic: every other unit's 开始 … 提交 and its town's approval. They are bulk SQL copies of the rows the sample
  filler's and the sample reviewer's chat wrote (submission, answers, review steps, conversation, inbound
  messages, replies and notices in the outbox, audit entries), one copy per unit (or per town for the reviewer's
  own rows), with ids, people and times put right; outbox rows are marked sent (nothing is delivered).
Each report: 70 % submit the day after it is issued, 20 % after the reminder 24 h before the deadline, 9 % after
the one 2 h before, 1 % after the deadline (late reminder, escalation to the town, the summary at the deadline and
again when complete). It prints figures and judges nothing: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import func, select

from bench.city_figures import Snapshot, print_figures
from bench.district import add_district, print_machine
from bot.config import Config, DatabaseConfig, SchedulerConfig, SimulatorConfig
from bot.platforms.simulator import SimulatorPlatform
from bot.runtime import Runtime, build_runtime, open_database
from handlers.core.clock import ManualClock
from handlers.core.messages import Incoming
from handlers.ledgers.catalog import assign_standard_owners
from handlers.tasks.submissions import answers_by_assignment
from handlers.tasks.summary import build_summary
from ledger_store.db import transaction
from ledger_store.models import (
    Assignment,
    Base,
    Level,
    OrgUnit,
    Person,
    PersonRole,
    PlatformIdentity,
    ReportTask,
    Role,
)
from scheduler.jobs import TickReport, TimedWork

TZ = ZoneInfo("Asia/Shanghai")
FORM = "低保月报"
ANSWERS = ["120", "350", "3", "1", "15000", "是", "13908315526", "跳过"]
# Every other working day of December 2024: the 11 issue days (more reports cycle through them again).
ISSUE_DAYS = [2, 4, 6, 10, 12, 16, 18, 20, 24, 26, 30]
WAVES = (0.70, 0.20, 0.09, 0.01)  # shares submitting: next day, after the 24 h, after the 2 h, after the deadline
PLATFORM = "wecom"


@dataclass
class Month:
    """What the month measured."""

    issue_seconds: list[float] = field(default_factory=list)
    ticks: list[tuple[datetime, float, TickReport | None]] = field(default_factory=list)
    bulk_seconds: float = 0.0
    sample_messages: int = 0
    sample_seconds: float = 0.0
    per_unit: dict[str, int] = field(default_factory=dict)
    per_town: dict[str, int] = field(default_factory=dict)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A Chongqing wall-clock time as the bot's clock gives it (UTC)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ).astimezone(UTC)


def build_org(runtime: Runtime, towns: int, villages: int) -> None:
    """The city's towns (one reviewer each) and villages (one filler each, on WeCom), village n in town n % towns."""
    with transaction(runtime.factory) as session:
        top = add_district(session, towns)
        for number, town in enumerate(top.towns):
            reviewer = Person(account=f"reviewer{number:04d}", name=f"审核员{number}", org_unit=town)
            reviewer.roles = [PersonRole(role=Role.REVIEWER)]
            session.add(reviewer)
        session.flush()
        for n in range(villages):
            town = top.towns[n % towns]
            village = OrgUnit(name=f"{town.name}第{n}村", level=Level.VILLAGE, parent_id=town.id)
            filler = Person(account=f"filler{n:05d}", name=f"填报员{n}", org_unit=village)
            filler.roles = [PersonRole(role=Role.FILLER)]
            session.add_all([village, filler])
            if n % 2000 == 1999:
                session.flush()
        session.flush()
        assign_standard_owners(session, runtime.engine.now())  # 区民政局 keeps 村社区基本情况台账, as in the demo
        people = session.execute(select(Person.id, Person.account)).all()
        session.execute(
            sa.insert(PlatformIdentity),
            [{"person_id": pid, "platform": PLATFORM, "user_id": account} for pid, account in people],
        )


class Chat:
    """Messages through the webhook path: accepted, then handled by process_pending (replies go to the outbox)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.sent = 0

    def say(self, account: str, text: str) -> None:
        self.sent += 1
        self.runtime.engine.accept(Incoming(PLATFORM, account, text, f"city{self.sent}"))
        self.runtime.process_pending()


def issue(runtime: Runtime, chat: Chat, deadline: datetime) -> int:
    """/发布 by chat to every village, reviewed by the towns; the new task's id."""
    when = deadline.astimezone(TZ)
    chat.say("li_minzheng", f"/发布 {FORM} 截止 {when.month}月{when.day}日18点 范围 永川区下辖")
    with runtime.factory() as session:
        return session.scalar(select(func.max(ReportTask.id)))


TABLES = (
    "submissions", "answers", "review_steps", "inbound_messages", "outbox",
    "audit_log", "ledger_changes", "rollup_marks",
)  # fmt: skip


def marks(runtime: Runtime) -> dict[str, int]:
    """The highest id of each table (the person id for chat_focus): rows above it are new."""
    with runtime.database.connect() as connection:
        return {table: connection.scalar(sa.text(f"SELECT coalesce(max(id), 0) FROM {table}")) for table in TABLES}


@dataclass
class Template:
    """The sample filler's and reviewer's rows (ids), which the bulk copies repeat for every other unit and town."""

    filler: int
    reviewer: int
    assignment: int
    submission: int
    village: str
    unit: dict[str, list[int]]  # table -> ids of rows one unit's report wrote
    town: dict[str, list[int]]  # table -> ids of rows the reviewer's own three messages wrote


def calibrate(runtime: Runtime, chat: Chat, clock: ManualClock) -> Template:
    """The first town's fillers and reviewer by chat (the webhook path); the rows of its first unit and reviewer."""
    with runtime.factory() as session:
        sample = session.execute(
            select(Person.account, Person.id, OrgUnit.name)
            .join(OrgUnit, Person.org_unit_id == OrgUnit.id)
            .where(OrgUnit.parent_id == select(OrgUnit.id).where(OrgUnit.name == "第1镇").scalar_subquery())
            .order_by(Person.id)
        ).all()
        reviewer = session.scalar(select(Person.id).where(Person.account == "reviewer0000"))
    before = marks(runtime)
    for account, _, _ in sample:
        for text in ["开始", *ANSWERS, "提交"]:
            chat.say(account, text)
        clock.advance(minutes=1)
    first = marks(runtime)
    for text in ["/审核", "全部通过", "确认"]:
        chat.say("reviewer0000", text)
    filler, village = sample[0][1], sample[0][2]
    with runtime.database.connect() as connection:
        assignment, submission = connection.execute(
            sa.text("SELECT a.id, s.id FROM assignments a JOIN submissions s ON s.assignment_id = a.id "
                    "WHERE a.filler_id = :f"), {"f": filler}
        ).one()  # fmt: skip
        unit = {
            "answers": ids(connection, "answers", "submission_id = :s", {"s": submission}),
            "review_steps": ids(connection, "review_steps", "assignment_id = :a", {"a": assignment}),
            "inbound_messages": ids(connection, "inbound_messages", "payload->>'user_id' = :u", {"u": sample[0][0]}),
            "outbox": ids(connection, "outbox", "id > :m AND (person_id = :f OR dedupe_key LIKE 'review:%' AND text "
                          "LIKE :v)", {"m": before["outbox"], "f": filler, "v": f"%{village} %"}),
            "audit_log": ids(connection, "audit_log", "id > :m AND (actor_id = :f OR entity_id = :a AND "
                             "entity = 'assignment')", {"m": before["audit_log"], "f": filler, "a": str(assignment)}),
            "ledger_changes": ids(connection, "ledger_changes", "id > :m AND actor_id = :f",
                                  {"m": before["ledger_changes"], "f": filler}),
            "rollup_marks": ids(connection, "rollup_marks", "id > :m AND org_unit_id = (SELECT org_unit_id FROM "
                                "people WHERE id = :f)", {"m": before["rollup_marks"], "f": filler}),
        }  # fmt: skip
        town = {
            "inbound_messages": ids(connection, "inbound_messages", "id > :m", {"m": first["inbound_messages"]}),
            "outbox": ids(connection, "outbox", "id > :m AND person_id = :r AND dedupe_key LIKE 'reply:%'",
                          {"m": first["outbox"], "r": reviewer}),
        }  # fmt: skip
    return Template(filler, reviewer, assignment, submission, village, unit, town)


def ids(connection: sa.Connection, table: str, where: str, params: dict) -> list[int]:
    """Ids of a table's rows matching `where`, in order."""
    return list(connection.scalars(sa.text(f"SELECT id FROM {table} WHERE {where} ORDER BY id"), params))


WAVE = """
CREATE TEMP TABLE wave ON COMMIT DROP AS
SELECT a.id AS aid, a.filler_id, a.org_unit_id AS village_id, v.name AS village, v.parent_id AS town_id,
       '永川区/' || t.name || '/' || v.name AS path, p.account, r.id AS reviewer_id, r.account AS reviewer
FROM assignments a
JOIN org_units v ON v.id = a.org_unit_id
JOIN org_units t ON t.id = v.parent_id
JOIN people p ON p.id = a.filler_id
JOIN people r ON r.org_unit_id = t.id AND r.account LIKE 'reviewer%'
WHERE a.task_id = :task AND a.status = 'pending' AND mod(a.org_unit_id * 7919 + :task * 104729, 100) >= :low
  AND mod(a.org_unit_id * 7919 + :task * 104729, 100) < :high
"""


def copy_rows(connection: sa.Connection, table: str, ids: list[int], source: str, overrides: dict, params: dict) -> int:
    """INSERT … SELECT: each template row once per row of `source`, the columns in `overrides` put right."""
    columns = [c.name for c in Base.metadata.tables[table].columns if c.name != "id"]
    chosen = ", ".join(overrides.get(name, f't."{name}"') for name in columns)
    names = ", ".join(f'"{name}"' for name in columns)
    query = f"INSERT INTO {table} ({names}) SELECT {chosen} FROM {source} CROSS JOIN {table} t WHERE t.id = ANY(:ids)"
    return connection.execute(sa.text(query), {**params, "ids": ids}).rowcount


def fill_wave(runtime: Runtime, template: Template, task: int, low: int, high: int, at: datetime) -> int:
    """A share of one task's units submit at `at` and their towns approve an hour later, as bulk copies; units."""
    at, decided = at.replace(tzinfo=None), (at + timedelta(hours=1)).replace(tzinfo=None)
    params = {"task": task, "at": at, "decided": decided, "f0": template.filler, "r0": template.reviewer,
              "village0": template.village, "account0": "filler", "ledger": 0}  # fmt: skip
    unit = template.unit
    with runtime.database.begin() as c:
        c.execute(sa.text(WAVE), {"task": task, "low": low, "high": high})
        units = c.scalar(sa.text("SELECT count(*) FROM wave"))
        if not units:
            return 0
        params["account0"] = c.scalar(sa.text("SELECT account FROM people WHERE id = :f0"), params)
        copy_rows(c, "submissions", [template.submission], "wave w", {
            "assignment_id": "w.aid", "submitted_by_id": "w.filler_id", "submitted_at": ":at",
            "started_at": ":at - interval '8 minutes'"}, params)  # fmt: skip
        with_submission = "wave w JOIN submissions s ON s.assignment_id = w.aid"
        copy_rows(c, "answers", unit["answers"], with_submission, {
            "submission_id": "s.id", "as_of": "CASE WHEN t.as_of IS NULL THEN NULL ELSE :at END"}, params)  # fmt: skip
        copy_rows(c, "review_steps", unit["review_steps"], with_submission, {
            "assignment_id": "w.aid", "submission_id": "s.id", "reviewer_unit_id": "w.town_id",
            "submitted_by_id": "w.filler_id", "submitted_at": ":at", "decided_by_id": "w.reviewer_id",
            "decided_at": ":decided",
            "content": "jsonb_set(jsonb_set(t.content::jsonb, '{unit}', to_jsonb(w.path)), '{task}', "
                       "to_jsonb(CAST(:task AS int)))::json"}, params)  # fmt: skip
        c.execute(
            sa.text(
                "UPDATE assignments a SET status = t.status, submitted_at = :at, accepted_at = :decided "
                "FROM wave w, assignments t WHERE a.id = w.aid AND t.id = :a0"
            ),
            {**params, "a0": template.assignment},
        )
        copy_rows(c, "inbound_messages", unit["inbound_messages"], "wave w", {
            "message_key": "t.message_key || '-' || w.aid", "received_at": ":at", "processed_at": ":at",
            "payload": "replace(t.payload::text, :account0, w.account)::json"}, params)  # fmt: skip
        copy_rows(c, "outbox", unit["outbox"], "wave w", {
            "dedupe_key": "t.dedupe_key || '-' || w.aid",
            "person_id": "CASE WHEN t.person_id = :f0 THEN w.filler_id ELSE w.reviewer_id END",
            "text": "replace(t.text, :village0, w.village)", "status": "'sent'", "attempts": "1",
            "created_at": "CASE WHEN t.dedupe_key LIKE 'reviewed:%' THEN :decided ELSE :at END",
            "sent_at": "CASE WHEN t.dedupe_key LIKE 'reviewed:%' THEN :decided ELSE :at END"}, params)  # fmt: skip
        copy_rows(c, "audit_log", unit["audit_log"], "wave w", {
            "at": "CASE WHEN t.action IN ('approve', 'ledger_write') THEN :decided ELSE :at END",
            "actor_id": "CASE WHEN t.actor_id = :f0 THEN w.filler_id WHEN t.actor_id = :r0 THEN w.reviewer_id "
                        "ELSE t.actor_id END",
            "entity_id": "CASE WHEN t.entity = 'assignment' THEN CAST(w.aid AS text) ELSE t.entity_id END"},
            params)  # fmt: skip
        fill_ledger(c, unit, params)
        c.execute(
            sa.text(
                "INSERT INTO chat_focus (person_id, choosing, pending) SELECT w.filler_id, t.choosing, t.pending "
                "FROM wave w CROSS JOIN chat_focus t WHERE t.person_id = :f0 ON CONFLICT DO NOTHING"
            ),
            params,
        )
        towns = "(SELECT DISTINCT reviewer_id, reviewer FROM wave) w"
        key = "t.message_key || '-' || :task || '-' || :low || '-' || w.reviewer_id"
        copy_rows(
            c,
            "inbound_messages",
            template.town["inbound_messages"],
            towns,
            {
                "message_key": key,
                "received_at": ":decided",
                "processed_at": ":decided",
                "payload": "replace(t.payload::text, 'reviewer0000', w.reviewer)::json",
            },
            {**params, "low": low},
        )
        copy_rows(c, "outbox", template.town["outbox"], towns, {
            "dedupe_key": key.replace("message_key", "dedupe_key"), "person_id": "w.reviewer_id", "status": "'sent'",
            "attempts": "1", "created_at": ":decided", "sent_at": ":decided"}, {**params, "low": low})  # fmt: skip
    return units


def fill_ledger(c: sa.Connection, unit: dict[str, list[int]], params: dict) -> None:
    """The approvals' writes to the villages' ledger: a record per village (added once, else touched), its changes
    (as if the figures moved every report), the rollup marks the scheduler's next tick counts again."""
    if not unit["ledger_changes"]:
        return
    record = c.scalar(sa.text("SELECT record_id FROM ledger_changes WHERE id = :i"), {"i": unit["ledger_changes"][0]})
    c.execute(
        sa.text(
            "UPDATE ledger_records r SET updated_at = :decided FROM wave w, ledger_records t "
            "WHERE t.id = :record AND r.ledger_id = t.ledger_id AND r.org_unit_id = w.village_id"
        ),
        {**params, "record": record},
    )
    copy_rows(c, "ledger_records", [record], "(SELECT w.* FROM wave w WHERE NOT EXISTS (SELECT 1 FROM ledger_records r "
              "WHERE r.org_unit_id = w.village_id AND r.ledger_id = (SELECT ledger_id FROM ledger_records "
              "WHERE id = :record))) w", {"key": "w.village", "org_unit_id": "w.village_id", "created_at": ":decided",
              "updated_at": ":decided"}, {**params, "record": record})  # fmt: skip
    source = ("wave w JOIN ledger_records r ON r.org_unit_id = w.village_id AND r.ledger_id = "
              "(SELECT ledger_id FROM ledger_records WHERE id = :record)")  # fmt: skip
    copy_rows(
        c,
        "ledger_changes",
        unit["ledger_changes"],
        source,
        {"record_id": "r.id", "at": ":decided", "actor_id": "w.filler_id"},
        {**params, "record": record},
    )
    copy_rows(c, "rollup_marks", unit["rollup_marks"], "wave w", {"org_unit_id": "w.village_id"}, params)


WORKDAYS = [date(2024, 12, d) for d in range(1, 32) if date(2024, 12, d).weekday() < 5]
WORKDAYS += [date(2025, 1, 2), date(2025, 1, 3)]


def next_workday(day: date) -> date:
    """The first working day after `day` (December 2024 has no holiday; 1 January is one)."""
    return next(d for d in WORKDAYS if d > day)


def timeline(reports: int) -> list[tuple[datetime, str, int]]:
    """(when, what, report) of the month in time order: issues, the four waves of submissions and the ticks."""
    events = []
    for k in range(reports):
        day = date(2024, 12, ISSUE_DAYS[k])
        due = next_workday(next_workday(day))
        deadline = local(due, 18)
        late = next_workday(due)
        events += [
            (local(day, 9, 30), "issue", k),
            (local(day, 15), "wave0", k),
            (deadline - timedelta(hours=24) + timedelta(minutes=5), "tick", k),
            (deadline - timedelta(hours=22), "wave1", k),
            (deadline - timedelta(hours=2) + timedelta(minutes=5), "tick", k),
            (deadline - timedelta(hours=1), "wave2", k),
            (deadline + timedelta(minutes=5), "tick", k),
            (local(late, 9, 5), "tick", k),
            (local(late, 10), "wave3", k),
            (local(late, 10, 30), "tick", k),
        ]
    return sorted(events, key=lambda event: (event[0], event[1]))


def mark_sent(runtime: Runtime) -> None:
    """Stand in for delivery: what the real code queued is marked sent when it was queued."""
    with runtime.database.begin() as connection:
        connection.execute(
            sa.text("UPDATE outbox SET status = 'sent', attempts = 1, sent_at = created_at WHERE status = 'pending'")
        )


def run_month(runtime: Runtime, clock: ManualClock, reports: int) -> Month:
    """Every event of the month in time order; what it measured."""
    month, chat, work = Month(), Chat(runtime), TimedWork(runtime, SchedulerConfig(), holder="city-month")
    tasks: dict[int, int] = {}
    template = None
    bounds = [0]
    for share in WAVES:
        bounds.append(bounds[-1] + round(share * 100))
    started = time.perf_counter()
    for when, what, k in timeline(reports):
        clock.set(when)
        if what == "issue":
            day = date(2024, 12, ISSUE_DAYS[k])
            began = time.perf_counter()
            tasks[k] = issue(runtime, chat, local(next_workday(next_workday(day)), 18))
            month.issue_seconds.append(time.perf_counter() - began)
            if template is None:
                began, said = time.perf_counter(), chat.sent
                template = calibrate(runtime, chat, clock)
                month.per_unit = {"submissions": 1, **{table: len(rows) for table, rows in template.unit.items()}}
                month.per_town = {table: len(rows) for table, rows in template.town.items()}
                month.sample_seconds, month.sample_messages = time.perf_counter() - began, chat.sent - said
        elif what == "tick":
            began = time.perf_counter()
            report = work.tick()
            month.ticks.append((when, time.perf_counter() - began, report))
        else:
            wave = int(what[-1])
            began = time.perf_counter()
            fill_wave(runtime, template, tasks[k], bounds[wave], bounds[wave + 1], when)
            month.bulk_seconds += time.perf_counter() - began
        mark_sent(runtime)
        print(
            f"  {when.astimezone(TZ):%m-%d %H:%M} {what:<5} report {k + 1:>2}   "
            f"{time.perf_counter() - started:7.1f} s so far",
            flush=True,
        )
    return month


def time_summary(runtime: Runtime, task_id: int) -> tuple[float, float, int, int]:
    """The real summary workbook of one task: (seconds reading the answers, seconds building, units, bytes)."""
    with runtime.factory() as session:
        ctx = runtime.engine.context(session)
        task = session.get(ReportTask, task_id)
        began = time.perf_counter()
        answers = answers_by_assignment(ctx, task)
        read = time.perf_counter() - began
        began = time.perf_counter()
        summary = build_summary(ctx, task, answers)
        return read, time.perf_counter() - began, len(task.assignments), len(summary.content)


def idle_ticks(runtime: Runtime, clock: ManualClock, count: int) -> list[float]:
    """`count` runs of the real tick a minute apart, timed."""
    work, times = TimedWork(runtime, SchedulerConfig(), holder="city-month"), []
    for _ in range(count):
        clock.advance(minutes=1)
        began = time.perf_counter()
        work.tick()
        times.append(time.perf_counter() - began)
        mark_sent(runtime)
    return times


def refuse_unless_postgresql(url: str | None) -> str:
    """The bench reads PostgreSQL's sizes and writes its bulk rows in PostgreSQL's SQL: an empty server database."""
    if not url or not url.startswith("postgresql"):
        raise SystemExit("set YBT_BENCH_DATABASE_URL to an empty PostgreSQL database (postgresql+psycopg://…)")
    database = sa.create_engine(url)
    try:
        if sa.inspect(database).has_table(Person.__tablename__):
            with database.connect() as connection:
                if connection.scalar(select(func.count()).select_from(Person)):
                    raise SystemExit(f"{url} is not empty; point YBT_BENCH_DATABASE_URL at an empty database")
    finally:
        database.dispose()
    return url


def main() -> None:
    """Build the city, run the month, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--towns", type=int, default=1031, help="towns and streets, one reviewer each (default 1031)")
    parser.add_argument("--villages", type=int, default=11_000, help="villages, one filler each (default 11000)")
    parser.add_argument("--reports", type=int, default=11, choices=range(1, 12), metavar="1-11",
                        help="reports to every village this month, each reviewed (default 11)")  # fmt: skip
    parser.add_argument("--ticks", type=int, default=3, help="idle ticks timed at the end (default 3)")
    args = parser.parse_args()
    url = refuse_unless_postgresql(os.environ.get("YBT_BENCH_DATABASE_URL"))
    print_machine(f"SQLAlchemy {sa.__version__}")
    clock = ManualClock(local(date(2024, 12, 2), 9))
    with tempfile.TemporaryDirectory(prefix="ybt-bench-") as scratch:
        config = Config(database=DatabaseConfig(url=url), simulator=SimulatorConfig(files_dir=Path(scratch) / "f"))
        database = open_database(config)
        try:
            runtime = build_runtime(config, SimulatorPlatform(files_dir=Path(scratch) / "f"), clock=clock,
                                    database=database)  # fmt: skip
            began = time.perf_counter()
            build_org(runtime, args.towns, args.villages)
            print(f"org       {args.towns} towns (a reviewer each), {args.villages} villages (a filler each), "
                  f"{time.perf_counter() - began:.1f} s to build")  # fmt: skip
            empty = Snapshot.take(runtime, idle_ticks(runtime, clock, args.ticks))
            month = run_month(runtime, clock, args.reports)
            clock.advance(hours=1)
            full = Snapshot.take(runtime, idle_ticks(runtime, clock, args.ticks))
            issue(runtime, Chat(runtime), local(date(2025, 1, 10), 18))  # one more task, open: nothing due yet
            full.open_ticks = idle_ticks(runtime, clock, args.ticks)
            with runtime.factory() as session:
                biggest = session.scalar(select(Assignment.task_id).group_by(Assignment.task_id)
                                         .order_by(func.count().desc(), Assignment.task_id).limit(1))  # fmt: skip
            summary = time_summary(runtime, biggest)
            print_figures(runtime, args, month, empty, full, summary)
        finally:
            database.dispose()


if __name__ == "__main__":
    main()
