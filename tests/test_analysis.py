"""Analysis (分析): top matters of event ledgers by category, month, town and village; a unit whose figure jumps
against its own history flagged and a steady one not; scope; the page as every role and as nobody; /分析 in chat."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.config import Config, WebConfig
from bot.platforms.simulator import SimulatorPlatform
from bot.runtime import build_runtime, load_demo_org
from handlers.core.context import Context
from handlers.tasks.towns import town_labels
from ledger_store import analysis, rollups
from ledger_store.analysis import judge, ledger_anomalies, report_anomalies, top_matters, unit_month_rows
from ledger_store.db import transaction
from ledger_store.ledgers import get_ledger, write_values
from ledger_store.models import (
    Answer,
    Assignment,
    AssignmentStatus,
    Department,
    Form,
    FormVersion,
    OrgUnit,
    Person,
    Recurrence,
    ReportTask,
    Submission,
)
from tests.conftest import Dialogue
from tests.test_dashboard import signed_in

PUBLIC_URL = "https://ybt.example.gov.cn"
MONTHS = ("2024-06", "2024-07", "2024-08", "2024-09", "2024-10")
RULE_WORDS = "稳健z值 = 0.6745×(本期−历史中位数)÷MAD"


def unit_id(session, name: str) -> int:
    """The org unit's id."""
    return session.scalar(select(OrgUnit.id).where(OrgUnit.name == name))


def add_cases(session, now: datetime, unit: str, month: str, kind: str, count: int) -> None:
    """`count` mediation cases of `unit` registered in `month` (YYYY-MM) of that kind."""
    ledger = get_ledger(session, "mediation_cases")
    place = unit_id(session, unit)
    for number in range(count):
        key = f"T-{unit}-{month}-{kind}-{number}"
        values = {"registered_on": date.fromisoformat(f"{month}-{number % 27 + 1:02d}"), "parties": "某甲与某乙",
                  "dispute_kind": kind}  # fmt: skip
        write_values(session, ledger, key, place, values, None, "test", now)


def add_hazards(session, now: datetime, unit: str, per_month: dict[str, int]) -> None:
    """Fire hazards of `unit`: so many found in each month."""
    ledger = get_ledger(session, "fire_hazards")
    place = unit_id(session, unit)
    for month, count in per_month.items():
        for number in range(count):
            key = f"H-{unit}-{month}-{number}"
            values = {"found_on": date.fromisoformat(f"{month}-{number % 27 + 1:02d}"),
                      "place": "某处", "hazard_kind": "燃气"}  # fmt: skip
            write_values(session, ledger, key, place, values, None, "test", now)


@pytest.fixture
def seeded(runtime):
    """Mediation cases (邻里纠纷 most, rising this month) and fire hazards: 松林村 jumps in November, 汉东村 steady."""
    now = runtime.engine.now()
    with transaction(runtime.factory) as session:
        for month in MONTHS:
            add_cases(session, now, "汉东村", month, "土地承包", 1)
        add_cases(session, now, "松林村", "2024-11", "邻里纠纷", 5)
        add_cases(session, now, "石庙村", "2024-08", "邻里纠纷", 2)
        add_cases(session, now, "萱花社区", "2024-10", "婚姻家庭", 1)
        add_hazards(session, now, "松林村", dict(zip([*MONTHS, "2024-11"], [1, 2, 1, 2, 1, 9], strict=True)))
        add_hazards(session, now, "汉东村", dict(zip([*MONTHS, "2024-11"], [1, 2, 1, 2, 1, 2], strict=True)))
    refresh_rollups(runtime)
    return runtime


def refresh_rollups(runtime) -> None:
    """What the scheduler does at each tick: count again every ledger whose records changed."""
    with transaction(runtime.factory) as session:
        for ledger_id in rollups.due(session):
            analysis.refresh_one(session, ledger_id, runtime.engine.today())


