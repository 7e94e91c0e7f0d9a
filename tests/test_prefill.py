"""Prefill from the ledgers and write-back: a cadre confirms what the ledger knows and is asked only the rest.

The demo's 村社区基本情况台账 knows all five linked fields of 松林村 and 汉东村,
and only 户籍户数 and 户籍人口 of 石庙村. The 低保对象台账 holds 8 households (demo workbooks, bot/demo/ledgers).
"""

from __future__ import annotations

from sqlalchemy import select

from bot.runtime import build_runtime
from handlers.core.messages import Incoming
from ledger_store.ledgers import get_ledger, get_record, history, known_values
from ledger_store.models import AuditEntry, OrgUnit, Submission
from ledger_store.org import SIMULATOR
from tests.workbooks import survey_workbook

ISSUE = "/发布 村社区基本情况 截止 11月30日18点 范围 松林村 石庙村 不审核"


def unit_values(runtime, unit: str) -> dict[str, object]:
    with runtime.factory() as session:
        ledger = get_ledger(session, "unit_profile")
        return {name: known.value for name, known in known_values(session, ledger, unit, runtime.engine.now()).items()}


def test_what_the_ledger_knows_is_shown_once_and_only_the_rest_is_asked(chat, runtime):
    chat.say("li_minzheng", ISSUE)
    opening = chat.say("zhang_dehua", "开始")
    assert "以下 5 项已从台账带出" in opening
    assert "1. 户籍户数：356户" in opening and "2. 户籍人口：1204人" in opening and "4. 书记姓名：王建华" in opening
    assert "139****1276" in opening and "13983041276" not in opening
    assert "无变化请回复“确认”" in opening and "其余 1 题" in opening
    assert "第1/6题" not in opening
    remark = chat.say("zhang_dehua", "确认")
    assert "第6/6题" in remark and "备注" in remark
    review = chat.say("zhang_dehua", "跳过")
    assert "1. 户籍户数：356户" in review and "请核对" in review
    assert "已提交" in chat.say("zhang_dehua", "提交")
    with runtime.factory() as session:
        submission = session.scalar(select(Submission))
        assert (submission.asked_count, submission.prefilled_count, submission.confirmed_count) == (1, 5, 5)


def test_a_unit_the_ledger_knows_partly_confirms_two_values_and_answers_the_rest(chat):
    chat.say("li_minzheng", ISSUE)
    opening = chat.say("chen_guoping", "开始")
    assert "以下 2 项已从台账带出" in opening and "户籍户数：298户" in opening and "其余 4 题" in opening
    assert "第3/6题" in chat.say("chen_guoping", "确认")
    assert "第4/6题" in chat.say("chen_guoping", "2")


def test_anything_but_a_confirmation_or_an_edit_asks_to_check_the_values_first(chat):
    chat.say("li_minzheng", ISSUE)
    chat.say("zhang_dehua", "开始")
    reply = chat.say("zhang_dehua", "1300")
    assert reply.startswith("请先核对上面从台账带出的信息。") and "以下 5 项已从台账带出" in reply


def test_a_changed_value_goes_back_to_the_ledger_with_history_and_audit(chat, runtime):
    chat.say("li_minzheng", ISSUE)
    chat.say("zhang_dehua", "开始")
    edit = chat.say("zhang_dehua", "修改 2")
    assert "第2/6题" in edit and "当前答案：1204人" in edit
    again = chat.say("zhang_dehua", "1210")
    assert "以下 5 项已从台账带出" in again and "2. 户籍人口：1210人" in again
    chat.say("zhang_dehua", "确认")
    chat.say("zhang_dehua", "跳过")
    chat.say("zhang_dehua", "提交")
    assert unit_values(runtime, "松林村")["population"] == 1210
    with runtime.factory() as session:
        ledger = get_ledger(session, "unit_profile")
        [change] = history(session, ledger, "松林村", "population")[-1:]
        assert (change.old, change.new, change.source) == (1204, 1210, "任务#1《村社区基本情况》")
        assert change.actor_id is not None
        submission = session.scalar(select(Submission))
        assert (submission.asked_count, submission.prefilled_count, submission.confirmed_count) == (2, 5, 4)
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "ledger_write")).all()[-1]
        assert entry.old == {"population": 1204} and entry.new["population"] == 1210


