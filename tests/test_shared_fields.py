"""A field kept once across ledgers (标准字段): a person's 姓名 and 联系电话 are one value in 低保对象台账 and
残疾人台账.

The demo's 低保对象台账 has 张德明 and 李秀兰 in 松林村 (bot/demo/ledgers/01-dibao_households.xlsx); 残疾人台账 does
not know them until a test imports them. 张德华 (zhang_dehua) fills for 松林村, 罗秀英 (luo_xiuying) for 汉东村.
"""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import func, select

from ledger_store.ledger_import import import_ledger
from ledger_store.ledgers import get_ledger, get_record, history, known_values, write_values
from ledger_store.models import AuditEntry, LedgerChange, Submission
from tests.workbooks import survey_workbook

ZHANG_DEMING = "500118196003138318"  # 低保对象台账, 松林村: 13159081935
LI_XIULAN = "500118197701172729"  # 低保对象台账, 松林村: 13619375836
NEW_MOBILE = "15808312345"


def import_file(runtime, tmp_path: Path, code: str, text: str):
    path = tmp_path / f"{code}.csv"
    path.write_text(text, encoding="utf-8")
    return import_ledger(runtime.factory, code, path, None, runtime.engine.now(), today=runtime.engine.today())


def values_of(runtime, code: str, key: str) -> dict[str, object] | None:
    with runtime.factory() as session:
        record = get_record(session, get_ledger(session, code), key)
        return None if record is None else dict(record.values)


def held(runtime, code: str, key: str) -> tuple[dict[str, object], dict[str, str], int | None]:
    """A record's values, their times and its unit."""
    with runtime.factory() as session:
        record = get_record(session, get_ledger(session, code), key)
        return dict(record.values), dict(record.value_times), record.org_unit_id


def changes_of(runtime, code: str, key: str, field: str) -> list[tuple[object, object, str]]:
    with runtime.factory() as session:
        return [(c.old, c.new, c.source) for c in history(session, get_ledger(session, code), key, field)]


CONTACT_FORM = [
    ["身份证号", "person_id", "身份证号", "是", "低保对象台账.身份证号"],
    ["文本", "name", "姓名", "是", "低保对象台账.姓名"],
    ["手机号", "mobile", "联系电话", "是", "低保对象台账.联系电话"],
]


def test_a_mobile_changed_through_a_dibao_form_is_the_disabled_ledgers_mobile_with_one_history(chat, runtime, tmp_path):
    # 区残联 imports 张德明 with the mobile 低保对象台账 already holds: nothing to change, no history yet.
    row = f"{ZHANG_DEMING},张德明,肢体,13159081935,松林村"
    report = import_file(runtime, tmp_path, "disabled_people", f"身份证号,姓名,残疾类别,联系电话,单位\n{row}\n")
    assert report.inserted == 1
    form = survey_workbook(CONTACT_FORM, title="低保户联系电话核对", code="dibao_contact")
    assert "已导入表单《低保户联系电话核对》" in chat.send_file("li_minzheng", "核对.xlsx", form)
    chat.say("li_minzheng", "/发布 低保户联系电话核对 截止 11月30日18点 范围 松林村 不审核")
    chat.say("zhang_dehua", "开始")
    filled = chat.say("zhang_dehua", ZHANG_DEMING)
    assert "已从台账带出：姓名、联系电话" in filled and "131****1935" in filled
    chat.say("zhang_dehua", "修改 3")
    chat.say("zhang_dehua", NEW_MOBILE)
    assert "已提交" in chat.say("zhang_dehua", "提交")

    assert values_of(runtime, "disabled_people", ZHANG_DEMING)["mobile"] == NEW_MOBILE
    expected = [("13159081935", NEW_MOBILE, "任务#1《低保户联系电话核对》")]
    assert changes_of(runtime, "dibao_households", ZHANG_DEMING, "mobile") == expected
    assert changes_of(runtime, "disabled_people", ZHANG_DEMING, "mobile") == expected
    with runtime.factory() as session:
        disabled = get_ledger(session, "disabled_people")
        known = known_values(session, disabled, ZHANG_DEMING, runtime.engine.now())["mobile"]
        assert known.fresh and known.confirmed_at == runtime.engine.now().replace(tzinfo=None)
        assert session.scalar(select(func.count()).where(LedgerChange.field_name == "mobile")) == 1
        writes = session.scalars(select(AuditEntry).where(AuditEntry.action == "ledger_write")).all()
        [entry] = [entry for entry in writes if entry.new["_source"].startswith("任务")]  # not the demo's rows
        assert entry.new["mobile"] == "158****2345" and entry.new["_shared_to"] == ["disabled_people"]
        assert NEW_MOBILE not in str(entry.new)