def context(runtime, session) -> Context:
    """A handler context on the session."""
    return runtime.engine.context(session)


# The data layer


def test_top_matters_are_ranked_with_this_months_trend_by_month_town_and_village(seeded):
    with seeded.factory() as session:
        report = top_matters(session, get_ledger(session, "mediation_cases"), None, "2024-11", town_labels=town_labels)
    # The demo's 3 cases (邻里纠纷 松林村, 土地承包 汉东村, 其他 红旗社区, all of November 2024) and the seeded 13.
    assert report.total == 16 and report.category == "纠纷类型" and report.month_source == "登记日期"
    ranked = [(m.label, m.count, m.this_month) for m in report.matters]
    assert ranked == [("邻里纠纷", 8, 6), ("土地承包", 6, 1), ("其他", 1, 1), ("婚姻家庭", 1, 0)]
    assert [m.trend for m in report.matters] == ["上升", "持平", "上升", "持平"]  # 其他: one this month, none before
    months = {count.label: count.count for count in report.months}
    assert len(report.months) == 12 and report.months[-1].label == "2024-11"
    assert months["2024-11"] == 8 and months["2024-08"] == 3 and months["2024-06"] == 1 and months["2024-01"] == 0
    assert [(c.label, c.count) for c in report.towns] == [("朱沱镇", 14), ("中山路街道", 2)]
    assert [(c.label, c.count) for c in report.villages][:3] == [("松林村", 6), ("汉东村", 6), ("石庙村", 2)]


def test_a_unit_scope_counts_only_its_units(seeded):
    with seeded.factory() as session:
        town = {unit_id(session, name) for name in ("朱沱镇", "松林村", "汉东村", "石庙村", "松林村第一网格")}
        report = top_matters(session, get_ledger(session, "mediation_cases"), town, "2024-11", town_labels=town_labels)
    assert report.total == 14 and [c.label for c in report.towns] == ["朱沱镇"]
    assert "红旗社区" not in [c.label for c in report.villages]


def test_a_jumping_unit_is_flagged_and_a_steady_one_is_not(seeded):
    with seeded.factory() as session:
        flagged = ledger_anomalies(session, get_ledger(session, "fire_hazards"), "2024-11")
    jumps = [(a.unit, a.measure, a.period, a.value, a.median) for a in flagged]
    # 松林村 1,2,1,2,1 then 9 (plus the demo's one hazard of 2024-11-25): 10 against a median of 1.
    assert jumps == [("松林村", "记录数", "2024-11", Decimal(10), Decimal(1))]
    assert flagged[0].z > 3.5 and flagged[0].ratio == 10.0
    # 汉东村 1,2,1,2,1 then 2 is within its own history: not flagged.


def test_the_rule_needs_three_earlier_periods_and_handles_a_zero_mad():
    assert judge([Decimal(1), Decimal(1), Decimal(50)]) is None  # two earlier periods are not enough
    assert judge([Decimal(5)] * 5) is None  # flat and still flat
    assert judge([Decimal(5)] * 4 + [Decimal(12)]) == (None, 2.4)  # flat, then more than half as much again
    assert judge([Decimal(5)] * 4 + [Decimal(7)]) is None  # flat, then less than half: not a jump
    # MAD 0 but not flat (100,100,100,160): the mean absolute deviation (15) stands in.
    z, ratio = judge([Decimal(100), Decimal(100), Decimal(100), Decimal(160), Decimal(200)])
    assert z == pytest.approx(100 / (1.253314 * 15)) and ratio == pytest.approx(200 / 160)
    # Small counts: the spread is at least √median, so 5,5,5,9 then 12 is an ordinary wobble and 15 is a jump.
    assert judge([Decimal(5), Decimal(5), Decimal(5), Decimal(9), Decimal(12)]) is None
    z, _ = judge([Decimal(5), Decimal(5), Decimal(5), Decimal(9), Decimal(15)])
    assert z == pytest.approx(10 / math.sqrt(5))
    z, _ = judge([Decimal(100), Decimal(104), Decimal(98), Decimal(102), Decimal(40)])
    assert z < -3.5  # a drop is a jump too