def test_a_second_task_asking_the_same_fields_asks_nothing_the_first_one_learnt(chat, runtime):
    chat.say("li_minzheng", ISSUE)
    chat.say("chen_guoping", "开始")
    for answer in ("确认", "2", "赵大海", "13983041277", "跳过", "提交"):
        chat.say("chen_guoping", answer)
    assert unit_values(runtime, "石庙村")["secretary"] == "赵大海"
    # Another department's own form names the same ledger fields by the ledger's Chinese title and labels.
    form = survey_workbook(
        [
            ["整数", "people", "户籍人口", "是", "村社区基本情况台账.户籍人口"],
            ["文本", "secretary", "书记姓名", "是", "村社区基本情况台账.书记姓名"],
            ["手机号", "phone", "书记手机号", "是", "村社区基本情况台账.书记手机号"],
        ]
    )
    # It reads the ledger whole (the secretary's mobile too): 区残联 may, once the admin shares it in full.
    chat.say("admin", "/台账权限 村社区基本情况台账 共享 区残联 完整")
    assert "已导入表单《人口核对》" in chat.send_file("wang_canlian", "人口核对.xlsx", form)
    # The ledger now answers all three for 石庙村 (取数 offers to generate it); sent down, the filler confirms once.
    assert "直接生成" in chat.say("wang_canlian", "/发布 人口核对 截止 11月30日18点 范围 石庙村 不审核")
    assert "已发布《人口核对》" in chat.say("wang_canlian", "下发")
    opening = chat.say("chen_guoping", "开始")
    assert "以下 3 项已从台账带出" in opening and "书记姓名：赵大海" in opening and "确认后即提交报送" in opening
    assert "已提交" in chat.say("chen_guoping", "确认")
    with runtime.factory() as session:
        latest = session.scalars(select(Submission).order_by(Submission.id)).all()[-1]
        assert (latest.asked_count, latest.prefilled_count, latest.confirmed_count) == (0, 3, 3)


def test_a_stale_value_is_asked_with_the_old_value_to_keep(chat, runtime, clock):
    clock.advance(days=40)  # 在保低保户数 is valid for 31 days, the other values for a year
    chat.say("li_minzheng", "/发布 村社区基本情况 截止 明天18点 范围 松林村 不审核")
    opening = chat.say("zhang_dehua", "开始")
    assert "以下 4 项已从台账带出" in opening and "在保低保户数" not in opening
    question = chat.say("zhang_dehua", "确认")
    assert "第3/6题" in question and "在保低保户数" in question
    assert "台账中的值：2户，可能已过期" in question and "回复“不变”" in question
    assert "第6/6题" in chat.say("zhang_dehua", "确认")  # 确认 at a stale value keeps it, like 不变
    chat.say("zhang_dehua", "跳过")
    chat.say("zhang_dehua", "提交")
    with runtime.factory() as session:
        ledger = get_ledger(session, "unit_profile")
        known = known_values(session, ledger, "松林村", runtime.engine.now())
        assert known["dibao_households"].fresh and known["dibao_households"].value == 2
        submission = session.scalar(select(Submission))
        assert (submission.asked_count, submission.prefilled_count, submission.confirmed_count) == (2, 5, 5)


def test_answering_a_record_key_fills_in_the_rest_of_that_record(chat, runtime):
    form = survey_workbook(
        [
            ["身份证号", "person_id", "户主身份证号", "是", "低保对象台账.身份证号"],
            ["小数", "income", "家庭月人均收入", "是", "低保对象台账.家庭月人均收入"],
            ["整数", "size", "家庭人口", "是", "低保对象台账.家庭人口"],
            ["文本", "visit", "走访情况", "是", ""],
        ],
        title="低保户走访",
        code="dibao_visit",
    )
    assert "已导入表单《低保户走访》" in chat.send_file("li_minzheng", "走访.xlsx", form)
    chat.say("li_minzheng", "/发布 低保户走访 截止 11月30日18点 范围 松林村 不审核")
    assert "第1/4题" in chat.say("zhang_dehua", "开始")
    filled = chat.say("zhang_dehua", "500118196003138318")
    assert "已从台账带出：家庭月人均收入、家庭人口" in filled and "第4/4题" in filled
    review = chat.say("zhang_dehua", "家中无变化")
    assert "2. 家庭月人均收入：612.8" in review and "3. 家庭人口：1" in review
    chat.say("zhang_dehua", "修改 2")
    chat.say("zhang_dehua", "650")
    chat.say("zhang_dehua", "提交")
    with runtime.factory() as session:
        ledger = get_ledger(session, "dibao_households")
        [change] = history(session, ledger, "500118196003138318", "monthly_income")[-1:]
        assert str(change.old) == "612.8" and str(change.new) == "650"


