"""The summary workbook's charts (分镇统计): per town the units reported and the totals of the main numeric questions,
as a sheet read back with openpyxl and as native Excel charts read from the xlsx's own XML (openpyxl drops charts on
load, so the package is opened as the zip it is)."""

from __future__ import annotations

import io
import re
import zipfile
from collections import defaultdict
from posixpath import basename, dirname, join, normpath
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook

from tests.test_commands import answer_form, dibao_answers, drop_pushes

CHART = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
DRAWING_TEXT = "{http://schemas.openxmlformats.org/drawingml/2006/main}t"
RELATIONSHIP = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
OFFICE_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


@pytest.fixture
def two_towns(chat):
    """低保月报 to 朱沱镇 itself and every village and community of both towns; three villages, the town and one
    community of 中山路街道 report, with 4, 2, 7 and 5 new households."""
    issued = chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 朱沱镇 各村社区 不审核")
    assert "已发布《低保月报》（任务#1）" in issued and "已通知7个单位" in issued
    drop_pushes(chat)
    for account, new in (("zhang_dehua", 4), ("luo_xiuying", 2), ("hu_xiaoyan", 7), ("huang_li", 5)):
        answer_form(chat, account, dibao_answers(new))
        assert "已提交" in chat.say(account, "提交")
    drop_pushes(chat)
    chat.say("li_minzheng", "/汇总")
    return chat.pushes("li_minzheng")[-1].file_bytes


def test_the_town_sheet_counts_units_and_adds_up_the_main_questions_by_town(two_towns):
    book = load_workbook(io.BytesIO(two_towns))
    assert book.sheetnames[:3] == ["汇总", "未报送", "填报负担"] and book.sheetnames[-1] == "分镇统计"
    rows = list(book["分镇统计"].iter_rows(values_only=True))
    assert rows[0][:4] == ("镇街", "目标单位", "已报送", "未报送")
    assert rows[0][4:] == ("本月新增低保户（户）", "在保低保户数（户）", "在保低保人数（人）")
    assert [row[:5] for row in rows[1:]] == [("朱沱镇", 4, 3, 1, 13), ("中山路街道", 3, 1, 2, 5)]
    # The other totals are whatever the units reported (the ledger may have answered them): the 汇总 sheet's own rows
    summary = list(book["汇总"].iter_rows(values_only=True))
    columns = {title: summary[0].index(title) for title in rows[0][4:]}
    by_town: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in summary[1:-1]:
        for title, column in columns.items():
            by_town[row[1].split("/")[1]][title] += row[column] or 0
    for row in rows[1:]:
        assert {title: row[4 + i] for i, title in enumerate(columns)} == by_town[row[0]]


def test_the_charts_are_drawn_on_the_town_sheet_from_its_cells(two_towns):
    charts = charts_of_sheet(zipfile.ZipFile(io.BytesIO(two_towns)), "分镇统计")
    assert [title for title, _, _ in charts] == [
        "各镇街报送进度",
        "各镇街本月新增低保户合计",
        "各镇街在保低保户数合计",
        "各镇街在保低保人数合计",
    ]
    progress = charts[0]
    assert progress[1] == "stacked"
    assert progress[2] == [
        ("'分镇统计'!C1", "'分镇统计'!$A$2:$A$3", "'分镇统计'!$C$2:$C$3"),
        ("'分镇统计'!D1", "'分镇统计'!$A$2:$A$3", "'分镇统计'!$D$2:$D$3"),
    ]
    assert [chart[2] for chart in charts[1:]] == [
        [(f"'分镇统计'!{column}1", "'分镇统计'!$A$2:$A$3", f"'分镇统计'!${column}$2:${column}$3")] for column in "EFG"
    ]


def test_no_other_sheet_carries_a_chart(two_towns):
    package = zipfile.ZipFile(io.BytesIO(two_towns))
    for title in ("汇总", "未报送", "填报负担"):
        assert charts_of_sheet(package, title) == []


def charts_of_sheet(package: zipfile.ZipFile, title: str) -> list[tuple[str, str, list[tuple[str, str, str]]]]:
    """The charts the sheet's drawing holds: (title, grouping, [(series name, categories, values) …])."""
    sheet = sheet_part(package, title)
    found = []
    for drawing in related(package, sheet, "drawing"):
        for chart in related(package, drawing, "chart"):
            root = ElementTree.fromstring(package.read(chart))
            name = "".join(text.text or "" for text in root.find(f"{CHART}chart/{CHART}title").iter(DRAWING_TEXT))
            grouping = root.find(f".//{CHART}grouping").get("val")
            series = [
                tuple(s.find(f"{CHART}{part}").find(f".//{CHART}f").text for part in ("tx", "cat", "val"))
                for s in root.iter(f"{CHART}ser")
            ]
            found.append((name, grouping, series))
    return found


def sheet_part(package: zipfile.ZipFile, title: str) -> str:
    """The part name of the worksheet titled `title` (xl/worksheets/sheetN.xml)."""
    workbook = ElementTree.fromstring(package.read("xl/workbook.xml"))
    sheet = next(s for s in workbook.iter(f"{MAIN}sheet") if s.get("name") == title)
    targets = {r.get("Id"): r.get("Target") for r in rels(package, "xl/workbook.xml")}
    return normpath(join("xl", targets[sheet.get(OFFICE_ID)].removeprefix("/xl/")))


def related(package: zipfile.ZipFile, part: str, kind: str) -> list[str]:
    """The parts `part` points to with a relationship of `kind` (drawing, chart)."""
    return [
        normpath(join(dirname(part), r.get("Target"))) if not r.get("Target").startswith("/") else r.get("Target")[1:]
        for r in rels(package, part)
        if re.search(rf"/{kind}$", r.get("Type"))
    ]


def rels(package: zipfile.ZipFile, part: str) -> list[ElementTree.Element]:
    """The relationships of a part (empty when it has none)."""
    name = join(dirname(part), "_rels", basename(part) + ".rels")
    if name not in package.namelist():
        return []
    return list(ElementTree.fromstring(package.read(name)).iter(RELATIONSHIP))
