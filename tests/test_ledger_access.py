"""Departments own their ledgers: /查询 and /导出 only for the owner and those it is shared with, masked unless in full.

Each rule is tested from the side of the person who must be refused. The demo's 低保对象台账 belongs to 区民政局
(li_minzheng), 残疾人台账 to 区残联 (wang_canlian); 村社区基本情况台账 belongs to 区民政局 and is shared with 区残联.
"""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import load_workbook
from sqlalchemy import select

from cli.bot_command import main
from handlers.ledgers.catalog import ensure_standard_ledgers
from ledger_store.db import make_engine, make_session_factory, upgrade
from ledger_store.ledger_grants import set_owner, shares
from ledger_store.ledgers import define_ledger, get_ledger, get_record, write_values
from ledger_store.models import AuditEntry, Department, LedgerGrant, Person

DIBAO_HEADER = ("身份证号", "姓名", "家庭人口", "家庭月人均收入", "联系电话", "保障类别", "单位")
ZHANG_DEMING = ("500118196003138318", "张德明", 1, 612.8, "13159081935", "A类", "松林村")
ZHANG_DEMING_MASKED = ("5001**********8318", "张德明", 1, 612.8, "131****1935", "A类", "松林村")


def exported_rows(chat, account: str) -> list[tuple]:
    """The rows of the one workbook pushed to `account` since the last look."""
    [push] = [push for push in chat.pushes(account) if push.file_bytes]
    return list(load_workbook(io.BytesIO(push.file_bytes)).active.iter_rows(values_only=True))


def count(chat, account: str, text: str) -> int:
    """The record count in the first line of a /查询 reply."""
    reply = chat.say(account, text)
    assert "记录共 " in reply, reply
    return int(reply.split("记录共 ")[1].split(" 条")[0])


def export_entries(runtime) -> list[AuditEntry]:
    """Every export audit entry, oldest first."""
    with runtime.factory() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == "export").order_by(AuditEntry.id)))


def shared_with(session, code: str) -> list[tuple[str, bool]]:
    """The departments a ledger is shared with, by name, and whether in full."""
    return [(department.name, full) for department, full in shares(session, get_ledger(session, code))]


REFUSED = "低保对象台账归区民政局所有，区残联没有查看权限。如需使用，请联系区民政局或管理员开通共享。"


def test_a_department_neither_owning_nor_shared_a_ledger_is_refused_with_the_owner_named(chat, runtime):
    assert chat.say("wang_canlian", "/查询 低保对象台账") == REFUSED
    assert chat.say("wang_canlian", "/查询 低保对象台账 保障类别=A类") == REFUSED
    assert chat.say("wang_canlian", "/导出 低保对象台账") == REFUSED
    assert chat.say("wang_canlian", "/export dibao_households 单位=松林村") == REFUSED
    assert chat.pushes("wang_canlian") == []
    assert export_entries(runtime) == []
    # The other way round too: 区民政局 does not read 区残联's register.
    refused = chat.say("li_minzheng", "/导出 残疾人台账")
    assert refused == "残疾人台账归区残联所有，区民政局没有查看权限。如需使用，请联系区残联或管理员开通共享。"
    # The list of ledgers offered is the ones the asker may read.
    assert chat.say("wang_canlian", "/查询").endswith("可用台账：残疾人台账、村社区基本情况台账")


def test_a_department_without_any_ledger_is_told_whom_to_ask(chat, town_office):
    assert chat.say(town_office, "/查询").endswith("本部门还没有可查看的台账，请联系管理员开通")
    refused = chat.say(town_office, "/导出 低保对象台账 单位=松林村")
    assert refused == "低保对象台账归区民政局所有，朱沱镇民政办没有查看权限。如需使用，请联系区民政局或管理员开通共享。"


