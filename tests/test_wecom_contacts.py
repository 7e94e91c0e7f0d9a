"""Syncing WeCom's contacts into the demo organisation, through the real client and the local WeCom emulator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import delete, func, select

from bot.platforms.token_cache import DatabaseStorage
from bot.platforms.wecom.api import WeComClient
from bot.platforms.wecom.contacts import ACTION, sync_contacts
from bot.platforms.wecom.emulator import SAMPLE_AES_KEY, SAMPLE_TOKEN, EmulatorSettings, WeComEmulator, serve
from ledger_store.db import transaction
from ledger_store.models import AuditEntry, Department, Level, OrgUnit, Person, PlatformIdentity, Role

CORP_ID, SECRET, AGENT_ID = "ww0123456789abcdef", "app-secret-0123456789", 1000002
NOW = datetime(2024, 11, 28, 2, 0)


def now() -> datetime:
    return NOW


@pytest.fixture
def emulator() -> WeComEmulator:
    """WeCom's view of Yongchuan: known units and people, some changed, some new."""
    emulator = WeComEmulator(EmulatorSettings(CORP_ID, SECRET, AGENT_ID, SAMPLE_TOKEN, SAMPLE_AES_KEY))
    for department_id, name, parent in [
        (1, "重庆市永川区人民政府", 0),  # the corp root, named unlike our district
        (2, "区民政局", 1),
        (3, "朱沱镇", 1),
        (4, "松林村", 3),
        (5, "第一网格", 4),  # our 松林村第一网格
        (6, "何埂镇", 1),
        (7, "新桥村", 6),
        (8, "第一网格", 7),
        (9, "社会事务办", 2),  # a section of an issuing department
    ]:
        emulator.add_department(department_id, name, parent)
    emulator.add_member("admin", "陈志刚", [1])
    emulator.add_member("li_minzheng", "李敏正", [9])
    emulator.add_member("hu_xiaoyan", "胡晓燕", [3], mobile="+86 139-0831-5599")  # a new mobile
    emulator.add_member("zhang_dehua", "张德华", [4], mobile="")  # WeCom hides mobiles from newer apps
    emulator.add_member("Luo_XiuYing", "罗秀英", [4])  # moved from 汉东村 to 松林村
    emulator.add_member("15823611234", "何军", [6, 7], main_department=7, mobile="15823611234")
    emulator.add_member("tang_li", "唐丽", [8])
    emulator.add_member("wang_grid", "王网格", [5])
    emulator.add_member("zhao_left", "赵已离职", [3], status=5)
    return emulator


@pytest.fixture
def client(emulator: WeComEmulator, db) -> Iterator[WeComClient]:
    """The real client, talking to the emulator over HTTP."""
    handle = serve(emulator)
    yield WeComClient(CORP_ID, SECRET, DatabaseStorage(db), api_base_url=handle.url)
    handle.shutdown()


def people(session) -> dict[str, Person]:
    return {person.account: person for person in session.scalars(select(Person))}


def wecom_ids(session) -> dict[str, str]:
    query = (
        select(Person.account, PlatformIdentity.user_id)
        .join(PlatformIdentity)
        .where(PlatformIdentity.platform == "wecom")
    )
    return dict(session.execute(query).all())


