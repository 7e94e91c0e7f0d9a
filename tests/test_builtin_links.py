"""The ledger is asked, not the person: built-in templates link every question a standard ledger holds."""

from __future__ import annotations

from sqlalchemy import select

from handlers.forms.builtin import BUILTIN_TEMPLATES
from handlers.forms.registry import ensure_builtin_forms, latest_version
from handlers.ledgers.catalog import standard_books
from ledger_store.ledgers import UNIT_KEY, get_ledger, known_values
from ledger_store.models import Form, FormVersion, ReportTask

ISSUE = "/发布 低保月报 截止 11月30日18点 范围 松林村 不审核"


def test_the_dibao_report_offers_what_the_unit_ledger_holds_and_asks_only_the_rest(chat, runtime):
    chat.say("li_minzheng", ISSUE)
    opening = chat.say("zhang_dehua", "开始")
    assert "《低保月报》以下 1 项已从台账带出：\n1. 在保低保户数：2户\n" in opening  # the demo 村社区基本情况台账
    assert "确认后再填其余 7 题" in opening
    assert "第2/8题" in chat.say("zhang_dehua", "确认")
    for answer in ["356", "3", "1", "15000", "是", "13908315526", "跳过"]:
        chat.say("zhang_dehua", answer)
    assert "已提交" in chat.say("zhang_dehua", "提交")
    with runtime.factory() as session:
        ledger = get_ledger(session, "unit_profile")
        known = known_values(session, ledger, "松林村", runtime.engine.now())
        assert (known["dibao_households"].value, known["dibao_persons"].value) == (2, 356)
    # The next 低保月报 asks neither: the ledger now holds both.
    chat.say("li_minzheng", "/发布 低保月报 截止 12月5日18点 范围 松林村 不审核")
    again = chat.say("zhang_dehua", "开始")
    assert "以下 2 项已从台账带出" in again and "2. 在保低保人数：356人" in again


def test_a_village_the_ledger_knows_nothing_of_is_asked_everything(chat):
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 石庙村 不审核")
    opening = chat.say("chen_guoping", "开始")
    assert "已从台账带出" not in opening and "第1/8题" in opening and "在保低保户数" in opening


def test_every_builtin_question_a_standard_unit_ledger_holds_is_linked_to_it():
    for book in standard_books():
        code, key_field, fields = book.code, book.key_field, book.fields
        if key_field != UNIT_KEY:
            continue  # a record keyed by an ID number needs the form to ask for it; the rosters do
        held = {field["label"]: field["name"] for field in fields if field["name"] != UNIT_KEY}
        for template in BUILTIN_TEMPLATES:
            for field in template.fields:
                if field.label in held and not field.repeat:
                    assert field.save_to == f"{code}.{held[field.label]}", (template.title, field.label)


def test_linking_a_builtin_form_makes_a_new_version_and_an_issued_task_keeps_its_own(chat, runtime):
    with runtime.factory.begin() as session:  # as the built-in 低保月报 was before it was linked
        form = session.scalar(select(Form).where(Form.code == "dibao_monthly"))
        version = latest_version(session, form)
        version.fields = [{key: value for key, value in field.items() if key != "save_to"} for field in version.fields]
    chat.say("li_minzheng", ISSUE)
    with runtime.factory.begin() as session:
        ensure_builtin_forms(session, runtime.engine.now())  # what starting the bot does
    with runtime.factory() as session:
        versions = session.scalars(select(FormVersion.version).join(Form).where(Form.code == "dibao_monthly")).all()
        assert sorted(versions) == [1, 2]
        assert session.scalar(select(ReportTask)).form_version.version == 1
    assert "已从台账带出" not in chat.say("zhang_dehua", "开始")  # the issued task asks as it was issued
    chat.say("zhang_dehua", "取消")
    chat.say("li_minzheng", "/发布 低保月报 截止 12月5日18点 范围 松林村 不审核")
    chat.say("zhang_dehua", "/待办")
    assert "已从台账带出" in chat.say("zhang_dehua", "2")