def test_a_masked_share_exports_masked_numbers_and_refuses_counting_on_them(chat, runtime):
    shared = chat.say("admin", "/台账权限 低保对象台账 共享 区残联")
    assert shared == "已把低保对象台账共享给区残联：可以查询、导出，身份证号、联系电话打码。"
    assert chat.pushed_texts("wang_canlian") == [
        "区民政局的低保对象台账已共享给本部门："
        "可以用“/查询 低保对象台账”“/导出 低保对象台账”查看（身份证号、联系电话打码）。"
    ]
    reply = chat.say("wang_canlian", "/导出 低保对象台账")
    assert reply == "正在导出低保对象台账（8 条），马上以文件发给您。其中身份证号、联系电话已打码。"
    rows = exported_rows(chat, "wang_canlian")
    assert rows[0] == DIBAO_HEADER and len(rows) == 9
    assert ZHANG_DEMING_MASKED in rows and ZHANG_DEMING not in rows
    assert all("*" in row[0] and "*" in row[4] for row in rows[1:])
    [entry] = export_entries(runtime)
    assert entry.new["sensitive"] == "masked" and entry.new["access"] == "shared" and entry.new["rows"] == 8

    # Counting with 包含 would recover a masked number digit by digit: refused, and nothing is counted.
    id_refused = chat.say("wang_canlian", "/查询 低保对象台账 身份证号 包含 5001")
    assert id_refused == (
        "“身份证号”是敏感字段，您看到的是打码后的内容，不能按它筛选（逐位试探可以拼出完整号码）。"
        "可以写 身份证号=空 或 身份证号=非空。"
    )
    assert chat.say("wang_canlian", "/查询 低保对象台账 联系电话 包含 139").startswith("“联系电话”是敏感字段")
    assert chat.say("wang_canlian", "/查询 低保对象台账 联系电话~1315").startswith("“联系电话”是敏感字段")
    assert chat.say("wang_canlian", "/查询 低保对象台账 联系电话 不包含 9").startswith("“联系电话”是敏感字段")
    assert chat.say("wang_canlian", "/查询 低保对象台账 联系电话>1").startswith("“联系电话”是敏感字段")
    whole = chat.say("wang_canlian", "/查询 低保对象台账 身份证号=500118196003138318")
    assert whole.startswith("“身份证号”是敏感字段") and "500118196003138318" not in whole
    assert chat.say("wang_canlian", "/导出 低保对象台账 联系电话 包含 139").startswith("“联系电话”是敏感字段")
    assert chat.pushes("wang_canlian") == [] and len(export_entries(runtime)) == 1
    # Whether a number is there at all gives nothing away; other fields filter as usual.
    assert count(chat, "wang_canlian", "/查询 低保对象台账 联系电话=非空") == 8
    assert count(chat, "wang_canlian", "/查询 低保对象台账 身份证号 为空") == 0
    assert count(chat, "wang_canlian", "/查询 低保对象台账 保障类别=A类 单位=松林村") == 1


def test_a_full_share_exports_whole_numbers_and_may_filter_on_them(chat, runtime):
    assert "可以查询、导出全部字段" in chat.say("admin", "/台账权限 低保对象台账 共享 区残联 完整")
    assert "查看。" in chat.pushed_texts("wang_canlian")[0]  # no masking mentioned
    assert chat.say("wang_canlian", "/导出 低保对象台账") == "正在导出低保对象台账（8 条），马上以文件发给您。"
    assert ZHANG_DEMING in exported_rows(chat, "wang_canlian")
    assert export_entries(runtime)[-1].new["sensitive"] == "full"
    assert export_entries(runtime)[-1].new["access"] == "shared_full"
    assert count(chat, "wang_canlian", "/查询 低保对象台账 联系电话 包含 139") == 1
    # Downgraded to masked: the next export is masked again.
    assert "打码" in chat.say("admin", "/台账权限 低保对象台账 共享 区残联")
    chat.say("wang_canlian", "/导出 低保对象台账")
    assert ZHANG_DEMING_MASKED in exported_rows(chat, "wang_canlian")