def test_sync_adds_and_updates_people_and_units(runtime, client):
    with transaction(runtime.factory) as session:  # one person known here only by account
        session.execute(delete(PlatformIdentity).where(PlatformIdentity.user_id == "luo_xiuying"))
        units_before = session.scalar(select(func.count()).select_from(OrgUnit))
    report = sync_contacts(runtime.factory, client, now)

    assert report.units_added == ["何埂镇", "新桥村", "第一网格"]
    assert report.people_added == ["何军", "唐丽", "王网格"]
    assert sorted(report.people_changed) == ["罗秀英", "胡晓燕"]
    assert report.skipped == ["赵已离职（企业微信账号已停用）"]
    with transaction(runtime.factory) as session:
        units = {unit.name: unit for unit in session.scalars(select(OrgUnit))}
        assert len(units) == units_before + 3
        assert (units["何埂镇"].level, units["何埂镇"].parent_id) == (Level.TOWN, units["永川区"].id)
        assert (units["新桥村"].level, units["新桥村"].parent_id) == (Level.VILLAGE, units["何埂镇"].id)
        assert (units["第一网格"].level, units["第一网格"].parent_id) == (Level.GRID, units["新桥村"].id)
        found = people(session)
        hu, luo, he = found["hu_xiaoyan"], found["luo_xiuying"], found["15823611234"]
        assert hu.mobile == "13908315599" and hu.has_role(Role.FILLER) and hu.org_unit_id == units["朱沱镇"].id
        assert found["zhang_dehua"].mobile == "15823617730"  # kept: WeCom sent none
        assert luo.org_unit_id == units["松林村"].id and luo.has_role(Role.FILLER)
        assert (he.name, he.org_unit_id, he.roles) == ("何军", units["新桥村"].id, [])
        assert found["tang_li"].org_unit_id == units["第一网格"].id
        assert found["wang_grid"].org_unit_id == units["松林村第一网格"].id
        poverty = session.scalar(select(Department).where(Department.name == "区民政局"))
        assert (found["li_minzheng"].department_id, found["li_minzheng"].org_unit_id) == (poverty.id, None)
        assert found["admin"].has_role(Role.ADMIN)
        ids = wecom_ids(session)
        assert ids["luo_xiuying"] == "Luo_XiuYing" and ids["15823611234"] == "15823611234"
        assert ids["tang_li"] == "tang_li" and "zhao_left" not in found
        audit = list(session.scalars(select(AuditEntry).where(AuditEntry.action == ACTION)))
        assert len(audit) == 3 + 3 + 2
        he_added = next(entry for entry in audit if entry.entity == "person" and entry.entity_id == str(he.id))
        assert he_added.old is None and he_added.new["mobile"] == "158****1234"
        assert he_added.new["account"] == he_added.new["wecom"] == "158****1234"
        hu_changed = next(entry for entry in audit if entry.entity == "person" and entry.entity_id == str(hu.id))
        assert hu_changed.old == {"mobile": "139****5526"} and hu_changed.new == {"mobile": "139****5599"}


def test_a_second_sync_changes_nothing(runtime, client):
    sync_contacts(runtime.factory, client, now)
    with transaction(runtime.factory) as session:
        audit_before = session.scalar(select(func.count()).select_from(AuditEntry))
    report = sync_contacts(runtime.factory, client, now)
    assert not report.changed
    assert (report.units_added, report.people_added, report.people_changed) == ([], [], [])
    with transaction(runtime.factory) as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before


def test_summary_lists_counts_and_names(runtime, client):
    summary = sync_contacts(runtime.factory, client, now).summary()
    assert "新增单位 3 个：何埂镇、新桥村、第一网格。" in summary
    assert "新增人员 3 人：何军、唐丽、王网格。" in summary and "更新人员 2 人：罗秀英、胡晓燕。" in summary
    assert "未同步 1 人：赵已离职" in summary
    assert sync_contacts(runtime.factory, client, now).summary().startswith("企业微信通讯录同步完成")


def test_an_account_tied_to_another_wecom_id_is_left_for_a_person_to_check(runtime, client, emulator):
    emulator.add_member("wu_min", "吴敏", [3])
    with transaction(runtime.factory) as session:
        identity = session.scalar(select(PlatformIdentity).where(PlatformIdentity.user_id == "wu_min"))
        identity.user_id = "wumin_old"
    report = sync_contacts(runtime.factory, client, now)
    assert "吴敏（账号 wu_min 已绑定其他企业微信账号，请人工核对）" in report.skipped
    with transaction(runtime.factory) as session:
        assert wecom_ids(session)["wu_min"] == "wumin_old"


def test_an_empty_database_gets_the_whole_tree(db, client):
    report = sync_contacts(db, client, now)
    assert report.units_added[:3] == ["重庆市永川区人民政府", "区民政局", "朱沱镇"]
    with transaction(db) as session:
        root = session.scalar(select(OrgUnit).where(OrgUnit.name == "重庆市永川区人民政府"))
        assert (root.level, root.parent_id) == (Level.DISTRICT, None)
        assert len(people(session)) == 8


def test_characters_no_database_can_hold_are_dropped_from_synced_names(runtime, client, emulator):
    # WeCom's JSON may escape anything: PostgreSQL refuses a NUL in text, a workbook cell U+FFFE or U+0001.
    emulator.add_department(10, "石桥\x00村", 3)
    emulator.add_member("sun_xiaohong", "孙小\ufffe红\x01", [10])

    sync_contacts(runtime.factory, client, now)

    with transaction(runtime.factory) as session:
        person = people(session)["sun_xiaohong"]
        assert person.name == "孙小红"
        assert session.scalar(select(OrgUnit.name).where(OrgUnit.name.like("石桥%"))) == "石桥村"
