"""Nobody gets stuck: a way out of every stage, /待办 in the middle of a form, 取消 twice, and 帮助 where one stands.

The built-in 两项补贴花名册 (issued by 王灿莲 to 松林村) starts at a roster of three people from 残疾人台账, whose
rows ask 身份证号, 姓名, 残疾等级 and 享受补贴; 低保月报 asks eight plain questions.
"""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from ledger_store.models import RosterRow

NEW_PERSON = "110101199003070011"  # a valid ID number the ledger does not know
ID_QUESTION = "身份证号\n请填写18位身份证号"


@pytest.fixture
def roster(chat):
    """两项补贴花名册 issued to 松林村, 张德华 at its first row."""
    chat.say("wang_canlian", "/发布 两项补贴花名册 截止 11月30日18点 范围 松林村")
    assert "第1/3行" in chat.say("zhang_dehua", "开始")
    return chat


@pytest.fixture
def two_tasks(chat, ledger_without_dibao):
    """低保月报 and 残疾人两项补贴情况 both open for 张德华, who is at question 2 of 低保月报."""
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村")
    chat.say("wang_canlian", "/发布 残疾人两项补贴 截止 12月5日 范围 松林村")
    chat.say("zhang_dehua", "开始")
    assert "开始填写《低保月报》" in chat.say("zhang_dehua", "1")
    assert "第2/8题" in chat.say("zhang_dehua", "120")
    return chat


# 添加 / 修改 in a roster: 取消, 完成 and 上一题 leave the row


@pytest.mark.parametrize("word", ["取消", "完成", "上一题", "退出"])
def test_a_row_just_added_is_left_with_any_way_out_and_the_id_number_is_not_asked_again(roster, word):
    assert ID_QUESTION in roster.say("zhang_dehua", "添加")
    left = roster.say("zhang_dehua", word)
    assert "不添加了，名单没有变化" in left
    assert ID_QUESTION not in left and "位数不对" not in left
    assert "第1/3行" in left  # back at the row that was waiting to be checked
    assert "第2/3行" in roster.say("zhang_dehua", "确认")
    listing = roster.say("zhang_dehua", "全部确认")
    assert "共 3 行（无变化 3 行）" in listing and "新增" not in listing


def test_a_control_word_typed_at_the_id_question_is_never_read_as_an_id_number(roster):
    roster.say("zhang_dehua", "添加")
    assert "位数不对" in roster.say("zhang_dehua", "12345")  # a wrong answer is still refused and asked again
    for word in ("帮助", "查看", "继续"):
        reply = roster.say("zhang_dehua", word)
        assert "位数不对" not in reply and "非法字符" not in reply and ID_QUESTION in reply
    assert "名单没有变化" in roster.say("zhang_dehua", "取消")


def test_done_on_a_new_row_without_its_required_fields_drops_it(roster):
    roster.say("zhang_dehua", "添加")
    roster.say("zhang_dehua", NEW_PERSON)
    dropped = roster.say("zhang_dehua", "完成")
    assert "新的一行还没有填“姓名”“残疾等级”“享受补贴”，没有加入名单" in dropped
    assert "第1/3行" in dropped
    assert "新增" not in roster.say("zhang_dehua", "全部确认")


def test_going_back_inside_a_row_goes_to_its_previous_field_and_from_the_first_one_leaves_it(roster):
    roster.say("zhang_dehua", "添加")
    assert "第4行 · 第2/4项" in roster.say("zhang_dehua", NEW_PERSON)
    back = roster.say("zhang_dehua", "上一题")
    assert "第4行 · 第1/4项" in back and "当前答案：1101**********0011" in back
    left = roster.say("zhang_dehua", "上一题")
    assert "没有加入名单" in left and "“姓名”" in left and "第1/3行" in left


def test_cancelling_a_change_keeps_the_row_as_it_was(roster):
    roster.say("zhang_dehua", "修改")
    assert "当前答案：刘大贵" in roster.say("zhang_dehua", "跳过")  # the ID number kept, at the name
    assert "当前答案：二级" in roster.say("zhang_dehua", "刘大富")  # the name changed, at 残疾等级
    cancelled = roster.say("zhang_dehua", "取消")
    assert "第1行不改了，还是原来的内容" in cancelled
    assert "第1/3行" in cancelled and "刘大贵" in cancelled and "刘大富" not in cancelled
    listing = roster.say("zhang_dehua", "全部确认")
    assert "刘大贵" in listing and "已修改" not in listing


def test_done_in_the_middle_of_a_change_keeps_what_was_changed(roster):
    roster.say("zhang_dehua", "修改 2")
    roster.say("zhang_dehua", "跳过")
    roster.say("zhang_dehua", "陈小芬")
    saved = roster.say("zhang_dehua", "完成")
    assert "第2行的修改已保存" in saved
    listing = roster.say("zhang_dehua", "全部确认")
    assert "2. 5001**********0447 陈小芬 一级" in listing and "（已修改）" in listing


