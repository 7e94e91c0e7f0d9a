"""取数: reports the ledgers already answer are generated, not asked.

The demo's 村社区基本情况台账 knows 户籍户数 and 户籍人口 of 松林村, 汉东村 and 石庙村, 书记姓名 of the first two;
its 残疾人台账 has three people in 松林村 and two in 汉东村 (bot/demo). Every value was confirmed when the demo was
loaded (2024-11-28), so all are within their validity.
"""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from ledger_store.ledgers import get_ledger, get_record, write_values
from ledger_store.models import Answer, Assignment, AssignmentStatus, LedgerChange, Person, ReviewStep, Submission
from tests.workbooks import survey_workbook

SUBSIDY_FORM = "残疾人补贴核对"


# 4 questions, every one linked: two of the unit's own record, and a roster of the unit's disabled people.
SUBSIDIES = survey_workbook(
    [
        ["整数", "households", "户籍户数", "是", "村社区基本情况台账.户籍户数"],
        ["整数", "population", "户籍人口", "是", "村社区基本情况台账.户籍人口"],
        ["begin repeat", "people", "残疾人名单", "", ""],
        ["身份证号", "person_id", "身份证号", "是", "残疾人台账.身份证号"],
        ["文本", "person_name", "姓名", "是", "残疾人台账.姓名"],
        ["end repeat", "", "", "", ""],
    ],
    SUBSIDY_FORM,
    "disability_subsidy_check",
)
# 2 questions of the unit's own record: 石庙村's ledger lacks 书记姓名.
VILLAGE_CHECK = survey_workbook(
    [
        ["整数", "population", "户籍人口", "是", "村社区基本情况台账.户籍人口"],
        ["文本", "secretary", "书记姓名", "是", "村社区基本情况台账.书记姓名"],
    ],
    "村情核对",
    "village_check",
)


def subsidy_form(chat) -> None:
    """区残联 brings in the subsidy form, after the admin shares the village ledger with it in full."""
    chat.say("admin", "/台账权限 村社区基本情况台账 共享 区残联 完整")
    assert "已导入表单" in chat.send_file("wang_canlian", "两项补贴.xlsx", SUBSIDIES)


def read_workbook(chat, account: str):
    [file] = [push for push in chat.pushes(account) if push.file_bytes]
    return load_workbook(io.BytesIO(file.file_bytes))


def test_a_form_the_ledgers_answer_whole_is_generated_without_troubling_anyone(chat, runtime):
    subsidy_form(chat)
    asked = chat.say("wang_canlian", f"/发布 {SUBSIDY_FORM} 截止 11月30日18点 范围 松林村 汉东村")
    assert "《残疾人补贴核对》4 项中 4 项台账已有且在有效期内（2 个单位都是）" in asked
    assert "回复“直接生成”" in asked and "回复“下发”" in asked
    assert chat.pushes("zhang_dehua") == []  # nothing was issued yet

    done = chat.say("wang_canlian", "直接生成")
    assert "已直接生成《残疾人补贴核对》（任务#1）" in done and "没有通知基层" in done
    assert chat.pushes("zhang_dehua") == [] and chat.pushes("luo_xiuying") == []

    workbook = read_workbook(chat, "wang_canlian")
    summary = workbook["汇总"]
    assert [summary.cell(2, column).value for column in (2, 5, 6, 7)] == ["永川区/朱沱镇/松林村", 356, 1204, 3]
    assert summary["E2"].comment.text == "取自村社区基本情况台账，截至 2024-11-28"
    assert summary["F3"].comment.text == "取自村社区基本情况台账，截至 2024-11-28"
    roster = [[cell.value for cell in row] for row in workbook["花名册-残疾人名单"].iter_rows()]
    assert len(roster) == 6 and {row[-1] for row in roster[1:]} == {"取自台账"}
    assert workbook["花名册-残疾人名单"]["F2"].comment.text == "取自残疾人台账，截至 2024-11-28"
    sources = [[cell.value for cell in row] for row in workbook["来源"].iter_rows()]
    assert sources[0] == ["序号", "单位", "题目", "台账", "截至"]
    assert sources[1][1:4] == ["永川区/朱沱镇/松林村", "户籍户数", "村社区基本情况台账"]
    assert [row[2] for row in sources[1:]] == ["户籍户数", "户籍人口", "残疾人名单"] * 2

    with runtime.factory() as session:
        issuer = session.scalar(select(Person).where(Person.account == "wang_canlian"))
        submissions = session.scalars(select(Submission).order_by(Submission.id)).all()
        assert [(s.generated, s.submitted_by_id, s.asked_count) for s in submissions] == [(True, issuer.id, 0)] * 2
        answer = session.scalar(select(Answer).where(Answer.field_name == "population"))
        assert answer.ledger_code == "unit_profile" and answer.as_of is not None
        statuses = session.scalars(select(Assignment.status)).all()
        assert statuses == [AssignmentStatus.SUBMITTED] * 2
        assert session.scalars(select(ReviewStep)).all() == []  # generated data needs no review

    progress = chat.say("wang_canlian", "/进度 1")
    assert "2/2" in progress and "其中 2 个单位由台账直接生成" in progress
    figures = chat.say("wang_canlian", "/统计 1")
    assert "2 份报送共问了 0 题" in figures and "2 份由台账直接生成" in figures