def test_an_imported_change_reaches_the_other_ledger_and_a_rerun_changes_nothing(runtime, tmp_path):
    import_file(runtime, tmp_path, "disabled_people",
                f"身份证号,姓名,残疾类别,联系电话,单位\n{ZHANG_DEMING},张德明,肢体,13159081935,松林村\n"
                f"{LI_XIULAN},李秀兰,视力,,松林村\n")  # fmt: skip
    text = f"身份证号,联系电话\n{ZHANG_DEMING},{NEW_MOBILE}\n{LI_XIULAN},13619375836\n"
    report = import_file(runtime, tmp_path, "dibao_households", text)
    assert (report.updated, report.unchanged) == (1, 1)
    assert values_of(runtime, "disabled_people", ZHANG_DEMING)["mobile"] == NEW_MOBILE
    assert "mobile" not in values_of(runtime, "disabled_people", LI_XIULAN)  # unchanged in the file: not carried
    assert changes_of(runtime, "disabled_people", ZHANG_DEMING, "mobile") == [
        ("13159081935", NEW_MOBILE, "import:dibao_households.csv")
    ]
    with runtime.factory() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "ledger_import")).all()[-1]
        assert entry.new["shared_to"] == ["disabled_people"]
        before = get_record(session, get_ledger(session, "disabled_people"), ZHANG_DEMING).updated_at
    again = import_file(runtime, tmp_path, "dibao_households", text)
    assert (again.updated, again.unchanged) == (0, 2)
    with runtime.factory() as session:
        assert get_record(session, get_ledger(session, "disabled_people"), ZHANG_DEMING).updated_at == before


def test_a_new_record_imported_carries_its_values_to_the_same_persons_other_record(runtime, tmp_path):
    import_file(
        runtime, tmp_path, "disabled_people", f"身份证号,姓名,残疾类别,单位\n{'110101199003070011'},周平,肢体,松林村\n"
    )
    report = import_file(runtime, tmp_path, "dibao_households",
                         f"身份证号,姓名,联系电话,单位\n110101199003070011,周平,{NEW_MOBILE},松林村\n")  # fmt: skip
    assert report.inserted == 1
    assert values_of(runtime, "disabled_people", "110101199003070011")["mobile"] == NEW_MOBILE


# The disabled-person subsidy application: 区残联's own form, linked to 残疾人台账 only.
APPLICATION = [
    ["身份证号", "person_id", "申请人身份证号", "是", "残疾人台账.身份证号"],
    ["文本", "name", "申请人姓名", "是", "残疾人台账.姓名"],
    ["手机号", "mobile", "联系电话", "是", "残疾人台账.联系电话"],
    ["单选 kind", "kind", "残疾类别", "是", "残疾人台账.残疾类别"],
    ["单选 grade", "grade", "残疾等级", "是", "残疾人台账.残疾等级"],
]
KINDS = ["视力", "听力", "言语", "肢体", "智力", "精神", "多重"]
GRADES = ["一级", "二级", "三级", "四级"]


