"""The summary workbook of a big task: `build_summary` for 10,000 units × 40 fields against bare write-only openpyxl.

Run from the repository root (in memory, no database; about a minute by default):

    .venv/bin/python -m bench.summary_workbook [--units 10000] [--fields 40] [--repeat 3]

It prints figures and judges nothing: this is a measurement, not a test. The task, its assignments and the
answers are light stand-ins with the attributes `build_summary` reads, so only the workbook is measured; the
answers are shaped like real ones (integers, decimals, dates, texts with the odd formula-looking one, choices,
yes/no, mobiles), one unit in twenty has not submitted. The baseline appends the very same cell values, read back
from the summary, to a write-only openpyxl workbook without any styling and saves it to memory.
"""

from __future__ import annotations

import argparse
import io
import random
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import openpyxl
from openpyxl import Workbook, load_workbook

from bench.district import print_machine
from handlers.tasks.summary import build_summary
from ledger_store.models import AssignmentStatus, ReviewPolicy

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2024, 11, 28, 2, 0, tzinfo=UTC)
# Column types in the proportions of the district's real forms: mostly counts and amounts.
KINDS = ("integer",) * 12 + ("decimal",) * 8 + ("date",) * 4 + ("text",) * 8
KINDS += ("select_one",) * 4 + ("yes_no",) * 2 + ("mobile", "select_multiple")
CHOICES = [{"value": f"c{i}", "label": label} for i, label in enumerate(("低保户", "特困户", "脱贫户", "监测户"))]
TEXTS = ("无", "已入户核实", "家中老人长期卧病，需要临时救助", "-", "=1+1", "见附件", "户主外出务工")
VILLAGES = ("松林村", "汉东村", "石庙村", "黄桷村", "大石村", "新华村", "龙井村", "金龙村")


def form_fields(count: int) -> list[dict]:
    """`count` questions cycling through the kinds above, as a form version stores them."""
    fields = []
    for index in range(count):
        kind = KINDS[index % len(KINDS)]
        field = {"name": f"q{index + 1}", "label": f"第{index + 1}项指标", "type": kind}
        if kind in ("integer", "decimal"):
            field["unit"] = "户" if kind == "integer" else "元"
        if kind.startswith("select"):
            field["choices"] = CHOICES
        fields.append(field)
    return fields


def answer(kind: str, rng: random.Random) -> object:
    """One typed answer of `kind`, as `answers_by_assignment` gives it."""
    match kind:
        case "integer":
            return rng.randint(0, 500)
        case "decimal":
            return Decimal(rng.randint(0, 10_000_000)) / 100
        case "date":
            return date(2024, 1, 1) + timedelta(days=rng.randint(0, 330))
        case "text":
            return rng.choice(TEXTS)
        case "select_one":
            return rng.choice(CHOICES)["value"]
        case "select_multiple":
            return [c["value"] for c in CHOICES if rng.random() < 0.4]
        case "yes_no":
            return rng.random() < 0.5
    return f"139{rng.randint(0, 99_999_999):08d}"


def stand_ins(units: int, field_count: int) -> tuple[SimpleNamespace, SimpleNamespace, dict]:
    """A context, a task with `units` assignments and their answers; one unit in twenty has not submitted."""
    rng = random.Random(20241128)
    fields = form_fields(field_count)
    town = SimpleNamespace(name="朱沱镇", parent=SimpleNamespace(name="永川区", parent=None))
    assignments, answers = [], {}
    for number in range(1, units + 1):
        unit = SimpleNamespace(name=f"{VILLAGES[number % len(VILLAGES)]}{number}组", parent=town)
        submitted = number % 20 != 0
        status = AssignmentStatus.SUBMITTED if submitted else rng.choice(list(AssignmentStatus)[:2])
        filler = SimpleNamespace(name=f"填报人{number}")
        assignments.append(SimpleNamespace(id=number, org_unit=unit, filler=filler, status=status))
        if submitted:
            submitted_at = NOW.replace(tzinfo=None) - timedelta(minutes=number)
            prefilled = rng.randint(0, field_count // 2)
            when = SimpleNamespace(
                assignment_id=number,
                generated=False,
                roster_rows=[],
                submitted_at=submitted_at,
                started_at=submitted_at - timedelta(minutes=rng.randint(2, 30)),
                asked_count=field_count - prefilled,
                prefilled_count=prefilled,
                confirmed_count=prefilled - rng.randint(0, prefilled // 4),
            )
            answers[number] = (when, {f["name"]: answer(f["type"], rng) for f in fields})
    version = SimpleNamespace(fields=fields, headline_field="q1")
    task = SimpleNamespace(
        id=1, title="低保月报", form_version=version, assignments=assignments, review=ReviewPolicy.NONE
    )
    for assignment in assignments:
        assignment.task = task
    ctx = SimpleNamespace(
        to_local=lambda stored: stored.replace(tzinfo=UTC).astimezone(TZ), local_now=lambda: NOW.astimezone(TZ)
    )
    return ctx, task, answers


def same_cells(content: bytes) -> dict[str, list[tuple]]:
    """Every sheet's cell values of a workbook, by sheet title."""
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    sheets = {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in workbook.worksheets}
    workbook.close()
    return sheets


def bare_write_only(sheets: dict[str, list[tuple]]) -> bytes:
    """The baseline: the same values appended to a write-only workbook, no styling, saved to memory."""
    workbook = Workbook(write_only=True)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def best_of(repeat: int, produce: Callable[[], bytes]) -> tuple[float, int]:
    """Best wall time of `repeat` runs and the size of what was produced."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        content = produce()
        times.append(time.perf_counter() - started)
    return min(times), len(content)


def peak_memory(produce: Callable[[], bytes]) -> int:
    """Peak bytes allocated while producing once (tracemalloc, so slower than the timed runs)."""
    tracemalloc.start()
    produce()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main() -> None:
    """Build the stand-ins, time the summary and the baseline, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000, help="target units of the task (default 10000)")
    parser.add_argument("--fields", type=int, default=40, help="questions of the form (default 40)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each, the best counts (default 3)")
    args = parser.parse_args()
    print_machine(f"openpyxl {openpyxl.__version__}")

    ctx, task, answers = stand_ins(args.units, args.fields)
    summary = build_summary(ctx, task, answers)
    sheets = same_cells(summary.content)
    cells = sum(value is not None for rows in sheets.values() for row in rows for value in row)
    print(f"task      {args.units} units × {args.fields} fields, {len(answers)} submitted; {cells:,} non-empty cells")
    print(f"digest    {summary.digest[:80]}…\n")

    figures = {}
    for name, produce in (
        ("summary", lambda: build_summary(ctx, task, answers).content),
        ("baseline", lambda: bare_write_only(sheets)),
    ):
        seconds, size = best_of(args.repeat, produce)
        figures[name] = seconds
        peak = peak_memory(produce) / 2**20
        print(f"{name:<9} best of {args.repeat}: {seconds:6.2f} s   {size / 2**20:5.1f} MB file   peak {peak:6.1f} MB")
    print(f"\nratio     summary / baseline = {figures['summary'] / figures['baseline']:.2f} (time)")


if __name__ == "__main__":
    main()
