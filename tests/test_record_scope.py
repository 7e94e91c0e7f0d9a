"""A filler sees and writes only her own unit's ledger records; a move between units is an audited /迁移.

Each refusal is tried from the side of the person who must be refused: 松林村's filler 张德华 (zhang_dehua) with
the ID numbers of people registered in 汉东村. The demo's 低保对象台账 has 王建华 and 赵桂芳 in 汉东村; its
残疾人台账 has 赵桂英 and 周小兵 in 汉东村 and 刘大贵, 陈小芳, 王德明 in 松林村.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from handlers.conversation.machine import form_state
from handlers.core.context import Context
from handlers.forms.registry import fields_of
from handlers.ledgers import prefill
from handlers.ledgers import roster_write_back as roster_results
from ledger_store.ledgers import define_ledger, get_ledger, get_record, write_values
from ledger_store.models import AuditEntry, Conversation, Department, LedgerChange, OrgUnit, Person, RosterRow
from tests.workbooks import survey_workbook

WANG_JIANHUA = "500118195502185413"  # 低保对象台账, 汉东村: 5 people, 320 a month, 13394641177
ZHANG_DEMING = "500118196003138318"  # 低保对象台账, 松林村
LI_XIULAN = "500118197701172729"  # 低保对象台账, 松林村
ZHAO_GUIYING = "500118196607280825"  # 残疾人台账, 汉东村: 听力 二级, 18623095521
WANG_DEMING = "500118198501170635"  # 残疾人台账, 松林村, third row of 松林村's roster
NEW_PERSON = "110101199003070011"  # a valid ID number no ledger knows
ELSEWHERE = "该身份证号已登记在其他村（社区），不能在本单位修改；如需迁入请联系镇街。"


@dataclass(frozen=True)
class Snapshot:
    """All a record is: its values and their times, its unit, whether it left, its history and audit trail."""

    values: dict[str, Any]
    times: dict[str, str]
    unit: int | None
    left: tuple[Any, Any]
    changes: int
    audits: int


def snapshot(runtime, code: str, key: str) -> Snapshot:
    with runtime.factory() as session:
        record = get_record(session, get_ledger(session, code), key)
        changes = session.scalar(select(func.count()).where(LedgerChange.record_id == record.id))
        audits = session.scalar(
            select(func.count()).where(AuditEntry.entity == "ledger_record", AuditEntry.entity_id == str(record.id))
        )
        return Snapshot(dict(record.values), dict(record.value_times), record.org_unit_id,
                        (record.left_at, record.left_reason), changes, audits)  # fmt: skip


def unit_id(runtime, name: str) -> int:
    with runtime.factory() as session:
        return session.scalar(select(OrgUnit.id).where(OrgUnit.name == name))


VISIT_FORM = [
    ["身份证号", "person_id", "户主身份证号", "是", "低保对象台账.身份证号"],
    ["文本", "name", "户主姓名", "是", "低保对象台账.姓名"],
    ["小数", "income", "家庭月人均收入", "是", "低保对象台账.家庭月人均收入"],
    ["整数", "size", "家庭人口", "是", "低保对象台账.家庭人口"],
]


@pytest.fixture
def visit(chat):
    """低保户走访 (a key question, then three values of that household) issued to 松林村, 张德华 at the key."""
    form = survey_workbook(VISIT_FORM, title="低保户走访", code="dibao_visit")
    assert "已导入表单《低保户走访》" in chat.send_file("li_minzheng", "走访.xlsx", form)
    chat.say("li_minzheng", "/发布 低保户走访 截止 11月30日18点 范围 松林村 不审核")
    assert "第1/4题" in chat.say("zhang_dehua", "开始")
    return chat


@pytest.fixture
def roster(chat):
    """两项补贴花名册 issued to 松林村, 张德华 at its first row."""
    chat.say("wang_canlian", "/发布 两项补贴花名册 截止 11月30日18点 范围 松林村 不审核")
    assert "第1/3行" in chat.say("zhang_dehua", "开始")
    chat.pushes("zhang_dehua")
    return chat


# The form's key question


def test_a_household_of_another_village_is_refused_at_the_key_question_and_nothing_of_it_is_shown(visit, runtime):
    before = snapshot(runtime, "dibao_households", WANG_JIANHUA)
    refused = visit.say("zhang_dehua", WANG_JIANHUA)
    assert refused.startswith(ELSEWHERE) and "第1/4题" in refused and "户主身份证号" in refused
    for trace in ("王建华", "320", "13394641177", "1339****1177", "汉东村", "已从台账带出"):
        assert trace not in refused
    assert visit.say("zhang_dehua", "查看").startswith("还没有填写任何答案。")  # the refused key was not kept
    # her own household is taken as before, and a whole submission leaves 汉东村's record as it was
    assert "已从台账带出：户主姓名、家庭月人均收入、家庭人口" in visit.say("zhang_dehua", ZHANG_DEMING)
    visit.say("zhang_dehua", "修改 3")
    visit.say("zhang_dehua", "650")
    assert "已提交" in visit.say("zhang_dehua", "提交")
    assert snapshot(runtime, "dibao_households", WANG_JIANHUA) == before
    assert snapshot(runtime, "dibao_households", ZHANG_DEMING).values["monthly_income"] == "650"


def test_changing_the_key_to_another_villages_household_is_refused_and_keeps_the_answer(visit, runtime):
    visit.say("zhang_dehua", ZHANG_DEMING)
    visit.say("zhang_dehua", "修改 1")
    refused = visit.say("zhang_dehua", WANG_JIANHUA)
    assert refused.startswith(ELSEWHERE) and "当前答案：5001**********8318" in refused
    review = visit.say("zhang_dehua", "跳过")
    assert "张德明" in review and "王建华" not in review


def test_a_record_that_moved_away_before_submit_is_not_written_and_the_key_is_asked_again(visit, runtime):
    visit.say("zhang_dehua", LI_XIULAN)
    visit.say("zhang_dehua", "修改 3")
    visit.say("zhang_dehua", "999")
    moved = visit.say("zhou_jianguo", f"/迁移 低保对象台账 {LI_XIULAN} 到 汉东村 户口迁出")
    assert "从松林村迁到汉东村" in moved
    before = snapshot(runtime, "dibao_households", LI_XIULAN)
    refused = visit.say("zhang_dehua", "提交")
    assert refused.startswith(ELSEWHERE) and "第1/4题" in refused and "已提交" not in refused
    assert snapshot(runtime, "dibao_households", LI_XIULAN) == before  # 999 did not reach 汉东村's record
    visit.say("zhang_dehua", ZHANG_DEMING)
    assert "已提交" in visit.say("zhang_dehua", "提交")
    assert snapshot(runtime, "dibao_households", LI_XIULAN) == before


def test_a_record_no_unit_holds_is_refused_too(visit, runtime):
    with runtime.factory.begin() as session:
        write_values(session, get_ledger(session, "dibao_households"), NEW_PERSON, None, {"name": "无主户"}, None,
                     "manual", runtime.engine.now())  # fmt: skip
    refused = visit.say("zhang_dehua", NEW_PERSON)
    assert refused.startswith("该身份证号已在台账中登记，但还没有归属单位") and "无主户" not in refused


def test_a_record_of_a_grid_below_the_village_is_the_villages_own(visit, runtime):
    with runtime.factory.begin() as session:
        grid = session.scalar(select(OrgUnit.id).where(OrgUnit.name == "松林村第一网格"))
        write_values(session, get_ledger(session, "dibao_households"), NEW_PERSON, grid, {"name": "网格户"}, None,
                     "manual", runtime.engine.now())  # fmt: skip
    assert "已从台账带出：户主姓名" in visit.say("zhang_dehua", NEW_PERSON)
    assert "2. 户主姓名：网格户" in visit.say("zhang_dehua", "查看")


# Roster 添加 and the roster workbook


def test_a_villages_roster_offers_the_records_of_its_grids_and_no_other_villages(chat, runtime):
    with runtime.factory.begin() as session:
        grid = session.scalar(select(OrgUnit.id).where(OrgUnit.name == "松林村第一网格"))
        write_values(session, get_ledger(session, "disabled_people"), NEW_PERSON, grid, {"name": "网格居民"}, None,
                     "manual", runtime.engine.now())  # fmt: skip
    chat.say("wang_canlian", "/发布 两项补贴花名册 截止 11月30日18点 范围 松林村 不审核")
    assert "第1/4行" in chat.say("zhang_dehua", "开始")
    listing = chat.say("zhang_dehua", "全部确认")
    assert "4. 1101**********0011 网格居民" in listing
    for other in ("赵桂英", "周小兵", "0825", "0150"):
        assert other not in listing


def test_adding_a_person_of_another_village_to_the_roster_is_refused_at_that_field(roster, runtime):
    before = snapshot(runtime, "disabled_people", ZHAO_GUIYING)
    roster.say("zhang_dehua", "全部确认")
    assert "第4行 · 第1/4项" in roster.say("zhang_dehua", "添加")
    refused = roster.say("zhang_dehua", ZHAO_GUIYING)
    assert refused.startswith(ELSEWHERE) and "第4行 · 第1/4项" in refused
    for trace in ("赵桂英", "听力", "二级", "18623095521", "186****5521"):
        assert trace not in refused
    for answer in (NEW_PERSON, "孙小红", "3", "1"):
        listing = roster.say("zhang_dehua", answer)
    assert "4. 1101**********0011 孙小红" in listing and "0825" not in listing
    roster.say("zhang_dehua", "完成")
    roster.say("zhang_dehua", "13908315526")
    assert "已提交" in roster.say("zhang_dehua", "提交")
    assert snapshot(runtime, "disabled_people", ZHAO_GUIYING) == before
    with runtime.factory() as session:
        keys = [row.values["member_id"] for row in session.scalars(select(RosterRow))]
    assert ZHAO_GUIYING not in keys and NEW_PERSON in keys


def test_an_offered_row_cannot_be_changed_into_another_villages_person(roster, runtime):
    before = snapshot(runtime, "disabled_people", ZHAO_GUIYING)
    roster.say("zhang_dehua", "修改 1")
    refused = roster.say("zhang_dehua", ZHAO_GUIYING)
    assert refused.startswith(ELSEWHERE) and "第1行 · 第1/4项" in refused and "当前答案：5001**********0218" in refused
    assert snapshot(runtime, "disabled_people", ZHAO_GUIYING) == before


def test_a_workbook_naming_another_villages_person_is_refused_row_by_row_and_changes_nothing(roster, runtime):
    before = snapshot(runtime, "disabled_people", ZHAO_GUIYING)
    roster.say("zhang_dehua", "表格")
    [push] = roster.pushes("zhang_dehua")
    book = load_workbook(io.BytesIO(push.file_bytes))
    sheet = book.active
    sheet.append([ZHAO_GUIYING, "赵桂英", "一级", "困难残疾人生活补贴"])  # her grade and subsidy overwritten
    sheet.append([NEW_PERSON, "孙小红", "三级", "困难残疾人生活补贴"])
    edited = io.BytesIO()
    book.save(edited)
    reply = roster.send_file("zhang_dehua", "残疾人名单花名册.xlsx", edited.getvalue())
    assert reply.startswith("花名册有 1 处需要修改，名单没有变动")
    assert "第 5 行“身份证号”：" + ELSEWHERE in reply and "第 6 行" not in reply
    assert "第1/3行" in reply and "听力" not in reply and "186****5521" not in reply
    listing = roster.say("zhang_dehua", "全部确认")
    assert "共 3 行（无变化 3 行）" in listing and "孙小红" not in listing
    roster.say("zhang_dehua", "完成")
    roster.say("zhang_dehua", "13908315526")
    roster.say("zhang_dehua", "提交")
    assert snapshot(runtime, "disabled_people", ZHAO_GUIYING) == before


def test_a_roster_row_whose_person_moved_away_before_submit_is_dropped_and_not_written(roster, runtime):
    roster.say("zhang_dehua", "修改 1")
    roster.say("zhang_dehua", "跳过")
    roster.say("zhang_dehua", "跳过")
    roster.say("zhang_dehua", "一级")  # 刘大贵 from 二级
    roster.say("zhang_dehua", "跳过")
    roster.say("zhang_dehua", "全部确认")
    roster.say("zhang_dehua", "完成")
    roster.say("zhang_dehua", "13908315526")
    roster.say("zhou_jianguo", "/迁移 残疾人台账 500118195803120218 到 汉东村")
    before = snapshot(runtime, "disabled_people", "500118195803120218")
    refused = roster.say("zhang_dehua", "提交")
    assert refused.startswith("名单第 1 行的人已登记在其他村（社区），已从名单中去掉；如需迁入请联系镇街。")
    assert "【残疾人名单】共 2 行" in refused and "刘大贵" not in refused and "已提交" not in refused
    assert "请核对" in roster.say("zhang_dehua", "完成")  # back to the review, the mobile answered before is kept
    assert "已提交" in roster.say("zhang_dehua", "提交")
    assert snapshot(runtime, "disabled_people", "500118195803120218") == before  # no 一级, no "left" mark
    with runtime.factory() as session:
        assert [row.values["member_name"] for row in session.scalars(select(RosterRow))] == ["陈小芳", "王德明"]


@pytest.mark.parametrize("then", ["删除 1", "查看", "workbook"])
def test_a_person_moved_away_mid_roster_is_no_longer_shown_to_the_old_village(chat, runtime, then):
    chat.say("wang_canlian", "/发布 两项补贴花名册 截止 11月30日18点 范围 汉东村 不审核")
    assert "赵桂英" in chat.say("luo_xiuying", "开始")
    chat.say("luo_xiuying", "表格")
    [workbook] = [push for push in chat.pushes("luo_xiuying") if push.file_bytes]
    chat.say("zhou_jianguo", f"/迁移 残疾人台账 {ZHAO_GUIYING} 到 松林村")
    if then == "workbook":  # the workbook she had still names 赵桂英
        reply = chat.send_file("luo_xiuying", workbook.file_name, workbook.file_bytes)
        assert "第 2 行“身份证号”：" + ELSEWHERE in reply
    else:  # 删除 1 was meant for 赵桂英's row: the list changed under it, so nothing is deleted
        reply = chat.say("luo_xiuying", then)
    assert "名单第 1 行的人已登记在其他村（社区），已从名单中去掉" in reply
    assert "赵桂英" not in reply and "0825" not in reply and "第1/1行" in reply and "周小兵" in reply
    chat.clock.advance(minutes=1)  # a workbook asked for in the same second is the same push
    chat.say("luo_xiuying", "表格")
    [push] = chat.pushes("luo_xiuying")[-1:]
    cells = [
        cell for row in load_workbook(io.BytesIO(push.file_bytes)).active.iter_rows(values_only=True) for cell in row
    ]
    assert ZHAO_GUIYING not in cells and "赵桂英" not in cells and "周小兵" in cells


# /迁移


@pytest.fixture
def owned(runtime):
    """低保对象台账 owned by 区民政局 and 残疾人台账 by 区残联."""
    with runtime.factory.begin() as session:
        for code, department in (("dibao_households", "区民政局"), ("disabled_people", "区残联")):
            owner = session.scalar(select(Department.id).where(Department.name == department))
            get_ledger(session, code).owner_department_id = owner


TRANSFER = f"/迁移 低保对象台账 {WANG_JIANHUA} 到 松林村 户口迁入"


def test_a_filler_cannot_transfer_a_record(chat, runtime, owned):
    before = snapshot(runtime, "dibao_households", WANG_JIANHUA)
    for filler in ("zhang_dehua", "luo_xiuying"):
        refused = chat.say(filler, TRANSFER)
        assert "“/迁移”需要审核员或发布员权限" in refused and "王建华" not in refused
    assert snapshot(runtime, "dibao_households", WANG_JIANHUA) == before
    assert "/迁移" not in chat.say("zhang_dehua", "/帮助")


def test_another_towns_reviewer_cannot_transfer_and_learns_nothing_of_the_record(chat, runtime, owned):
    before = snapshot(runtime, "dibao_households", WANG_JIANHUA)
    refused = chat.say("yang_zhiqiang", f"/迁移 低保对象台账 {WANG_JIANHUA} 到 红旗社区")
    nobody = chat.say("yang_zhiqiang", f"/迁移 低保对象台账 {NEW_PERSON} 到 红旗社区")
    assert refused == "在您可管理的范围内，低保对象台账里没有身份证号为 5001**********5413 的记录。"
    assert nobody == refused.replace("5001**********5413", "1101**********0011")  # exists or not: the same words
    out = chat.say("yang_zhiqiang", "/迁移 低保对象台账 500118197511061307 到 松林村")  # 红旗社区's, to 朱沱镇
    assert out == "“松林村”不在您可管理的范围内，不能迁入。"
    assert snapshot(runtime, "dibao_households", WANG_JIANHUA) == before


def test_an_issuer_of_a_department_that_does_not_own_the_ledger_cannot_transfer(chat, runtime, owned):
    before = snapshot(runtime, "dibao_households", WANG_JIANHUA)
    refused = chat.say("wang_canlian", TRANSFER)
    assert refused == "低保对象台账的记录只能由区民政局的发布员或所在镇街的审核员迁移。"
    assert snapshot(runtime, "dibao_households", WANG_JIANHUA) == before


def test_the_towns_reviewer_moves_a_household_between_her_villages_audited_and_the_new_village_told(
    chat, runtime, owned
):
    reply = chat.say("zhou_jianguo", TRANSFER)
    assert reply == (
        "已把低保对象台账中 王建华（5001**********5413）从汉东村迁到松林村，原因：户口迁入。已通知松林村的填报员。"
    )
    [notice] = chat.pushed_texts("zhang_dehua")
    assert "周建国已把低保对象台账中 王建华（5001**********5413）迁入松林村（原因：户口迁入）" in notice
    assert chat.pushed_texts("luo_xiuying") == []
    with runtime.factory() as session:
        ledger = get_ledger(session, "dibao_households")
        record = get_record(session, ledger, WANG_JIANHUA)
        assert record.org_unit_id == unit_id(runtime, "松林村")
        [change] = session.scalars(select(LedgerChange).where(LedgerChange.record_id == record.id)).all()[-1:]
        assert (change.field_name, change.old, change.new) == (
            "_org_unit",
            unit_id(runtime, "汉东村"),
            record.org_unit_id,
        )
        assert change.source == "迁移：汉东村→松林村" and change.actor_id is not None
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "ledger_transfer")).all()
        assert entry.old == {"unit": "汉东村"}
        assert entry.new == {"unit": "松林村", "ledger": "dibao_households", "key": "5001**********5413",
                             "reason": "户口迁入"}  # fmt: skip
        trail = json.dumps([(e.old, e.new) for e in session.scalars(select(AuditEntry))], ensure_ascii=False)
        assert WANG_JIANHUA not in trail
    # the household is now 松林村's to see and write, and no longer 汉东村's
    form = survey_workbook(VISIT_FORM, title="低保户走访", code="dibao_visit")
    chat.send_file("li_minzheng", "走访.xlsx", form)
    chat.say("li_minzheng", "/发布 低保户走访 截止 11月30日18点 范围 松林村 汉东村 不审核")
    chat.say("zhang_dehua", "开始")
    assert "已从台账带出" in chat.say("zhang_dehua", WANG_JIANHUA)
    chat.say("luo_xiuying", "开始")
    assert chat.say("luo_xiuying", WANG_JIANHUA).startswith(ELSEWHERE)


def test_a_person_moved_by_the_reviewer_is_on_the_new_villages_roster_and_off_the_old_one(chat, runtime, owned):
    reply = chat.say("zhou_jianguo", f"/迁移 残疾人台账 {ZHAO_GUIYING} 迁往松林村")
    assert "从汉东村迁到松林村" in reply and "原因" not in reply
    chat.say("wang_canlian", "/发布 两项补贴花名册 截止 11月30日18点 范围 松林村 汉东村 不审核")
    songlin = chat.say("zhang_dehua", "开始")
    assert "第1/4行" in songlin
    assert "5001**********0825 赵桂英" in chat.say("zhang_dehua", "全部确认")
    handong = chat.say("luo_xiuying", "开始")
    assert "第1/1行" in handong and "赵桂英" not in chat.say("luo_xiuying", "全部确认")


def test_the_owning_department_moves_records_within_its_reach(chat, runtime, town_office):
    with runtime.factory.begin() as session:
        office = session.scalar(select(Department.id).where(Department.name == "朱沱镇民政办"))
        get_ledger(session, "dibao_households").owner_department_id = office
    assert "从汉东村迁到松林村" in chat.say(town_office, TRANSFER)
    refused = chat.say(town_office, "/迁移 低保对象台账 500118197511061307 到 松林村")  # 红旗社区, another street
    assert refused.startswith("在您可管理的范围内，低保对象台账里没有")
    assert snapshot(runtime, "dibao_households", "500118197511061307").unit == unit_id(runtime, "红旗社区")


def test_transfer_mistakes_are_answered_without_echoing_the_number(chat, runtime, owned):
    assert "请写明台账、身份证号和迁入单位" in chat.say("zhou_jianguo", "/迁移")
    assert "没有找到台账“低保台账”" in chat.say("zhou_jianguo", f"/迁移 低保台账 {WANG_JIANHUA} 到 松林村")
    wrong = chat.say("zhou_jianguo", "/迁移 低保对象台账 500118195502185414 到 松林村")
    assert "身份证号不对（校验位不对）" in wrong and "500118195502185414" not in wrong
    assert "没有找到单位“松材村”。您是不是要找：松林村" in chat.say(
        "zhou_jianguo", f"/迁移 低保对象台账 {WANG_JIANHUA} 到 松材村"
    )
    assert "已经在汉东村" in chat.say("zhou_jianguo", f"/迁移 低保对象台账 {WANG_JIANHUA} 到 汉东村")
    assert "按单位记录" in chat.say("zhou_jianguo", "/迁移 村社区基本情况台账 松林村 到 汉东村")
    assert snapshot(runtime, "dibao_households", WANG_JIANHUA).unit == unit_id(runtime, "汉东村")


def test_the_reviewer_sees_transfer_in_help(chat):
    assert "/迁移 台账 身份证号 到 单位 [原因]" in chat.say("zhou_jianguo", "/帮助")


# Deletions remembered


def finish(chat) -> str:
    chat.say("zhang_dehua", "完成")
    chat.say("zhang_dehua", "13908315526")
    return chat.say("zhang_dehua", "提交")


def test_a_deleted_row_is_remembered_with_its_reason_and_not_offered_next_period(roster, runtime):
    roster.say("zhang_dehua", "确认")
    roster.say("zhang_dehua", "确认")
    listing = roster.say("zhang_dehua", "删除 迁往外地 联系电话13812345678")
    assert "3. 5001**********0635 王德明 三级 困难残疾人生活补贴（删除：迁往外地 联系电话138****5678）" in listing
    assert "已提交" in finish(roster)
    with runtime.factory() as session:
        ledger = get_ledger(session, "disabled_people")
        record = get_record(session, ledger, WANG_DEMING)
        assert record.left_at is not None and record.left_reason == "迁往外地 联系电话138****5678"
        assert record.values["name"] == "王德明"  # the record and its values stay
        change = session.scalars(select(LedgerChange).where(LedgerChange.field_name == "_left")).one()
        assert change.new == {"reason": "迁往外地 联系电话138****5678"} and change.source == "任务#1《两项补贴花名册》"
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "ledger_left")).one()
        assert entry.new["key"] == "5001**********0635" and entry.new["reason"] == "迁往外地 联系电话138****5678"
        assert "13812345678" not in json.dumps([entry.old, entry.new], ensure_ascii=False)
    # the summary still shows the deletion of this period
    _, summary = roster.pushes("wang_canlian")
    detail = list(load_workbook(io.BytesIO(summary.file_bytes))["花名册-残疾人名单"].iter_rows(values_only=True))
    assert [row[-1] for row in detail[1:]] == ["无变化", "无变化", "删除"]
    # next period
    roster.say("wang_canlian", "/发布 两项补贴花名册 截止 12月30日18点 范围 松林村 不审核")
    assert "第1/2行" in roster.say("zhang_dehua", "开始")
    listing = roster.say("zhang_dehua", "全部确认")
    assert "共 2 行（无变化 2 行）" in listing and "王德明" not in listing


def test_a_row_number_and_a_reason_and_a_workbook_deletion_all_mark_the_record_as_left(roster, runtime):
    assert "第1/3行" in roster.say("zhang_dehua", "删除　２　去世")  # full-width digit and spaces
    assert roster.say("zhang_dehua", "删错了").startswith("在花名册里可以回复")  # no removal at all
    assert roster.say("zhang_dehua", "删除3去世").startswith(
        "删除哪一行、为什么，请用空格隔开"
    )  # row 3 or 1? not guessed
    assert "第3/3行" in roster.say("zhang_dehua", "删除第一行 两人户迁出（已核实）")
    too_long = roster.say("zhang_dehua", "删除 两人户迁出 " + "很" * 100)
    assert too_long.startswith("原因请写在 100 字以内。") and "第3/3行" in too_long  # nothing removed
    listing = roster.say("zhang_dehua", "确认")
    assert (
        "（删除：两人户迁出（已核实））" in listing
        and "（删除：去世）" in listing
        and "王德明 三级 困难残疾人生活补贴（无变化）" in listing
    )
    assert "已提交" in finish(roster)
    with runtime.factory() as session:
        ledger = get_ledger(session, "disabled_people")
        reasons = {
            key: get_record(session, ledger, key).left_reason for key in ("500118195803120218", "500118197209050447")
        }
        assert reasons == {"500118195803120218": "两人户迁出（已核实）", "500118197209050447": "去世"}  # as typed
        assert get_record(session, ledger, WANG_DEMING).left_at is None


def test_help_at_a_roster_says_a_deletion_may_carry_a_reason(roster):
    assert "可写原因，如“删除 迁往外地”" in roster.say("zhang_dehua", "帮助")
    roster.say("zhang_dehua", "全部确认")
    assert "删除可写原因，如“删除 3 迁往外地”" in roster.say("zhang_dehua", "帮助")


def test_a_row_deleted_in_the_workbook_is_remembered_too(roster, runtime):
    roster.say("zhang_dehua", "表格")
    [push] = roster.pushes("zhang_dehua")
    book = load_workbook(io.BytesIO(push.file_bytes))
    book.active.delete_rows(4)  # 王德明
    edited = io.BytesIO()
    book.save(edited)
    assert "删除 1 行" in roster.send_file("zhang_dehua", "残疾人名单花名册.xlsx", edited.getvalue())
    assert "已提交" in finish(roster)
    assert snapshot(runtime, "disabled_people", WANG_DEMING).left[0] is not None


def test_a_person_who_left_is_added_back_by_her_own_village_only(roster, runtime):
    roster.say("zhang_dehua", "确认")
    roster.say("zhang_dehua", "确认")
    roster.say("zhang_dehua", "删除 外出务工")
    finish(roster)
    roster.say("wang_canlian", "/发布 两项补贴花名册 截止 12月30日18点 范围 松林村 汉东村 不审核")
    # 汉东村 cannot take the person 松林村 let go: the record is still 松林村's
    roster.say("luo_xiuying", "开始")
    roster.say("luo_xiuying", "全部确认")
    roster.say("luo_xiuying", "添加")
    assert roster.say("luo_xiuying", WANG_DEMING).startswith(ELSEWHERE)
    # 松林村 adds him back: the record returns, audited, and the next period offers him again
    roster.say("zhang_dehua", "开始")
    roster.say("zhang_dehua", "全部确认")
    roster.say("zhang_dehua", "添加")
    for answer in (WANG_DEMING, "王德明", "3", "1"):
        listing = roster.say("zhang_dehua", answer)
    assert "3. 5001**********0635 王德明 三级 困难残疾人生活补贴（新增）" in listing
    assert "已提交" in finish(roster)
    assert snapshot(runtime, "disabled_people", WANG_DEMING).left == (None, None)
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).where(AuditEntry.action == "ledger_rejoin")) == 1
    roster.say("wang_canlian", "/发布 两项补贴花名册 截止 2025年1月30日18点 范围 松林村 不审核")
    assert "第1/3行" in roster.say("zhang_dehua", "开始")


def test_a_row_added_and_removed_again_leaves_the_ledger_alone(roster, runtime):
    roster.say("zhang_dehua", "全部确认")
    roster.say("zhang_dehua", "添加")
    for answer in (NEW_PERSON, "孙小红", "3", "1"):
        roster.say("zhang_dehua", answer)
    roster.say("zhang_dehua", "删除 4 填错了")
    assert "已提交" in finish(roster)
    with runtime.factory() as session:
        assert get_record(session, get_ledger(session, "disabled_people"), NEW_PERSON) is None
        assert session.scalar(select(func.count()).where(AuditEntry.action == "ledger_left")) == 0


def test_the_district_department_and_the_admin_move_across_towns_and_place_records_no_unit_holds(chat, runtime, owned):
    with runtime.factory.begin() as session:
        write_values(session, get_ledger(session, "dibao_households"), NEW_PERSON, None, {"name": "无主户"}, None,
                     "manual", runtime.engine.now())  # fmt: skip
    assert "从汉东村迁到红旗社区" in chat.say("li_minzheng", f"/迁移 低保对象台账 {WANG_JIANHUA} 到 红旗社区")
    assert chat.say("zhou_jianguo", f"/迁移 低保对象台账 {NEW_PERSON} 到 石庙村").startswith("在您可管理的范围内")
    assert "无主户（1101**********0011）从未归属单位迁到石庙村" in chat.say(
        "admin", f"/迁移 低保对象台账 {NEW_PERSON} 到 石庙村"
    )
    assert "从红旗社区迁到凤凰湖社区" in chat.say("admin", "/迁移 低保对象台账 500118197511061307 到 凤凰湖社区")
    assert snapshot(runtime, "dibao_households", NEW_PERSON).unit == unit_id(runtime, "石庙村")
    assert snapshot(runtime, "dibao_households", WANG_JIANHUA).unit == unit_id(runtime, "红旗社区")


def test_a_ledger_without_an_owner_is_moved_by_reviewers_and_admins_only(chat, runtime):
    with runtime.factory.begin() as session:
        get_ledger(session, "dibao_households").owner_department_id = None
    assert chat.say("li_minzheng", TRANSFER) == "低保对象台账的记录只能由管理员或所在镇街的审核员迁移。"
    assert snapshot(runtime, "dibao_households", WANG_JIANHUA).unit == unit_id(runtime, "汉东村")
    assert "从汉东村迁到松林村" in chat.say("zhou_jianguo", TRANSFER)


def test_moving_a_record_that_left_puts_it_on_the_new_units_roster(roster, runtime):
    roster.say("zhang_dehua", "确认")
    roster.say("zhang_dehua", "确认")
    roster.say("zhang_dehua", "删除 迁往汉东村")
    finish(roster)
    assert "从松林村迁到汉东村" in roster.say("zhou_jianguo", f"/迁移 残疾人台账 {WANG_DEMING} 到 汉东村")
    assert snapshot(runtime, "disabled_people", WANG_DEMING).left == (None, None)
    roster.say("wang_canlian", "/发布 两项补贴花名册 截止 12月30日18点 范围 汉东村 不审核")
    assert "第1/3行" in roster.say("luo_xiuying", "开始")
    assert "王德明" in roster.say("luo_xiuying", "全部确认")


def test_write_back_never_touches_another_units_record_even_past_the_check_at_submit(chat, runtime, clock):
    # Both write-backs run in the transaction of 提交 right after its check; here they are called directly after a
    # record moved, as any other way of reaching them would, and must leave the other unit's record alone.
    form = survey_workbook(VISIT_FORM, title="低保户走访", code="dibao_visit")
    chat.send_file("li_minzheng", "走访.xlsx", form)
    chat.say("li_minzheng", "/发布 低保户走访 截止 11月30日18点 范围 松林村 不审核")
    chat.say("zhang_dehua", "开始")
    chat.say("zhang_dehua", LI_XIULAN)
    chat.say("zhang_dehua", "修改 3")
    chat.say("zhang_dehua", "999")
    chat.say("wang_canlian", "/发布 两项补贴花名册 截止 11月30日18点 范围 松林村 不审核")
    chat.say("zhang_dehua", "取消")
    chat.say("zhang_dehua", "开始")
    assert "第1/3行" in chat.say("zhang_dehua", "2")
    chat.say("zhang_dehua", "修改 1")
    for answer in ("跳过", "跳过", "一级", "跳过"):
        chat.say("zhang_dehua", answer)
    assert "第2/3行（从台账带出，还有1行待核对）" in chat.say("zhang_dehua", "删除 3 迁出")
    handong = unit_id(runtime, "汉东村")
    with runtime.factory.begin() as session:
        for code, key in (("dibao_households", LI_XIULAN), ("disabled_people", "500118195803120218"),
                          ("disabled_people", WANG_DEMING)):  # fmt: skip
            get_record(session, get_ledger(session, code), key).org_unit_id = handong
    moved = [snapshot(runtime, "dibao_households", LI_XIULAN), snapshot(runtime, "disabled_people", WANG_DEMING),
             snapshot(runtime, "disabled_people", "500118195803120218")]  # fmt: skip
    with runtime.factory.begin() as session:
        ctx = Context(session, clock, ZoneInfo("Asia/Shanghai"))
        person = session.scalar(select(Person).where(Person.account == "zhang_dehua"))
        for conversation in session.scalars(select(Conversation)):
            fields = fields_of(conversation.assignment.task.form_version)
            state = form_state(ctx, conversation, fields)
            prefill.write_back(ctx, person, conversation.assignment, fields, state.answers)
            roster_results.write_back(ctx, person.id, conversation, fields)
    assert [snapshot(runtime, "dibao_households", LI_XIULAN), snapshot(runtime, "disabled_people", WANG_DEMING),
            snapshot(runtime, "disabled_people", "500118195803120218")] == moved  # fmt: skip


def test_a_removed_row_marks_the_person_the_ledger_offered_even_after_its_number_was_edited(roster, runtime):
    roster.say("zhang_dehua", "修改 1")
    for answer in (NEW_PERSON, "跳过", "跳过", "跳过"):
        roster.say("zhang_dehua", answer)
    roster.say("zhang_dehua", "删除 1 去世")
    roster.say("zhang_dehua", "全部确认")
    assert "已提交" in finish(roster)
    assert snapshot(runtime, "disabled_people", "500118195803120218").left[1] == "去世"
    with runtime.factory() as session:
        assert get_record(session, get_ledger(session, "disabled_people"), NEW_PERSON) is None


def test_a_name_the_ledger_marks_sensitive_is_masked_in_the_transfer_messages(chat, runtime):
    with runtime.factory.begin() as session:
        ledger = get_ledger(session, "disabled_people")
        fields = [{**field, "sensitive": True} if field["name"] == "name" else field for field in ledger.fields]
        define_ledger(session, ledger.code, ledger.title, ledger.key_field, fields, runtime.engine.now())
    reply = chat.say("zhou_jianguo", f"/迁移 残疾人台账 {ZHAO_GUIYING} 到 松林村")
    [notice] = chat.pushed_texts("zhang_dehua")
    assert "赵**（5001**********0825）" in reply and "赵**（5001**********0825）" in notice
    assert "赵桂英" not in reply + notice


def test_a_transfer_typed_in_full_width_keeps_its_reason_as_typed(chat, runtime, owned):
    typed = f"／迁移　低保对象台账　{WANG_JIANHUA}　到　松林村　户口迁入，已核实（镇民政办）"

    reply = chat.say("zhou_jianguo", typed)

    assert "从汉东村迁到松林村，原因：户口迁入，已核实（镇民政办）。" in reply
    with runtime.factory() as session:
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "ledger_transfer")).all()
    assert entry.new["reason"] == "户口迁入，已核实（镇民政办）"
