"""The dashboard's 填报负担 page (figures of a seeded month and before / now, by town and unit, who may see it) and
the task page's units paged in SQL (Flask test client, real database)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from ledger_store.db import transaction
from ledger_store.models import Assignment, Department, OrgUnit, Person, ReportTask, ReviewStep, Submission
from tests.test_dashboard import NEED_LOGIN, browser, signed_in, site  # noqa: F401  (site is a fixture)


def stored(local: str) -> datetime:
    """A Shanghai wall-clock time as the naive UTC value stored."""
    return (datetime.fromisoformat(local + "+08:00")).astimezone(UTC).replace(tzinfo=None)


def submit(session, assignment: Assignment, asked: int, prefilled: int, confirmed: int, minutes: int | None) -> None:
    """A submission with these burden figures (minutes None: generated from the ledgers, nobody asked)."""
    at = assignment.task.issued_at + timedelta(hours=1)
    session.add(
        Submission(
            assignment_id=assignment.id,
            submitted_by_id=assignment.filler_id,
            submitted_at=at,
            started_at=None if minutes is None else at - timedelta(minutes=minutes),
            asked_count=asked,
            prefilled_count=prefilled,
            confirmed_count=confirmed,
            generated=minutes is None,
        )
    )
    assignment.status, assignment.submitted_at = "submitted", at


def copy_task(session, task: ReportTask, issued_at: datetime, units: list[str], department: str) -> ReportTask:
    """Another task of the same form, issued then by a department to these units."""
    owner = session.scalar(select(Department).where(Department.name == department))
    copied = ReportTask(
        title=f"{department}旧报表",
        form_version_id=task.form_version_id,
        department_id=owner.id,
        issued_by_id=task.issued_by_id,
        issued_at=issued_at,
        deadline=issued_at + timedelta(days=3),
    )
    session.add(copied)
    session.flush()
    for name in units:
        unit = session.scalar(select(OrgUnit).where(OrgUnit.name == name))
        filler = session.scalar(select(Person).where(Person.org_unit_id == unit.id))
        session.add(Assignment(task_id=copied.id, org_unit_id=unit.id, filler_id=filler.id))
    session.flush()
    session.refresh(copied)
    return copied


@pytest.fixture
def month(site):  # noqa: F811
    """November 2024: 区民政局's 低保月报 (#1), two villages asked and one generated, summary two days after issue;
    October: one report of 区民政局 that asked 12 questions; 1 December (local time, still 30 November in UTC):
    区残联's report to 中山路街道 that asked 99."""
    with transaction(site.runtime.factory) as session:
        task = session.get(ReportTask, 1)
        rows = {a.org_unit.name: a for a in task.assignments}
        submit(session, rows["松林村"], asked=5, prefilled=3, confirmed=2, minutes=10)
        submit(session, rows["汉东村"], asked=3, prefilled=4, confirmed=4, minutes=20)
        submit(session, rows["石庙村"], asked=0, prefilled=7, confirmed=0, minutes=None)
        task.summary_sent_at = task.issued_at + timedelta(days=2)
        october = copy_task(session, task, stored("2024-10-15T09:00"), ["松林村"], "区民政局")
        submit(session, october.assignments[0], asked=12, prefilled=0, confirmed=0, minutes=30)
        other = copy_task(session, task, stored("2024-12-01T01:00"), ["中山路街道"], "区残联")
        submit(session, other.assignments[0], asked=99, prefilled=0, confirmed=0, minutes=50)
    return site


def row(page: str, label: str) -> list[str]:
    """The cells of the table row whose first cell shows `label`."""
    found = re.search(r"<tr><td>(?:<a [^>]*>)?" + re.escape(label) + r"(?:</a>)?</td>(.*?)</tr>", page, re.S)
    assert found, label
    return re.findall(r"<td class=\"n\">([^<]*)</td>", found.group(1))


def test_a_month_shows_reports_asked_taken_generated_minutes_and_days(month):
    page = signed_in(month, "li_minzheng").get("/dashboard/burden").get_data(as_text=True)
    # tasks, received, with figures, asked, taken (2 + 4 kept, 7 generated), nobody asked, minutes, days
    assert row(page, "2024-11") == ["1", "3", "3", "8", "13", "1", "15.0", "2.0"]
    assert row(page, "2024-10") == ["1", "1", "1", "12", "0", "0", "30.0", "—"]
    assert "2024-12" not in page and "中山路街道" not in page  # another department's


def test_before_and_now_compare_the_earliest_month_with_the_latest(month):
    page = signed_in(month, "li_minzheng").get("/dashboard/burden").get_data(as_text=True)
    assert "之前 2024-10" in page and "现在 2024-11" in page
    assert row(page, "每份问几题") == ["12.0", "2.7"]
    assert row(page, "每份取自台账的值") == ["0.0", "4.3"]
    assert row(page, "无人被问的报表") == ["0/1", "1/3"]
    assert row(page, "用时中位数（分钟）") == ["30.0", "15.0"]
    assert row(page, "下发到汇总（天，中位数）") == ["—", "2.0"]


