"""Bulk ledger import at district scale: 1.2 M residents from a CSV (and a smaller xlsx) into a fresh database.

Run from the repository root (a temporary directory and SQLite database; a few minutes at full size):

    .venv/bin/python -m bench.ledger_import [--rows 1200000] [--xlsx-rows 100000] [--rerun]
                                            [--postgres postgresql+psycopg://USER@HOST/EMPTY_DB]

It prints figures and judges nothing: this is a measurement, not a test. Rows are realistic: ID numbers
with valid check digits, households of one to six people, villages of a district, and about one row in a
thousand broken on purpose (a wrong check digit or an impossible date) so the error path is exercised too.
"""

from __future__ import annotations

import argparse
import csv
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from handlers.conversation.roster import MAX_ROWS as ROSTER_ROWS
from ledger_store.db import make_engine, make_session_factory, upgrade
from ledger_store.ledger_import import LedgerImportReport, import_ledger
from ledger_store.ledger_query import Condition, Operator, count_matching
from ledger_store.ledgers import define_ledger, get_ledger, known_values, records_in_units
from ledger_store.models import Base, OrgUnit
from ledger_store.org import subtree_ids

NOW = datetime(2024, 11, 28, 2, 0)
LOOKUPS = 1000
ROSTERS = 100
HEADER = [
    "身份证号",
    "姓名",
    "性别",
    "出生日期",
    "户号",
    "与户主关系",
    "手机号",
    "是否脱贫户",
    "人均年收入",
    "家庭人口",
    "单位",
]
FIELDS = [
    {"name": "id_number", "label": "身份证号", "type": "id_number", "required": True},
    {"name": "name", "label": "姓名", "type": "text", "required": True},
    {"name": "gender", "label": "性别", "type": "select_one", "choices": [{"value": "m", "label": "男"},
                                                                           {"value": "f", "label": "女"}]},
    {"name": "born", "label": "出生日期", "type": "date"},
    {"name": "household", "label": "户号", "type": "text"},
    {"name": "relation", "label": "与户主关系", "type": "select_one",
     "choices": [{"value": v, "label": v} for v in ("户主", "配偶", "子女", "父母", "孙子女", "其他")]},
    {"name": "mobile", "label": "手机号", "type": "mobile", "validity_days": 365},
    {"name": "poor", "label": "是否脱贫户", "type": "yes_no", "validity_days": 365},
    {"name": "income", "label": "人均年收入", "type": "decimal", "validity_days": 365},
    {"name": "members", "label": "家庭人口", "type": "integer"},
]  # fmt: skip
REGIONS = [f"5001{n:02d}" for n in range(1, 41)]  # Chongqing's districts and counties
FIRST_DAY, DAYS = date(1935, 1, 1), 32_000  # birth dates up to 2022
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "德华明国建秀英兰芳平军伟强敏静丽勇艳杰娟涛超霞刚桂玉春红燕小晓志成海云光天文永福贵"
RELATIONS = ("户主", "配偶", "子女", "子女", "父母", "孙子女")
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(index: int) -> str:
    """A distinct valid ID number for each index: a bijection onto (region, birth day, sequence)."""
    space = len(REGIONS) * DAYS * 999
    k = (index * 2_654_435_761 + 12_345) % space  # the multiplier is prime and does not divide `space`
    region, k = REGIONS[k % len(REGIONS)], k // len(REGIONS)
    born, sequence = FIRST_DAY + timedelta(days=k % DAYS), k // DAYS + 1
    first = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first + "10X98765432"[sum(int(d) * w for d, w in zip(first, WEIGHTS, strict=True)) % 11]


def residents(rows: int, villages: list[str], seed: int = 11) -> Iterator[list[object]]:
    """Rows of the residents ledger, household by household; one in a thousand is broken on purpose."""
    rng, index, household = random.Random(seed), 0, 0
    while index < rows:
        household += 1
        size = min(rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5, 6)), rows - index)
        village, poor, income = rng.choice(villages), rng.random() < 0.08, rng.randint(3_000, 60_000)
        for member in range(size):
            number = id_number(index)
            born = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
            if rng.random() < 0.0005:
                number = number[:17] + ("0" if number[17] != "0" else "1")
            elif rng.random() < 0.0005:
                born = f"{number[6:10]}-02-30"
            mobile = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}" if rng.random() < 0.7 else ""
            yield [number, rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2)))),
                   "男" if int(number[16]) % 2 else "女", born, f"H{household:08d}",
                   RELATIONS[min(member, len(RELATIONS) - 1)], mobile, "是" if poor else "否",
                   f"{income + rng.randint(0, 99) / 100:.2f}", size, village]  # fmt: skip
            index += 1