def test_a_second_cancel_after_leaving_a_row_parks_the_form(roster):
    roster.say("zhang_dehua", "添加")
    assert "名单没有变化" in roster.say("zhang_dehua", "取消")
    assert "先暂停" in roster.say("zhang_dehua", "取消")
    assert "第1/3行" in roster.say("zhang_dehua", "继续")


def test_a_new_row_is_added_after_the_duplicate_warning_by_cancelling(roster, runtime):
    roster.say("zhang_dehua", "添加")
    duplicate = roster.say("zhang_dehua", "500118195803120218")  # 刘大贵, already row 1
    assert "名单第 1 行已经是这个人了" in duplicate and "回复“取消”" in duplicate
    assert "名单没有变化" in roster.say("zhang_dehua", "取消")


def test_a_new_row_left_with_done_once_its_required_fields_are_in_is_on_the_roster(chat, runtime):
    """A form of its own: 帮扶干部, a roster asking 姓名 (required) and 手机号 (optional)."""
    assert "已导入表单《帮扶干部》" in chat.send_file("li_minzheng", "帮扶干部.xlsx", helpers_form())
    chat.say("li_minzheng", "/发布 帮扶干部 截止 11月30日18点 范围 松林村")
    chat.say("zhang_dehua", "开始")
    chat.say("zhang_dehua", "添加")
    assert "手机号" in chat.say("zhang_dehua", "吴志强")
    left = chat.say("zhang_dehua", "完成")
    assert "已添加第1行" in left and "1. 吴志强（新增）" in left
    assert "1. 帮扶干部：1 行（新增 1 行）" in chat.say("zhang_dehua", "完成")
    assert "已提交" in chat.say("zhang_dehua", "提交")
    with runtime.factory() as session:
        [row] = session.scalars(select(RosterRow))
    assert (row.status, row.values) == ("added", {"helper": "吴志强"})


def helpers_form() -> bytes:
    """An XLSForm workbook with one roster: 姓名 required, 手机号 optional."""
    book = Workbook()
    survey = book.active
    survey.title = "survey"
    for row in (
        ["类型", "字段名", "题目", "必填"],
        ["重复开始", "helpers", "帮扶干部", ""],
        ["文本", "helper", "姓名", "是"],
        ["手机号", "phone", "手机号", "否"],
        ["重复结束", "", "", ""],
    ):
        survey.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# /待办 in the middle of a form


def test_todo_in_a_form_lists_the_tasks_by_number_and_a_number_switches(two_tasks):
    listing = two_tasks.say("zhang_dehua", "/待办")
    assert "1. 《低保月报》" in listing and "（正在填）" in listing
    assert "2. 《残疾人两项补贴情况》" in listing
    assert "回复序号可以换填那一项" in listing and "还在第2/8题" in listing
    switched = two_tasks.say("zhang_dehua", "2")
    assert "《低保月报》先放一放" in switched
    assert "开始填写《残疾人两项补贴情况》" in switched and "第1/8题" in switched
    assert "第2/8题" in two_tasks.say("zhang_dehua", "12")  # the number answers the new form from now on
    two_tasks.say("zhang_dehua", "待办")
    back = two_tasks.say("zhang_dehua", "1")
    assert "继续填写《低保月报》，从第2题接着来" in back  # the first form was kept as it was


def test_after_the_todo_list_anything_but_a_listed_number_answers_the_current_question(two_tasks):
    two_tasks.say("zhang_dehua", "/待办")
    assert "第3/8题" in two_tasks.say("zhang_dehua", "350")  # not a listed number: the answer to question 2
    assert "第4/8题" in two_tasks.say("zhang_dehua", "2")  # the offer held for one message only
    review = two_tasks.say("zhang_dehua", "查看")
    assert "2. 在保低保人数：350" in review and "3. 本月新增低保户：2" in review


def test_todo_in_a_form_with_only_that_task_just_lists_it(chat, ledger_without_dibao):
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村")
    chat.say("zhang_dehua", "开始")
    listing = chat.say("zhang_dehua", "/待办")
    assert "1. 《低保月报》" in listing and "回复序号" not in listing
    assert "第2/8题" in chat.say("zhang_dehua", "1")  # 1 is the answer to question 1


# 取消 twice, and what a parked form does with other words


def test_a_second_cancel_does_not_resume_the_form(two_tasks):
    assert "《低保月报》先暂停" in two_tasks.say("zhang_dehua", "取消")
    again = two_tasks.say("zhang_dehua", "取消")
    assert "现在没有正在填写的表" in again and "回复“继续”接着填" in again
    assert "第2/8题" not in again
    assert "第2/8题" not in two_tasks.say("zhang_dehua", "暂停")
    resumed = two_tasks.say("zhang_dehua", "继续")
    assert "继续填写《低保月报》，从第2题接着来" in resumed


def test_a_parked_form_is_not_resumed_by_any_other_word(chat, ledger_without_dibao):
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村")
    chat.say("zhang_dehua", "开始")
    chat.say("zhang_dehua", "120")
    chat.say("zhang_dehua", "取消")
    hint = chat.say("zhang_dehua", "350")
    assert hint == "《低保月报》已暂停，已填的答案都保存着。回复“继续”接着填，或发送“/待办”查看全部任务。"
    assert "从第2题接着来" in chat.say("zhang_dehua", "开始")  # 开始 works as well as 继续


