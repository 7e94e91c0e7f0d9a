"""Departments take data from the ledgers in chat by condition, each within its own units: /查询 and /导出."""

from __future__ import annotations

import io
from datetime import date, datetime

from openpyxl import load_workbook
from sqlalchemy import select

from ledger_store.ledger_grants import set_owner
from ledger_store.ledgers import define_ledger, get_ledger, write_values
from ledger_store.models import AuditEntry, Department, OrgUnit, Person, PersonRole, Role

# The demo organisation comes with bot/demo/ledgers/01-dibao_households.xlsx: 8 households, 3 of them in 保障类别 A类.


def test_query_counts_matching_records_and_masks_what_it_shows(chat):
    reply = chat.say("li_minzheng", "/查询 低保对象台账 保障类别=A类")
    assert reply.startswith("低保对象台账中符合“保障类别=A类”的记录共 3 条。")
    assert "张德明" in reply and "5001**********8318" in reply and "131****1935" in reply
    assert "500118196003138318" not in reply and "13159081935" not in reply
    assert "共 1 条" in chat.say("li_minzheng", "/查询 低保对象台账 保障类别=A类 单位=汉东村")
    assert "共 0 条" in chat.say("li_minzheng", "/查询 低保对象台账 保障类别=C类 单位=松林村")
    assert "共 2 条" in chat.say("li_minzheng", "/query dibao_households 单位=松林村")
    everyone = chat.say("li_minzheng", "/查询 低保对象台账")
    assert "共 8 条" in everyone and "另有 3 条" in everyone


def test_query_mistakes_are_named_with_what_is_possible(chat):
    assert "可用台账" in chat.say("li_minzheng", "/查询")
    assert "您是不是要找：低保对象台账" in chat.say("li_minzheng", "/查询 低保对象台帐")
    assert "不能按“收入”查询" in chat.say("li_minzheng", "/查询 低保对象台账 收入=100")
    assert "写成 字段=值" in chat.say("li_minzheng", "/查询 低保对象台账 A类")
    unknown = chat.say("li_minzheng", "/查询 低保对象台账 单位=松林")
    assert "没有找到单位“松林”。您是不是要找：松林村、松林村第一网格？" in unknown
    assert "需要发布员权限" in chat.say("zhang_dehua", "/查询 低保对象台账")


def test_export_sends_every_matching_record_as_a_workbook_and_is_audited(chat, runtime):
    assert "正在导出低保对象台账（8 条）" in chat.say("li_minzheng", "/导出 低保对象台账")
    [push] = chat.pushes("li_minzheng")
    assert push.file_name.startswith("低保对象台账_") and push.file_name.endswith(".xlsx")
    rows = list(load_workbook(io.BytesIO(push.file_bytes)).active.iter_rows(values_only=True))
    assert rows[0] == ("身份证号", "姓名", "家庭人口", "家庭月人均收入", "联系电话", "保障类别", "单位")
    assert ("500118196003138318", "张德明", 1, 612.8, "13159081935", "A类", "松林村") in rows
    assert len(rows) == 9
    with runtime.factory() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "export"))
        assert entry.new == {"ledger": "低保对象台账", "conditions": "", "scope": None, "rows": 8, "sensitive": "full",
                             "access": "owner"}  # fmt: skip
    assert "（3 条）" in chat.say("li_minzheng", "/导出 低保对象台账 保障类别=A类")
    assert "（2 条）" in chat.say("li_minzheng", "/导出 低保对象台账 单位=松林村")  # in the same second
    sheets = [load_workbook(io.BytesIO(push.file_bytes)).active for push in chat.pushes("li_minzheng")]
    assert [sheet.max_row for sheet in sheets] == [4, 3]
    assert "（1 条）" in chat.say("li_minzheng", "/导出 低保对象台账 联系电话=13159081935")
    with runtime.factory() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).all()[-1]
        assert entry.new["conditions"] == "联系电话=131****1935"


def test_two_exports_in_one_second_are_two_files_with_two_names(chat):
    chat.say("li_minzheng", "/导出 低保对象台账 保障类别=A类")
    chat.say("li_minzheng", "/导出 低保对象台账 单位=松林村")  # the clock does not move
    first, second = chat.pushes("li_minzheng")
    assert (first.file_name, second.file_name) == (
        "低保对象台账_20241128-100000.xlsx",
        "低保对象台账_20241128-100000_2.xlsx",
    )
    # Both are in the simulator's folder: the second did not overwrite the first.
    assert [load_workbook(push.file_path).active.max_row for push in (first, second)] == [4, 3]


def count(chat, text: str, account: str = "li_minzheng") -> int:
    """The record count in the first line of a /查询 reply."""
    reply = chat.say(account, text)
    assert "记录共 " in reply, reply
    return int(reply.split("记录共 ")[1].split(" 条")[0])


