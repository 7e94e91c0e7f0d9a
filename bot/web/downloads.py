"""The dashboard's CSV download: UTF-8 with a BOM (so Excel reads Chinese), and no cell Excel would run as a formula."""

from __future__ import annotations

import csv
import io

from handlers.commands.task_view import UnitRow

HEADER = ("镇街", "单位", "填报人", "状态", "已等待")
# A cell starting with one of these is a formula (or becomes one) when a spreadsheet opens the file.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def safe_cell(text: str) -> str:
    """The text as a spreadsheet shows it, never run: a leading ' when it would read as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def progress_csv(rows: list[UnitRow]) -> bytes:
    """Every unit of a task, one line each, encoded for Excel."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in (row.town, row.path, row.filler, row.state, row.waited or "")])
    return out.getvalue().encode("utf-8-sig")
