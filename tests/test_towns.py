"""Units grouped by town (镇街) alike everywhere: the task page, the progress CSV, the summary workbook's 分镇统计 and
the burden page give the same towns with the same counts, a unit's town being its nearest town or street at or
above it, and every unit with none (the district, a unit right below it) in 区直及其他."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from handlers.tasks.towns import distinct_labels
from ledger_store.db import transaction
from ledger_store.models import Assignment, OrgUnit, Person
from ledger_store.org_towns import NO_TOWN
from tests.test_commands import answer_form, dibao_answers
from tests.test_dashboard import signed_in, site  # noqa: F401  (site is a fixture)

TOWN_ROW = re.compile(
    r'<tr><td><a href="[^"]*town=(\d+)">([^<]+)</a></td>\s*<td class="n">(\d+)</td>((?:<td class="n">\d+</td>)+)</tr>'
)
# Label, target units, submitted: 朱沱镇's three villages, a grid of 松林村 and a group below that grid; 红旗社区;
# a town that happens to be called 区直及其他; and the district itself with a welfare home right below it.
EXPECTED = [
    ("朱沱镇", 5, 2),
    ("中山路街道", 1, 0),
    ("区直及其他（永川区）", 1, 0),
    ("区直及其他", 2, 1),
]


@pytest.fixture
def spread(site):  # noqa: F811
    """低保月报 (#1) to 朱沱镇's villages, plus a grid, a group inside that grid, a community, a town named like the
    bucket, the district and a unit right below it; 汉东村, the grid and the welfare home have submitted."""
    fillers = {"松林村第一网格": "wu_min", "红旗社区": "huang_li", "永川区": "deng_xiaohong"}
    with transaction(site.runtime.factory) as session:
        units = {unit.name: unit for unit in session.scalars(select(OrgUnit))}
        district = units["永川区"]
        added = [
            OrgUnit(name="区社会福利院", level="village", parent_id=district.id),
            OrgUnit(name="区直及其他", level="town", kind="镇", parent_id=district.id),
        ]
        session.add_all(added)
        session.flush()
        group = OrgUnit(name="松林村第一网格一组", level="grid", parent_id=units["松林村第一网格"].id)
        session.add(group)
        session.flush()
        people = {person.account: person for person in session.scalars(select(Person))}
        fillers |= {"区社会福利院": "liu_ting", "区直及其他": "yang_zhiqiang", "松林村第一网格一组": "zhou_jianguo"}
        units |= {unit.name: unit for unit in [*added, group]}
        session.add_all(
            Assignment(task_id=1, org_unit_id=units[unit].id, filler_id=people[account].id)
            for unit, account in fillers.items()
        )
    for account in ("luo_xiuying", "wu_min", "liu_ting"):
        answer_form(site, account, dibao_answers(3))
        assert "已提交" in site.say(account, "提交")
    return signed_in(site, "li_minzheng")


def test_the_task_page_the_csv_and_the_workbook_group_units_by_the_same_towns(spread):
    page = spread.get("/dashboard/tasks/1").get_data(as_text=True)
    listed = [
        (label, int(total), int(re.findall(r"\d+", states)[-1])) for _, label, total, states in TOWN_ROW.findall(page)
    ]
    assert listed == EXPECTED  # 已通过 is the last state; a task without review counts 已提交 there

    rows = list(csv.reader(io.StringIO(spread.get("/dashboard/tasks/1/progress.csv").data.decode("utf-8-sig"))))[1:]
    units, done = Counter(row[0] for row in rows), Counter(row[0] for row in rows if row[3] == "已通过")
    assert [(town, units[town], done[town]) for town in dict.fromkeys(row[0] for row in rows)] == EXPECTED

    book = load_workbook(io.BytesIO(spread.get("/dashboard/tasks/1/summary.xlsx").data))
    sheet = list(book["分镇统计"].iter_rows(values_only=True))
    assert [(label, units, reported) for label, units, reported, *_ in sheet[1:]] == EXPECTED
    assert [row[3] for row in sheet[1:]] == [units - reported for _, units, reported in EXPECTED]


def test_a_unit_is_listed_under_its_nearest_town_with_its_path_from_there(spread):
    rows = list(csv.reader(io.StringIO(spread.get("/dashboard/tasks/1/progress.csv").data.decode("utf-8-sig"))))[1:]
    paths = {row[1]: row[0] for row in rows}
    assert paths["朱沱镇/松林村/松林村第一网格"] == "朱沱镇"
    assert paths["朱沱镇/松林村/松林村第一网格/松林村第一网格一组"] == "朱沱镇"
    assert paths["中山路街道/红旗社区"] == "中山路街道"
    assert paths["区直及其他"] == "区直及其他（永川区）"
    assert paths["永川区"] == paths["区社会福利院"] == "区直及其他"
    bucket = spread.get(f"/dashboard/tasks/1?town={NO_TOWN}").get_data(as_text=True)
    assert "<h2>区直及其他（第1/1页）</h2>" in bucket
    assert "<td>永川区</td><td>邓小红</td><td>未开始</td>" in bucket
    assert "<td>区社会福利院</td><td>刘婷</td><td>已通过</td>" in bucket


def test_the_burden_page_lists_the_same_towns_with_their_reports(spread):
    month = re.search(r"month=(\d{4}-\d{2})", spread.get("/dashboard/burden").get_data(as_text=True)).group(1)
    page = spread.get(f"/dashboard/burden?month={month}").get_data(as_text=True)
    towns = re.findall(r'town=\d+">([^<]+)</a></td><td class="n">(\d+)</td>', page)
    assert towns == [(label, str(units)) for label, units, _ in EXPECTED]


def test_towns_sharing_a_name_are_told_apart_by_their_parent_then_their_number():
    named = {
        3: ("新华镇", "甲区"),
        7: ("新华镇", "乙区"),
        9: ("朱沱镇", "甲区"),
        11: ("红星街道", "丙区"),
        12: ("红星街道", "丙区"),
        NO_TOWN: ("区直及其他", None),
        14: ("区直及其他", "丙区"),
    }
    assert distinct_labels(named) == {
        3: "新华镇（甲区）",
        7: "新华镇（乙区）",
        9: "朱沱镇",
        11: "红星街道（编号11）",
        12: "红星街道（编号12）",
        NO_TOWN: "区直及其他",
        14: "区直及其他（丙区）",
    }