def test_a_share_taken_back_refuses_again_and_the_department_is_told(chat, runtime):
    chat.say("admin", "/台账权限 低保对象台账 共享 区残联")
    chat.pushes("wang_canlian")
    answer = chat.say("admin", "/台账权限 低保对象台账 取消共享 区残联")
    assert answer == "已取消低保对象台账对区残联的共享，区残联不能再查询、导出。"
    assert chat.pushed_texts("wang_canlian") == [
        "低保对象台账已不再共享给本部门，不能再查询、导出；如需使用，请联系管理员。"
    ]
    assert chat.say("wang_canlian", "/导出 低保对象台账") == REFUSED
    assert chat.say("admin", "/台账权限 低保对象台账 取消共享 区残联") == "低保对象台账没有共享给区残联，不用取消。"
    with runtime.factory() as session:
        actions = [entry.action for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        assert actions[-2:] == ["ledger_share", "ledger_unshare"]
        assert shared_with(session, "dibao_households") == []


def test_only_admins_change_ledger_permissions(chat, runtime):
    for account in ("li_minzheng", "wang_canlian"):  # the owner's issuer included
        assert (
            chat.say(account, "/台账权限 低保对象台账 共享 区残联 完整")
            == "抱歉，“/台账权限”需要管理员权限。如需开通，请联系管理员。"
        )
        assert "需要管理员权限" in chat.say(account, "/ledger-access 低保对象台账 归属 区残联")
    assert "需要管理员权限" in chat.say("zhang_dehua", "/台账权限")
    assert "需要管理员权限" in chat.say("hu_xiaoyan", "/台账权限 低保对象台账 取消共享 区民政局")
    assert chat.say("wang_canlian", "/查询 低保对象台账") == REFUSED
    with runtime.factory() as session:
        assert get_ledger(session, "dibao_households").owner.name == "区民政局"
        assert shared_with(session, "dibao_households") == []
        assert shared_with(session, "unit_profile") == [("区残联", False)]  # the catalog's share, untouched
    assert "台账权限" not in chat.say("li_minzheng", "/帮助")
    assert "/台账权限" in chat.say("admin", "/帮助")


def test_the_admin_sees_owners_shares_and_sensitive_fields(chat):
    assert chat.say("admin", "/台账权限").splitlines()[1:4] == [
        "· 低保对象台账：归区民政局；未共享；敏感字段 身份证号、联系电话",
        "· 残疾人台账：归区残联；未共享；敏感字段 身份证号、联系电话",
        "· 村社区基本情况台账：归区民政局；共享给 区残联（打码）；敏感字段 书记手机号",
    ]
    one = chat.say("admin", "/ledger-access 残疾人台账")
    assert one.splitlines()[1] == "· 残疾人台账：归区残联；未共享；敏感字段 身份证号、联系电话"
    assert "您是不是要找：区残联" in chat.say("admin", "/台账权限 低保对象台账 共享 区残廉")
    assert "没有找到台账“低保台账”" in chat.say("admin", "/台账权限 低保台账 共享 区残联")
    assert chat.say("admin", "/台账权限 低保对象台账 共享").startswith("用法：")
    assert chat.say("admin", "/台账权限 低保对象台账 送给 区残联").startswith("用法：")
    assert chat.say("admin", "/台账权限 低保对象台账 归属 区残联、区民政局").startswith("用法：")
    assert (
        chat.say("admin", "/台账权限 低保对象台账 共享 区民政局")
        == "区民政局是低保对象台账的归属部门，本来就能查看全部字段，不用共享。"
    )
    assert chat.say("admin", "/台账权限 低保对象台账 归属 区民政局") == "低保对象台账本来就归区民政局，没有变化。"


def test_a_new_owner_reads_everything_and_the_former_owner_is_refused(chat, runtime):
    answer = chat.say("admin", "/台账权限 低保对象台账 归属 区残联")
    assert answer == (
        "低保对象台账已改归区残联：区残联可以查询、导出全部字段。区民政局不再能查看，如仍需使用，请把台账共享给它。"
    )
    assert chat.pushed_texts("wang_canlian") == [
        "管理员已把低保对象台账交给本部门管理：可以用“/查询 低保对象台账”“/导出 低保对象台账”查看全部字段。"
    ]
    assert "改归区残联管理，本部门不能再查询、导出" in chat.pushed_texts("li_minzheng")[0]
    refused = chat.say("li_minzheng", "/查询 低保对象台账")
    assert refused == "低保对象台账归区残联所有，区民政局没有查看权限。如需使用，请联系区残联或管理员开通共享。"
    chat.say("wang_canlian", "/导出 低保对象台账")
    assert ZHANG_DEMING in exported_rows(chat, "wang_canlian")
    with runtime.factory() as session:
        admin = session.scalar(select(Person).where(Person.account == "admin"))
        entry = session.scalar(
            select(AuditEntry).where(AuditEntry.action == "ledger_owner", AuditEntry.actor_id == admin.id)
        )
        assert (entry.old, entry.new) == ({"owner": "区民政局"}, {"owner": "区残联"})


def test_start_up_never_overwrites_what_an_admin_set(chat, runtime, clock):
    chat.say("admin", "/台账权限 低保对象台账 归属 区残联")
    chat.say("admin", "/台账权限 村社区基本情况台账 取消共享 区残联")
    with runtime.factory.begin() as session:
        ensure_standard_ledgers(session, clock.now())  # what every start does
    lines = chat.say("admin", "/台账权限").splitlines()
    assert lines[1] == "· 低保对象台账：归区残联；未共享；敏感字段 身份证号、联系电话"
    assert lines[3] == "· 村社区基本情况台账：归区民政局；未共享；敏感字段 书记手机号"


def test_a_ledger_is_shared_with_several_departments_at_once(chat, runtime, town_office):
    answer = chat.say("admin", "/台账权限 残疾人台账 共享 区民政局、朱沱镇民政办 完整")
    assert answer.splitlines() == [
        "已把残疾人台账共享给区民政局：可以查询、导出全部字段。",
        "已把残疾人台账共享给朱沱镇民政办：可以查询、导出全部字段。",
    ]
    assert len(chat.pushed_texts("li_minzheng")) == 1 and len(chat.pushed_texts(town_office)) == 1
    assert count(chat, town_office, "/查询 残疾人台账 身份证号 包含 5001") == 5
    assert count(chat, "li_minzheng", "/查询 残疾人台账 身份证号 包含 5001") == 5


def test_a_database_from_before_owners_gets_them_at_start_up(chat, runtime, clock):
    with runtime.factory.begin() as session:
        for code in ("dibao_households", "disabled_people", "unit_profile"):
            get_ledger(session, code).owner = None
        for grant in session.scalars(select(LedgerGrant)):
            session.delete(grant)
    assert chat.say("li_minzheng", "/查询 低保对象台账").startswith("低保对象台账还没有归属部门")
    with runtime.factory.begin() as session:
        ensure_standard_ledgers(session, clock.now())
    assert count(chat, "li_minzheng", "/查询 低保对象台账") == 8
    assert chat.say("admin", "/台账权限").splitlines()[3] == (
        "· 村社区基本情况台账：归区民政局；共享给 区残联（打码）；敏感字段 书记手机号"
    )


def test_standard_ledgers_get_their_owners_when_import_org_brings_the_departments(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    monkeypatch.setenv("YBT_DATABASE_URL", url)
    database = make_engine(url)
    upgrade(database)
    factory = make_session_factory(database)
    with factory.begin() as session:  # the first start: no departments yet
        ensure_standard_ledgers(session, datetime(2024, 11, 28))
        assert get_ledger(session, "dibao_households").owner is None
    assert main(["import-org", "bot/demo/org.csv"]) == 0
    with factory() as session:
        owners = {code: get_ledger(session, code).owner.name for code in ("dibao_households", "disabled_people")}
        assert owners == {"dibao_households": "区民政局", "disabled_people": "区残联"}
    database.dispose()


def test_a_ledger_nobody_owns_is_for_admins_only_and_masked_for_them(chat, runtime, clock):
    fields = [
        {"name": "id_number", "label": "身份证号", "type": "id_number"},
        {"name": "head", "label": "户主", "type": "text", "sensitive": True},
        {"name": "mobile", "label": "户主电话", "type": "mobile"},
        {"name": "size", "label": "人口", "type": "integer"},
    ]
    with runtime.factory.begin() as session:
        ledger = define_ledger(session, "households", "户籍台账", "id_number", fields, clock.now())
        write_values(session, ledger, "500118196003138318", None,
                     {"head": "张德明", "mobile": "13159081935", "size": 3}, None, "manual", clock.now())  # fmt: skip
    refused = "户籍台账还没有归属部门，暂时只有管理员能查看。请联系管理员设定归属部门。"
    assert chat.say("li_minzheng", "/查询 户籍台账") == refused
    assert chat.say("wang_canlian", "/导出 户籍台账") == refused
    shown = chat.say("admin", "/查询 户籍台账")
    assert "共 1 条" in shown and "5001**********8318 张** 131****1935 3" in shown
    assert (
        chat.say("admin", "/导出 户籍台账")
        == "正在导出户籍台账（1 条），马上以文件发给您。其中身份证号、户主、户主电话已打码。"
    )
    assert exported_rows(chat, "admin")[1] == ("5001**********8318", "张**", "131****1935", 3, None)
    assert export_entries(runtime)[-1].new["access"] == "admin"
    assert chat.say("admin", "/查询 户籍台账 户主 包含 张").startswith("“户主”是敏感字段")
    assert count(chat, "admin", "/查询 户籍台账 人口>2") == 1


def test_the_owner_finds_people_by_part_of_their_id_number(chat, runtime, clock):
    assert count(chat, "li_minzheng", "/查询 低保对象台账 身份证号 包含 5001181975") == 3
    assert count(chat, "li_minzheng", "/查询 低保对象台账 身份证号~8318") == 1
    assert count(chat, "li_minzheng", "/查询 低保对象台账 身份证号 不包含 5001181975") == 5
    assert count(chat, "li_minzheng", "/查询 低保对象台账 身份证号 包含 5001181975 保障类别=A类") == 1
    assert count(chat, "li_minzheng", "/查询 低保对象台账 身份证号!=500118196003138318") == 7
    assert count(chat, "li_minzheng", "/查询 低保对象台账 身份证号=非空") == 8
    whole = chat.say("li_minzheng", "/查询 低保对象台账 身份证号=500118196003138318")
    assert whole.startswith("低保对象台账中符合“身份证号=5001**********8318”的记录共 1 条。")
    assert "500118196003138318" not in whole  # chat masks even what the asker typed
    with runtime.factory.begin() as session:
        ledger = get_ledger(session, "dibao_households")
        write_values(session, ledger, "44011320141005001X", None, {"name": "李四"}, None, "manual", clock.now())
    assert count(chat, "li_minzheng", "/查询 低保对象台账 身份证号 包含 005001x") == 1
    assert count(chat, "li_minzheng", "/查询 低保对象台账 身份证号=44011320141005001x") == 1
    # A unit ledger's key is the unit's name.
    assert count(chat, "li_minzheng", "/查询 村社区基本情况台账 单位名称 包含 村") == 3
    assert count(chat, "li_minzheng", "/查询 村社区基本情况台账 单位名称=汉东村") == 1


def test_records_that_left_their_unit_are_not_counted_or_exported(chat, runtime, clock):
    with runtime.factory.begin() as session:
        record = get_record(session, get_ledger(session, "dibao_households"), "500118196003138318")
        record.left_at, record.left_reason = clock.now().replace(tzinfo=None), "迁出"
    assert count(chat, "li_minzheng", "/查询 低保对象台账") == 7
    assert count(chat, "li_minzheng", "/查询 低保对象台账 单位=松林村") == 1
    assert "（7 条）" in chat.say("li_minzheng", "/导出 低保对象台账")
    assert all(row[0] != "500118196003138318" for row in exported_rows(chat, "li_minzheng"))


def test_an_explicitly_sensitive_field_is_masked_and_an_explicitly_open_mobile_is_not(runtime, chat, clock):
    fields = [
        {"name": "code", "label": "编号", "type": "text"},
        {"name": "address", "label": "住址", "type": "text", "sensitive": True},
        {"name": "hotline", "label": "值班电话", "type": "mobile", "sensitive": False},
    ]
    with runtime.factory.begin() as session:
        ledger = define_ledger(session, "hotlines", "值班台账", "code", fields, clock.now())
        set_owner(session, ledger, session.scalar(select(Department).where(Department.name == "区民政局")), None,
                  clock.now())  # fmt: skip
        write_values(session, ledger, "A1", None, {"address": "松林村3组", "hotline": "13983160217"}, None,
                     "manual", clock.now())  # fmt: skip
    chat.say("admin", "/台账权限 值班台账 共享 区残联")
    chat.say("wang_canlian", "/导出 值班台账")
    assert exported_rows(chat, "wang_canlian")[1] == ("A1", "松****", "13983160217", None)
    # Chat masks every mobile, whatever the definition says.
    assert "139****0217" in chat.say("wang_canlian", "/查询 值班台账")
    assert count(chat, "wang_canlian", "/查询 值班台账 值班电话 包含 1398") == 1