def test_sending_it_down_still_issues_it_and_the_filler_confirms_in_one_go(chat):
    subsidy_form(chat)
    chat.say("wang_canlian", f"/发布 {SUBSIDY_FORM} 截止 11月30日18点 范围 松林村")
    issued = chat.say("wang_canlian", "下发")
    assert "已发布《残疾人补贴核对》（任务#1）" in issued
    assert "4 项中 4 项台账已有且在有效期内，基层核对一次即可" in issued
    assert any(SUBSIDY_FORM in text for text in chat.pushed_texts("zhang_dehua"))
    assert "以下 2 项已从台账带出" in chat.say("zhang_dehua", "开始")


def test_a_partly_known_form_is_issued_and_asks_only_what_is_missing(chat):
    assert "已导入表单" in chat.send_file("li_minzheng", "村情核对.xlsx", VILLAGE_CHECK)
    issued = chat.say("li_minzheng", "/发布 村情核对 截止 11月30日18点 范围 松林村 石庙村 不审核")
    assert "已发布《村情核对》" in issued
    assert "2 项中 1～2 项台账已有且在有效期内，基层核对一次即可；其余 0～1 项只问缺的/过期的" in issued
    opening = chat.say("chen_guoping", "开始")
    assert "以下 1 项已从台账带出" in opening and "户籍人口：1011" in opening
    question = chat.say("chen_guoping", "确认")
    assert "书记姓名" in question and "第2/2题" in question


def test_a_form_the_ledgers_know_nothing_of_is_issued_as_before(chat):
    issued = chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 石庙村 不审核")
    assert "已发布《低保月报》" in issued and "台账已有" not in issued


def test_anything_else_drops_the_question_and_is_handled_as_usual(chat):
    subsidy_form(chat)
    chat.say("wang_canlian", f"/发布 {SUBSIDY_FORM} 截止 11月30日18点 范围 松林村")
    assert "/取数" in chat.say("wang_canlian", "帮助")
    assert "直接生成" not in chat.say("wang_canlian", "直接生成")  # the question lasted one message
    with_cancel = chat.say("wang_canlian", f"/发布 {SUBSIDY_FORM} 截止 11月30日18点 范围 松林村")
    assert "直接生成" in with_cancel
    assert chat.say("wang_canlian", "取消") == "好的，没有发布。"


