"""Syncing DingTalk's contacts into the organisation, through the real client and the local DingTalk emulator over
loopback: departments walked level by level, users paged, the same rules as the WeCom sync."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.config import DingTalkConfig
from bot.contacts import sync_directory
from bot.platforms.base import DeliveryError
from bot.platforms.dingtalk import errors
from bot.platforms.dingtalk.api import DingTalkClient
from bot.platforms.dingtalk.contacts import ACTION, PLATFORM, department_users, dingtalk_directory
from bot.platforms.dingtalk.emulator import DingTalkEmulator, EmulatorSettings, serve
from bot.platforms.dingtalk.emulator_cli import seed_from_org_file
from bot.platforms.dingtalk.platform import DingTalkPlatform
from bot.platforms.token_cache import DatabaseStorage
from bot.runtime import DEMO_ORG
from cli.bot_command import main
from handlers.tasks.summary import write_workbook
from ledger_store.db import transaction
from ledger_store.models import AuditEntry, Department, Level, OrgUnit, Person, PersonRole, PlatformIdentity, Role
from ledger_store.org_import import import_org

APP_KEY, APP_SECRET = "dingcontactskey", "contacts-secret"
NOW = datetime(2024, 11, 28, 2, 0)
LINK = '=HYPERLINK("http://x","点我")'


def now() -> datetime:
    return NOW


@pytest.fixture
def emulator() -> DingTalkEmulator:
    """DingTalk's view of Yongchuan: the organisation's own name at the root, known units and people, some new."""
    emulator = DingTalkEmulator(EmulatorSettings(APP_KEY, APP_SECRET))  # pages of 2 users
    emulator.add_department(1, "重庆市永川区人民政府")  # the organisation, named unlike our district
    for dept_id, name, parent in [
        (2, "区民政局", 1),
        (3, "朱沱镇", 1),
        (4, "松林村", 3),
        (5, "第一网格", 4),  # our 松林村第一网格
        (6, "何埂镇", 1),
        (7, "新桥村", 6),
        (9, "社会事务办", 2),  # a section of an issuing department
    ]:
        emulator.add_department(dept_id, name, parent)
    emulator.add_member("admin", "陈志刚")
    emulator.add_member("li_minzheng", "李敏正", [9])
    emulator.add_member("hu_xiaoyan", "胡晓燕", [3], mobile="13908315599")  # a new mobile
    emulator.add_member("0125384626", "张德华", [4])  # known here by the 钉钉账号 the org import gave him
    emulator.add_member("15823611234", "何军", [6, 7], mobile="15823611234")  # first of dept_id_list: 何埂镇
    emulator.add_member("tang_li", "唐丽", [7], active=False)  # has not activated DingTalk yet: still staff
    emulator.add_member("wang_grid", "王网格", [5])
    return emulator


@pytest.fixture
def client(emulator: DingTalkEmulator, db) -> Iterator[DingTalkClient]:
    """The real client, talking to the emulator over HTTP on loopback."""
    handle = serve(emulator)
    storage = DatabaseStorage(db, prefix="dingtalk")
    yield DingTalkClient(APP_KEY, APP_SECRET, storage, api_base_url=handle.url, oapi_base_url=handle.url)
    handle.shutdown()


@pytest.fixture
def known(runtime) -> None:
    """张德华's 钉钉账号 as an organisation import with that column leaves it."""
    with transaction(runtime.factory) as session:
        zhang = session.scalar(select(Person).where(Person.account == "zhang_dehua"))
        session.add(PlatformIdentity(person_id=zhang.id, platform=PLATFORM, user_id="0125384626"))


def sync(factory, client: DingTalkClient):
    return sync_directory(factory, PLATFORM, DingTalkPlatform(DingTalkConfig(), client).directory(), now)


def people(session) -> dict[str, Person]:
    return {person.account: person for person in session.scalars(select(Person))}


def roles(person: Person) -> set[Role]:
    return {held.role for held in person.roles}


def ids_on(session, platform: str) -> dict[str, str]:
    query = select(Person.account, PlatformIdentity.user_id).join(PlatformIdentity)
    return dict(session.execute(query.where(PlatformIdentity.platform == platform)).all())


