"""分镇统计, the chart sheet of the summary workbook: per town (镇街) the target units, how many reported and the
totals of the main numeric questions, with native Excel bar charts drawn from those cells (Excel and WPS draw them)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from handlers.forms.fields import NUMERIC_TYPES, Field
from handlers.tasks.towns import Town, town_order
from handlers.texts import charts as texts
from ledger_store.models import Assignment
from ledger_store.xlsx_cells import number_cell

MAX_FIELD_CHARTS = 3  # more bar charts than this bury the ones that matter
FIXED_COLUMNS = 4  # 镇街, 目标单位, 已报送, 未报送
CHART_ROWS = 18  # the rows one chart takes, so the next one starts below it


@dataclass(frozen=True)
class TownFigures:
    """The chart sheet's rows (one per town, in town_order) and a function drawing its charts."""

    header: list[str]
    rows: list[list[object]]
    draw: Callable[[WriteOnlyWorksheet], None]


def chart_fields(fields: list[Field], headline: str | None) -> list[Field]:
    """The numeric questions that get a chart: the headline one first, then the others in form order, at most 3."""
    numeric = [f for f in fields if f.type in NUMERIC_TYPES]
    numeric.sort(key=lambda f: f.name != headline)
    return numeric[:MAX_FIELD_CHARTS]


def town_figures(
    assignments: Iterable[Assignment],
    towns: dict[int, Town],
    submitted: dict[int, dict[str, object]],
    fields: list[Field],
) -> TownFigures:
    """Per town (`towns`: unit id -> its Town): target units, reported (the answers in `submitted`, by assignment
    id), not reported, and the totals of `fields` over the reported units."""
    rows: dict[int, list[object]] = {}
    totals: dict[int, list[Decimal]] = {}
    for assignment in assignments:
        town = towns[assignment.org_unit_id]
        row = rows.setdefault(town.key, [town.label, 0, 0, 0])
        sums = totals.setdefault(town.key, [Decimal(0)] * len(fields))
        row[1] += 1
        values = submitted.get(assignment.id)
        if values is None:
            row[3] += 1
            continue
        row[2] += 1
        for index, field in enumerate(fields):
            if values.get(field.name) is not None:
                sums[index] += Decimal(values[field.name])
    table = [rows[key] + [number_cell(total) for total in totals[key]] for key in sorted(rows, key=town_order)]
    header = [texts.TOWN, texts.UNITS, texts.SUBMITTED, texts.MISSING]
    header += [texts.total_header(f.label or f.name, f.unit) for f in fields]
    return TownFigures(header, table, lambda sheet: draw_charts(sheet, fields, len(table)))


def draw_charts(sheet: WriteOnlyWorksheet, fields: list[Field], towns: int) -> None:
    """The progress chart (reported and not, stacked) and one chart per numeric question, right of the table."""
    categories = Reference(sheet, min_col=1, min_row=2, max_row=towns + 1)
    height = max(7.5, 3.5 + 0.6 * towns)  # cm: a bar per town stays readable with twenty towns
    anchor_column = get_column_letter(FIXED_COLUMNS + len(fields) + 2)  # one empty column after the table
    progress = bar_chart(texts.PROGRESS_TITLE, height)
    progress.grouping, progress.overlap = "stacked", 100
    progress.y_axis.title = texts.UNITS_AXIS
    progress.add_data(Reference(sheet, min_col=3, max_col=4, min_row=1, max_row=towns + 1), titles_from_data=True)
    name_categories(progress, categories)
    sheet.add_chart(progress, f"{anchor_column}2")
    for index, field in enumerate(fields):
        chart = bar_chart(texts.total_title(field.label or field.name), height)
        chart.legend = None
        column = FIXED_COLUMNS + 1 + index
        chart.add_data(Reference(sheet, min_col=column, min_row=1, max_row=towns + 1), titles_from_data=True)
        name_categories(chart, categories)
        sheet.add_chart(chart, f"{anchor_column}{2 + (index + 1) * max(CHART_ROWS, int(height * 2) + 2)}")


def name_categories(chart: BarChart, towns: Reference) -> None:
    """Label the bars with the town names, referenced as text (openpyxl's set_categories says numbers)."""
    for series in chart.series:
        series.cat = AxDataSource(strRef=StrRef(f=str(towns)))


def bar_chart(title: str, height: float) -> BarChart:
    """A horizontal bar chart with a title, towns listed top to bottom in the table's order."""
    chart = BarChart()
    chart.type = "bar"
    chart.title = title
    chart.height, chart.width = height, 16
    chart.x_axis.scaling.orientation = "maxMin"  # the first town on top, as in the table
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    return chart