def write_csv(path: Path, rows: int, villages: list[str]) -> None:
    """The residents as a UTF-8 CSV with a BOM, as Excel saves one."""
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        writer.writerows(residents(rows, villages))


def write_xlsx(path: Path, rows: int, villages: list[str]) -> None:
    """The residents as a streamed workbook (write-only), with numbers as numbers."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("常住人口")
    sheet.append(HEADER)
    for row in residents(rows, villages, seed=12):
        sheet.append(row)
    workbook.save(path)


def sample_keys(path: Path, count: int, seed: int = 5) -> list[str]:
    """`count` keys of the file picked uniformly (reservoir sampling, one pass, flat memory)."""
    rng, keys = random.Random(seed), []
    with path.open(encoding="utf-8-sig", newline="") as file:
        for seen, row in enumerate(csv.DictReader(file)):
            if seen < count:
                keys.append(row["身份证号"])
            elif (slot := rng.randrange(seen + 1)) < count:
                keys[slot] = row["身份证号"]
    return keys


def prepare(engine: Engine, codes: list[str]) -> list[str]:
    """Migrate, add a district of 30 towns and 600 villages, define the ledgers; the village names."""
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        district = OrgUnit(name="永川区", level="district")
        session.add(district)
        session.flush()
        villages = []
        for town_number in range(30):
            town = OrgUnit(name=f"第{town_number + 1}镇", level="town", parent_id=district.id)
            session.add(town)
            session.flush()
            for village_number in range(20):
                villages.append(f"{town.name}第{village_number + 1}村")
                session.add(OrgUnit(name=villages[-1], level="village", parent_id=town.id))
        for code in codes:
            define_ledger(session, code, "常住人口台账", "id_number", FIELDS, NOW)
    return villages


def max_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def run_import(engine: Engine, code: str, path: Path, batch_size: int, label: str) -> LedgerImportReport:
    """One import with a progress line every tenth of the way, then its figures."""
    factory, every, shown = make_session_factory(engine), 100_000, [0]

    def progress(rows: int) -> None:
        if rows >= shown[0] + every:
            shown[0] = rows
            print(f"    … {rows:>9,} rows, {max_rss_mb():,.0f} MB", file=sys.stderr, flush=True)

    errors = path.with_name(f"{path.stem}-errors.xlsx")
    report = import_ledger(factory, code, path, None, NOW, progress, batch_size, errors)
    rate = report.rows_read / report.seconds if report.seconds else 0.0
    print(f"  {label:<28} {report.rows_read:>9,} rows  {report.seconds:7.1f} s  {rate:9,.0f} rows/s   "
          f"inserted {report.inserted:,}  updated {report.updated:,}  unchanged {report.unchanged:,}  "
          f"invalid {report.invalid:,}   peak RSS {max_rss_mb():,.0f} MB")  # fmt: skip
    return report


def time_lookups(engine: Engine, code: str, keys: list[str]) -> None:
    """Prefill lookups (known_values by key, a village's roster) and two department counts, as a person would wait."""
    factory = make_session_factory(engine)
    with factory() as session:
        ledger = get_ledger(session, code)
        later = NOW + timedelta(days=400)
        p50, p99, worst = timed(session, keys, lambda key: known_values(session, ledger, key, later))
        print(
            f"  known_values by key ({len(keys)} random keys): p50 {p50:.2f} ms   p99 {p99:.2f} ms   max {worst:.2f} ms"
        )
        units = list(session.scalars(sa.select(OrgUnit.id).where(OrgUnit.level == "village")))
        sample = random.Random(3).sample(units, min(ROSTERS, len(units)))
        rows = statistics.mean(len(records_in_units(session, ledger, [unit], ROSTER_ROWS)) for unit in sample)
        p50, p99, _ = timed(session, sample, lambda unit: records_in_units(session, ledger, [unit], ROSTER_ROWS))
        print(f"  roster prefill, records_in_units ({len(sample)} villages, {rows:,.0f} rows each):"
              f" p50 {p50:.1f} ms   p99 {p99:.1f} ms")  # fmt: skip
        started = time.perf_counter()
        poor = count_matching(session, ledger, [Condition("poor", Operator.EQUAL, (True,))])
        print(f"  count_matching(poor=True): {poor:,} records in {(time.perf_counter() - started) * 1000:,.0f} ms")
        town = session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "第1镇"))
        asked = [
            Condition("income", Operator.LESS, (Decimal("10000"),)),
            Condition("members", Operator.GREATER_EQUAL, (4,)),
        ]
        started = time.perf_counter()
        found = count_matching(session, ledger, asked, subtree_ids(session, town.id))
        print(f"  count_matching(income<10000, members>=4, one town's 21 units): {found:,} records"
              f" in {(time.perf_counter() - started) * 1000:,.0f} ms")  # fmt: skip


