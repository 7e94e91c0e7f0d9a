"""The form conversation as a filler lives it: one question at a time, wrong answers re-asked."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.runtime import build_runtime
from ledger_store.models import Answer, Assignment, AssignmentStatus, Submission

ISSUE = "/发布 低保月报 截止 11月30日18点 范围 松林村 汉东村 不审核"

DIBAO_ANSWERS = ["120", "350", "3", "1", "15000", "是", "13908315526", "跳过"]


@pytest.fixture
def issued(chat, ledger_without_dibao):
    """A 低保月报 issued to 松林村 (张德华) and 汉东村 (罗秀英), whose ledger knows nothing of their 低保."""
    reply = chat.say("li_minzheng", ISSUE)
    assert "已发布《低保月报》" in reply
    return chat


def test_issuing_pushes_the_task_to_each_target_filler(issued):
    [push] = issued.pushed_texts("zhang_dehua")
    assert "【区民政局】发布了《低保月报》" in push
    assert "11月30日（周六）18:00" in push
    assert "回复“开始”" in push
    assert len(issued.pushed_texts("luo_xiuying")) == 1
    assert issued.pushed_texts("chen_guoping") == []  # 石庙村 was not in the scope


def test_questions_come_one_at_a_time_with_number_label_and_format(issued):
    first = issued.say("zhang_dehua", "开始")
    assert "共8题" in first
    assert "第1/8题" in first and "在保低保户数" in first and "请填写整数" in first
    second = issued.say("zhang_dehua", "120")
    assert "第2/8题" in second and "在保低保人数" in second
    assert "第1/8题" not in second


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("很多", "不是数字"),
        ("3.5", "整数"),
        ("-1", "0"),
        ("2000000", "100000"),
    ],
)
def test_a_wrong_answer_says_why_and_asks_the_same_question_again(issued, answer, reason):
    issued.say("zhang_dehua", "开始")
    reply = issued.say("zhang_dehua", answer)
    assert reason in reply
    assert "第1/8题" in reply
    assert "第2/8题" in issued.say("zhang_dehua", "120")


def test_chinese_numerals_and_full_width_digits_are_understood(issued):
    issued.say("zhang_dehua", "开始")
    issued.say("zhang_dehua", "一百二十")
    issued.say("zhang_dehua", "３５０")
    issued.say("zhang_dehua", "三")
    issued.say("zhang_dehua", "两")
    issued.say("zhang_dehua", "1.5万")
    review = fill(issued, "zhang_dehua", ["是", "13908315526", "跳过"])
    assert "1. 在保低保户数：120" in review
    assert "2. 在保低保人数：350" in review
    assert "4. 本月退出低保户：2" in review
    assert "5. 本月发放低保金：15000" in review


def test_back_skip_edit_and_view_steer_the_form(issued):
    issued.say("zhang_dehua", "开始")
    issued.say("zhang_dehua", "120")
    back = issued.say("zhang_dehua", "上一题")
    assert "第1/8题" in back and "当前答案：120" in back
    assert "第2/8题" in issued.say("zhang_dehua", "跳过")  # keeps 120
    assert "必填" in issued.say("zhang_dehua", "跳过")  # no answer yet: cannot skip
    issued.say("zhang_dehua", "350")
    view = issued.say("zhang_dehua", "查看")
    assert "1. 在保低保户数：120" in view and "2. 在保低保人数：350" in view and "第3/8题" in view
    edit = issued.say("zhang_dehua", "修改 1")
    assert "第1/8题" in edit
    assert "第3/8题" in issued.say("zhang_dehua", "130")  # back to where the form stood
    review = fill(issued, "zhang_dehua", ["3", "1", "15000", "否", "13908315526", "跳过"])
    assert "请核对" in review and "1. 在保低保户数：130" in review and "8. 备注：（未填）" in review
    assert "第3/8题" in issued.say("zhang_dehua", "修改 三")
    again = issued.say("zhang_dehua", "5")
    assert "请核对" in again and "3. 本月新增低保户：5" in again
    assert "1 到 8" in issued.say("zhang_dehua", "修改 9")


def test_submit_only_after_every_question_and_stores_typed_answers(issued, runtime):
    issued.say("zhang_dehua", "开始")
    issued.say("zhang_dehua", "120")
    assert "还有7题没有填完" in issued.say("zhang_dehua", "提交")
    fill(issued, "zhang_dehua", DIBAO_ANSWERS[1:])
    assert "已提交" in issued.say("zhang_dehua", "提交")
    with runtime.factory() as session:
        submission = session.scalar(select(Submission))
        answers = {a.field_name: a for a in session.scalars(select(Answer))}
        assignment = session.get(Assignment, submission.assignment_id)
        assert assignment.status == AssignmentStatus.SUBMITTED
    assert answers["households"].number_value == 120
    assert answers["home_visits_done"].bool_value is True
    assert answers["contact_mobile"].text_value == "13908315526"
    assert "remarks" not in answers


def test_cancel_parks_the_form_and_it_resumes_where_it_stopped(issued):
    issued.say("zhang_dehua", "开始")
    issued.say("zhang_dehua", "120")
    assert "暂停" in issued.say("zhang_dehua", "取消")
    resumed = issued.say("zhang_dehua", "继续")
    assert "从第2题接着来" in resumed and "第2/8题" in resumed


def test_a_command_in_the_middle_of_a_form_works_and_the_form_resumes(issued):
    issued.say("zhang_dehua", "开始")
    issued.say("zhang_dehua", "120")
    todo = issued.say("zhang_dehua", "/待办")
    assert "您的待办" in todo and "已填1/8题" in todo
    assert "还在第2/8题" in todo
    assert "第3/8题" in issued.say("zhang_dehua", "350")


def test_a_person_with_two_open_tasks_chooses_which_to_fill(issued):
    issued.say("wang_canlian", "/发布 残疾人两项补贴 截止 12月5日 范围 松林村 不审核")
    listing = issued.say("zhang_dehua", "开始")
    assert "1. 《低保月报》" in listing and "2. 《残疾人两项补贴情况》" in listing
    assert "1 到 2" in issued.say("zhang_dehua", "七")
    chosen = issued.say("zhang_dehua", "2")
    assert "开始填写《残疾人两项补贴情况》" in chosen and "第1/8题" in chosen


def test_choice_date_id_and_mobile_questions(issued):
    issued.say("wang_canlian", "/发布 残疾人两项补贴情况 截止 12月5日 范围 石庙村 不审核")
    issued.say("chen_guoping", "开始")
    fill(issued, "chen_guoping", ["12", "5", "8600"])
    assert "日期" in issued.say("chen_guoping", "11月31日")
    channel = issued.say("chen_guoping", "2024年11月20日")
    assert "1. 社保卡" in channel and "3. 现金" in channel
    assert "第5/8题" in issued.say("chen_guoping", "4")
    problems = issued.say("chen_guoping", "银行卡")
    assert "第6/8题" in problems
    assert "第7/8题" in issued.say("chen_guoping", "2、4")
    wrong_id = issued.say("chen_guoping", "36042619910102009X")
    assert "校验" in wrong_id and "36042619910102009X" not in wrong_id
    issued.say("chen_guoping", "44011320141005001x")
    review = issued.say("chen_guoping", "13896475102")
    assert "发放日期：2024年11月20日" in review
    assert "发放方式：银行卡" in review
    assert "核查发现的问题：对象已死亡、重复享受" in review
    assert "4401**********001X" in review and "44011320141005001X" not in review
    assert "138****5102" in review


def test_the_form_survives_a_restart_in_the_middle(issued, runtime, engine, clock):
    issued.say("zhang_dehua", "开始")
    issued.say("zhang_dehua", "120")
    issued.say("zhang_dehua", "350")
    restarted = build_runtime(runtime.config, runtime.platform, clock=clock, database=engine)
    reply = restarted.engine.receive(incoming("zhang_dehua", "3", "after-restart"))
    assert "第4/8题" in reply[0].text


def test_a_repeated_platform_delivery_is_handled_once(issued, runtime):
    issued.say("zhang_dehua", "开始")
    first = runtime.engine.receive(incoming("zhang_dehua", "120", "wecom-msg-1"))
    again = runtime.engine.receive(incoming("zhang_dehua", "120", "wecom-msg-1"))
    assert "第2/8题" in first[0].text
    assert again == []
    assert "第3/8题" in issued.say("zhang_dehua", "350")


def test_unknown_people_and_unknown_words_get_a_polite_answer(chat):
    assert chat.say("stranger", "你好") == "您还未登记，请联系管理员。"
    assert "没有待填报的任务" in chat.say("zhang_dehua", "你好")
    assert "/帮助" in chat.say("zhang_dehua", "/不存在")


def fill(chat, account: str, answers: list[str]) -> str:
    """Answer several questions in a row; the last reply."""
    reply = ""
    for answer in answers:
        reply = chat.say(account, answer)
    return reply


def incoming(account: str, text: str, message_id: str):
    from handlers.core.messages import Incoming
    from ledger_store.org import SIMULATOR

    return Incoming(SIMULATOR, account, text, message_id=message_id)


def test_saying_start_again_inside_a_form_repeats_the_question_instead_of_answering_it(issued):
    issued.say("zhang_dehua", "开始")
    fill(issued, "zhang_dehua", DIBAO_ANSWERS[:7])
    again = issued.say("zhang_dehua", "继续")
    assert "第8/8题" in again and "备注" in again
    review = issued.say("zhang_dehua", "跳过")
    assert "8. 备注：（未填）" in review