def test_the_confirmation_waits_across_a_restart(chat, runtime, engine, clock):
    chat.say("li_minzheng", ISSUE)
    chat.say("zhang_dehua", "开始")
    restarted = build_runtime(runtime.config, runtime.platform, clock=clock, database=engine)
    [reply] = restarted.engine.receive(Incoming(SIMULATOR, "zhang_dehua", "确认", message_id="after-restart"))
    assert "第6/6题" in reply.text


def test_links_that_cannot_work_are_refused_at_their_rows(chat):
    form = survey_workbook(
        [
            ["整数", "people", "户籍人口", "是", "村社区台账.户籍人口"],
            ["整数", "homes", "户数", "是", "村社区基本情况台账.户数"],
            ["文本", "count", "人口", "是", "村社区基本情况台账.户籍人口"],
            ["小数", "income", "家庭月人均收入", "是", "低保对象台账.家庭月人均收入"],
            ["文本", "unit", "单位", "是", "村社区基本情况台账.单位名称"],
        ]
    )
    reply = chat.send_file("li_minzheng", "坏表.xlsx", form)
    assert "survey 表第 2 行" in reply and "“村社区台账.户籍人口”找不到对应的台账" in reply
    assert "survey 表第 3 行" in reply and "没有“户数”这个字段。可用字段：单位名称、户籍户数" in reply
    assert "survey 表第 4 行" in reply and "类型和村社区基本情况台账的“户籍人口”不一致" in reply
    assert "survey 表第 5 行" in reply and "还要有一题的台账字段是“低保对象台账.身份证号”" in reply
    assert "survey 表第 6 行" in reply and "单位名称由机器人按填报单位自动对应" in reply
    assert "已导入" not in reply


def test_the_blank_template_with_its_linked_roster_imports_in_chat(chat, runtime):
    chat.say("li_minzheng", "/空白模板")
    [push] = chat.pushes("li_minzheng")
    assert "已导入表单《示例表单》" in chat.send_file("li_minzheng", push.file_name, push.file_bytes)


def test_changing_the_record_key_replaces_what_the_first_record_brought(chat, runtime):
    form = survey_workbook(
        [
            ["身份证号", "person_id", "户主身份证号", "是", "低保对象台账.身份证号"],
            ["小数", "income", "家庭月人均收入", "是", "低保对象台账.家庭月人均收入"],
        ],
        title="收入核对",
        code="income_check",
    )
    chat.send_file("li_minzheng", "收入核对.xlsx", form)
    chat.say("li_minzheng", "/发布 收入核对 截止 11月30日18点 范围 松林村 不审核")
    chat.say("zhang_dehua", "开始")
    assert "2. 家庭月人均收入：612.8" in chat.say("zhang_dehua", "500118196003138318")
    chat.say("zhang_dehua", "修改 1")
    review = chat.say("zhang_dehua", "500118197701172729")  # 李秀兰, 530 a month
    assert "2. 家庭月人均收入：530" in review and "612.8" not in review


def test_a_unit_ledger_file_without_a_unit_column_files_each_record_under_its_unit(runtime):
    with runtime.factory() as session:  # bot/demo/ledgers/03-unit_profile.xlsx has 单位名称 but no 单位 column
        ledger = get_ledger(session, "unit_profile")
        record = get_record(session, ledger, "松林村")
        assert record.org_unit_id == session.scalar(select(OrgUnit.id).where(OrgUnit.name == "松林村"))


def test_coming_back_to_the_ledgers_values_asks_for_the_confirmation_not_a_question_number(chat):
    chat.say("li_minzheng", "/发布 低保月报 截止 明天17:00 范围 松林村 不审核")
    assert "已从台账带出" in chat.say("zhang_dehua", "开始")
    hint = chat.say("zhang_dehua", "/待办")
    assert "还在核对从台账带出的信息，回复“确认”即可继续" in hint and "还在第" not in hint
    chat.say("zhang_dehua", "取消")
    resumed = chat.say("zhang_dehua", "继续")
    assert resumed.startswith("继续填写《低保月报》，之前的答案都保存着。") and "已从台账带出" in resumed
    assert "第2/8题" in chat.say("zhang_dehua", "确认")