def test_comparisons_on_numbers_are_numeric_and_take_full_width_and_words(chat):
    # Incomes 612.8, 530, 320 (3), 410.5 (2) and 486; household sizes 1, 1, 5, 4, 5, 5, 5, 3.
    assert chat.say("li_minzheng", "/查询 低保对象台账 家庭月人均收入<600").startswith(
        "低保对象台账中符合“家庭月人均收入<600”的记录共 7 条。"
    )
    # Compared as text, every income would be more than "1000" ("612.8" > "1000").
    assert count(chat, "/查询 低保对象台账 家庭月人均收入>1000") == 0
    assert count(chat, "/查询 低保对象台账 家庭月人均收入<1000") == 8
    assert count(chat, "/查询 低保对象台账 家庭月人均收入 >= 530") == 2
    assert count(chat, "/查询 低保对象台账 家庭月人均收入 不超过 410.5") == 5
    assert count(chat, "/查询 低保对象台账 家庭月人均收入=320.00") == 3
    assert count(chat, "/查询 低保对象台账 家庭人口＞４") == 4
    assert count(chat, "/查询 低保对象台账 家庭人口≤３") == 3
    assert count(chat, "/查询 低保对象台账 家庭人口 大于 三") == 5
    assert count(chat, "/查询 低保对象台账 家庭人口不少于5 保障类别=B类") == 1


def test_choices_text_and_empty_values(chat):
    assert count(chat, "/查询 低保对象台账 保障类别=A类,B类") == 6
    assert count(chat, "/查询 低保对象台账 保障类别=A类、B类 单位=松林村") == 2
    assert count(chat, "/查询 低保对象台账 保障类别≠C类") == 6
    assert count(chat, "/查询 低保对象台账 保障类别 不等于 A类 家庭人口>=5") == 3
    found = chat.say("li_minzheng", "/查询 低保对象台账 姓名 包含 国")
    assert "共 1 条" in found and "杨国强" in found
    assert count(chat, "/查询 低保对象台账 姓名~秀") == 1
    assert count(chat, "/查询 低保对象台账 联系电话 包含 133") == 3
    assert count(chat, "/查询 低保对象台账 联系电话=空") == 0
    assert count(chat, "/查询 低保对象台账 联系电话=非空") == 8
    assert count(chat, "/查询 低保对象台账 单位=朱沱镇") == 5  # a unit means the units below it too


def test_several_choices_are_asked_for_by_the_option_selected(chat, runtime):
    # The demo's five disabled people: 生活补贴 only (3), 护理补贴 only (1), both (1); two have no mobile.
    with runtime.factory.begin() as session:
        ledger = get_ledger(session, "disabled_people")
        values = {"name": "丙", "subsidies": []}
        write_values(session, ledger, "500118195502185413", None, values, None, "manual", datetime(2024, 11, 1))
    canlian = "wang_canlian"  # 区残联 owns 残疾人台账
    assert count(chat, "/查询 残疾人台账 享受补贴 包含 重度残疾人护理补贴", canlian) == 2
    assert count(chat, "/查询 残疾人台账 享受补贴=困难残疾人生活补贴", canlian) == 4
    assert count(chat, "/查询 残疾人台账 享受补贴 包含 困难残疾人生活补贴、重度残疾人护理补贴", canlian) == 5
    assert count(chat, "/查询 残疾人台账 享受补贴 不包含 重度残疾人护理补贴", canlian) == 4
    assert count(chat, "/查询 残疾人台账 享受补贴=空", canlian) == 1
    assert count(chat, "/查询 残疾人台账 联系电话 为空", canlian) == 3
    assert "可以这样写：享受补贴 包含 困难残疾人生活补贴" in chat.say(canlian, "/查询 残疾人台账 享受补贴>1")


def test_dates_compare_as_days_and_the_longest_field_name_wins(chat, runtime):
    fields = [
        {"name": "id_number", "label": "身份证号", "type": "id_number"},
        {"name": "head", "label": "户主", "type": "text"},
        {"name": "head_mobile", "label": "户主电话", "type": "mobile"},
        {"name": "moved_in", "label": "迁入日期", "type": "date"},
    ]
    households = {
        "500118196003138318": {"head": "张德明", "head_mobile": "13159081935", "moved_in": date(1999, 12, 31)},
        "500118197701172729": {"head": "李秀兰", "moved_in": date(2000, 1, 1)},
        "500118195502185413": {"head": "王建华", "moved_in": date(2024, 3, 9)},
    }
    with runtime.factory.begin() as session:
        ledger = define_ledger(session, "households", "户籍台账", "id_number", fields, datetime(2024, 11, 1))
        minzheng = session.scalar(select(Department).where(Department.name == "区民政局"))
        set_owner(session, ledger, minzheng, None, datetime(2024, 11, 1))
        for key, values in households.items():
            write_values(session, ledger, key, None, values, None, "manual", datetime(2024, 11, 1))
    assert count(chat, "/查询 户籍台账 迁入日期<2000-01-01") == 1
    assert count(chat, "/查询 户籍台账 迁入日期>=2000年1月1日") == 2
    assert count(chat, "/查询 户籍台账 迁入日期 晚于 2000-1-1") == 1
    assert count(chat, "/查询 户籍台账 迁入日期>2000/1/1 迁入日期<=20240309") == 1
    assert "“上个世纪”不是日期" in chat.say("li_minzheng", "/查询 户籍台账 迁入日期<上个世纪")
    assert count(chat, "/查询 户籍台账 户主电话 包含 1315") == 1
    assert count(chat, "/查询 户籍台账 户主电话=空 户主 包含 李") == 1