def application_workbook() -> bytes:
    book = Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(["类型", "字段名", "题目", "必填", "台账字段"])
    for row in APPLICATION:
        survey.append(row)
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", "label"])
    for name, options in (("kind", KINDS), ("grade", GRADES)):
        for option in options:
            choices.append([name, option, option])
    book.create_sheet("settings").append(["form_title", "form_id"])
    book["settings"].append(["两项补贴申请", "subsidy_application"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_the_subsidy_application_asks_nothing_the_dibao_ledger_knows_about_the_person(chat, runtime):
    assert "已导入表单《两项补贴申请》" in chat.send_file("wang_canlian", "申请.xlsx", application_workbook())
    chat.say("wang_canlian", "/发布 两项补贴申请 截止 11月30日18点 范围 松林村 不审核")
    assert "第1/5题" in chat.say("zhang_dehua", "开始")
    # 李秀兰 is in 低保对象台账 only: her name and mobile come from there, only the disability is asked.
    filled = chat.say("zhang_dehua", LI_XIULAN)
    assert "已从台账带出：申请人姓名、联系电话" in filled and "第4/5题" in filled and "残疾类别" in filled
    chat.say("zhang_dehua", "肢体")
    review = chat.say("zhang_dehua", "三级")
    assert "2. 申请人姓名：李秀兰" in review and "3. 联系电话：136****5836" in review and "13619375836" not in review
    assert "已提交" in chat.say("zhang_dehua", "提交")
    assert values_of(runtime, "disabled_people", LI_XIULAN) == {
        "name": "李秀兰", "mobile": "13619375836", "disability_kind": "肢体", "disability_grade": "三级",
    }  # fmt: skip
    with runtime.factory() as session:
        submission = session.scalar(select(Submission))
        assert (submission.asked_count, submission.prefilled_count, submission.confirmed_count) == (3, 2, 2)


def test_a_filler_of_another_village_gets_nothing_from_a_record_outside_her_units_and_writes_nothing_there(
    chat, runtime
):
    before = held(runtime, "dibao_households", LI_XIULAN)
    chat.send_file("wang_canlian", "申请.xlsx", application_workbook())
    chat.say("wang_canlian", "/发布 两项补贴申请 截止 11月30日18点 范围 汉东村 不审核")
    chat.say("luo_xiuying", "开始")
    asked = chat.say("luo_xiuying", LI_XIULAN)
    assert "第2/5题" in asked and "已从台账带出" not in asked
    for trace in ("李秀兰", "136****5836", "13619375836", "松林村"):
        assert trace not in asked
    for answer in ("李秀兰", NEW_MOBILE, "肢体", "三级"):
        chat.say("luo_xiuying", answer)
    assert "已提交" in chat.say("luo_xiuying", "提交")
    # her new 残疾人台账 record is 汉东村's; 松林村's 低保 record keeps its own values and times
    assert values_of(runtime, "disabled_people", LI_XIULAN)["mobile"] == NEW_MOBILE
    assert held(runtime, "dibao_households", LI_XIULAN) == before


def test_under_review_the_other_ledger_changes_when_the_town_approves(chat, runtime, tmp_path):
    row = f"{ZHANG_DEMING},张德明,肢体,13159081935,松林村"
    import_file(runtime, tmp_path, "disabled_people", f"身份证号,姓名,残疾类别,联系电话,单位\n{row}\n")
    chat.send_file("li_minzheng", "核对.xlsx", survey_workbook(CONTACT_FORM, title="低保户联系电话核对", code="c"))
    chat.say("li_minzheng", "/发布 低保户联系电话核对 截止 11月30日18点 范围 松林村")
    for answer in ("开始", ZHANG_DEMING, "修改 3", NEW_MOBILE, "提交"):
        chat.say("zhang_dehua", answer)
    assert values_of(runtime, "disabled_people", ZHANG_DEMING)["mobile"] == "13159081935"
    assert "已通过：永川区/朱沱镇/松林村" in chat.say("zhou_jianguo", "通过")
    assert values_of(runtime, "disabled_people", ZHANG_DEMING)["mobile"] == NEW_MOBILE
    assert [new for _, new, _ in changes_of(runtime, "disabled_people", ZHANG_DEMING, "mobile")] == [NEW_MOBILE]


def test_a_correction_of_an_approved_mobile_reaches_the_other_ledger_too(chat, runtime, tmp_path):
    row = f"{ZHANG_DEMING},张德明,肢体,13159081935,松林村"
    import_file(runtime, tmp_path, "disabled_people", f"身份证号,姓名,残疾类别,联系电话,单位\n{row}\n")
    chat.send_file("li_minzheng", "核对.xlsx", survey_workbook(CONTACT_FORM, title="低保户联系电话核对", code="c"))
    chat.say("li_minzheng", "/发布 低保户联系电话核对 截止 11月30日18点 范围 松林村")
    for answer in ("开始", ZHANG_DEMING, "修改 3", NEW_MOBILE, "提交"):
        chat.say("zhang_dehua", answer)
    chat.say("zhou_jianguo", "通过")
    reply = chat.say("li_minzheng", "/更正 1 松林村 第3题 13983041277 核对后更正")
    assert "台账已同步：联系电话。" in reply
    assert values_of(runtime, "disabled_people", ZHANG_DEMING)["mobile"] == "13983041277"
    sources = [source for _, _, source in changes_of(runtime, "disabled_people", ZHANG_DEMING, "mobile")]
    assert sources == ["任务#1《低保户联系电话核对》", "任务#1《低保户联系电话核对》更正"]


def test_a_roster_row_shows_the_name_another_ledger_holds_and_a_filler_elsewhere_does_not_see_it(chat, runtime):
    # 残疾人台账 learns 李秀兰's disability without her name (kept in 低保对象台账, 松林村), and of a 汉东村 person
    # whose name only 松林村's 低保 records could tell: neither roster may borrow across units.
    with runtime.factory.begin() as session:
        disabled = get_ledger(session, "disabled_people")
        song_lin = get_record(session, get_ledger(session, "dibao_households"), LI_XIULAN).org_unit_id
        han_dong = get_record(session, disabled, "500118196607280825").org_unit_id  # 赵桂英, 汉东村
        values = {"disability_kind": "肢体", "disability_grade": "三级"}
        write_values(session, disabled, LI_XIULAN, song_lin, values, None, "test", runtime.engine.now())
        write_values(session, disabled, ZHANG_DEMING, han_dong, values, None, "test", runtime.engine.now())
    chat.say("wang_canlian", "/发布 两项补贴花名册 截止 11月30日18点 范围 松林村 汉东村 不审核")
    rows = chat.say("zhang_dehua", "开始")
    for _ in range(3):
        rows += chat.say("zhang_dehua", "确认")
    assert "姓名：李秀兰" in rows
    others = chat.say("luo_xiuying", "开始")
    for _ in range(4):
        others += chat.say("luo_xiuying", "确认")
    assert "5001**********8318" in others and "张德明" not in others