def test_take_on_demand_answers_with_the_workbook_and_names_the_units_it_left_out(chat, runtime):
    subsidy_form(chat)
    reply = chat.say("wang_canlian", f"/取数 {SUBSIDY_FORM} 范围 朱沱镇下辖")
    assert "已直接生成《残疾人补贴核对》（任务#1）：松林村、汉东村的 4 项全部取自台账" in reply
    assert "汇总表马上发给您" in reply
    assert "石庙村：缺身份证号、姓名 2 项" in reply  # no disabled person on its record: asked, not assumed none
    workbook = read_workbook(chat, "wang_canlian")
    assert workbook["汇总"]["E3"].comment.text.startswith("取自村社区基本情况台账")
    assert chat.pushes("zhang_dehua") == []


def test_take_is_refused_to_a_department_without_the_ledgers_whole(chat):
    subsidy_form(chat)
    chat.say("admin", "/台账权限 村社区基本情况台账 取消共享 区残联")
    refused = chat.say("wang_canlian", f"/取数 {SUBSIDY_FORM} 范围 松林村")
    assert "区残联没有这本台账的完整共享" in refused and "村社区基本情况台账" in refused
    # 区民政局 owns the village ledger but not the disabled people's register.
    refused = chat.say("li_minzheng", f"/取数 {SUBSIDY_FORM} 范围 松林村")
    assert "残疾人台账（区残联）" in refused
    assert "需要发布员权限" in chat.say("zhang_dehua", f"/取数 {SUBSIDY_FORM}")
    with chat.runtime.factory() as session:
        assert session.scalars(select(Submission)).all() == []


def test_generating_after_the_share_was_withdrawn_is_refused(chat):
    subsidy_form(chat)
    assert "直接生成" in chat.say("wang_canlian", f"/发布 {SUBSIDY_FORM} 截止 11月30日18点 范围 松林村")
    chat.say("admin", "/台账权限 村社区基本情况台账 取消共享 区残联")
    assert "没有这本台账的完整共享" in chat.say("wang_canlian", "直接生成")


def test_take_for_a_unit_outside_the_department_is_refused_with_the_scope_message(chat, town_office):
    assert "已导入表单" in chat.send_file("li_minzheng", "村情核对.xlsx", VILLAGE_CHECK)
    chat.say("admin", "/台账权限 村社区基本情况台账 共享 朱沱镇民政办 完整")
    refused = chat.say(town_office, "/取数 村情核对 范围 红旗社区")
    assert refused == "“红旗社区”不在朱沱镇范围内，本部门只能向朱沱镇及下辖单位发布任务。"
    assert "已直接生成《村情核对》" in chat.say(town_office, "/取数 村情核对 范围 松林村")


def test_generating_writes_nothing_back_into_the_ledgers(chat, runtime):
    subsidy_form(chat)
    with runtime.factory() as session:
        before = session.scalar(select(func.count()).select_from(LedgerChange))
    chat.say("wang_canlian", f"/发布 {SUBSIDY_FORM} 截止 11月30日18点 范围 松林村")
    assert "已直接生成" in chat.say("wang_canlian", "直接生成")
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(LedgerChange)) == before


def test_a_plain_confirmation_sends_it_down_too(chat):
    subsidy_form(chat)
    chat.say("wang_canlian", f"/发布 {SUBSIDY_FORM} 截止 11月30日18点 范围 松林村")
    assert "已发布《残疾人补贴核对》" in chat.say("wang_canlian", "确认")


def test_a_stale_value_is_not_known_so_the_form_is_issued_asking_it(chat, clock):
    clock.advance(days=40)  # 在保低保户数 is valid for 31 days, 户籍人口 for a year
    form = survey_workbook(
        [
            ["整数", "population", "户籍人口", "是", "村社区基本情况台账.户籍人口"],
            ["整数", "dibao", "在保低保户数", "是", "村社区基本情况台账.在保低保户数"],
        ],
        "低保户数核对",
        "dibao_count_check",
    )
    assert "已导入表单" in chat.send_file("li_minzheng", "低保户数核对.xlsx", form)
    issued = chat.say("li_minzheng", "/发布 低保户数核对 截止 明天18点 范围 松林村 不审核")
    assert "已发布" in issued and "2 项中 1 项台账已有且在有效期内" in issued and "其余 1 项只问缺的/过期的" in issued


