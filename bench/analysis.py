"""The analysis page (分析) over 1.2 million ledger rows, against a plain SQL count of the same rows.

Run from the repository root (a temporary SQLite file; a few minutes, most of it seeding):

    .venv/bin/python -m bench.analysis [--rows 1200000] [--units 10000] [--requests 10]

A district of `--units` villages (300 a town) and 区民政局, which owns one event ledger (矛盾调解, 平安法治) of
`--rows` records spread over twelve months and every village, each with a 纠纷类型 (select_one), a 登记日期, a
涉及人数 (integer) and a 涉及金额 (decimal); one village in a thousand has five times its usual records in the last
month. The rows are inserted in SQL in chunks (executemany), as a bulk load that marks nothing, so the first page
counts the whole ledger into its rollup. Then the issuer's browser session (Flask test client) asks for
/dashboard/analysis?ledger=… `--requests` times, and the same run times `SELECT count(*)` of the ledger's current
rows as often; then, `--rounds` times, 100 records are written as chat writes are (one ORM transaction, 100
villages) and the page is asked for again (it recounts those villages first). It prints the first page, p50/p99 of
the steady page, of the count and of the page after writes, and the ratio of the medians; it judges nothing.
"""

from __future__ import annotations

import argparse
import random
import re
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select

from bench.district import add_district, print_machine
from bot.app import create_app
from bot.config import Config, DatabaseConfig, SimulatorConfig, WebConfig
from bot.platforms.simulator import SimulatorPlatform
from bot.runtime import build_runtime, open_database
from handlers.core.clock import ManualClock
from ledger_store.db import transaction
from ledger_store.ledgers import define_ledger, get_ledger, write_values
from ledger_store.login_links import create_link
from ledger_store.models import LedgerRecord, Level, OrgUnit

START = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # Saturday 10:00 in Chongqing: November is the latest month
MONTHS = ["2025-12"] + [f"2026-{n:02d}" for n in range(1, 12)]
KINDS = ("婚姻家庭", "邻里纠纷", "土地承包", "劳动争议", "物业纠纷", "其他")
WEIGHTS = (12, 30, 18, 10, 20, 10)
CODE = "bench_mediation"
CHUNK = 20_000
FIELDS = [
    {"name": "case_no", "label": "案件编号", "type": "text", "required": True},
    {"name": "registered_on", "label": "登记日期", "type": "date", "required": True},
    {"name": "dispute_kind", "label": "纠纷类型", "type": "select_one", "choices": [{"value": k} for k in KINDS]},
    {"name": "parties", "label": "当事人", "type": "text"},
    {"name": "people", "label": "涉及人数", "type": "integer"},
    {"name": "amount", "label": "涉及金额", "type": "decimal"},
]