def test_a_wrong_operator_or_value_says_what_to_write(chat):
    def say(conditions: str) -> str:
        return chat.say("li_minzheng", f"/查询 低保对象台账 {conditions}")

    assert (
        say("保障类别>A类")
        == "“保障类别”是单选项，不能用“>”。可以这样写：保障类别=A类；保障类别=A类,B类；保障类别!=A类。"
    )
    assert say("姓名<张").startswith("“姓名”是文字，不能用“<”。可以这样写：姓名 包含 张")
    assert say("家庭人口 包含 3").startswith("“家庭人口”是整数，不能用“包含”。")
    assert say("家庭月人均收入<很多") == "“很多”不是数字，家庭月人均收入请写数字，如 家庭月人均收入<600。"
    assert say("家庭人口>2.5") == "“2.5”不是整数，家庭人口请写整数，如 家庭人口>3。"
    assert say("家庭人口<3、4") == "“<”后面只能写一个值，如 家庭人口<3。"
    assert say("家庭月人均收入 <") == "条件“家庭月人均收入 <”还缺要比较的值，如 家庭月人均收入<600。"
    assert say("家庭人口 不少于") == "条件“家庭人口 不少于”还缺要比较的值，如 家庭人口 不少于 3。"
    assert say("保障类别=D类") == "保障类别没有“D类”这一项，可选：A类、B类、C类。"
    assert say("保障类别=类") == "保障类别里“类”对应多个选项（A类、B类、C类），请写完整名称。"
    assert "只知道一部分时请写 联系电话 包含 1391" in say("联系电话=1391")
    assert say("单位>松林村").startswith("单位请写成 单位=松林村")
    assert "没看懂条件“保障类别 A类”" in say("保障类别 A类")


def add_issuer(runtime, account: str, department: str, unit: str | None) -> None:
    """An issuer of a new department hanging under `unit` (None: under no unit)."""
    with runtime.factory.begin() as session:
        parent = session.scalar(select(OrgUnit).where(OrgUnit.name == unit)) if unit else None
        office = Department(name=department, org_unit_id=parent.id if parent else None)
        session.add(office)
        session.flush()
        roles = [PersonRole(role=Role.ISSUER)]
        session.add(Person(account=account, name=department, department_id=office.id, roles=roles))


def test_a_town_department_sees_its_town_only_and_exports_the_same(chat, runtime):
    add_issuer(runtime, "zhutuo_mz", "朱沱镇民政办", "朱沱镇")
    chat.say("admin", "/台账权限 低保对象台账 共享 朱沱镇民政办")
    reply = chat.say("zhutuo_mz", "/查询 低保对象台账")
    assert reply.startswith("低保对象台账（朱沱镇范围）中记录共 5 条。")
    assert "红旗社区" not in reply and "萱花社区" not in reply
    assert count(chat, "/查询 低保对象台账 保障类别=A类", "zhutuo_mz") == 2
    assert count(chat, "/查询 低保对象台账 单位=松林村", "zhutuo_mz") == 2
    refused = chat.say("zhutuo_mz", "/查询 低保对象台账 单位=红旗社区")
    assert refused == "“红旗社区”不在本部门的数据范围内，只能查朱沱镇及下辖单位。"
    assert "不在本部门的数据范围内" in chat.say("zhutuo_mz", "/导出 低保对象台账 单位=永川区")
    assert "（3 条）" in chat.say("zhutuo_mz", "/导出 低保对象台账 单位=汉东村、石庙村")
    chat.pushes("zhutuo_mz")
    assert "（5 条）" in chat.say("zhutuo_mz", "/导出 低保对象台账")
    [push] = chat.pushes("zhutuo_mz")
    rows = list(load_workbook(io.BytesIO(push.file_bytes)).active.iter_rows(values_only=True))
    assert sorted(row[-1] for row in rows[1:]) == ["松林村", "松林村", "汉东村", "汉东村", "石庙村"]
    assert count(chat, "/查询 低保对象台账") == 8  # a district department
    assert count(chat, "/查询 低保对象台账 单位=红旗社区", "admin") == 1


def test_an_issuer_without_a_department_or_its_unit_is_told_to_ask_the_admin(chat, runtime):
    add_issuer(runtime, "floating", "区临时办", None)
    assert chat.say("floating", "/查询 低保对象台账") == "区临时办还没有设定所属单位，暂时不能查询台账。请联系管理员。"
    with runtime.factory.begin() as session:
        session.add(Person(account="loner", name="无部门", roles=[PersonRole(role=Role.ISSUER)]))
    assert chat.say("loner", "/导出 低保对象台账") == "您还没有所属部门，不能查询台账。请联系管理员。"
