"""Forms with logic, as Excel templates bring them: skip logic, rules, defaults, calculations, notes, confirmations."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from handlers.core.messages import Incoming
from handlers.forms.answers import from_json, to_json
from handlers.forms.builtin import Template
from handlers.forms.fields import Field, FieldType
from handlers.forms.registry import ensure_template
from handlers.forms.xlsform import read_form
from ledger_store.models import Answer
from ledger_store.org import SIMULATOR

FAMILY = Template(
    code="family_survey",
    title="家庭情况调查",
    fields=(
        Field("intro", "请如实填写家庭情况。", FieldType.NOTE, hint="约需2分钟"),
        Field("has_father", "父亲是否健在", FieldType.YES_NO),
        Field(
            "father_age",
            "父亲年龄",
            FieldType.INTEGER,
            unit="岁",
            group="父亲",
            relevant="${has_father} = 'yes'",
            constraint=". >= 30",
            constraint_message="父亲年龄应不小于30岁",
        ),
        Field("members", "家庭人口数", FieldType.INTEGER, unit="人", group="家庭", default="3"),
        Field(
            "income",
            "家庭年收入",
            FieldType.DECIMAL,
            unit="元",
            group="家庭",
            required_message="年收入必须填写，没有收入请填0",
        ),
        Field("per_capita", "人均年收入", FieldType.CALCULATE, unit="元", calculation="${income} div ${members}"),
        Field("checked", "以上信息已核实", FieldType.ACKNOWLEDGE),
        Field("remarks", "备注", FieldType.TEXT, required=False),
    ),
)


@pytest.fixture
def family(chat, runtime, clock):
    """家庭情况调查 issued to 松林村 (张德华), who has opened it."""
    register(runtime, clock, FAMILY)
    issued = chat.say("li_minzheng", "/发布 家庭情况调查 截止 11月30日18点 范围 松林村 不审核")
    assert "已发布《家庭情况调查》" in issued
    return chat


def register(runtime, clock, template) -> None:
    with runtime.factory() as session:
        ensure_template(session, template, clock.now().replace(tzinfo=None))
        session.commit()


def test_a_note_is_shown_then_the_first_question_follows_in_the_same_reply(family):
    first = family.say("zhang_dehua", "开始")
    assert "共6题" in first  # the note and the calculation are no questions
    assert first.index("请如实填写家庭情况。") < first.index("约需2分钟") < first.index("《家庭情况调查》第1/6题")
    assert "父亲是否健在" in first


def test_a_question_whose_condition_is_false_is_never_asked_and_numbers_stay_put(family):
    family.say("zhang_dehua", "开始")
    members = family.say("zhang_dehua", "否")
    assert "父亲年龄" not in members
    assert "【家庭】" in members and "第3/6题" in members and "家庭人口数" in members
    back = family.say("zhang_dehua", "上一题")
    assert "第1/6题" in back and "当前答案：否" in back  # 上一题 steps over the question not asked
    assert "根据前面的回答，第2题不用填写" in family.say("zhang_dehua", "修改 2")
    father = family.say("zhang_dehua", "是")
    assert "【父亲】" in father and "第2/6题" in father and "父亲年龄" in father


def test_a_constraint_refuses_with_the_forms_message_and_asks_again(family):
    family.say("zhang_dehua", "开始")
    family.say("zhang_dehua", "是")
    refused = family.say("zhang_dehua", "25")
    assert refused.startswith("父亲年龄应不小于30岁") and "第2/6题" in refused
    assert "第3/6题" in family.say("zhang_dehua", "65")


def test_a_constraint_without_a_message_gets_a_default_sentence(chat, runtime, clock):
    form = Template("count_check", "户数核对", (Field("count", "户数", FieldType.INTEGER, constraint=". mod 2 = 0"),))
    register(runtime, clock, form)
    chat.say("li_minzheng", "/发布 户数核对 截止 11月30日18点 范围 松林村 不审核")
    chat.say("zhang_dehua", "开始")
    refused = chat.say("zhang_dehua", "3")
    assert "不符合本表的填写要求" in refused and "第1/1题" in refused
    assert "请核对您的答案" in chat.say("zhang_dehua", "4")


def test_a_default_is_shown_and_skip_accepts_it_and_required_message_replaces_cannot_skip(family):
    family.say("zhang_dehua", "开始")
    members = family.say("zhang_dehua", "否")
    assert "当前答案：3人" in members
    income = family.say("zhang_dehua", "跳过")
    assert "第4/6题" in income and "家庭年收入" in income
    assert "【家庭】" not in income  # same group as the question before
    refused = family.say("zhang_dehua", "跳过")
    assert refused.startswith("年收入必须填写，没有收入请填0") and "必填" not in refused
    assert "第3/6题" in family.say("zhang_dehua", "上一题")  # the default became the answer
    assert "当前答案：3人" in family.say("zhang_dehua", "查看")


def test_acknowledge_asks_for_a_confirmation_and_offers_one_button(family, runtime):
    family.say("zhang_dehua", "开始")
    for answer in ("否", "跳过"):
        family.say("zhang_dehua", answer)
    confirm = family.say("zhang_dehua", "36000")
    assert "第5/6题" in confirm and "以上信息已核实" in confirm and "请回复“确认”继续" in confirm
    assert "无法识别" in family.say("zhang_dehua", "不知道")
    [reply] = runtime.engine.receive(incoming("zhang_dehua", "不清楚"))
    assert [(option.value, option.label) for option in reply.buttons.options] == [("确认", "确认")]
    assert "第6/6题" in family.say("zhang_dehua", "确认")  # 确认 answers the question, it does not submit


@pytest.mark.parametrize("word", ["好", "知道了", "OK", "是"])
def test_acknowledge_accepts_the_usual_words(family, word):
    family.say("zhang_dehua", "开始")
    for answer in ("否", "跳过", "36000"):
        family.say("zhang_dehua", answer)
    assert "第6/6题" in family.say("zhang_dehua", word)


def test_calculation_is_shown_in_review_recomputed_and_a_stale_answer_dropped_after_an_edit(family, runtime):
    family.say("zhang_dehua", "开始")
    for answer in ("是", "65", "跳过", "36000", "确认"):
        family.say("zhang_dehua", answer)
    review = family.say("zhang_dehua", "跳过")
    assert "1. 父亲是否健在：是" in review and "2. 父亲年龄：65岁" in review
    assert "3. 家庭人口数：3人" in review and "4. 家庭年收入：36000元" in review
    assert "· 人均年收入：12000元" in review
    assert "5. 以上信息已核实：已确认" in review and "6. 备注：（未填）" in review
    assert "请如实填写家庭情况" not in review

    family.say("zhang_dehua", "修改 3")
    review = family.say("zhang_dehua", "4")
    assert "· 人均年收入：9000元" in review
    family.say("zhang_dehua", "修改 1")
    review = family.say("zhang_dehua", "否")
    assert "请核对" in review and "父亲年龄" not in review  # the answer of 65 is gone
    family.say("zhang_dehua", "修改 1")
    asked_again = family.say("zhang_dehua", "是")
    assert "第2/6题" in asked_again and "当前答案" not in asked_again
    family.say("zhang_dehua", "70")
    family.say("zhang_dehua", "修改 1")
    assert "请核对" in family.say("zhang_dehua", "否")
    assert "已提交" in family.say("zhang_dehua", "提交")

    with runtime.factory() as session:
        answers = {a.field_name: a for a in session.scalars(select(Answer))}
    assert set(answers) == {"has_father", "members", "income", "per_capita", "checked"}
    assert answers["per_capita"].number_value == 9000 and answers["per_capita"].text_value is None
    assert answers["checked"].bool_value is True
    assert answers["has_father"].bool_value is False

    digest, workbook_push = family.pushes("li_minzheng")[-2:]
    sheet = load_workbook(io.BytesIO(workbook_push.file_bytes))["汇总"]
    header, row = [cell.value for cell in sheet[1]], [cell.value for cell in sheet[2]]
    assert "请如实填写家庭情况。" not in header  # a note stores nothing, so it has no column
    assert row[header.index("人均年收入（元）")] == 9000
    assert row[header.index("以上信息已核实")] == "已确认"
    assert row[header.index("父亲年龄（岁）")] is None


def test_a_text_calculation_is_stored_as_text(chat, runtime, clock):
    form = Template(
        "greeting",
        "称呼登记",
        (
            Field("name", "姓名", FieldType.TEXT),
            Field("greeting", "称呼", FieldType.CALCULATE, calculation="concat(${name}, '同志')"),
        ),
    )
    register(runtime, clock, form)
    chat.say("li_minzheng", "/发布 称呼登记 截止 11月30日18点 范围 松林村 不审核")
    chat.say("zhang_dehua", "开始")
    assert "· 称呼：张三同志" in chat.say("zhang_dehua", "张三")
    chat.say("zhang_dehua", "提交")
    with runtime.factory() as session:
        row = session.scalar(select(Answer).where(Answer.field_name == "greeting"))
    assert row.text_value == "张三同志" and row.number_value is None


SURVEY = [
    ["type", "name", "label", "relevant", "default", "read_only", "calculation"],
    ["yes_no", "has_children", "是否有子女", "", "", "", ""],
    ["begin group", "child", "子女", "${has_children} = 'yes'", "", "", ""],
    ["integer", "child_count", "子女人数", "", "", "", ""],
    ["integer", "school_age", "其中在读人数", "${child_count} > 0", "", "", ""],
    ["end group", "", "", "", "", "", ""],
    ["text", "village", "所在村", "", "松林村", "yes", ""],
    ["decimal", "share", "在读比例", "", "", "yes", "${school_age} div ${child_count}"],
    ["text", "remarks", "备注", "", "", "", ""],
]


def test_a_form_read_from_excel_applies_group_conditions_and_read_only_fields(chat, runtime, clock):
    result = read_form(workbook(SURVEY), file_name="子女情况.xlsx")
    assert result.problems == []
    register(runtime, clock, result.form)
    chat.say("li_minzheng", "/发布 子女情况 截止 11月30日18点 范围 松林村 不审核")
    assert "共4题" in chat.say("zhang_dehua", "开始")  # the read-only fields are shown, not asked
    remarks = chat.say("zhang_dehua", "否")
    assert "子女人数" not in remarks and "在读比例" not in remarks  # nothing to show for it yet
    assert remarks.index("· 所在村：松林村") < remarks.index("第4/4题")
    chat.say("zhang_dehua", "修改 1")
    count = chat.say("zhang_dehua", "是")
    assert "【子女】" in count and "第2/4题" in count
    assert "第3/4题" in chat.say("zhang_dehua", "4")
    remarks = chat.say("zhang_dehua", "2")
    assert "· 在读比例：0.5" in remarks and "第4/4题" in remarks
    review = chat.say("zhang_dehua", "跳过")
    assert "· 所在村：松林村" in review and "· 在读比例：0.5" in review and "3. 其中在读人数：2" in review


def workbook(survey: list[list[str]]) -> bytes:
    """An .xlsx with the survey rows, every cell text as a person would type it."""
    book = Workbook()
    sheet = book.active
    sheet.title = "survey"
    for values in survey:
        sheet.append([value or None for value in values])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def incoming(account: str, text: str) -> Incoming:
    return Incoming(SIMULATOR, account, text, message_id=f"button-{text}")


def test_a_calculated_value_is_stored_as_text_and_read_back_as_a_number_when_it_is_one():
    field = Field("ratio", "比例", FieldType.CALCULATE)
    assert from_json(field, to_json(field, Decimal("0.25"))) == Decimal("0.25")
    assert from_json(field, to_json(field, 12)) == 12
    assert from_json(field, "007") == "007"


def test_resuming_names_the_question_by_its_number_among_the_questions(family):
    family.say("zhang_dehua", "开始")
    family.say("zhang_dehua", "否")
    assert "暂停" in family.say("zhang_dehua", "取消")
    resumed = family.say("zhang_dehua", "继续")
    assert "从第3题接着来" in resumed and "【家庭】" in resumed and "第3/6题" in resumed
