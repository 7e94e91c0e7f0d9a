"""The analysis rollups: always the same figures as counting the records themselves, through every way records
change (chat writes, moves, leaving, imports, a redefined ledger), on every database; and the trend and jump
rules read a month not yet over fairly."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import SchedulerConfig
from handlers.tasks.towns import town_labels
from ledger_store import analysis, rollups
from ledger_store.analysis import ledger_anomalies, top_matters
from ledger_store.db import transaction
from ledger_store.ledger_import import import_ledger
from ledger_store.ledgers import define_ledger, get_ledger, get_record, mark_left, rejoin, write_values
from ledger_store.models import LedgerRecord, OrgUnit
from scheduler.jobs import TimedWork

KINDS = [{"value": "fire", "label": "火灾"}, {"value": "flood", "label": "汛情"}, {"value": "other", "label": "其他"}]
FIELDS = [
    {"name": "no", "label": "编号", "type": "text", "required": True},
    {"name": "on", "label": "发生日期", "type": "date"},
    {"name": "kind", "label": "类型", "type": "select_one", "choices": KINDS},
    {"name": "people", "label": "涉及人数", "type": "integer"},
    {"name": "amount", "label": "损失金额", "type": "decimal"},
    {"name": "income", "label": "家庭收入", "type": "decimal", "sensitive": True},
]


def unit_id(session, name: str) -> int:
    return session.scalar(select(OrgUnit.id).where(OrgUnit.name == name))


@pytest.fixture
def incidents(runtime):
    """An event ledger with a date, a category, two summed numbers and a sensitive one."""
    with transaction(runtime.factory) as session:
        define_ledger(session, "incidents", "突发事件台账", "no", FIELDS, runtime.engine.now(), entity_kind="event")
    return runtime


def write(runtime, key: str, unit: str | None, **values) -> None:
    with transaction(runtime.factory) as session:
        place = unit_id(session, unit) if unit else None
        read = {"on": date.fromisoformat, "amount": Decimal, "income": Decimal}
        typed = {name: read.get(name, lambda v: v)(v) for name, v in values.items()}
        write_values(session, get_ledger(session, "incidents"), key, place, typed, None, "test", runtime.engine.now())


def tick(runtime) -> None:
    """What the scheduler does for the rollups at each tick."""
    with transaction(runtime.factory) as session:
        for ledger_id in rollups.due(session):
            analysis.refresh_one(session, ledger_id, runtime.engine.today())


def counted_from_records(session, code: str):
    """The figures counted the slow way: every current record read in Python."""
    ledger = get_ledger(session, code)
    numeric = [f["name"] for f in ledger.fields if f["type"] in ("integer", "decimal") and not f.get("sensitive")]
    numeric = [name for name in numeric if name != ledger.key_field]
    kind = rollups.category_field(ledger)
    dated = rollups.date_field(ledger)
    months: dict = {}
    matters: dict = defaultdict(int)
    records = session.scalars(select(LedgerRecord).where(LedgerRecord.ledger_id == ledger.id))
    for record in records:
        if record.left_at is not None:
            continue
        month = (record.values.get(dated["name"]) or "")[:7] or None if dated else f"{record.created_at:%Y-%m}"
        count, sums = months.setdefault((record.org_unit_id, month), [0, {}])
        months[(record.org_unit_id, month)][0] = count + 1
        for name in numeric:
            value = record.values.get(name)
            if isinstance(value, int | float) or (isinstance(value, str) and value.replace(".", "", 1).isdigit()):
                sums[name] = sums.get(name, Decimal(0)) + Decimal(str(value))
        matters[(month, record.values.get(kind["name"]) if kind else None)] += 1
    return {key: (n, sums) for key, (n, sums) in months.items()}, dict(matters)


def counted_by_rollup(session, code: str):
    ledger = get_ledger(session, code)
    months = {(unit, month): (n, sums) for unit, month, n, sums in rollups.unit_months(session, ledger, None)}
    matters = {(month, kind): n for month, kind, n in rollups.matter_months(session, ledger, None)}
    return months, matters


def assert_exact(runtime, code: str = "incidents") -> None:
    tick(runtime)
    with runtime.factory() as session:
        assert not rollups.due(session)
        assert counted_by_rollup(session, code) == counted_from_records(session, code)


def test_the_rollup_equals_the_records_through_writes_moves_leaving_and_rejoining(incidents):
    write(incidents, "A1", "松林村", on="2024-10-03", kind="fire", people=3, amount="1200.50", income="9000")
    write(incidents, "A2", "松林村", on="2024-11-05", kind="flood", people=1)
    write(incidents, "A3", "汉东村", on="2024-11-06", kind="fire", amount="80")
    write(incidents, "A4", None, kind="other")  # no unit, no date
    assert_exact(incidents)
    with incidents.factory() as session:
        months, _matters = counted_by_rollup(session, "incidents")
        songlin = unit_id(session, "松林村")
    # 家庭收入 is sensitive: never summed.
    assert months[(songlin, "2024-10")] == (1, {"people": Decimal(3), "amount": Decimal("1200.50")})

    write(incidents, "A1", "汉东村", kind="flood", amount="99.5")  # moved, recategorised, new amount
    write(incidents, "A2", None, on="2024-09-30")  # another month
    assert_exact(incidents)
    with transaction(incidents.factory) as session:
        ledger = get_ledger(session, "incidents")
        mark_left(session, ledger, get_record(session, ledger, "A3"), "迁出", None, "test", incidents.engine.now())
    assert_exact(incidents)
    with incidents.factory() as session:
        assert (unit_id(session, "汉东村"), "2024-11") not in counted_by_rollup(session, "incidents")[0]
    with transaction(incidents.factory) as session:
        ledger = get_ledger(session, "incidents")
        rejoin(session, ledger, get_record(session, ledger, "A3"), None, "test", incidents.engine.now())
    assert_exact(incidents)


def test_an_import_and_a_redefinition_keep_the_rollup_exact(incidents, tmp_path: Path):
    write(incidents, "B1", "松林村", on="2024-11-01", kind="fire", people=2)
    assert_exact(incidents)
    sheet = tmp_path / "incidents.csv"
    sheet.write_text(
        "编号,发生日期,类型,涉及人数,损失金额,单位\n"
        "B1,2024-11-01,汛情,7,,石庙村\n"  # moved from 松林村 and changed
        "B2,2024-10-15,火灾,4,300,汉东村\n"
        "B3,2024-10-16,其他,,12.25,汉东村\n",
        encoding="utf-8",
    )
    report = import_ledger(incidents.factory, "incidents", sheet, None, incidents.engine.now())
    assert (report.inserted, report.updated) == (2, 1)
    assert_exact(incidents)

    # The ledger's owner redefines it: 涉及人数 is dropped, a new number is summed, the category changes.
    fields = [f for f in FIELDS if f["name"] != "people"]
    fields = [*fields[:2], {"name": "level", "label": "等级", "type": "select_one",
              "choices": [{"value": "big", "label": "较大"}]}, *fields[2:],
              {"name": "houses", "label": "受损房屋", "type": "integer"}]  # fmt: skip
    with transaction(incidents.factory) as session:
        define_ledger(session, "incidents", "突发事件台账", "no", fields, incidents.engine.now(),
                      entity_kind="event", confirm_loss=True)  # fmt: skip
    write(incidents, "B2", None, level="big", houses=2)
    assert_exact(incidents)
    with incidents.factory() as session:
        _months, matters = counted_by_rollup(session, "incidents")
    assert matters[("2024-10", "big")] == 1  # matters are now read from 等级


def test_a_stored_value_that_is_no_number_counts_as_empty_on_every_database(incidents):
    write(incidents, "C1", "松林村", on="2024-11-02", kind="fire", amount="10")
    with transaction(incidents.factory) as session:  # written when the field was still text
        record = get_record(session, get_ledger(session, "incidents"), "C1")
        record.values = {**record.values, "amount": "约三千元", "people": "两人"}
        songlin = unit_id(session, "松林村")
    write(incidents, "C2", "松林村", on="2024-11-03", kind="fire", amount="2.5", people=1)
    tick(incidents)
    with incidents.factory() as session:
        months, _matters = counted_by_rollup(session, "incidents")
    assert months[(songlin, "2024-11")] == (2, {"amount": Decimal("2.5"), "people": Decimal(1)})


def test_the_scheduler_tick_counts_what_changed(incidents):
    work = TimedWork(incidents, SchedulerConfig(), holder="scheduler")
    write(incidents, "D1", "松林村", on="2024-11-02", kind="fire")
    work.tick()
    with incidents.factory() as session:
        assert not rollups.due(session)
        assert counted_by_rollup(session, "incidents") == counted_from_records(session, "incidents")
    write(incidents, "D2", "松林村", on="2024-11-03", kind="fire")
    with incidents.factory() as session:
        assert rollups.due(session) == [get_ledger(session, "incidents").id]
    work.tick()
    with incidents.factory() as session:
        months, _matters = counted_by_rollup(session, "incidents")
        assert months[(unit_id(session, "松林村"), "2024-11")][0] == 2


def test_a_refresh_from_an_older_snapshot_does_not_put_older_figures_back(incidents, db):
    """A transaction that read before another refresh took the marks must not count from an older view (under
    REPEATABLE READ it would read its snapshot; the bot runs READ COMMITTED, where it reads afresh: either way the
    figures stay right). SQLite runs one transaction at a time in a process."""
    if db.kw["bind"].dialect.name == "sqlite":
        pytest.skip("SQLite: the bot's transactions take turns on a lock, so no older snapshot refreshes")
    write(incidents, "E1", "松林村", on="2024-11-02", kind="fire")
    with incidents.factory() as older:
        ledger = get_ledger(older, "incidents")  # the snapshot starts here: E1's mark is in it
        write(incidents, "E2", "松林村", on="2024-11-03", kind="fire")
        tick(incidents)  # another process refreshes: E1 and E2
        rollups.refresh(older, ledger)
        older.commit()
    assert_exact(incidents)
    with incidents.factory() as session:
        months, _matters = counted_by_rollup(session, "incidents")
        assert months[(unit_id(session, "松林村"), "2024-11")][0] == 2


def add(runtime, unit: str, kind: str, per_month: dict[str, int]) -> None:
    with transaction(runtime.factory) as session:
        ledger, place = get_ledger(session, "incidents"), unit_id(session, unit)
        for month, count in per_month.items():
            for number in range(count):
                values = {"on": date.fromisoformat(f"{month}-{number % 9 + 1:02d}"), "kind": kind}
                write_values(
                    session, ledger, f"{unit}-{month}-{number}", place, values, None, "t", runtime.engine.now()
                )


EARLIER = ("2024-06", "2024-07", "2024-08", "2024-09", "2024-10")


def analysed(runtime, today: date | None):
    tick(runtime)
    with runtime.factory() as session:
        ledger = get_ledger(session, "incidents")
        report = top_matters(session, ledger, None, "2024-11", town_labels=town_labels, today=today)
        jumps = ledger_anomalies(session, ledger, "2024-11", today=today)
    trends = {matter.label: matter.trend for matter in report.matters}
    return trends, {(jump.unit, jump.period, jump.value) for jump in jumps}


def test_a_month_not_over_is_compared_with_the_share_of_the_month_gone_by(incidents):
    add(incidents, "松林村", "fire", {**dict.fromkeys(EARLIER, 10), "2024-11": 3})  # 10 a month, 3 by the 10th
    add(incidents, "汉东村", "flood", {**dict.fromkeys(EARLIER, 2), "2024-11": 9})  # 2 a month, 9 by the 10th
    add(incidents, "石庙村", "other", {**dict.fromkeys(EARLIER[:4], 10), "2024-10": 0})  # stopped in October
    trends, jumps = analysed(incidents, date(2024, 11, 10))
    # A third of November gone: 3 against 10 a month is on course, 9 against 2 a month is a rise.
    assert trends["火灾"] == "持平" and trends["汛情"] == "上升"
    # November is judged only upward; October, over, is judged both ways: 石庙村 went from 10 to 0.
    assert ("汉东村", "2024-11", Decimal(9)) in jumps and ("石庙村", "2024-10", Decimal(0)) in jumps
    assert not any(unit == "松林村" for unit, _period, _value in jumps)

    trends, jumps = analysed(incidents, None)  # November taken as over
    assert trends["火灾"] == "下降" and ("松林村", "2024-11", Decimal(3)) in jumps


def test_the_earlier_average_counts_only_the_months_since_the_ledger_began(incidents):
    add(incidents, "松林村", "fire", {"2024-09": 4, "2024-10": 4, "2024-11": 4})
    trends, _jumps = analysed(incidents, None)
    # 4 a month since September: level (an average over eleven months would make November a rise).
    assert trends["火灾"] == "持平"
    with incidents.factory() as session:
        report = top_matters(session, get_ledger(session, "incidents"), None, "2024-11", town_labels=town_labels)
    assert report.matters[0].before == 4


def test_a_units_scope_reads_only_its_units_rollup(incidents):
    add(incidents, "松林村", "fire", {"2024-11": 2})
    add(incidents, "红旗社区", "fire", {"2024-11": 5})
    tick(incidents)
    with incidents.factory() as session:
        ledger = get_ledger(session, "incidents")
        town = {unit_id(session, name) for name in ("朱沱镇", "松林村", "汉东村", "石庙村")}
        report = top_matters(session, ledger, town, "2024-11", town_labels=town_labels)
        months = rollups.unit_months(session, ledger, town)
    assert report.total == 2 and [c.label for c in report.villages] == ["松林村"]
    assert {unit for unit, *_rest in months} == {unit_id_of(incidents, "松林村")}


def unit_id_of(runtime, name: str) -> int:
    with runtime.factory() as session:
        return unit_id(session, name)


def test_a_refresh_with_nothing_marked_counts_nothing(incidents):
    write(incidents, "F1", "松林村", on="2024-11-02", kind="fire")
    with transaction(incidents.factory) as session:
        ledger = get_ledger(session, "incidents")
        assert rollups.refresh(session, ledger) == rollups.Refreshed(True)  # never counted: the whole ledger
        assert not rollups.refresh(session, ledger).changed
    write(incidents, "F2", "汉东村", on="2024-11-02", kind="fire")
    with transaction(incidents.factory) as session:
        again = rollups.refresh(session, get_ledger(session, "incidents"))
        assert again == rollups.Refreshed(False, frozenset({unit_id(session, "汉东村")}))  # only 汉东村 again


def test_the_flags_kept_at_each_refresh_are_those_judged_afresh(incidents):
    add(incidents, "松林村", "fire", {**dict.fromkeys(EARLIER, 2), "2024-11": 9})
    add(incidents, "汉东村", "fire", dict.fromkeys(EARLIER, 2))
    today = date(2024, 11, 28)
    tick(incidents)

    def flags(session) -> tuple[set, set]:
        ledger = get_ledger(session, "incidents")
        kept = {
            (a.unit, a.measure, a.period, a.value) for a in ledger_anomalies(session, ledger, "2024-11", None, today)
        }
        rows = rollups.unit_months(session, ledger, None)
        afresh = {(f.unit_id, f.measure, f.period, f.value) for f in analysis.judge_units(rows, "2024-11", today)}
        return kept, {(unit_name(session, u), m or "记录数", p, v) for u, m, p, v in afresh}

    with incidents.factory() as session:
        kept, afresh = flags(session)
    assert kept == afresh == {("松林村", "记录数", "2024-11", Decimal(9))}
    add(incidents, "汉东村", "fire", {"2024-11": 9})  # 汉东村 jumps too; 松林村 unchanged
    tick(incidents)
    with incidents.factory() as session:
        kept, afresh = flags(session)
    assert kept == afresh and {unit for unit, *_rest in kept} == {"松林村", "汉东村"}


def unit_name(session, unit: int | None) -> str:
    return session.get(OrgUnit, unit).name if unit is not None else "未归属单位"


def test_many_units_changed_at_once_are_counted_with_the_whole_ledger(incidents, monkeypatch):
    write(incidents, "G1", "松林村", on="2024-11-02", kind="fire")
    tick(incidents)
    monkeypatch.setattr(rollups, "WHOLE_RECOUNT_UNITS", 2)  # 2,000 in production
    for number, unit in enumerate(("松林村", "汉东村", "石庙村")):
        write(incidents, f"G{number + 2}", unit, on="2024-11-03", kind="flood")
    with transaction(incidents.factory) as session:
        assert rollups.refresh(session, get_ledger(session, "incidents")) == rollups.Refreshed(True)
    assert_exact(incidents)


def test_when_the_month_turns_every_unit_is_judged_again(incidents):
    add(incidents, "松林村", "fire", {**dict.fromkeys(EARLIER, 2), "2024-11": 9})
    tick(incidents)  # 28 November: November's 9 is a jump
    with transaction(incidents.factory) as session:
        ledger = get_ledger(session, "incidents")
        assert {a.period for a in ledger_anomalies(session, ledger, "2024-11", None, date(2024, 11, 28))} == {"2024-11"}
        analysis.refresh(session, ledger, date(2024, 12, 2))  # nothing written since, but December began
        assert rollups.state_of(session, ledger).judged_as_of == "2024-12~"
        flags = ledger_anomalies(session, ledger, "2024-12", None, date(2024, 12, 2))
    # November, now the last whole month, is judged both ways; December has no records yet.
    assert {(a.unit, a.period, a.value) for a in flags} == {("松林村", "2024-11", Decimal(9))}


def test_towns_are_grouped_as_the_task_page_groups_them(incidents):
    with transaction(incidents.factory) as session:
        district = session.scalar(select(OrgUnit).where(OrgUnit.parent_id.is_(None)))
        session.add(OrgUnit(name="区社会福利院", level="village", parent_id=district.id))
    add(incidents, "区社会福利院", "fire", {"2024-11": 3})  # right below the district: no town
    add(incidents, "松林村第一网格", "fire", {"2024-11": 2})  # a grid: its village's and town's
    write(incidents, "H1", None, on="2024-11-02", kind="fire")  # no unit at all
    tick(incidents)
    with incidents.factory() as session:
        report = top_matters(session, get_ledger(session, "incidents"), None, "2024-11", town_labels=town_labels)
    assert [(c.label, c.count) for c in report.towns] == [("区直及其他", 4), ("朱沱镇", 2)]
    assert [(c.label, c.count) for c in report.villages] == [("区社会福利院", 3), ("松林村", 2)]
