"""A task to 10,000 villages with review (审核上报) against the same task without: 提交, /审核, 全部通过, the summary.

Run from the repository root (temporary SQLite databases, or the empty server database in YBT_BENCH_DATABASE_URL,
whose schema the script drops and builds again between the two runs):

    .venv/bin/python -m bench.review [--units 10000] [--per-town 300] [--one-by-one 20]

One district, towns of `--per-town` villages with a filler each and a reviewer (审核员) in each town, and one more
town with a single village, whose report is decided last. A 低保月报 is issued by chat to every village, once
`不审核` and once reviewed by the towns (in a fresh database each). Every filler's form is made ready to submit
(one filler answers all eight questions by chat; the others get a copy of that conversation), so that only 提交
is timed: each filler's 提交 goes through the engine as a chat message. Then, with review, the first town's
reviewer sends /审核 (300 waiting; the median of three is shown), approves `--one-by-one` of them with 通过 in
the list, and the rest with 全部通过 and 确认; every other town does /审核, 全部通过, 确认; the single village's
town approves it with 通过, which completes the task and builds the summary. Without review, that village's 提交
is the last one and builds the summary. It prints the times and the ratios review / no review; it judges nothing.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import func, insert, select, update

from bench.district import add_district, print_machine
from bot.config import Config, DatabaseConfig, SimulatorConfig
from bot.platforms.simulator import SimulatorPlatform
from bot.runtime import Runtime, build_runtime, open_database
from handlers.core.clock import ManualClock
from handlers.core.messages import Incoming
from handlers.ledgers.catalog import assign_standard_owners
from ledger_store.db import transaction
from ledger_store.models import (
    Assignment,
    AssignmentStatus,
    Base,
    ChatFocus,
    Conversation,
    Level,
    OrgUnit,
    OutboxMessage,
    Person,
    PersonRole,
    ReviewStep,
    Role,
)
from ledger_store.org import SIMULATOR

START = datetime(2024, 11, 28, 2, 0, tzinfo=UTC)  # Thursday 10:00 in Chongqing
ANSWERS = ["120", "350", "3", "1", "15000", "是", "13908315526", "跳过"]
LAST = "filler_last"


@dataclass
class Figures:
    """What one run measured, in seconds."""

    submits: list[float] = field(default_factory=list)
    last_submit: float = 0.0
    listing: float = 0.0
    one_by_one: list[float] = field(default_factory=list)
    approve_all: float = 0.0
    approved_in_batch: int = 0
    other_towns: float = 0.0
    final: float = 0.0
    outbox: int = 0


def build_org(runtime: Runtime, units: int, per_town: int) -> list[str]:
    """The district, its towns (one reviewer each) and villages (one filler each); the reviewers' accounts."""
    towns = -(-(units - 1) // per_town) + 1  # the last town holds the single village decided last
    with transaction(runtime.factory) as session:
        top = add_district(session, towns)
        reviewers = []
        for number, town in enumerate(top.towns):
            reviewer = Person(account=f"reviewer{number:03d}", name=f"审核员{number}", org_unit=town)
            reviewer.roles = [PersonRole(role=Role.REVIEWER)]
            session.add(reviewer)
            reviewers.append(reviewer.account)
        for n in range(units):
            last = n == units - 1
            town = top.towns[-1] if last else top.towns[n // per_town]
            village = OrgUnit(name=f"{town.name}第{n}村", level=Level.VILLAGE, parent=town)
            filler = Person(account=LAST if last else f"filler{n:05d}", name=f"填报员{n}", org_unit=village)
            filler.roles = [PersonRole(role=Role.FILLER)]
            session.add_all([village, filler])
            if n % 2000 == 1999:
                session.flush()
        session.flush()
        assign_standard_owners(session, runtime.engine.now())  # 区民政局 keeps 村社区基本情况台账, as in the demo
    return reviewers


class Chat:
    """Messages through the engine, timed."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.sent = 0

    def say(self, account: str, text: str) -> tuple[float, str]:
        """(seconds, the replies joined)."""
        self.sent += 1
        started = time.perf_counter()
        replies = self.runtime.engine.receive(Incoming(SIMULATOR, account, text, f"m{self.sent}"))
        return time.perf_counter() - started, "\n".join(reply.text for reply in replies)


def ready_forms(runtime: Runtime, chat: Chat) -> None:
    """Every filler's form at its review, ready for 提交: one filled by chat, the others copies of it."""
    first = "filler00000"
    for text in ["开始", *ANSWERS]:
        chat.say(first, text)
    with transaction(runtime.factory) as session:
        model = session.scalar(select(Conversation))
        columns = {
            "position": model.position, "editing": model.editing, "answers": model.answers,
            "skipped": model.skipped, "prefill": model.prefill, "rosters": model.rosters,
            "started_at": model.started_at, "updated_at": model.updated_at,
        }  # fmt: skip
        others = session.execute(
            select(Assignment.id, Assignment.filler_id).where(Assignment.id != model.assignment_id)
        ).all()
        rows = [{**columns, "person_id": filler, "assignment_id": assignment} for assignment, filler in others]
        for start in range(0, len(rows), 1000):
            session.execute(insert(Conversation), rows[start : start + 1000])
        session.execute(update(Assignment).values(status=AssignmentStatus.IN_PROGRESS))
        focus = [{"person_id": c.person_id, "conversation_id": c.id} for c in session.scalars(select(Conversation))]
        session.execute(sa.delete(ChatFocus))
        session.execute(insert(ChatFocus), focus)


def submit_all(runtime: Runtime, chat: Chat, figures: Figures) -> None:
    """Every filler's 提交, the single last village's at the end."""
    with runtime.factory() as session:
        accounts = list(session.scalars(select(Person.account).where(Person.account.like("filler%"))))
    for account in sorted(accounts):
        seconds, reply = chat.say(account, "提交")
        if "已提交" not in reply:
            raise SystemExit(f"{account}: {reply}")
        figures.submits.append(seconds)
    if LAST not in accounts:
        raise SystemExit("no last village")


def review_all(runtime: Runtime, chat: Chat, reviewers: list[str], one_by_one: int, figures: Figures) -> None:
    """The first town's list one by one then all at once, every other town all at once, the last village alone."""
    first, *others, last = reviewers
    listings = [chat.say(first, "/审核") for _ in range(3)]  # the median of three: one may meet a WAL checkpoint
    if "等您审核的报送共" not in listings[-1][1]:
        raise SystemExit(listings[-1][1])
    figures.listing = statistics.median(seconds for seconds, _ in listings)
    for _ in range(one_by_one):
        seconds, reply = chat.say(first, "通过")
        if not reply.startswith("已通过"):
            raise SystemExit(reply)
        figures.one_by_one.append(seconds)
    started = time.perf_counter()
    chat.say(first, "全部通过")
    _, done = chat.say(first, "确认")
    figures.approve_all = time.perf_counter() - started
    figures.approved_in_batch = int(done.removeprefix("已通过 ").split(" ")[0])
    started = time.perf_counter()
    for reviewer in others:
        chat.say(reviewer, "/审核")
        chat.say(reviewer, "全部通过")
        chat.say(reviewer, "确认")
    figures.other_towns = time.perf_counter() - started
    figures.final, reply = chat.say(last, "通过")
    if not reply.startswith("已通过"):
        raise SystemExit(reply)


def count(runtime: Runtime, query: sa.Select) -> int:
    with runtime.factory() as session:
        return session.scalar(query)


@contextmanager
def fresh_database(url: str | None, scratch: Path, name: str) -> Iterator[Runtime]:
    """A runtime on an empty migrated database: a new SQLite file, or the server's schema dropped and built again."""
    url = url or f"sqlite:///{scratch / f'{name}.sqlite3'}"
    config = Config(database=DatabaseConfig(url=url), simulator=SimulatorConfig(files_dir=scratch / "f"))
    database = open_database(config)
    try:
        if database.dialect.name != "sqlite":
            Base.metadata.drop_all(database)
            with database.begin() as connection:
                connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
            database.dispose()
            database = open_database(config)
        runtime = build_runtime(config, SimulatorPlatform(files_dir=scratch / "f"), clock=ManualClock(START),
                                database=database)  # fmt: skip
        yield runtime
    finally:
        database.dispose()


def refuse_unless_empty(url: str) -> None:
    """Stop before touching a server database that holds anyone: its schema is dropped between the runs."""
    database = sa.create_engine(url)
    try:
        if sa.inspect(database).has_table(Person.__tablename__):
            with database.connect() as connection:
                if connection.scalar(select(func.count()).select_from(Person)):
                    raise SystemExit(f"{url} is not empty; point YBT_BENCH_DATABASE_URL at an empty database")
    finally:
        database.dispose()


def run(url: str | None, scratch: Path, units: int, per_town: int, one_by_one: int, review: bool) -> Figures:
    """One whole task, with or without review, in a fresh database."""
    figures = Figures()
    with fresh_database(url, scratch, "review" if review else "plain") as runtime:
        reviewers = build_org(runtime, units, per_town)
        chat = Chat(runtime)
        words = "" if review else " 不审核"
        _, reply = chat.say("li_minzheng", f"/发布 低保月报 截止 12月5日18点 范围 永川区下辖{words}")
        if "已发布" not in reply:
            raise SystemExit(reply)
        ready_forms(runtime, chat)
        submit_all(runtime, chat, figures)
        if review:
            review_all(runtime, chat, reviewers, one_by_one, figures)
        else:
            figures.last_submit = figures.submits.pop()
        figures.outbox = count(runtime, select(func.count()).select_from(OutboxMessage))
        undecided = count(runtime, select(func.count()).select_from(ReviewStep).where(ReviewStep.decision.is_(None)))
        sent = count(runtime, select(func.count()).where(OutboxMessage.file_id.is_not(None)))
        if undecided or not sent:
            raise SystemExit(f"the task did not complete: {undecided} undecided, {sent} summaries")
    return figures


def per_message(times: list[float]) -> str:
    """Total, mean, median and 99th percentile of message times."""
    if not times:
        return "—"
    p99 = sorted(times)[max(0, int(len(times) * 0.99) - 1)]
    return (f"{sum(times):7.1f} s total, {1000 * statistics.mean(times):6.1f} ms mean, "
            f"{1000 * statistics.median(times):6.1f} ms median, {1000 * p99:6.1f} ms p99")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000, help="villages, one filler each (default 10000)")
    parser.add_argument("--per-town", type=int, default=300, help="villages per town (default 300)")
    parser.add_argument("--one-by-one", type=int, default=20, help="通过 one at a time in the first list (default 20)")
    args = parser.parse_args()

    print_machine(f"SQLite {sqlite3.sqlite_version}")
    url = os.environ.get("YBT_BENCH_DATABASE_URL")
    if url is not None:
        refuse_unless_empty(url)
    with tempfile.TemporaryDirectory(prefix="ybt-bench-") as scratch:
        plain = run(url, Path(scratch), args.units, args.per_town, args.one_by_one, review=False)
        reviewed = run(url, Path(scratch), args.units, args.per_town, args.one_by_one, review=True)
    print(f"database  {(url or 'sqlite').split(':')[0]}; {args.units} villages, {args.per_town} a town\n")
    print(f"提交, no review     {per_message(plain.submits)}")
    print(f"提交, review        {per_message(reviewed.submits)}")
    print(f"  ratio             {sum(reviewed.submits) / sum(plain.submits):.2f}\n")
    batch = reviewed.approved_in_batch
    print(f"/审核 ({batch + args.one_by_one} waiting)   {1000 * reviewed.listing:7.1f} ms")
    print(f"通过 in the list    {per_message(reviewed.one_by_one)}")
    print(f"全部通过+确认 ({batch}) {reviewed.approve_all:7.2f} s, {1000 * reviewed.approve_all / batch:.1f} ms each")
    print(f"other towns         {reviewed.other_towns:7.1f} s (/审核, 全部通过, 确认 each)\n")
    print(f"last 提交 + summary, no review   {plain.last_submit:6.2f} s")
    print(f"last 通过 + summary, review      {reviewed.final:6.2f} s")
    print(f"  ratio                          {reviewed.final / plain.last_submit:.2f}\n")
    plain_total = sum(plain.submits) + plain.last_submit
    review_total = sum(reviewed.submits) + 3 * reviewed.listing + sum(reviewed.one_by_one)
    review_total += reviewed.approve_all + reviewed.other_towns + reviewed.final
    print(f"whole task, no review  {plain_total:7.1f} s, {plain.outbox} outbox rows")
    print(f"whole task, review     {review_total:7.1f} s, {reviewed.outbox} outbox rows")
    print(f"  ratio                {review_total / plain_total:.2f}")


if __name__ == "__main__":
    main()