def timed(session: Session, items: list[Any], call: Callable[[Any], object]) -> tuple[float, float, float]:
    """p50, p99 and max milliseconds of `call` on each item, with an empty session each time (nothing cached)."""
    timings = []
    for item in items:
        started = time.perf_counter()
        call(item)
        timings.append((time.perf_counter() - started) * 1000)
        session.expunge_all()
    timings.sort()
    return statistics.median(timings), timings[min(len(timings) - 1, int(len(timings) * 0.99))], timings[-1]


def bench(engine: Engine, directory: Path, options: argparse.Namespace) -> None:
    """Everything against one database."""
    print(f"database: {engine.dialect.name} {engine.dialect.server_version_info or ''}")
    villages = prepare(engine, ["residents", "residents_xlsx"])
    started = time.perf_counter()
    csv_path = directory / "residents.csv"
    write_csv(csv_path, options.rows, villages)
    size = csv_path.stat().st_size / 1e6
    print(f"  generated {options.rows:,} CSV rows ({size:,.0f} MB) in {time.perf_counter() - started:.1f} s;"
          f" peak RSS so far {max_rss_mb():,.0f} MB")  # fmt: skip
    run_import(engine, "residents", csv_path, options.batch_size, "CSV import (first)")
    if options.rerun:
        run_import(engine, "residents", csv_path, options.batch_size, "CSV import (same file again)")
    time_lookups(engine, "residents", sample_keys(csv_path, LOOKUPS))
    if options.xlsx_rows:
        started = time.perf_counter()
        xlsx_path = directory / "residents.xlsx"
        write_xlsx(xlsx_path, options.xlsx_rows, villages)
        print(f"  generated {options.xlsx_rows:,} xlsx rows in {time.perf_counter() - started:.1f} s")
        run_import(engine, "residents_xlsx", xlsx_path, options.batch_size, "xlsx import (first)")


def main() -> None:
    """Parse options, run on SQLite (and PostgreSQL if given), print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_200_000, help="CSV rows (default 1,200,000)")
    parser.add_argument("--xlsx-rows", type=int, default=100_000, help="xlsx rows, 0 for none (default 100,000)")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--rerun", action="store_true", help="import the same CSV a second time")
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL database, which must be empty")
    options = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, SQLAlchemy {sa.__version__}")
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as scratch:
        directory = Path(scratch)
        engine = make_engine(f"sqlite:///{directory / 'bench.sqlite3'}")
        bench(engine, directory, options)
        print(f"  SQLite file: {(directory / 'bench.sqlite3').stat().st_size / 1e6:,.0f} MB")
        engine.dispose()
        if options.postgres:
            engine = make_engine(options.postgres)
            if sa.inspect(engine).get_table_names():
                sys.exit("the PostgreSQL database is not empty; give the URL of an empty one")
            try:
                bench(engine, directory, options)
            finally:
                Base.metadata.drop_all(engine)
                with engine.begin() as connection:
                    connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
                engine.dispose()


if __name__ == "__main__":
    main()