def add_recurring_answers(runtime, figures: dict[str, list[int]]) -> None:
    """区民政局's monthly 低保月报 as a recurrence with one task a period, each village's households answered."""
    now = runtime.engine.now()
    with transaction(runtime.factory) as session:
        department = session.scalar(select(Department).where(Department.name == "区民政局"))
        issuer = session.scalar(select(Person).where(Person.account == "li_minzheng"))
        form = session.scalar(select(Form).where(Form.code == "dibao_monthly"))
        version = session.scalar(select(FormVersion).where(FormVersion.form_id == form.id).order_by(FormVersion.id))
        recurrence = Recurrence(form_id=form.id, department_id=department.id, issued_by_id=issuer.id,
                                rule={"every": "month", "day": 25}, issue_time="09:00", deadline_rule={},
                                deadline_time="18:00", next_issue_at=now, created_at=now)  # fmt: skip
        session.add(recurrence)
        session.flush()
        periods = len(next(iter(figures.values())))
        for index in range(periods):
            period = f"2024-{index + 6:02d}"
            task = ReportTask(title="低保月报", form_version_id=version.id, department_id=department.id,
                              issued_by_id=issuer.id, issued_at=now - timedelta(days=31 * (periods - index)),
                              deadline=now, recurrence_id=recurrence.id, period=period)  # fmt: skip
            session.add(task)
            session.flush()
            for village, values in figures.items():
                filler = session.scalar(select(Person).where(Person.org_unit_id == unit_id(session, village)))
                assignment = Assignment(task_id=task.id, org_unit_id=unit_id(session, village), filler_id=filler.id,
                                        status=AssignmentStatus.SUBMITTED, submitted_at=now)  # fmt: skip
                session.add(assignment)
                session.flush()
                submission = Submission(assignment_id=assignment.id, submitted_by_id=filler.id, submitted_at=now)
                submission.answers = [Answer(field_name="households", number_value=Decimal(values[index]))]
                session.add(submission)


def test_a_recurring_reports_jumping_answer_is_flagged_for_its_department_only(runtime):
    add_recurring_answers(runtime, {"松林村": [20, 21, 20, 22, 21, 40], "汉东村": [30, 31, 30, 32, 31, 31]})
    with runtime.factory() as session:
        department = session.scalar(select(Department.id).where(Department.name == "区民政局"))
        other = session.scalar(select(Department.id).where(Department.name == "区残联"))
        flagged = report_anomalies(session, department)
        assert report_anomalies(session, other) == []
        village = {unit_id(session, "汉东村")}
        assert report_anomalies(session, department, village) == []
    assert [(a.unit, a.source, a.measure, a.period, a.value) for a in flagged] == [
        ("松林村", "低保月报", "在保低保户数", "2024-11", Decimal(40))
    ]


# /分析 in chat


