"""Daily ledger upkeep in chat, without a task: /登记, /更新, /我的台账 and /核实, each for a filler in her unit.

The demo organisation: 张德华 (zhang_dehua) keeps 松林村, 罗秀英 (luo_xiuying) 汉东村. The demo's 残疾人台账 has
刘大贵, 陈小芳, 王德明 in 松林村 and 赵桂英, 周小兵 in 汉东村; its 低保对象台账 张德明 and 李秀兰 in 松林村. The clock
stands at 2024-11-28 10:00 in Chongqing. The event ledgers are defined here with standard_set.md's codes and fields.
"""

from __future__ import annotations

import pytest

from ledger_store.ledgers import define_ledger, get_ledger, get_record, history
from ledger_store.models import LedgerRecord, OrgUnit
from tests.conftest import Dialogue

LIU_DAGUI = "500118195803120218"  # 残疾人台账, 松林村: 肢体 二级, 13594021736
ZHAO_GUIYING = "500118196607280825"  # 残疾人台账, 汉东村: 听力 二级, 18623095521
NEW_PERSON = "110101199003070011"  # a valid ID number no ledger knows
ELSEWHERE = "该身份证号已登记在其他村（社区），不能在本单位修改；如需迁入请联系镇街。"


def choice(*labels: str) -> list[dict[str, str]]:
    return [{"value": label, "label": label} for label in labels]


MEDIATION_FIELDS = [
    {"name": "case_no", "label": "案件编号", "type": "text", "required": True},
    {"name": "registered_on", "label": "登记日期", "type": "date", "required": True},
    {"name": "parties", "label": "当事人", "type": "text", "required": True},
    {"name": "dispute_kind", "label": "纠纷类型", "type": "select_one",
     "choices": choice("婚姻家庭", "邻里纠纷", "土地承包", "劳动争议", "其他")},
    {"name": "summary", "label": "简要情况", "type": "text"},
    {"name": "outcome", "label": "调解结果", "type": "select_one", "choices": choice("调解中", "调解成功", "调解未成功"),
     "validity_days": 30},
]  # fmt: skip
HAZARD_FIELDS = [
    {"name": "hazard_no", "label": "隐患编号", "type": "text", "required": True},
    {"name": "found_on", "label": "发现日期", "type": "date", "required": True},
    {"name": "place", "label": "隐患地点", "type": "text", "required": True},
    {"name": "hazard_kind", "label": "隐患类型", "type": "select_one",
     "choices": choice("电气线路", "燃气", "堵塞通道", "易燃物堆放", "其他")},
    {"name": "status", "label": "整改状态", "type": "select_one", "choices": choice("未整改", "整改中", "已整改"),
     "validity_days": 30},
    {"name": "responsible", "label": "责任人", "type": "text"},
    {"name": "responsible_mobile", "label": "责任人电话", "type": "mobile"},
]  # fmt: skip


@pytest.fixture
def events(runtime):
    """The two event ledgers of the standard set, as helper A's workbooks will define them."""
    with runtime.factory.begin() as session:
        now = runtime.engine.now()
        define_ledger(session, "mediation_cases", "矛盾调解台账", "case_no", MEDIATION_FIELDS, now,
                      board="平安法治", entity_kind="event")  # fmt: skip
        define_ledger(session, "fire_hazards", "消防隐患台账（除险清患）", "hazard_no", HAZARD_FIELDS, now,
                      board="平安法治", entity_kind="event")  # fmt: skip


def record_of(runtime, code: str, key: str) -> LedgerRecord | None:
    with runtime.factory() as session:
        return get_record(session, get_ledger(session, code), key)


def unit_name(runtime, record: LedgerRecord) -> str:
    with runtime.factory() as session:
        return session.get(OrgUnit, record.org_unit_id).name


def register_case(chat: Dialogue, account: str, parties: str) -> str:
    """A whole /登记 of a mediation case; the reply to 确认."""
    chat.say(account, "/登记 矛盾调解")
    chat.say(account, "今天")
    chat.say(account, parties)
    chat.say(account, "2")
    chat.say(account, "跳过")
    chat.say(account, "调解中")
    return chat.say(account, "确认")


# /登记


def test_registering_an_event_generates_its_key_and_saves_it_in_the_speakers_unit(chat, runtime, events):
    started = chat.say("zhang_dehua", "/登记 矛盾调解")
    assert "开始登记矛盾调解台账，共 5 项。案件编号保存时自动生成。" in started
    assert "第1/5项\n登记日期" in started and "今天发生的直接回复“今天”" in started
    assert "当事人" in chat.say("zhang_dehua", "今天")
    assert "纠纷类型" in chat.say("zhang_dehua", "张三、李四")
    assert "简要情况（选填" in chat.say("zhang_dehua", "2")
    assert "调解结果" in chat.say("zhang_dehua", "跳过")
    summary = chat.say("zhang_dehua", "调解中")
    assert "1. 登记日期：2024年11月28日" in summary and "4. 简要情况：（未填）" in summary
    assert "回复“确认”保存" in summary
    saved = chat.say("zhang_dehua", "确认")
    assert "已登记到矛盾调解台账，案件编号：TJ-20241128-001。" in saved
    record = record_of(runtime, "mediation_cases", "TJ-20241128-001")
    assert record.values == {"registered_on": "2024-11-28", "parties": "张三、李四", "dispute_kind": "邻里纠纷",
                             "outcome": "调解中"}  # fmt: skip
    assert unit_name(runtime, record) == "松林村"
    changes = history(runtime.factory(), get_ledger(runtime.factory(), "mediation_cases"), "TJ-20241128-001")
    assert {change.source for change in changes} == {"登记（聊天）"}
    # the session is closed: the next message is ordinary chat again
    assert record_of(runtime, "mediation_cases", "TJ-20241128-002") is None


def test_the_day_numbers_keys_one_after_another_across_cadres_and_ledgers(chat, runtime, events):
    assert "TJ-20241128-001" in register_case(chat, "zhang_dehua", "甲、乙")
    assert "TJ-20241128-002" in register_case(chat, "luo_xiuying", "丙、丁")
    chat.clock.advance(days=1)
    assert "TJ-20241129-001" in register_case(chat, "zhang_dehua", "戊、己")
    chat.say("zhang_dehua", "/登记 消防隐患")
    chat.say("zhang_dehua", "跳过")  # 发现日期: today
    chat.say("zhang_dehua", "松林村3组仓库")
    chat.say("zhang_dehua", "易燃物堆放")
    chat.say("zhang_dehua", "未整改")
    chat.say("zhang_dehua", "跳过")
    chat.say("zhang_dehua", "跳过")
    assert "XH-20241129-001" in chat.say("zhang_dehua", "确认")
    assert unit_name(runtime, record_of(runtime, "mediation_cases", "TJ-20241128-002")) == "汉东村"
