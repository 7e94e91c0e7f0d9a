"""Departments take data from the ledgers in chat: /查询 counts with masked examples, /导出 sends a workbook."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from ledger_store.db import transaction
from ledger_store.ledgers import get_ledger, write_values
from ledger_store.models import AuditEntry, OrgUnit

PEOPLE = [
    # id number,           name,   size, category, mobile,        unit
    ("110102199101010078", "张三", 3, "A类", "13908315526", "松林村"),
    ("44011320141005001X", "李四", 2, "B类", "13650238871", "汉东村"),
    ("11010519491231002X", "王五", 1, "A类", None, "松林村"),
]


@pytest.fixture
def ledger(runtime):
    with transaction(runtime.factory) as session:
        dibao = get_ledger(session, "dibao_households")
        units = dict(session.execute(select(OrgUnit.name, OrgUnit.id)).all())
        for id_number, name, size, category, mobile, unit in PEOPLE:
            values = {"name": name, "household_size": size, "category": category}
            if mobile:
                values["mobile"] = mobile
            write_values(session, dibao, id_number, units[unit], values, None, "test", datetime.now(UTC))
    return runtime


def test_query_counts_matching_records_and_masks_what_it_shows(chat, ledger):
    reply = chat.say("li_minzheng", "/查询 低保对象台账 保障类别=A类")
    assert reply.startswith("低保对象台账中保障类别=A类的记录共 2 条。")
    assert "张三" in reply and "1101**********0078" in reply and "139****5526" in reply
    assert "110102199101010078" not in reply and "13908315526" not in reply
    assert "共 0 条" in chat.say("li_minzheng", "/查询 低保对象台账 保障类别=A类 单位=汉东村")
    assert "共 2 条" in chat.say("li_minzheng", "/query dibao_households 单位=松林村")


def test_query_mistakes_are_named_with_what_is_possible(chat, ledger):
    assert "可用台账" in chat.say("li_minzheng", "/查询")
    assert "您是不是要找：低保对象台账" in chat.say("li_minzheng", "/查询 低保对象台帐")
    assert "不能按“收入”查询" in chat.say("li_minzheng", "/查询 低保对象台账 收入=100")
    assert "写成 字段=值" in chat.say("li_minzheng", "/查询 低保对象台账 A类")
    assert "没有找到单位“松林”" in chat.say("li_minzheng", "/查询 低保对象台账 单位=松林")
    assert "需要发布员权限" in chat.say("zhang_dehua", "/查询 低保对象台账")


def test_export_sends_every_matching_record_as_a_workbook_and_is_audited(chat, ledger):
    assert "正在导出低保对象台账（3 条）" in chat.say("li_minzheng", "/导出 低保对象台账")
    [push] = chat.pushes("li_minzheng")
    assert push.file_name.startswith("低保对象台账_") and push.file_name.endswith(".xlsx")
    rows = list(load_workbook(io.BytesIO(push.file_bytes)).active.iter_rows(values_only=True))
    assert rows[0] == ("身份证号", "姓名", "家庭人口", "家庭月人均收入", "联系电话", "保障类别", "单位")
    assert ("110102199101010078", "张三", 3, None, "13908315526", "A类", "松林村") in rows
    assert len(rows) == 4
    with ledger.factory() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "export"))
        assert entry.new["rows"] == 3


def test_text_that_would_be_a_formula_is_defused_in_the_export():
    from handlers.ledger_commands import exported

    field = {"name": "name", "label": "姓名", "type": "text", "required": False, "choices": [], "validity_days": None}
    assert exported(field, "=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert exported(field, "张三") == "张三"