def test_the_lookalike_question_comes_first_and_a_recurring_report_is_issued_each_period(chat):
    subsidy_form(chat)
    chat.say("wang_canlian", f"/发布 {SUBSIDY_FORM} 截止 11月30日18点 范围 松林村")
    chat.say("wang_canlian", "下发")
    lookalike = chat.say("wang_canlian", f"/发布 {SUBSIDY_FORM} 截止 11月30日17点 范围 松林村")
    assert "已有相似的任务" in lookalike and "直接生成" not in lookalike
    assert "已发布《残疾人补贴核对》（任务#2）" in chat.say("wang_canlian", "确认发布")
    recurring = chat.say("wang_canlian", f"/发布 {SUBSIDY_FORM} 每月25日 截止 次月3日 18:00 范围 松林村")
    assert "每月25日" in recurring and "直接生成" not in recurring


def test_an_optional_remark_no_ledger_holds_does_not_stand_in_the_way_but_a_required_question_does(chat):
    with_remark = survey_workbook([
        ["整数", "population", "户籍人口", "是", "村社区基本情况台账.户籍人口"],
        ["文本", "remarks", "备注", "否", ""],
    ], "村情核对", "village_check")  # fmt: skip
    assert "已导入表单" in chat.send_file("li_minzheng", "村情.xlsx", with_remark)
    asked = chat.say("li_minzheng", "/发布 村情核对 截止 11月30日18点 范围 松林村")
    assert "《村情核对》1 项中 1 项台账已有且在有效期内" in asked and "回复“直接生成”" in asked
    chat.say("li_minzheng", "取消")
    required = survey_workbook([
        ["整数", "population", "户籍人口", "是", "村社区基本情况台账.户籍人口"],
        ["文本", "remarks", "备注", "是", ""],
    ], "村情核对", "village_check")  # fmt: skip
    assert "已导入表单" in chat.send_file("li_minzheng", "村情.xlsx", required)
    issued = chat.say("li_minzheng", "/发布 村情核对 截止 11月30日18点 范围 松林村")
    assert "直接生成" not in issued and "2 项中 1 项台账已有" in issued


def test_a_roster_counts_the_names_another_ledger_holds_only_when_the_department_holds_it_whole(chat, runtime):
    # 李秀兰 and 张德明 (低保对象台账 of 区民政局, 松林村) enter 残疾人台账 without their names.
    with runtime.factory.begin() as session:
        disabled, dibao = get_ledger(session, "disabled_people"), get_ledger(session, "dibao_households")
        for person in ("500118197701172729", "500118196003138318"):
            unit = get_record(session, dibao, person).org_unit_id
            values = {"disability_kind": "肢体"}
            write_values(session, disabled, person, unit, values, None, "test", runtime.engine.now())
    subsidy_form(chat)
    # 区残联 may not read the 低保 ledger: the names are missing, nothing is generated, no name leaks out
    refused = chat.say("wang_canlian", f"/取数 {SUBSIDY_FORM} 范围 松林村")
    assert "松林村：缺姓名" in refused and "李秀兰" not in refused
    assert [push for push in chat.pushes("wang_canlian") if push.file_bytes] == []
    chat.say("admin", "/台账权限 低保对象台账 共享 区残联 完整")
    asked = chat.say("wang_canlian", f"/发布 {SUBSIDY_FORM} 截止 11月30日18点 范围 松林村")
    assert "4 项中 4 项台账已有且在有效期内" in asked
    chat.say("wang_canlian", "直接生成")
    sheet = read_workbook(chat, "wang_canlian")["花名册-残疾人名单"]
    assert {"李秀兰", "张德明"} <= {cell.value for row in sheet.iter_rows() for cell in row}
