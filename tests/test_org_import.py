"""Organisation import: the demo file, re-imports, row-numbered errors, encodings and the audit trail."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger_store.models import (
    AuditEntry,
    Department,
    Level,
    OrgUnit,
    Person,
    PersonRole,
    PlatformIdentity,
    Role,
)
from ledger_store.org_import import ImportReport, import_org

DEMO = Path(__file__).parent.parent / "bot" / "demo" / "org.csv"

ZHUTUO = """
| 单位     | 上级单位 | 层级 | 姓名   | 账号        | 角色   | 手机号      |
| 松林村   | 朱沱镇   | 村   | 张德华 | zhang_dehua | 填报员 | 15823617730 |
| 永川区   |          | 区   |        |             |        |             |
| 朱沱镇   | 永川区   | 镇   | 胡晓燕 | hu_xiaoyan  | 填报员 | 13908315526 |
| 区民政局 | 永川区   | 部门 | 李敏正 | li_minzheng | 发布员 |             |
"""


def table_rows(table: str) -> list[list[str]]:
    """A markdown-like table as rows of cells; the first row is the header."""
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in table.strip().splitlines()]


def write_csv(path: Path, table: str, encoding: str = "utf-8-sig") -> Path:
    """The table as a CSV file, the way Excel saves one."""
    with path.open("w", encoding=encoding, newline="") as file:
        csv.writer(file).writerows(table_rows(table))
    return path


def write_xlsx(path: Path, table: str) -> Path:
    """The table as a workbook; digit-only cells become numbers, as when typed into Excel."""
    workbook = openpyxl.Workbook()
    for row in table_rows(table):
        workbook.active.append([int(cell) if cell.isdigit() else cell or None for cell in row])
    workbook.save(path)
    return path


def run_import(db: sessionmaker[Session], path: Path) -> ImportReport:
    """Import in one transaction, as the caller would."""
    with db() as session, session.begin():
        return import_org(session, path)


def count(db: sessionmaker[Session], model: type) -> int:
    with db() as session:
        return session.scalar(select(func.count()).select_from(model))


def person(session: Session, account: str) -> Person:
    return session.scalars(select(Person).where(Person.account == account)).one()


def test_demo_file_imports_the_whole_organisation(db: sessionmaker[Session]) -> None:
    report = run_import(db, DEMO)

    assert report.errors == []
    assert (report.units_added, report.departments_added, report.people_added) == (10, 5, 16)
    assert report.summary() == (
        "导入完成：新增单位 10 个，更新 0 个；新增部门 5 个，更新 0 个；新增人员 16 人，更新 0 人。"
    )
    with db() as session:
        hu = person(session, "hu_xiaoyan")
        assert (hu.name, hu.org_unit.name, hu.org_unit.level) == ("胡晓燕", "朱沱镇", Level.TOWN)
        assert hu.has_role(Role.FILLER) and not hu.has_role(Role.REVIEWER)
        li = person(session, "li_minzheng")
        assert (li.department.name, li.org_unit_id, li.has_role(Role.ISSUER)) == ("区民政局", None, True)
        grid = session.scalars(select(OrgUnit).where(OrgUnit.level == Level.GRID)).one()
        assert (grid.name, grid.parent.name, grid.parent.parent.name) == (
            "松林村第一网格",
            "松林村",
            "朱沱镇",
        )
        wecom = session.scalars(select(PlatformIdentity).where(PlatformIdentity.person_id == hu.id)).one()
        assert (wecom.platform, wecom.user_id) == ("wecom", "hu_xiaoyan")
        assert person(session, "admin").has_role(Role.ADMIN)


def test_the_level_word_is_kept_so_villages_are_told_from_communities(db: sessionmaker[Session]) -> None:
    run_import(db, DEMO)
    with db() as session:
        kinds = {name: kind for name, kind in session.execute(select(OrgUnit.name, OrgUnit.kind))}
    assert kinds == {
        "永川区": "区",
        "朱沱镇": "镇",
        "松林村": "村",
        "汉东村": "村",
        "石庙村": "村",
        "松林村第一网格": "网格",
        "中山路街道": "街道",
        "红旗社区": "社区",
        "萱花社区": "社区",
        "凤凰湖社区": "社区",
    }
    # A unit imported before kinds were kept gets its kind on the next import, and the change is audited.
    with db() as session, session.begin():
        session.scalars(select(OrgUnit).where(OrgUnit.name == "红旗社区")).one().kind = None
    report = run_import(db, DEMO)
    assert report.units_updated == 1
    with db() as session:
        assert session.scalars(select(OrgUnit).where(OrgUnit.name == "红旗社区")).one().kind == "社区"
        change = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert (change.old, change.new) == ({"kind": None}, {"kind": "社区"})


def test_reimporting_the_same_file_changes_nothing(db: sessionmaker[Session]) -> None:
    run_import(db, DEMO)
    audit_entries = count(db, AuditEntry)

    report = run_import(db, DEMO)

    assert report == ImportReport(errors=[])
    assert (count(db, OrgUnit), count(db, Department), count(db, Person)) == (10, 5, 16)
    assert count(db, AuditEntry) == audit_entries


def test_edited_reimport_updates_and_keeps_roles_assigned_locally(db: sessionmaker[Session], tmp_path) -> None:
    run_import(db, write_csv(tmp_path / "first.csv", ZHUTUO))
    with db() as session, session.begin():
        hu = person(session, "hu_xiaoyan")
        hu.roles.append(PersonRole(role=Role.REVIEWER))
    edited = """
    | 单位     | 上级单位 | 层级 | 姓名   | 账号        | 角色   | 手机号      | 企业微信账号 |
    | 松林村   | 朱沱镇   | 村   | 张德华 | zhang_dehua | 审核员 | 15823617730 |              |
    | 永川区   |          | 区   |        |             |        |             |              |
    | 朱沱镇   | 永川区   | 镇   | 胡晓燕 | hu_xiaoyan  |        | 13900001111 | HuXiaoYan    |
    | 区民政局 | 永川区   | 部门 | 李敏正 | li_minzheng | 发布员 |             |              |
    """

    report = run_import(db, write_csv(tmp_path / "edited.csv", edited))

    assert report.errors == []
    assert (report.units_added, report.units_updated, report.people_added, report.people_updated) == (
        0,
        0,
        0,
        2,
    )
    with db() as session:
        hu = person(session, "hu_xiaoyan")
        assert hu.mobile == "13900001111"
        assert sorted(role.role for role in hu.roles) == [Role.FILLER, Role.REVIEWER]
        assert session.scalars(select(PlatformIdentity.user_id)).all() == ["HuXiaoYan"]
        assert [role.role for role in person(session, "zhang_dehua").roles] == [Role.REVIEWER]


def test_a_person_moved_to_another_unit_and_a_chat_id_handed_over(db: sessionmaker[Session], tmp_path) -> None:
    first = """
    | 单位   | 上级单位 | 层级 | 姓名   | 账号        | 企业微信账号 |
    | 永川区 |          | 区   |        |             |              |
    | 朱沱镇 | 永川区   | 镇   | 胡晓燕 | hu_xiaoyan  | zhutuo01     |
    | 松林村 | 朱沱镇   | 村   | 张德华 | zhang_dehua | zhutuo02     |
    """
    swapped = """
    | 单位   | 上级单位 | 层级 | 姓名   | 账号        | 企业微信账号 |
    | 永川区 |          | 区   |        |             |              |
    | 松林村 | 朱沱镇   | 村   | 胡晓燕 | hu_xiaoyan  | zhutuo02     |
    | 朱沱镇 | 永川区   | 镇   | 张德华 | zhang_dehua | zhutuo01     |
    """
    run_import(db, write_csv(tmp_path / "first.csv", first))

    report = run_import(db, write_csv(tmp_path / "swapped.csv", swapped))

    assert (report.errors, report.people_updated) == ([], 2)
    with db() as session:
        hu = person(session, "hu_xiaoyan")
        assert hu.org_unit.name == "松林村"
        ids = session.scalars(select(PlatformIdentity).where(PlatformIdentity.person_id == hu.id)).all()
        assert [identity.user_id for identity in ids] == ["zhutuo02"]


def test_every_error_is_reported_by_row_and_nothing_is_written(db: sessionmaker[Session], tmp_path) -> None:
    table = """
    | 单位   | 上级单位 | 层级 | 姓名   | 账号        | 角色          | 手机号      |
    | 永川区 |          | 区   |        |             |               |             |
    | 朱沱镇 | 永川区   | 镇   | 胡晓燕 | hu_xiaoyan  | 填报员        | 13908315526 |
    |        | 朱沱镇   | 村   | 张德华 | zhang_dehua | 填报员        |             |
    | 松林村 | 朱沱镇   | 村   | 张德华 | hu_xiaoyan  | 填报员        |             |
    | 汉东村 | 朱沱镇   | 乡镇 |        |             |               |             |
    | 石庙村 | 永川区   | 村   | 陈国平 | chen_guoping| 填表员、审核员 | 1390831552  |
    """

    report = run_import(db, write_csv(tmp_path / "bad.csv", table))

    assert report.errors == [
        "第 4 行：缺少“单位”。如果用了合并单元格，请取消合并并在每一行都填上单位名称。",
        "第 5 行：账号“hu_xiaoyan”在第 3 行是“胡晓燕”，这里却是“张德华”，同一账号不能对应不同的人。",
        "第 6 行：层级“乡镇”无法识别，请填写 区、镇、乡、街道、村、社区、网格 或 部门。",
        "第 7 行：角色“填表员”无法识别，是否是“填报员”？",
        "第 7 行：手机号“1390831552”不正确，请填写 11 位手机号码（如 13812345678），没有可留空。",
        "第 7 行：“石庙村”是村/社区，上级单位应是镇/乡/街道，但“永川区”是区。",
    ]
    assert report.summary().startswith("导入失败，未写入任何数据，请修改以下问题后重新导入：\n第 4 行：")
    for model in (OrgUnit, Department, Person, PersonRole, PlatformIdentity, AuditEntry):
        assert count(db, model) == 0, model.__name__


@pytest.mark.parametrize(
    ("table", "errors"),
    [
        (
            """
            | 单位   | 上级单位 | 层级 |
            | 朱沱镇 | 松林村   | 镇   |
            | 松林村 | 朱沱镇   | 镇   |
            """,
            [
                "第 2 行：“朱沱镇”的上级单位形成了循环：朱沱镇 → 松林村 → 朱沱镇，请检查“上级单位”。",
                "第 3 行：“松林村”的上级单位形成了循环：松林村 → 朱沱镇 → 松林村，请检查“上级单位”。",
            ],
        ),
        (
            """
            | 单位     | 上级单位 | 层级 |
            | 永川区   |          | 区   |
            | 区民政局 |          | 部门 |
            """,
            ["第 3 行：“区民政局”缺少“上级单位”，部门的上级单位应是区或镇/乡/街道。"],
        ),
        (
            """
            | 单位   | 上级单位 | 层级 |
            | 永川区 |          | 区   |
            | 朱沱镇 | 永川区   | 镇   |
            | 朱沱镇 | 永川区   | 村   |
            """,
            ["第 4 行：“朱沱镇”在第 3 行是镇/乡/街道，这里却是村/社区，同一单位在各行的层级必须一致。"],
        ),
        (
            """
            | 单位   | 上级单位 | 层级 | 姓名   | 账号       | 企业微信账号 |
            | 永川区 |          | 区   | 胡晓燕 | hu_xiaoyan | zhutuo01     |
            | 朱沱镇 | 永川区   | 镇   | 张德华 | zhang_dehua| zhutuo01     |
            """,
            ["第 3 行：企业微信账号“zhutuo01”与第 2 行“胡晓燕”的重复，每人的企业微信账号应不同。"],
        ),
        (
            """
            | 单位   | 层级 | 姓名   | 账号       |
            | 永川区 | 区   | 胡晓燕 | 胡晓燕     |
            """,
            ["第 2 行：账号“胡晓燕”只能由英文字母、数字、下划线、点或横线组成，且不超过 64 个字符。"],
        ),
        (
            """
            | 单位   | 层级 | 姓名 | 账号       | 手机号      |
            | 永川区 | 区   |      | hu_xiaoyan | 13908315526 |
            """,
            ["第 2 行：填写了账号、手机号，但缺少“姓名”。只登记单位的行，请把人员各列留空。"],
        ),
    ],
    ids=[
        "loop",
        "department-without-district",
        "level-differs",
        "duplicate-wecom-id",
        "chinese-account",
        "account-without-name",
    ],
)
def test_single_mistakes(db: sessionmaker[Session], tmp_path, table: str, errors: list[str]) -> None:
    assert run_import(db, write_csv(tmp_path / "org.csv", table)).errors == errors


def test_a_misspelt_parent_gets_a_suggestion_from_the_database(db: sessionmaker[Session], tmp_path) -> None:
    run_import(db, DEMO)
    table = """
    | 单位   | 上级单位 | 层级 |
    | 新华村 | 朱陀镇   | 村   |
    | 临江村 | 临江镇   | 村   |
    """

    report = run_import(db, write_csv(tmp_path / "more.csv", table))

    assert report.errors == [
        "第 2 行：上级单位“朱陀镇”不存在，是否是“朱沱镇”？",
        "第 3 行：上级单位“临江镇”不存在，请先添加这个单位的一行，或检查名称是否写错。",
    ]


def test_a_missing_required_header_is_one_error(db: sessionmaker[Session], tmp_path) -> None:
    table = """
    | 单位   | 上级 | 姓名   |
    | 永川区 |      | 胡晓燕 |
    """

    report = run_import(db, write_csv(tmp_path / "org.csv", table))

    assert report.errors == [
        "第 1 行缺少“层级”列。第 1 行现有的列名是：单位、上级、姓名。"
        "请在第 1 行写上列名：单位、层级（必填），以及按需填写的 上级单位、姓名、账号、角色、手机号、"
        "企业微信账号、钉钉账号。"
    ]


def test_a_csv_saved_by_excel_on_chinese_windows_is_read(db: sessionmaker[Session], tmp_path) -> None:
    report = run_import(db, write_csv(tmp_path / "gbk.csv", ZHUTUO, encoding="gb18030"))

    assert (report.errors, report.units_added, report.people_added) == ([], 3, 3)
    with db() as session:
        assert person(session, "hu_xiaoyan").org_unit.name == "朱沱镇"


def test_an_xlsx_gives_the_same_result_as_the_csv(db: sessionmaker[Session], tmp_path) -> None:
    from_xlsx = run_import(db, write_xlsx(tmp_path / "org.xlsx", ZHUTUO))
    with db() as session:
        assert person(session, "zhang_dehua").mobile == "15823617730"

    again_from_csv = run_import(db, write_csv(tmp_path / "org.csv", ZHUTUO))

    assert (from_xlsx.units_added, from_xlsx.departments_added, from_xlsx.people_added) == (3, 1, 3)
    assert again_from_csv == ImportReport(errors=[])


def test_xlsx_errors_carry_spreadsheet_row_numbers(db: sessionmaker[Session], tmp_path) -> None:
    table = """
    | 单位   | 上级单位 | 层级 |
    | 永川区 |          | 区   |
    |        |          |      |
    | 朱沱镇 | 永川区   | 乡镇 |
    """

    report = run_import(db, write_xlsx(tmp_path / "org.xlsx", table))

    assert report.errors == ["第 4 行：层级“乡镇”无法识别，请填写 区、镇、乡、街道、村、社区、网格 或 部门。"]


def test_changes_are_audited_without_full_mobile_numbers(db: sessionmaker[Session], tmp_path) -> None:
    run_import(db, write_csv(tmp_path / "first.csv", ZHUTUO))
    run_import(db, write_csv(tmp_path / "edited.csv", ZHUTUO.replace("13908315526", "13900001111")))

    with db() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        hu = person(session, "hu_xiaoyan")
    assert {entry.action for entry in entries} == {"org_import"}
    assert sorted((entry.entity, entry.old is None) for entry in entries) == [
        ("department", True),
        ("org_unit", True),
        ("org_unit", True),
        ("org_unit", True),
        ("person", False),
        ("person", True),
        ("person", True),
        ("person", True),
    ]
    update = entries[-1]
    assert (update.entity_id, update.old, update.new) == (
        str(hu.id),
        {"mobile": "139****5526"},
        {"mobile": "139****1111"},
    )
    everything = json.dumps([[entry.old, entry.new] for entry in entries], ensure_ascii=False)
    assert not re.search(r"1[3-9]\d{9}", everything)


def test_one_person_on_two_rows_gets_both_roles(db: sessionmaker[Session], tmp_path) -> None:
    table = """
    | 单位   | 上级单位 | 层级 | 姓名   | 账号       | 角色   | 手机号      |
    | 永川区 |          | 区   |        |            |        |             |
    | 朱沱镇 | 永川区   | 镇   | 胡晓燕 | hu_xiaoyan | 填报员 | 13908315526 |
    | 朱沱镇 | 永川区   | 镇   | 胡晓燕 | hu_xiaoyan | 审核人 |             |
    """

    report = run_import(db, write_csv(tmp_path / "org.csv", table))

    assert (report.errors, report.people_added) == ([], 1)
    with db() as session:
        hu = person(session, "hu_xiaoyan")
        assert (hu.mobile, sorted(role.role for role in hu.roles)) == (
            "13908315526",
            [Role.FILLER, Role.REVIEWER],
        )


def test_a_level_change_that_strands_stored_units_is_refused(db: sessionmaker[Session], tmp_path) -> None:
    run_import(db, DEMO)
    table = """
    | 单位       | 上级单位 | 层级 |
    | 中山路街道 | 永川区   | 区   |
    """

    report = run_import(db, write_csv(tmp_path / "org.csv", table))

    assert report.errors[0] == "第 2 行：“中山路街道”是区，区是最高一级，“上级单位”请留空。"
    assert report.errors[1] == (
        "第 2 行：“中山路街道”改为区后，已有的下级单位“红旗社区”（村/社区）与它的层级不再相符，"
        "请在文件中一并调整“红旗社区”的上级单位。"
    )
    assert len(report.errors) == 4
    with db() as session:
        assert session.scalars(select(OrgUnit.level).where(OrgUnit.name == "中山路街道")).one() == Level.TOWN


def test_a_chat_id_held_by_someone_outside_the_file_is_refused(db: sessionmaker[Session], tmp_path) -> None:
    run_import(db, DEMO)
    table = """
    | 单位   | 上级单位 | 层级 | 姓名   | 账号      | 企业微信账号 |
    | 永川区 |          | 区   | 钱新来 | qian_xinlai | hu_xiaoyan |
    """

    report = run_import(db, write_csv(tmp_path / "org.csv", table))

    assert report.errors == ["第 2 行：企业微信账号“hu_xiaoyan”已属于账号“hu_xiaoyan”，请检查是否填错。"]


def test_a_department_may_sit_under_a_town_but_not_under_a_village(db: sessionmaker[Session], tmp_path) -> None:
    run_import(db, DEMO)
    town = """
    | 单位         | 上级单位 | 层级 | 姓名 | 账号   | 角色   |
    | 朱沱镇民政办 | 朱沱镇   | 部门 | 何文 | he_wen | 发布员 |
    """
    report = run_import(db, write_csv(tmp_path / "town.csv", town))
    assert (report.errors, report.departments_added) == ([], 1)
    with db() as session:
        office = person(session, "he_wen").department
        assert (office.name, session.get(OrgUnit, office.org_unit_id).name) == ("朱沱镇民政办", "朱沱镇")
    village = """
    | 单位             | 上级单位 | 层级 |
    | 松林村便民服务站 | 松林村   | 部门 |
    """
    report = run_import(db, write_csv(tmp_path / "village.csv", village))
    assert report.errors == ["第 2 行：“松林村便民服务站”是部门，上级单位应是区或镇/乡/街道，但“松林村”是村/社区。"]