def test_cancel_with_nothing_open_says_so(chat):
    assert "现在没有正在填写的表，不用取消" in chat.say("hu_xiaoyan", "取消")


def test_continue_after_a_list_goes_back_to_the_form_left_last(two_tasks):
    two_tasks.say("zhang_dehua", "取消")
    assert "回复序号选择" in two_tasks.say("zhang_dehua", "开始")
    assert "继续填写《低保月报》" in two_tasks.say("zhang_dehua", "继续")


def test_continue_resumes_the_form_left_last_of_two(two_tasks, clock):
    two_tasks.say("zhang_dehua", "/待办")
    two_tasks.say("zhang_dehua", "2")
    clock.advance(minutes=1)
    two_tasks.say("zhang_dehua", "12")
    two_tasks.say("zhang_dehua", "/待办")
    assert "继续填写《低保月报》" in two_tasks.say("zhang_dehua", "1")
    clock.advance(minutes=1)
    assert "《低保月报》先暂停" in two_tasks.say("zhang_dehua", "取消")
    assert "《低保月报》已暂停" in two_tasks.say("zhang_dehua", "你好")
    assert "继续填写《低保月报》，从第2题接着来" in two_tasks.say("zhang_dehua", "继续")
    clock.advance(minutes=1)
    two_tasks.say("zhang_dehua", "/待办")
    two_tasks.say("zhang_dehua", "2")
    clock.advance(minutes=1)
    two_tasks.say("zhang_dehua", "取消")
    assert "继续填写《残疾人两项补贴情况》，从第2题接着来" in two_tasks.say("zhang_dehua", "继续")


# 帮助 at every stage


def test_help_at_a_question_lists_the_question_words(two_tasks):
    reply = two_tasks.say("zhang_dehua", "帮助")
    for word in ("上一题", "跳过", "修改 N", "查看", "取消", "/待办"):
        assert word in reply
    assert "全部确认" not in reply and "提交：" not in reply
    assert reply.endswith("请填写整数（0～300000），单位：人")  # and the question again


def test_help_at_a_roster_row_lists_the_row_words(roster):
    reply = roster.say("zhang_dehua", "帮助")
    for word in ("确认：", "全部确认", "修改：", "删除：", "添加", "表格", "完成", "上一题", "取消"):
        assert word in reply
    assert "第1/3行" in reply


def test_help_while_a_row_is_filled_in_lists_the_ways_out_of_it(roster):
    roster.say("zhang_dehua", "添加")
    reply = roster.say("zhang_dehua", "帮助")
    assert "跳过：" in reply and "完成：" in reply and "取消：不改这一行了" in reply
    assert "全部确认" not in reply and "表格" not in reply
    assert ID_QUESTION in reply


def test_help_at_the_roster_list_and_at_the_review(roster):
    roster.say("zhang_dehua", "全部确认")
    listing_help = roster.say("zhang_dehua", "帮助")
    assert "修改 行号、删除 行号" in listing_help and "全部确认" not in listing_help
    roster.say("zhang_dehua", "完成")
    roster.say("zhang_dehua", "13908315526")
    review_help = roster.say("zhang_dehua", "帮助")
    assert "提交：确认报送" in review_help and "修改 N" in review_help and "跳过" not in review_help
    assert "请核对您的答案" in review_help


def test_help_and_back_at_the_values_a_ledger_offered(chat):
    # the ledger holds all 5 of 松林村's values: the issuer sends it down anyway, for the village to confirm
    assert "回复“直接生成”" in chat.say("li_minzheng", "/发布 村社区基本情况 截止 11月30日18点 范围 松林村")
    chat.say("li_minzheng", "下发")
    assert "已从台账带出" in chat.say("zhang_dehua", "开始")
    reply = chat.say("zhang_dehua", "帮助")
    assert "确认：台账带出的值都对" in reply and "修改 N" in reply and "跳过" not in reply
    back = chat.say("zhang_dehua", "上一题")
    assert back.startswith("请先核对上面从台账带出的信息。") and "以下 5 项已从台账带出" in back
    assert "第6/6题" in chat.say("zhang_dehua", "确认")  # the one question the ledger did not answer


def test_help_outside_a_form_says_how_to_go_on(two_tasks):
    two_tasks.say("zhang_dehua", "取消")
    assert "《低保月报》已暂停" in two_tasks.say("zhang_dehua", "/帮助")
    two_tasks.say("zhang_dehua", "开始")
    assert "回复序号选择要填写的任务" in two_tasks.say("zhang_dehua", "帮助")
    two_tasks.say("zhang_dehua", "1")
    in_form = two_tasks.say("zhang_dehua", "/帮助")
    assert "/待办：我要填的任务" in in_form and "跳过：" in in_form and "还在第2/8题" in in_form