def audit_count(factory) -> int:
    with transaction(factory) as session:
        return session.scalar(select(func.count()).select_from(AuditEntry))


def test_the_first_sync_creates_units_and_people_and_gives_everyone_their_dingtalk_id(runtime, client, known):
    with transaction(runtime.factory) as session:
        units_before = session.scalar(select(func.count()).select_from(OrgUnit))
        wecom_before = ids_on(session, "wecom")

    report = sync(runtime.factory, client)

    assert report.units_added == ["何埂镇", "新桥村"]
    assert report.people_added == ["何军", "唐丽", "王网格"]
    assert report.people_changed == ["陈志刚", "胡晓燕", "李敏正"]  # a DingTalk id each; 胡晓燕 a mobile too
    assert report.skipped == []
    with transaction(runtime.factory) as session:
        units = {unit.name: unit for unit in session.scalars(select(OrgUnit))}
        assert len(units) == units_before + 2
        assert (units["何埂镇"].level, units["何埂镇"].parent_id) == (Level.TOWN, units["永川区"].id)
        assert (units["新桥村"].level, units["新桥村"].parent_id) == (Level.VILLAGE, units["何埂镇"].id)
        found = people(session)
        hu, he = found["hu_xiaoyan"], found["15823611234"]
        assert hu.mobile == "13908315599" and hu.has_role(Role.FILLER) and hu.org_unit_id == units["朱沱镇"].id
        assert (he.name, he.org_unit_id, he.roles) == ("何军", units["何埂镇"].id, [])
        assert found["tang_li"].org_unit_id == units["新桥村"].id
        assert found["wang_grid"].org_unit_id == units["松林村第一网格"].id
        poverty = session.scalar(select(Department).where(Department.name == "区民政局"))
        assert (found["li_minzheng"].department_id, found["li_minzheng"].org_unit_id) == (poverty.id, None)
        assert found["admin"].has_role(Role.ADMIN) and found["zhang_dehua"].has_role(Role.FILLER)
        assert found["zhang_dehua"].mobile == "15823617730"  # kept: DingTalk sent none
        assert ids_on(session, "dingtalk") == {
            "admin": "admin",
            "li_minzheng": "li_minzheng",
            "hu_xiaoyan": "hu_xiaoyan",
            "zhang_dehua": "0125384626",
            "15823611234": "15823611234",
            "tang_li": "tang_li",
            "wang_grid": "wang_grid",
        }
        assert ids_on(session, "wecom") == wecom_before  # nobody's WeCom id moved
        audit = list(session.scalars(select(AuditEntry).where(AuditEntry.action == ACTION)))
        assert len(audit) == 2 + 3 + 3
        he_added = next(entry for entry in audit if entry.entity == "person" and entry.entity_id == str(he.id))
        assert he_added.new["account"] == he_added.new["dingtalk"] == "158****1234"


def test_an_empty_database_gets_the_whole_tree_with_the_organisation_at_the_top(db, client):
    report = sync(db, client)
    assert report.units_added[:3] == ["重庆市永川区人民政府", "区民政局", "朱沱镇"]
    with transaction(db) as session:
        root = session.scalar(select(OrgUnit).where(OrgUnit.name == "重庆市永川区人民政府"))
        assert (root.level, root.parent_id) == (Level.DISTRICT, None)
        grid = session.scalar(select(OrgUnit).where(OrgUnit.name == "第一网格"))
        assert grid.level == Level.GRID
        assert len(people(session)) == 7


def test_a_second_sync_changes_nothing_and_says_so(runtime, client, known):
    sync(runtime.factory, client)
    audit_before = audit_count(runtime.factory)

    report = sync(runtime.factory, client)

    assert not report.changed
    assert report.summary() == "钉钉通讯录同步完成：没有变化。"
    assert audit_count(runtime.factory) == audit_before