def readme_example() -> str:
    """The /分析 answer the README shows (the indented block after “例如区应急局发”)."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("例如区应急局发 `/分析 消防隐患台账（除险清患）`：\n\n", 1)[1].split("\n\n", 1)[0]
    return "\n".join(line.removeprefix("    ") for line in block.splitlines())


def test_the_owner_gets_one_message_with_matters_and_jumps(seeded, chat):
    answer = chat.say("zheng_haiyan", "/分析 消防隐患台账（除险清患）")
    assert answer == readme_example()  # 汉东村, steady, is not flagged
    assert "18996357012" not in answer and "189****7012" not in answer  # no one's mobile, masked or not
    everything = chat.say("sun_lixin", "/analysis")
    assert everything.startswith("全部事件台账分析：") and "高发纠纷类型：邻里纠纷8件（本月6↑）" in everything
    assert "消防隐患" not in everything  # 区司法局 reads its own ledger, not 区应急局's
    assert chat.say("sun_lixin", "/分析 平安法治").startswith("平安法治分析：")


def test_a_department_not_owning_or_shared_and_a_filler_are_refused(seeded, chat):
    refused = chat.say("li_minzheng", "/分析 矛盾调解台账")
    assert refused == "矛盾调解台账归区司法局所有，区民政局没有查看权限。如需使用，请联系区司法局或管理员开通共享。"
    assert "没有找到可分析的台账或板块“打牌”" in chat.say("sun_lixin", "/分析 打牌")
    assert chat.say("li_minzheng", "/分析").startswith("您可查看的台账里还没有事件类台账")
    filler = chat.say("zhang_dehua", "/分析")
    assert "高发" not in filler and "松林村" not in filler and "/分析" in filler


def test_a_town_department_shared_the_ledger_sees_its_town_only(seeded, chat, town_office):
    chat.say("admin", "/台账权限 矛盾调解台账 共享 朱沱镇民政办")
    answer = chat.say(town_office, "/分析 矛盾调解台账")
    assert answer.startswith("矛盾调解台账分析（朱沱镇范围）：") and "共14件" in answer
    assert "红旗社区" not in answer and "萱花社区" not in answer


def test_the_digest_ends_with_the_departments_new_warnings(seeded, chat):
    defined = chat.say("sun_lixin", "/预警 矛盾调解台账 纠纷类型=邻里纠纷")
    assert defined.startswith("已设预警#1")
    answer = chat.say("sun_lixin", "/分析 矛盾调解台账")
    assert answer.endswith("预警（近7天新发现）：\n#1 矛盾调解台账 纠纷类型=邻里纠纷：8 条（松林村 6、石庙村 2）")
    assert "预警" in chat.say("sun_lixin", "/分析") and "预警" in chat.say("admin", "/分析")
    assert "预警" not in chat.say("zheng_haiyan", "/分析 消防隐患台账（除险清患）")  # another department's rule
    assert "预警" not in chat.say("sun_lixin", "/分析 民生服务")  # a board the rule's ledger is not on


# The page


@pytest.fixture
def site(db, engine, clock, tmp_path):
    """The bot with a public dashboard address, the demo organisation and the seeded ledgers."""
    config = Config(web=WebConfig(public_url=PUBLIC_URL, secret_key="test-only-key"))
    runtime = build_runtime(config, SimulatorPlatform(files_dir=tmp_path / "files"), clock=clock, database=engine)
    assert load_demo_org(runtime) is not None
    now = runtime.engine.now()
    with transaction(runtime.factory) as session:
        add_cases(session, now, "松林村", "2024-11", "邻里纠纷", 5)
        add_hazards(session, now, "松林村", dict(zip([*MONTHS, "2024-11"], [1, 2, 1, 2, 1, 9], strict=True)))
    return Dialogue(runtime, runtime.platform, clock)


def test_the_page_as_nobody_asks_to_sign_in(site):
    page = create_app(site.runtime).test_client().get("/dashboard/analysis?ledger=fire_hazards")
    assert page.status_code == 401 and "请在聊天里发送 /看板" in page.get_data(as_text=True)


def test_the_owner_sees_matters_bars_jumps_and_the_rule(site):
    client = signed_in(site, "zheng_haiyan")
    assert "分析：高发事项与数值异动" in client.get("/dashboard/").get_data(as_text=True)
    page = client.get("/dashboard/analysis?ledger=fire_hazards")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "《消防隐患台账（除险清患）》 · 平安法治　共19件" in text
    assert '<td class="flag">松林村</td>' in text and RULE_WORDS in text and "<script" not in text
    assert 'class="bar" style="width: 100.0%"' in text  # the largest bar full width, drawn without JavaScript
    assert "15902376418" not in text and "18996357012" not in text
    overview = client.get("/dashboard/analysis").get_data(as_text=True)
    assert "《消防隐患台账（除险清患）》" in overview and "《矛盾调解台账》" not in overview
    assert client.get("/dashboard/analysis?board=平安法治").status_code == 200


def test_the_admin_sees_every_event_ledger(site):
    text = signed_in(site, "admin").get("/dashboard/analysis").get_data(as_text=True)
    assert "《消防隐患台账（除险清患）》" in text and "《矛盾调解台账》 · 平安法治　共8件" in text


def test_a_department_not_owning_the_ledger_gets_404(site):
    client = signed_in(site, "li_minzheng")
    for path in (
        "/dashboard/analysis?ledger=fire_hazards",
        "/dashboard/analysis?ledger=no_such",
        "/dashboard/analysis?board=平安法治",
    ):
        page = client.get(path)
        assert page.status_code == 404 and "松林村" not in page.get_data(as_text=True)
    assert "还没有事件类台账" in client.get("/dashboard/analysis").get_data(as_text=True)


@pytest.mark.parametrize("account", ["zhang_dehua", "zhou_jianguo"])
def test_fillers_and_reviewers_see_no_analysis(site, account):
    client = signed_in(site, account)
    page = client.get("/dashboard/analysis")
    assert page.status_code == 200 and "分析目前只给发布员和管理员使用" in page.get_data(as_text=True)
    assert "松林村" not in page.get_data(as_text=True)
    assert client.get("/dashboard/analysis?ledger=fire_hazards").status_code == 404


def test_a_ledger_without_a_date_field_is_counted_by_creation_month_and_sums_its_numbers(site):
    client = signed_in(site, "li_minzheng")
    text = client.get("/dashboard/analysis?ledger=dibao_households").get_data(as_text=True)
    assert "《低保对象台账》 · 民生服务\u3000共8件" in text and "按月（按创建时间）" in text
    assert "高发保障类别" in text and "500118" not in text  # categories and counts, no ID number
    with site.runtime.factory() as session:
        rows = unit_month_rows(session, get_ledger(session, "dibao_households"), None)  # the page counted it
    by_unit = {(unit, month): (count, sums) for unit, month, count, sums in rows}
    with site.runtime.factory() as session:
        songlin = unit_id(session, "松林村")
    # 张德明 (1, 612.8) and 李秀兰 (1, 530) of 松林村, created now (November 2024).
    assert by_unit[(songlin, "2024-11")] == (2, {"household_size": Decimal(2), "monthly_income": Decimal("1142.8")})


def test_a_sensitive_number_is_never_summed(site):
    with transaction(site.runtime.factory) as session:
        ledger = get_ledger(session, "dibao_households")
        ledger.fields = [{**f, "sensitive": True} if f["name"] == "monthly_income" else f for f in ledger.fields]
    with site.runtime.factory() as session:
        ledger = get_ledger(session, "dibao_households")
        rollups.refresh(session, ledger)  # the field's new shape: counted whole again
        rows = unit_month_rows(session, ledger, None)
    assert rows and all("monthly_income" not in sums and "household_size" in sums for _, _, _, sums in rows)


def test_the_page_and_the_digest_count_a_record_written_a_moment_ago(site):
    client = signed_in(site, "zheng_haiyan")
    assert "共19件" in client.get("/dashboard/analysis?ledger=fire_hazards").get_data(as_text=True)
    with transaction(site.runtime.factory) as session:  # written after the page counted, before any scheduler run
        add_hazards(session, site.runtime.engine.now(), "汉东村", {"2024-11": 2})
    assert "共21件" in client.get("/dashboard/analysis?ledger=fire_hazards").get_data(as_text=True)
    with transaction(site.runtime.factory) as session:
        add_hazards(session, site.runtime.engine.now(), "石庙村", {"2024-11": 1})
    assert "共22件" in site.say("zheng_haiyan", "/分析 消防隐患台账（除险清患）")