def test_a_month_by_town_and_a_town_by_unit(month):
    client = signed_in(month, "li_minzheng")
    with month.runtime.factory() as session:
        town = session.scalar(select(OrgUnit).where(OrgUnit.name == "朱沱镇"))
    towns = client.get("/dashboard/burden?month=2024-11").get_data(as_text=True)
    assert row(towns, "朱沱镇") == ["3", "3", "8", "13", "1", "15.0"]
    units = client.get(f"/dashboard/burden?month=2024-11&town={town.id}").get_data(as_text=True)
    assert row(units, "松林村") == ["1", "1", "5", "2", "0", "10.0"]
    assert row(units, "石庙村") == ["1", "1", "0", "7", "1", "—"]
    october = client.get(f"/dashboard/burden?month=2024-10&town={town.id}").get_data(as_text=True)
    assert row(october, "松林村") == ["1", "1", "12", "0", "0", "30.0"] and "汉东村" not in october


def test_an_admin_sees_every_department_in_local_months(month):
    page = signed_in(month, "admin").get("/dashboard/burden").get_data(as_text=True)
    assert row(page, "2024-12") == ["1", "1", "1", "99", "0", "0", "50.0", "—"]  # 01:00 on 1 December in Shanghai
    assert row(page, "2024-11")[:4] == ["1", "3", "3", "8"]
    assert "中山路街道" in signed_in(month, "admin").get("/dashboard/burden?month=2024-12").get_data(as_text=True)


def test_the_other_department_sees_only_its_own_figures(month):
    page = signed_in(month, "wang_canlian").get("/dashboard/burden").get_data(as_text=True)
    assert row(page, "2024-12")[3] == "99" and "2024-11" not in page and "2024-10" not in page
    assert "有数据的月份还不到两个，暂时不能对比" in page
    assert "朱沱镇" not in signed_in(month, "wang_canlian").get("/dashboard/burden?month=2024-11").get_data(
        as_text=True
    )


@pytest.mark.parametrize("account", ["zhang_dehua", "zhou_jianguo"])
def test_fillers_and_reviewers_are_refused(month, account):
    answer = signed_in(month, account).get("/dashboard/burden")
    assert answer.status_code == 404 and "15.0" not in answer.get_data(as_text=True)


def test_nobody_signed_in_is_sent_to_chat(month):
    answer = browser(month).get("/dashboard/burden")
    assert answer.status_code == 401 and NEED_LOGIN in answer.get_data(as_text=True)


def test_the_task_list_links_to_the_burden_page_and_a_bad_month_is_not_found(month):
    client = signed_in(month, "li_minzheng")
    assert 'href="/dashboard/burden"' in client.get("/dashboard/").get_data(as_text=True)
    for word in ("2024-13", "0000-01", "0001-01", "9999-12", "2099-01"):
        assert client.get(f"/dashboard/burden?month={word}").status_code == 404


def test_pages_of_a_big_task_hold_every_unit_of_the_town_once_in_tree_order(site):  # noqa: F811
    with transaction(site.runtime.factory) as session:
        town = session.scalar(select(OrgUnit).where(OrgUnit.name == "朱沱镇"))
        village = session.scalar(select(OrgUnit).where(OrgUnit.name == "松林村"))
        filler = session.scalar(select(Person).where(Person.account == "zhang_dehua"))
        units = [OrgUnit(name=f"村{n:03d}", level="village", kind="村", parent_id=town.id) for n in range(420)]
        units.append(OrgUnit(name="松林村一网格", level="grid", kind="网格", parent_id=village.id))
        session.add_all(units)
        session.flush()
        session.add_all(Assignment(task_id=1, org_unit_id=u.id, filler_id=filler.id) for u in units)
    client = signed_in(site, "li_minzheng")
    towns = client.get("/dashboard/tasks/1").get_data(as_text=True)
    assert re.search(r">朱沱镇</a></td>\s*<td class=\"n\">424</td>\s*<td class=\"n\">424</td>", towns)
    shown = []
    for page in (1, 2, 3):
        html = client.get(f"/dashboard/tasks/1?town={town.id}&page={page}").get_data(as_text=True)
        assert f"第{page}/3页" in html
        shown += re.findall(r"<tr><td>(朱沱镇/[^<]*)</td>", html)
    expected = sorted([f"朱沱镇/村{n:03d}" for n in range(420)]) + [
        "朱沱镇/松林村",
        "朱沱镇/松林村/松林村一网格",
        "朱沱镇/汉东村",
        "朱沱镇/石庙村",
    ]
    assert sorted(shown) == sorted(expected) and len(shown) == 424
    assert shown.index("朱沱镇/松林村/松林村一网格") == shown.index("朱沱镇/松林村") + 1


def test_a_returned_report_counts_its_minutes_to_the_first_submission(month):
    with transaction(month.runtime.factory) as session:
        submission = session.scalar(
            select(Submission).join(Assignment).join(OrgUnit).where(OrgUnit.name == "松林村", Assignment.task_id == 1)
        )
        first = submission.started_at + timedelta(minutes=4)  # returned after this, submitted again 6 minutes later
        for number, at in enumerate((first, submission.submitted_at), start=1):
            session.add(ReviewStep(assignment_id=submission.assignment_id, submission_id=submission.id, round=number,
                                   stage=1, submitted_by_id=submission.submitted_by_id, submitted_at=at, content={},
                                   digest="x" * 64))  # fmt: skip
        town = session.scalar(select(OrgUnit).where(OrgUnit.name == "朱沱镇"))
    page = signed_in(month, "li_minzheng").get(f"/dashboard/burden?month=2024-11&town={town.id}").get_data(as_text=True)
    assert row(page, "松林村")[-1] == "4.0"
