"""Departments take data from the ledgers in chat: /查询 counts with masked examples, /导出 sends a workbook."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import select

from ledger_store.models import AuditEntry

# The demo organisation comes with bot/demo/dibao_households.csv: 8 households, 3 of them in 保障类别 A类.


def test_query_counts_matching_records_and_masks_what_it_shows(chat):
    reply = chat.say("li_minzheng", "/查询 低保对象台账 保障类别=A类")
    assert reply.startswith("低保对象台账中保障类别=A类的记录共 3 条。")
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
    assert "没有找到单位“松林”" in chat.say("li_minzheng", "/查询 低保对象台账 单位=松林")
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
        assert entry.new["rows"] == 8
    assert "（3 条）" in chat.say("li_minzheng", "/导出 低保对象台账 保障类别=A类")
    assert "（2 条）" in chat.say("li_minzheng", "/导出 低保对象台账 单位=松林村")  # in the same second
    sheets = [load_workbook(io.BytesIO(push.file_bytes)).active for push in chat.pushes("li_minzheng")]
    assert [sheet.max_row for sheet in sheets] == [4, 3]


def test_text_that_would_be_a_formula_is_defused_in_the_export():
    from handlers.ledger_commands import exported

    field = {"name": "name", "label": "姓名", "type": "text", "required": False, "choices": [], "validity_days": None}
    assert exported(field, "=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert exported(field, "张三") == "张三"