def build(runtime, rows: int, units: int) -> tuple[int, int, float]:
    """The district, the ledger and its rows; returns (the issuer's id, the ledger's id, seconds inserting rows)."""
    now = runtime.engine.now()
    with transaction(runtime.factory) as session:
        district = add_district(session, towns=-(-units // 300))
        villages = [OrgUnit(name=f"{district.towns[n // 300].name}第{n % 300 + 1}村", level=Level.VILLAGE,
                            parent=district.towns[n // 300]) for n in range(units)]  # fmt: skip
        session.add_all(villages)
        session.flush()
        ledger = define_ledger(session, CODE, "矛盾调解台账（测量）", "case_no", FIELDS, now, board="平安法治",
                               entity_kind="event", owner=district.department)  # fmt: skip
        ledger_id, village_ids, issuer_id = ledger.id, [village.id for village in villages], district.issuer.id
    jumping = set(village_ids[::1000])
    rng = random.Random(1)
    started = time.perf_counter()
    table = LedgerRecord.__table__
    stamp = now.replace(tzinfo=None).isoformat()
    batch: list[dict] = []
    made = 0
    with runtime.factory() as session:
        while made < rows:
            unit = village_ids[made % len(village_ids)]
            month = MONTHS[-1] if unit in jumping and rng.random() < 0.3 else rng.choice(MONTHS)
            values = {"registered_on": f"{month}-{rng.randint(1, 28):02d}", "parties": "某甲与某乙",
                      "dispute_kind": rng.choices(KINDS, WEIGHTS)[0], "people": rng.randint(2, 6),
                      "amount": f"{rng.randint(0, 50000)}.5"}  # fmt: skip
            times = dict.fromkeys(values, stamp)
            batch.append({"ledger_id": ledger_id, "key": f"TJ-{made:08d}", "org_unit_id": unit, "values": values,
                          "value_times": times, "created_at": now, "updated_at": now})  # fmt: skip
            made += 1
            if len(batch) == CHUNK or made == rows:
                session.execute(insert(table), batch)
                session.commit()
                batch = []
    return issuer_id, ledger_id, time.perf_counter() - started


def write_hundred(runtime, round_number: int, units: int) -> None:
    """100 new records in 100 villages, written the way chat writes them (ORM, one transaction)."""
    now = runtime.engine.now()
    with transaction(runtime.factory) as session:
        ledger = get_ledger(session, CODE)
        villages = session.scalars(
            select(OrgUnit.id).where(OrgUnit.level == Level.VILLAGE).order_by(OrgUnit.id).limit(units)
        ).all()
        for number in range(100):
            unit = villages[(round_number * 997 + number * 97) % len(villages)]
            values = {"registered_on": datetime(2026, 11, 20).date(), "parties": "某甲与某乙",
                      "dispute_kind": "邻里纠纷", "people": 2}  # fmt: skip
            write_values(session, ledger, f"W-{round_number}-{number}", unit, values, None, "bench", now)


def percentile(times: list[float], share: float) -> float:
    """The time below which `share` of them fall (nearest rank)."""
    ordered = sorted(times)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_200_000, help="ledger records (default 1200000)")
    parser.add_argument("--units", type=int, default=10_000, help="villages (default 10000)")
    parser.add_argument("--requests", type=int, default=10, help="page requests and counts timed (default 10)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of 100 writes, then a page (default 5)")
    args = parser.parse_args()
    print_machine(f"SQLite {sqlite3.sqlite_version}")
    with tempfile.TemporaryDirectory(prefix="ybt-bench-") as scratch:
        path = Path(scratch)
        config = Config(database=DatabaseConfig(url=f"sqlite:///{path / 'analysis.sqlite3'}"),
                        simulator=SimulatorConfig(files_dir=path / "f"),
                        web=WebConfig(public_url="https://ybt.example.gov.cn", secret_key="bench-only"))  # fmt: skip
        database = open_database(config)
        runtime = build_runtime(config, SimulatorPlatform(files_dir=path / "f"), clock=ManualClock(START),
                                database=database)  # fmt: skip
        issuer_id, ledger_id, seeding = build(runtime, args.rows, args.units)
        print(f"seeded    {args.rows} rows over {args.units} villages in {seeding:.1f} s")
        with transaction(runtime.factory) as session:
            token = create_link(session, issuer_id, runtime.engine.now(), 10)
        client = create_app(runtime).test_client()
        assert client.post("/dashboard/login", data={"t": token}).status_code == 303
        url = f"/dashboard/analysis?ledger={CODE}"

        def timed_page() -> tuple[float, str]:
            started = time.perf_counter()
            page = client.get(url)
            took = time.perf_counter() - started
            if page.status_code != 200 or "数值异动" not in page.get_data(as_text=True):
                raise SystemExit(f"the page answered {page.status_code}")
            return took, page.get_data(as_text=True)

        first, text = timed_page()
        page_times, count_times, written_times = [], [], []
        for _ in range(args.requests):
            page_times.append(timed_page()[0])
            with runtime.factory() as session:
                started = time.perf_counter()
                current = (LedgerRecord.ledger_id == ledger_id, LedgerRecord.left_at.is_(None))
                counted = session.scalar(select(func.count()).select_from(LedgerRecord).where(*current))
                count_times.append(time.perf_counter() - started)
        for round_number in range(args.rounds):
            write_hundred(runtime, round_number, args.units)
            written_times.append(timed_page()[0])
        database.dispose()
    listed = re.findall(r'<td class="flag">([^<]+)</td>', text)
    more = re.search(r"另有(\d+)处未列出", text)
    seeded = [f"第{n // 300 + 1}镇第{n % 300 + 1}村" for n in range(0, args.units, 1000)]
    print(f"counted   {counted} rows; the page flags {len(listed) + int(more.group(1) if more else 0)} jumps; "
          f"{sum(name in listed for name in seeded)} of the {len(seeded)} seeded jumping villages among the first "
          f"{len(listed)} listed\n")  # fmt: skip
    print(f"first page (the whole ledger counted into its rollup) {1000 * first:.1f} ms")
    for name, times in (("page", page_times), ("count(*)", count_times), ("written", written_times)):
        p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
        print(f"{name:9} p50 {1000 * p50:8.1f} ms   p99 {1000 * p99:8.1f} ms   ({len(times)} runs)")
    print("          (written: the page right after 100 records were written in 100 villages)")
    print(f"ratio     {statistics.median(page_times) / statistics.median(count_times):.1f} (page p50 / count p50)")


if __name__ == "__main__":
    main()
