"""Daily ledger upkeep in chat, without a task: /登记, /更新, /我的台账 and /核实, each for a filler in her unit.

The demo organisation: 张德华 (zhang_dehua) keeps 松林村, 罗秀英 (luo_xiuying) 汉东村. The demo's 残疾人台账 has
刘大贵, 陈小芳, 王德明 in 松林村 and 赵桂英, 周小兵 in 汉东村; its 低保对象台账 张德明 and 李秀兰 in 松林村. The clock
stands at 2024-11-28 10:00 in Chongqing. The event ledgers are defined here with standard_set.md's codes and fields.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from bot.config import Config
from bot.runtime import build_runtime
from ledger_store.ledgers import get_ledger, get_record, history, write_values
from ledger_store.models import AuditEntry, LedgerRecord, LedgerSession, OrgUnit, Person
from tests.conftest import Dialogue

LIU_DAGUI = "500118195803120218"  # 残疾人台账, 松林村: 肢体 二级, 13594021736
ZHAO_GUIYING = "500118196607280825"  # 残疾人台账, 汉东村: 听力 二级, 18623095521
NEW_PERSON = "110101199003070011"  # a valid ID number no ledger knows
ELSEWHERE = "该身份证号已登记在其他村（社区），不能在本单位修改；如需迁入请联系镇街。"


def record_of(runtime, code: str, key: str) -> LedgerRecord | None:
    with runtime.factory() as session:
        return get_record(session, get_ledger(session, code), key)


def unit_name(runtime, record: LedgerRecord) -> str:
    with runtime.factory() as session:
        return session.get(OrgUnit, record.org_unit_id).name


def restart(chat: Dialogue, engine) -> Dialogue:
    """The bot started again on the same database: a new engine and session factory, nothing kept in memory."""
    restarted = build_runtime(Config(), chat.platform, clock=chat.clock, database=engine)
    again = Dialogue(restarted, restarted.platform, chat.clock)
    again._ids = chat._ids  # the platform's message ids go on; a repeated id would be dropped as a duplicate
    return again


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


def test_two_cadres_saving_at_the_same_moment_get_different_numbers(chat, runtime, engine):
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite has one writer at a time: two saves never overlap")
    chat.say("zhang_dehua", "/登记 矛盾调解")
    for reply in ("今天", "甲、乙", "2", "跳过", "调解中"):
        chat.say("zhang_dehua", reply)
    # 汉东村's save of the day's first case is under way in another transaction when 张德华 says 确认
    other = runtime.factory()
    ledger = get_ledger(other, "mediation_cases")
    write_values(other, ledger, "TJ-20241128-001", None, {"parties": "丙、丁"}, None, "test", runtime.engine.now())
    saved: list[str] = []
    saving = threading.Thread(target=lambda: saved.append(chat.say("zhang_dehua", "确认")))
    saving.start()
    time.sleep(1.5)  # her insert of the same number now waits on the other transaction
    other.commit()
    other.close()
    saving.join(30)
    assert saved and "TJ-20241128-002" in saved[0]
    assert record_of(runtime, "mediation_cases", "TJ-20241128-002").values["parties"] == "甲、乙"
    assert record_of(runtime, "mediation_cases", "TJ-20241128-001").values == {"parties": "丙、丁"}


def test_registering_an_event_generates_its_key_and_saves_it_in_the_speakers_unit(chat, runtime):
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
    with runtime.factory() as session:
        changes = history(session, get_ledger(session, "mediation_cases"), "TJ-20241128-001")
    assert {change.source for change in changes} == {"登记（聊天）"}
    # the session is closed: the next message is ordinary chat again
    assert record_of(runtime, "mediation_cases", "TJ-20241128-002") is None


def test_the_day_numbers_keys_one_after_another_across_cadres_and_ledgers(chat, runtime):
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


def test_registering_a_person_asks_the_id_number_first_and_saves_masked_in_chat(chat, runtime):
    started = chat.say("zhang_dehua", "/登记 残疾人")
    assert "开始登记残疾人台账，共 7 项。" in started and "第1/7项\n身份证号" in started
    assert "姓名" in chat.say("zhang_dehua", NEW_PERSON)
    chat.say("zhang_dehua", "王小明")
    assert "残疾等级" in chat.say("zhang_dehua", "4")
    chat.say("zhang_dehua", "三级")
    assert "联系电话（选填" in chat.say("zhang_dehua", "跳过")
    wrong = chat.say("zhang_dehua", "12345")
    assert "第6/7项\n联系电话" in wrong and "手机号" in wrong  # the same question again, with what is wrong
    assert "第7/7项\n现居住地址" in chat.say("zhang_dehua", "13800138000")
    summary = chat.say("zhang_dehua", "跳过")
    assert "1. 身份证号：1101**********0011" in summary and "6. 联系电话：138****8000" in summary
    assert "3. 残疾类别：肢体" in summary and "5. 享受补贴：（未填）" in summary
    assert NEW_PERSON not in summary and "13800138000" not in summary
    assert chat.say("zhang_dehua", "修改 2").startswith("第2/7项\n姓名")
    assert "2. 姓名：王晓明" in chat.say("zhang_dehua", "王晓明")  # back to the summary after 修改
    saved = chat.say("zhang_dehua", "确认")
    assert saved.startswith("已登记到残疾人台账。") and NEW_PERSON not in saved
    record = record_of(runtime, "disabled_people", NEW_PERSON)
    assert record.values == {"name": "王晓明", "disability_kind": "肢体", "disability_grade": "三级",
                             "mobile": "13800138000"}  # fmt: skip
    assert unit_name(runtime, record) == "松林村"
    with runtime.factory() as session:
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "ledger_record", AuditEntry.entity_id == str(record.id))
        ).one()
    assert "13800138000" not in str(audit.new) and "138****8000" in str(audit.new)


def test_registering_a_person_already_in_the_unit_offers_the_update(chat, runtime):
    chat.say("zhang_dehua", "/登记 残疾人台账")
    offered = chat.say("zhang_dehua", LIU_DAGUI)
    assert "该身份证号已在本单位的残疾人台账中（刘大贵）。要修改这条记录请回复“更新”" in offered
    switched = chat.say("zhang_dehua", "更新")
    assert "开始修改残疾人台账中 刘大贵 的记录，共 6 项" in switched and "当前：刘大贵（2024-11-28 核实）" in switched


def test_registering_a_person_of_another_unit_is_refused_without_a_trace_of_them(chat, runtime):
    before = record_of(runtime, "disabled_people", ZHAO_GUIYING)
    chat.say("zhang_dehua", "/登记 残疾人台账")
    refused = chat.say("zhang_dehua", ZHAO_GUIYING)
    assert refused.startswith(ELSEWHERE) and "第1/7项\n身份证号" in refused
    for trace in ("赵桂英", "汉东村", "听力", "1862", "更新"):
        assert trace not in refused
    assert "姓名" in chat.say("zhang_dehua", NEW_PERSON)  # the question goes on with a key of her own
    after = record_of(runtime, "disabled_people", ZHAO_GUIYING)
    assert (after.values, after.value_times, after.org_unit_id) == (
        before.values,
        before.value_times,
        before.org_unit_id,
    )


def test_a_formula_is_stored_as_text_and_a_long_text_is_refused(chat, runtime):
    chat.say("zhang_dehua", "/登记 矛盾调解台账")
    chat.say("zhang_dehua", "今天")
    too_long = chat.say("zhang_dehua", "张" * 501)
    assert "不超过500字" in too_long and "第2/5项\n当事人" in too_long
    chat.say("zhang_dehua", "=1+1")
    chat.say("zhang_dehua", "其他")
    chat.say("zhang_dehua", '=HYPERLINK("http://x","y")')
    chat.say("zhang_dehua", "跳过")
    assert "TJ-20241128-001" in chat.say("zhang_dehua", "确认")
    record = record_of(runtime, "mediation_cases", "TJ-20241128-001")
    assert record.values["parties"] == "=1+1" and record.values["summary"] == '=HYPERLINK("http://x","y")'


def test_a_required_field_cannot_be_skipped_and_a_unit_ledger_is_not_registered(chat):
    chat.say("zhang_dehua", "/登记 矛盾调解台账")
    chat.say("zhang_dehua", "跳过")  # 登记日期: today
    refused = chat.say("zhang_dehua", "跳过")
    assert refused.startswith("这一项必须填写，不能跳过。") and "第2/5项\n当事人" in refused
    assert "不用登记" in chat.say("zhang_dehua", "/登记 村社区基本情况台账")
    assert "没有找到台账“户籍”" in chat.say("zhang_dehua", "/登记 户籍")
    assert "“调解台”对应多个台账" not in chat.say("zhang_dehua", "/登记 调解台")  # part of one title
    assert "对应多个台账：低保对象台账、残疾人台账" in chat.say("zhang_dehua", "/登记 台账")


# /更新


def test_update_shows_each_value_keeps_unchanged_ones_and_writes_new_ones(chat, runtime):
    started = chat.say("zhang_dehua", f"/更新 残疾人台账 {LIU_DAGUI}")
    assert "开始修改残疾人台账中 刘大贵 的记录，共 6 项" in started
    assert "第1/6项\n姓名" in started and "当前：刘大贵（2024-11-28 核实）" in started
    assert "第2/6项\n残疾类别" in chat.say("zhang_dehua", "不变")
    assert "当前：二级" in chat.say("zhang_dehua", "跳过")
    wrong = chat.say("zhang_dehua", "五级")
    assert "第3/6项\n残疾等级" in wrong  # an answer that is no option: the same field again
    chat.say("zhang_dehua", "一级")
    mobile = chat.say("zhang_dehua", "不变")
    assert "当前：135****1736" in mobile and "13594021736" not in mobile
    assert "第6/6项\n现居住地址" in chat.say("zhang_dehua", "13800138000")
    done = chat.say("zhang_dehua", "不变")
    assert done == "残疾人台账中 刘大贵 的记录已更新：残疾等级、联系电话。"
    record = record_of(runtime, "disabled_people", LIU_DAGUI)
    assert record.values["disability_grade"] == "一级" and record.values["mobile"] == "13800138000"
    with runtime.factory() as session:
        changes = history(session, get_ledger(session, "disabled_people"), LIU_DAGUI)
        audits = session.scalars(select(AuditEntry).where(AuditEntry.action == "ledger_write")).all()
    updates = [audit.new for audit in audits if audit.new.get("_source") == "更新（聊天）"]
    assert updates == [{"_source": "更新（聊天）", "disability_grade": "一级"},
                       {"_source": "更新（聊天）", "mobile": "138****8000"}]  # fmt: skip
    assert [(c.field, c.source) for c in changes if c.source == "更新（聊天）"] == [
        ("disability_grade", "更新（聊天）"),
        ("mobile", "更新（聊天）"),
    ]


def test_update_of_another_units_key_reads_like_an_unknown_one(chat, runtime):
    before = record_of(runtime, "disabled_people", ZHAO_GUIYING)
    elsewhere = chat.say("zhang_dehua", f"/更新 残疾人台账 {ZHAO_GUIYING}")
    unknown = chat.say("zhang_dehua", f"/更新 残疾人台账 {NEW_PERSON}")
    assert (
        elsewhere
        == unknown
        == "本单位的残疾人台账里没有这个身份证号的记录。请核对后再发，或用 /登记 残疾人台账 新登记。"
    )
    assert "已退出" not in chat.say("zhang_dehua", "一级")  # no upkeep was opened: an ordinary message
    after = record_of(runtime, "disabled_people", ZHAO_GUIYING)
    assert (after.values, after.value_times) == (before.values, before.value_times)
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(LedgerSession)) == 0


def test_update_keys_of_hostile_length_get_a_plain_answer(chat):
    assert "身份证号不对（位数不对）" in chat.say("zhang_dehua", "/更新 残疾人台账 " + "1" * 400)
    long_case = chat.say("zhang_dehua", "/更新 矛盾调解台账 " + "A" * 400)
    assert long_case == "本单位的矛盾调解台账里没有这个案件编号的记录。请核对后再发，或用 /登记 矛盾调解台账 新登记。"
    assert "请写明台账名" in chat.say("zhang_dehua", "/更新 残疾人台账")


def test_update_of_the_unit_ledger_takes_the_speakers_own_unit(chat, runtime):
    assert "开始修改村社区基本情况台账中 松林村 的记录" in chat.say("zhang_dehua", "/更新 村社区基本情况")
    assert "没有这个单位名称的记录" in chat.say("zhang_dehua", "/更新 村社区基本情况台账 汉东村")


# /我的台账 and /核实


def test_my_ledgers_counts_the_units_records_and_stale_values(chat):
    mine = chat.say("zhang_dehua", "/我的台账")
    assert mine.startswith("松林村的台账：")
    assert "· 低保对象台账 2 人，都在有效期内" in mine and "· 残疾人台账 3 人，都在有效期内" in mine
    assert "· 村社区基本情况台账 1 条，都在有效期内" in mine
    assert "· 矛盾调解台账 1 件，都在有效期内" in mine
    assert "· 矛盾调解台账 暂无记录，可用 /登记 矛盾调解台账 登记" in chat.say("chen_guoping", "/我的台账")  # 石庙村
    chat.clock.advance(days=40)  # past 31 days: 家庭月人均收入 and 在保低保户数
    mine = chat.say("zhang_dehua", "/my-ledgers")
    assert "· 低保对象台账 2 人，2 项过期" in mine and "· 村社区基本情况台账 1 条，1 项过期" in mine
    chat.clock.advance(days=400)
    assert "· 残疾人台账 3 人，2 项过期" in chat.say("zhang_dehua", "/我的台账")  # 王德明 has no mobile


def test_verify_walks_through_stale_values_renewing_changing_and_skipping(chat, runtime):
    chat.clock.advance(days=400)
    first = chat.say("zhang_dehua", "/核实")
    assert first.startswith("张德明 的 家庭人口 1，2024-11-28 核实，已过期：没变回复“不变”，有变化直接回复新值")
    assert "还有 16 项待核实" in first
    renewed = chat.say("zhang_dehua", "不变")
    assert renewed.startswith("已续期。张德明 的 家庭月人均收入 612.8") and "还有 15 项" in renewed
    wrong = chat.say("zhang_dehua", "很多")
    assert "不是数字" in wrong and "家庭月人均收入" in wrong
    changed = chat.say("zhang_dehua", "650")
    assert changed.startswith("已更新。张德明 的 联系电话 131****1935") and "13159081935" not in changed
    assert chat.say("zhang_dehua", "跳过").startswith("李秀兰 的 家庭人口")
    assert chat.say("zhang_dehua", "结束") == "已退出核实：1 项续期，1 项已更新。之后可随时发送 /核实 接着做。"
    record = record_of(runtime, "dibao_households", "500118196003138318")
    now = runtime.engine.now().isoformat()
    assert record.values["monthly_income"] == "650" and record.value_times["household_size"] == now
    assert record.value_times["mobile"] != now  # skipped: still stale
    assert "还有 14 项待核实" in chat.say("zhang_dehua", "/核实")  # the skipped one is asked again


def test_verify_never_shows_another_units_records(chat, runtime):
    chat.clock.advance(days=400)
    replies = [chat.say("zhang_dehua", "/核实")]
    while "核实完毕" not in replies[-1] and len(replies) < 30:
        replies.append(chat.say("zhang_dehua", "跳过"))
    assert replies[-1] == "核实完毕：0 项没变已续期，0 项已更新，跳过 17 项。"
    everything = "\n".join(replies)
    for other in ("赵桂英", "周小兵", "赵桂芳", "陈永福", "李春梅", "汉东村", "石庙村"):
        assert other not in everything
    assert chat.say("luo_xiuying", "/核实").startswith("王建华 的 家庭人口 5")  # 汉东村's own, for 汉东村


def test_an_open_upkeep_survives_a_restart(chat, engine):
    chat.clock.advance(days=400)
    chat.say("zhang_dehua", "/核实")
    chat.say("zhang_dehua", "不变")
    again = restart(chat, engine)
    assert again.say("zhang_dehua", "650").startswith("已更新。张德明 的 联系电话")
    assert again.say("zhang_dehua", "结束").startswith("已退出核实：1 项续期，1 项已更新。")


def test_a_registration_survives_a_restart(chat, engine):
    chat.say("zhang_dehua", "/登记 矛盾调解台账")
    chat.say("zhang_dehua", "今天")
    again = restart(chat, engine)
    assert "第3/5项\n纠纷类型" in again.say("zhang_dehua", "张三、李四")


# Who may, and the rest of the chat while an upkeep is open


@pytest.mark.parametrize("command", ["/登记 矛盾调解台账", "/更新 残疾人台账 1", "/我的台账", "/核实"])
def test_upkeep_is_for_fillers(chat, command):
    assert "需要填报员权限" in chat.say("zhou_jianguo", command)  # a town's reviewer
    assert "需要填报员权限" in chat.say("li_minzheng", command)  # a department's issuer
    assert chat.say("admin", command).startswith("登记和维护台账由村（社区）填报员在本单位进行")


def test_other_commands_work_in_an_upkeep_and_cancel_leaves_it(chat):
    chat.say("zhang_dehua", "/登记 矛盾调解台账")
    assert "可以使用" in chat.say("zhang_dehua", "/帮助")
    assert "第2/5项\n当事人" in chat.say("zhang_dehua", "今天")  # still in the upkeep
    assert chat.say("zhang_dehua", "/取消") == "已退出矛盾调解台账的维护，之后的消息按平常处理。"
    assert "当事人" not in chat.say("zhang_dehua", "张三")


def test_an_upkeep_in_the_middle_of_a_form_takes_the_replies_until_it_ends(chat, ledger_without_dibao):
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村 不审核")
    assert "第1/8题" in chat.say("zhang_dehua", "开始")
    started = chat.say("zhang_dehua", "/登记 矛盾调解台账")
    assert "第1/5项" in started and "第1/8题" not in started
    assert "第2/5项" in chat.say("zhang_dehua", "今天")
    left = chat.say("zhang_dehua", "结束")
    assert left.startswith("已退出矛盾调解台账的维护") and "《低保月报》还在第1/8题" in left
    assert "第2/8题" in chat.say("zhang_dehua", "120")


def test_a_definition_waiting_for_confirmation_is_not_taken_for_an_upkeep(chat, runtime):
    # one who both defines ledgers and fills for her unit: her waiting 确认修改 shares ledger_sessions with upkeep
    with runtime.factory.begin() as session:
        person = session.scalar(select(Person).where(Person.account == "zhang_dehua"))
        now = runtime.engine.now()
        session.add(LedgerSession(person_id=person.id, kind="define", state={"ledger": "unit_profile"},
                                  started_at=now, updated_at=now))  # fmt: skip
    assert "松林村的台账" in chat.say("zhang_dehua", "/我的台账")
    assert "出了点问题" not in chat.say("zhang_dehua", "你好")
    assert "开始登记矛盾调解台账" in chat.say("zhang_dehua", "/登记 矛盾调解")


def test_a_registration_in_one_village_leaves_the_same_persons_record_in_another_village_alone(chat, runtime):
    # 张德明 is in 松林村's 低保对象台账; 汉东村 registers someone under his ID number in 残疾人台账
    chat.say("luo_xiuying", "/登记 残疾人台账")
    for answer in ("500118196003138318", "冒名", "1", "1", "跳过", "13000000000", "跳过"):
        chat.say("luo_xiuying", answer)
    assert chat.say("luo_xiuying", "确认").startswith("已登记到残疾人台账")
    dibao = record_of(runtime, "dibao_households", "500118196003138318")
    assert (dibao.values["name"], dibao.values["mobile"]) == ("张德明", "13159081935")
    # /更新 in 汉东村 does not reach it either
    chat.say("luo_xiuying", "/更新 残疾人台账 500118196003138318")
    chat.say("luo_xiuying", "李四")
    assert record_of(runtime, "dibao_households", "500118196003138318").values["name"] == "张德明"
    assert record_of(runtime, "disabled_people", "500118196003138318").values["name"] == "李四"