def test_a_moved_renamed_or_departed_member_is_reflected_and_local_roles_stay(runtime, client, emulator, known):
    sync(runtime.factory, client)
    with transaction(runtime.factory) as session:
        hu = people(session)["hu_xiaoyan"]
        hu.roles.append(PersonRole(role=Role.REVIEWER))  # given here, not on DingTalk
    emulator.add_member("hu_xiaoyan", "胡晓燕", [4], mobile="13908315599")  # moved to 松林村
    emulator.add_member("0125384626", "张得华", [4])  # renamed
    emulator.remove_member("li_minzheng")  # left the organisation

    report = sync(runtime.factory, client)

    assert sorted(report.people_changed) == ["张得华", "胡晓燕"]
    assert (report.units_added, report.people_added) == ([], [])
    with transaction(runtime.factory) as session:
        found = people(session)
        songlin = session.scalar(select(OrgUnit).where(OrgUnit.name == "松林村"))
        assert found["hu_xiaoyan"].org_unit_id == songlin.id
        assert roles(found["hu_xiaoyan"]) == {Role.FILLER, Role.REVIEWER}
        assert found["zhang_dehua"].name == "张得华" and found["zhang_dehua"].has_role(Role.FILLER)
        # A sync never removes anyone: whoever left keeps their record, roles and ids until an admin acts.
        li = found["li_minzheng"]
        assert li.has_role(Role.ISSUER) and ids_on(session, "dingtalk")["li_minzheng"] == "li_minzheng"


def test_users_are_read_page_by_page_until_dingtalk_says_there_are_no_more(client, emulator):
    for number in range(7):
        emulator.add_member(f"grid_{number}", f"网格员{number}", [5])

    # The emulator answers at most 2 a page; the client asks for 3 a page here.
    assert [user["userid"] for user in department_users(client, 5, page_size=3)] == [
        "wang_grid",
        *(f"grid_{number}" for number in range(7)),
    ]
    assert emulator.calls.count("user_list") == 4

    members = {member.user_id for member in dingtalk_directory(client).members}
    assert members >= {"wang_grid", *(f"grid_{number}" for number in range(7)), "admin", "tang_li"}
    assert len(members) == 7 + 7


def test_a_dingtalk_refusal_halfway_is_a_chinese_reason_and_changes_nothing(runtime, client, emulator, known):
    sync(runtime.factory, client)
    emulator.add_member("hu_xiaoyan", "胡晓燕", [4])
    emulator.add_member("new_person", "新来的", [3])
    emulator.fail_oapi("user_list", 60011, after=3)  # the fourth page refused
    audit_before = audit_count(runtime.factory)

    with pytest.raises(DeliveryError) as refused:
        sync(runtime.factory, client)

    assert refused.value.reason == errors.CONTACTS_FORBIDDEN and not refused.value.retry
    assert audit_count(runtime.factory) == audit_before
    with transaction(runtime.factory) as session:
        assert "new_person" not in people(session)
        assert people(session)["hu_xiaoyan"].org_unit_id != session.scalar(
            select(OrgUnit.id).where(OrgUnit.name == "松林村")
        )


def test_an_unknown_errcode_is_named_and_a_refused_token_is_fetched_again(db, client, emulator):
    sync(db, client)
    emulator.expire_tokens()  # as after a secret reset: the stored token stops working
    emulator.add_member("new_person", "新来的", [3])
    assert sync(db, client).people_added == ["新来的"]

    emulator.fail_oapi("listsub", 60003)
    with pytest.raises(DeliveryError) as refused:
        sync(db, client)
    assert refused.value.reason == errors.unknown_code("60003")


def test_the_sync_never_takes_a_wecom_id_or_a_local_role_and_leaves_a_conflict_to_a_person(runtime, client, emulator):
    with transaction(runtime.factory) as session:  # wu_min's account is tied to another DingTalk id already
        wu = people(session)["wu_min"]
        session.add(PlatformIdentity(person_id=wu.id, platform=PLATFORM, user_id="wumin_old"))
        wu.roles.append(PersonRole(role=Role.ISSUER))
        wecom_before = ids_on(session, "wecom")
    emulator.add_member("wu_min", "吴敏", [3])

    report = sync(runtime.factory, client)

    assert "吴敏（账号 wu_min 已绑定其他钉钉账号，请人工核对）" in report.skipped
    with transaction(runtime.factory) as session:
        assert ids_on(session, "dingtalk")["wu_min"] == "wumin_old"
        assert ids_on(session, "wecom") == wecom_before
        assert roles(people(session)["wu_min"]) == {Role.FILLER, Role.ISSUER}
        assert roles(people(session)["admin"]) == {Role.ADMIN}


def test_a_department_named_like_a_formula_is_stored_as_written_and_exported_as_text(runtime, client, emulator):
    emulator.add_department(10, LINK + "\x00", 3)  # a NUL no database can hold is dropped, as for WeCom
    emulator.add_member("sun_xiaohong", "孙小红", [10])

    sync(runtime.factory, client)

    with transaction(runtime.factory) as session:
        unit = session.scalar(select(OrgUnit).where(OrgUnit.name == LINK))
        assert people(session)["sun_xiaohong"].org_unit_id == unit.id
    sheet = load_workbook(io.BytesIO(write_workbook(["单位"], [[unit.name]], ["合计"], {}, []))).active
    assert sheet["A2"].value == LINK and sheet["A2"].data_type == "s" and sheet["A2"].quotePrefix


def test_the_emulator_seeded_from_the_demo_organisation_syncs_onto_it_without_adding_anyone(runtime, db, tmp_path):
    org = tmp_path / "org.csv"
    lines = DEMO_ORG.read_text(encoding="utf-8-sig").splitlines()
    rows = [line.split(",") for line in lines[1:]]
    org.write_text(
        "\n".join([lines[0], *(",".join([*row[:-1], f"dt_{row[4]}" if row[4] else ""]) for row in rows)]),
        encoding="utf-8",
    )
    with transaction(runtime.factory) as session:  # the same file, its 钉钉账号 column filled in, imported again
        import_org(session, org)
    emulator = DingTalkEmulator(EmulatorSettings(APP_KEY, APP_SECRET))
    seed_from_org_file(emulator, org)
    handle = serve(emulator)
    try:
        storage = DatabaseStorage(db, prefix="dingtalk")
        report = sync(
            runtime.factory, DingTalkClient(APP_KEY, APP_SECRET, storage, handle.url, oapi_base_url=handle.url)
        )
    finally:
        handle.shutdown()

    assert not report.changed and report.skipped == []
    assert len(emulator.departments) == len({row[0] for row in rows})
    with transaction(runtime.factory) as session:
        assert ids_on(session, "dingtalk")["hu_xiaoyan"] == "dt_hu_xiaoyan"
        assert len(ids_on(session, "dingtalk")) == len([row for row in rows if row[4]])


# --- the command line ---------------------------------------------------------------------------------------------


def config_file(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(
        f"""
[database]
url = "sqlite:///{tmp_path / "sync.sqlite3"}"
[dingtalk]
app_key = "{APP_KEY}"
app_secret = "{APP_SECRET}"
api_base_url = "{url}"
oapi_base_url = "{url}"
""",
        encoding="utf-8",
    )
    return path


def test_sync_dingtalk_on_the_command_line_prints_what_changed(tmp_path, emulator, capsys):
    handle = serve(emulator)
    try:
        assert main(["--config", str(config_file(tmp_path, handle.url)), "sync-dingtalk"]) == 0
        first = capsys.readouterr().out
        assert main(["--config", str(config_file(tmp_path, handle.url)), "sync-dingtalk"]) == 0
        second = capsys.readouterr().out
    finally:
        handle.shutdown()
    assert first.startswith("钉钉通讯录同步完成：") and "新增人员 7 人" in first and "胡晓燕" in first
    assert second == "钉钉通讯录同步完成：没有变化。\n"


def test_sync_dingtalk_says_in_chinese_when_dingtalk_refuses(tmp_path, emulator, capsys):
    emulator.fail_oapi("listsub", 60011)
    handle = serve(emulator)
    try:
        assert main(["--config", str(config_file(tmp_path, handle.url)), "sync-dingtalk"]) == 1
    finally:
        handle.shutdown()
    assert capsys.readouterr().err == f"钉钉通讯录同步失败，没有改动任何数据：{errors.CONTACTS_FORBIDDEN}。\n"


def test_sync_dingtalk_without_an_app_says_what_to_fill_in(capsys):
    assert main(["sync-dingtalk"]) == 2
    assert capsys.readouterr().err == (
        "钉钉应用缺少 app_key、app_secret：请在配置文件的 [dingtalk] 一节填写"
        "（app_secret 也可以用环境变量 YBT_DINGTALK_APP_SECRET）。\n"
    )
