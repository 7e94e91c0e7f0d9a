"""Sign-off instead of print-and-stamp: the summary's 审核签字 sheet names who approved each unit, when, and the
SHA-256 of what they signed; a department's /更正 is signed anew and shows the old digest as replaced; and
`python -m bot verify-digest` recomputes every digest from the stored submissions."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import datetime

import sqlalchemy as sa
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from cli.bot_command import command_line
from handlers.forms.builtin import Template
from handlers.forms.fields import Field, FieldType
from handlers.forms.registry import ensure_template
from handlers.review.verification import verify
from ledger_store.ledgers import get_ledger, history, known_values, write_values
from ledger_store.models import Answer, Assignment, AuditEntry, OrgUnit, ReviewStep, Submission

ISSUE = "/发布 低保月报 截止 11月30日18点 范围 松林村 汉东村 石庙村"
SIGNOFF_HEADER = ("序号", "单位", "填报人", "提交时间", "审核人", "通过时间", "轮次", "摘要（SHA-256）", "状态", "备注")
DECIMALS = {"amount"}  # the 低保月报's only decimal question; the other numbers are whole-number questions
HOME_VISIT = Template(
    code="home_visit",
    title="入户核查",
    fields=(
        Field("head_id", "户主身份证号", FieldType.ID_NUMBER, save_to="dibao_households.id_number"),
        Field("has_father", "父亲是否健在", FieldType.YES_NO),
        Field("father_age", "父亲年龄", FieldType.INTEGER, unit="岁", relevant="${has_father} = 'yes'",
              constraint=". >= 30", constraint_message="父亲年龄应不小于30岁"),
        Field("members", "家庭人口数", FieldType.INTEGER, unit="人", save_to="dibao_households.household_size"),
        Field("income", "家庭年收入", FieldType.DECIMAL, unit="元"),
        Field("per_capita", "人均年收入", FieldType.CALCULATE, unit="元", calculation="${income} div ${members}"),
    ),
)  # fmt: skip
HEAD = "500118196003138318"  # 张德明 of 松林村 in the demo 低保对象台账, a household of 1


def fill(chat, account: str, persons: str = "356", amount: str = "15000.5") -> None:
    """A village's 低保月报: confirm (or, for 石庙村 the ledger knows nothing of, answer) 在保低保户数, then answer the
    other seven; not yet 提交."""
    chat.say(account, "开始")
    chat.say(account, "2" if account == "chen_guoping" else "确认")
    for answer in [persons, "3", "1", amount, "是", "13908315526", "跳过"]:
        chat.say(account, answer)


def both_approved(chat, clock) -> None:
    """松林村 and 汉东村 submit at 10:05 and 10:10; 周建国 approves both at 10:30."""
    chat.say("li_minzheng", ISSUE.replace(" 石庙村", ""))
    for account in ("zhang_dehua", "luo_xiuying"):
        clock.advance(minutes=5)
        fill(chat, account)
        chat.say(account, "提交")
    clock.advance(minutes=20)
    chat.say("zhou_jianguo", "/审核")
    chat.say("zhou_jianguo", "通过")
    chat.say("zhou_jianguo", "通过")


def signed_bytes(runtime, unit: str) -> bytes:
    """The canonical content of a unit's stored submission, built here by the README's rule from the answers table."""
    with runtime.factory() as session:
        assignment = session.scalar(select(Assignment).join(OrgUnit).where(OrgUnit.name == unit))
        submission = session.scalar(select(Submission).where(Submission.assignment_id == assignment.id))
        answers: dict[str, object] = {}
        for row in session.scalars(select(Answer).where(Answer.submission_id == submission.id)):
            if row.number_value is not None:
                number = row.number_value.normalize()
                answers[row.field_name] = format(number, "f") if row.field_name in DECIMALS else int(number)
            elif row.bool_value is not None:
                answers[row.field_name] = row.bool_value
            elif row.text_value is not None:
                answers[row.field_name] = row.text_value
        content = {"task": assignment.task_id, "unit": f"永川区/朱沱镇/{unit}", "answers": answers, "rosters": {}}
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sha256(runtime, unit: str) -> str:
    return hashlib.sha256(signed_bytes(runtime, unit)).hexdigest()


def summary_book(chat):
    """/汇总 as 李敏正, and the workbook he receives."""
    chat.pushes("li_minzheng")
    chat.say("li_minzheng", "/汇总")
    files = [message for message in chat.pushes("li_minzheng") if message.file_bytes]
    return load_workbook(io.BytesIO(files[-1].file_bytes))


def sheet_rows(book, title: str) -> list[tuple]:
    return list(book[title].iter_rows(values_only=True))


def at(hour: int, minute: int) -> datetime:
    """A local wall-clock time of the test's day, as a cell holds it."""
    return datetime(2024, 11, 28, hour, minute)


def test_the_signoff_sheet_names_every_approver_the_time_the_rounds_and_the_digest_signed(chat, clock, runtime):
    chat.say("li_minzheng", ISSUE)
    clock.advance(minutes=5)
    fill(chat, "zhang_dehua")
    chat.say("zhang_dehua", "提交")  # 10:05
    clock.advance(minutes=5)
    fill(chat, "luo_xiuying", persons="300")
    chat.say("luo_xiuying", "提交")  # 10:10
    clock.advance(minutes=5)
    fill(chat, "chen_guoping")
    chat.say("chen_guoping", "提交")  # 10:15, and never reviewed
    clock.advance(minutes=15)
    chat.say("zhou_jianguo", "/审核")
    assert "已通过：永川区/朱沱镇/松林村" in chat.say("zhou_jianguo", "通过")  # 10:30
    assert "已退回" in chat.say("zhou_jianguo", "退回 第2题 人数与户籍不符")  # 汉东村, round 1
    chat.say("zhou_jianguo", "结束审核")
    clock.advance(minutes=10)
    chat.say("luo_xiuying", "开始")
    chat.say("luo_xiuying", "358")
    chat.say("luo_xiuying", "提交")  # 10:40, round 2
    clock.advance(minutes=5)
    chat.say("zhou_jianguo", "/审核")
    chat.say("zhou_jianguo", "下一份")  # 石庙村 waits longer; 汉东村 is approved
    assert "已通过：永川区/朱沱镇/汉东村" in chat.say("zhou_jianguo", "通过")  # 10:45

    book = summary_book(chat)

    with runtime.factory() as session:
        steps = session.scalars(select(ReviewStep).order_by(ReviewStep.id)).all()
        assert all(step.digest == hashlib.sha256(canonical_of(step)).hexdigest() for step in steps)
    assert sheet_rows(book, "审核签字") == [
        SIGNOFF_HEADER,
        (1, "永川区/朱沱镇/松林村", "张德华", at(10, 5), "朱沱镇 周建国", at(10, 30), 1, sha256(runtime, "松林村"),
         "有效", None),
        (2, "永川区/朱沱镇/汉东村", "罗秀英", at(10, 40), "朱沱镇 周建国", at(10, 45), 2, sha256(runtime, "汉东村"),
         "有效", None),
        (3, "永川区/朱沱镇/石庙村", "陈国平", at(10, 15), None, None, 1, None, "待审核", None),
    ]  # fmt: skip
    sheet = book["审核签字"]
    assert sheet["D2"].number_format == sheet["F2"].number_format == "yyyy-mm-dd hh:mm"
    assert '"persons":358' in signed_bytes(runtime, "汉东村").decode()  # the approved round's answers, not round 1's
    assert '"amount":"15000.5"' in signed_bytes(runtime, "松林村").decode()


def canonical_of(step: ReviewStep) -> bytes:
    """The bytes of the content a step keeps, by the documented rule."""
    return json.dumps(step.content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def test_a_task_with_the_departments_acceptance_names_both_approvers(chat, clock, runtime):
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村 审核 区级")
    clock.advance(minutes=5)
    fill(chat, "zhang_dehua")
    chat.say("zhang_dehua", "提交")
    clock.advance(minutes=5)
    chat.say("zhou_jianguo", "通过")
    assert sheet_rows(summary_book(chat), "审核签字")[1][4:9] == (None, None, 1, None, "待验收")
    clock.advance(minutes=5)
    chat.say("li_minzheng", "通过")

    rows = sheet_rows(summary_book(chat), "审核签字")

    assert rows[1] == (1, "永川区/朱沱镇/松林村", "张德华", at(10, 5), "朱沱镇 周建国；区民政局 李敏正", at(10, 15), 1,
                       sha256(runtime, "松林村"), "有效", None)  # fmt: skip


def test_a_correction_changes_the_answer_and_the_ledger_and_shows_the_old_digest_as_superseded(chat, clock, runtime):
    both_approved(chat, clock)
    old_digest = sha256(runtime, "松林村")
    chat.pushes("zhang_dehua")
    clock.advance(hours=2)

    reply = chat.say("li_minzheng", "/更正 1 松林村 第2题 三百六十 核对户籍后更正")

    assert reply.startswith("已更正：永川区/朱沱镇/松林村 《低保月报》（任务#1），第2题 在保低保人数：356人 → 360人。")
    assert f"原签字摘要 {old_digest[:12]}… 已作废" in reply and "台账已同步：在保低保人数。" in reply
    assert chat.pushed_texts("zhang_dehua") == [
        "《低保月报》（任务#1）已审核通过的报送被区民政局 李敏正更正：第2题 在保低保人数：356人 → 360人。"
        "原因：核对户籍后更正"
    ]
    new_digest = sha256(runtime, "松林村")
    assert new_digest != old_digest
    with runtime.factory() as session:
        ledger = get_ledger(session, "unit_profile")
        assert known_values(session, ledger, "松林村", runtime.engine.now())["dibao_persons"].value == 360
        change = history(session, ledger, "松林村", "dibao_persons")[-1]
        assert (change.old, change.new, change.source) == (356, 360, "任务#1《低保月报》更正")
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "correct"))
        assert entry.old == {"field": "persons", "value": 356, "round": 1, "digest": old_digest}
        assert entry.new["value"] == 360 and entry.new["digest"] == new_digest and entry.new["round"] == 2
        assert entry.new["reason"] == "核对户籍后更正"

    book = summary_book(chat)

    assert sheet_rows(book, "审核签字")[1:] == [
        (1, "永川区/朱沱镇/松林村", "张德华", at(10, 5), "朱沱镇 周建国", at(10, 30), 1, old_digest, "已被更正取代",
         None),
        (1, "永川区/朱沱镇/松林村", "张德华", at(12, 30), "区民政局 李敏正（更正）", at(12, 30), 2, new_digest, "有效",
         "更正 在保低保人数：356人 → 360人；原因：核对户籍后更正"),
        (2, "永川区/朱沱镇/汉东村", "罗秀英", at(10, 10), "朱沱镇 周建国", at(10, 30), 1, sha256(runtime, "汉东村"),
         "有效", None),
    ]  # fmt: skip
    assert sheet_rows(book, "汇总")[1][5] == 360
    assert chat.say("li_minzheng", "/更正 1 松林村 第2题 360") == "第2题已经是360人，不用更正。"


def test_a_correction_leaves_a_ledger_value_that_changed_since(chat, clock, runtime):
    both_approved(chat, clock)
    with runtime.factory.begin() as session:  # a later report wrote 370 into the ledger
        ledger = get_ledger(session, "unit_profile")
        write_values(session, ledger, "松林村", None, {"dibao_persons": 370}, None, "任务#9", runtime.engine.now())

    reply = chat.say("li_minzheng", "/更正 1 松林村 第2题 360")

    assert "台账里的在保低保人数已被之后的报送或修改更新，没有改动。" in reply
    with runtime.factory() as session:
        ledger = get_ledger(session, "unit_profile")
        assert known_values(session, ledger, "松林村", runtime.engine.now())["dibao_persons"].value == 370
    assert "360" in str(sheet_rows(summary_book(chat), "汇总")[1])


def test_a_correction_is_refused_to_whoever_may_not_make_it_and_for_what_cannot_be_corrected(chat, clock, runtime):
    both_approved(chat, clock)
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 石庙村")  # task 2, nothing submitted yet
    chat.say("wang_canlian", "/发布 两项补贴花名册 截止 11月30日18点 范围 松林村")  # task 3, of 区残联
    digest_before = sha256(runtime, "松林村")
    chat.pushes("zhang_dehua")

    assert chat.say("wang_canlian", "/更正 1 松林村 第2题 999") == "没有找到本部门的任务#1。发 /进度 可看本部门的任务。"
    assert (
        chat.say("li_minzheng", "/更正 99 松林村 第2题 999") == "没有找到本部门的任务#99。发 /进度 可看本部门的任务。"
    )
    assert (
        chat.say("zhang_dehua", "/更正 1 松林村 第2题 999") == "抱歉，“/更正”需要发布员权限。如需开通，请联系管理员。"
    )
    assert "需要发布员权限" in chat.say("zhou_jianguo", "/更正 1 松林村 第2题 999")
    assert chat.say("li_minzheng", "/更正 1 松林村 第2题 abc") == "第2题的新值不行：“abc”不是数字，请填写整数，如 12。"
    assert chat.say("li_minzheng", "/更正 1 松林村 第2题 -5") == "第2题的新值不行：不能小于 0人，请重新填写。"
    assert chat.say("li_minzheng", "/更正 1 松林村 第9题 5").startswith("没有“第9题”这一题（这张表共 8 题）")
    assert chat.say("li_minzheng", "/更正 1 石庙村 第2题 5") == "《低保月报》（任务#1）没有发给“石庙村”。"
    assert chat.say("li_minzheng", "/更正 2 石庙村 第2题 5") == (
        "永川区/朱沱镇/石庙村的《低保月报》（任务#2）还没有审核通过（未开始），不能更正；审核时可以退回让填报人改。"
    )
    assert chat.say("wang_canlian", "/更正 3 松林村 第1题 张三").startswith(
        "第1题是花名册（残疾人名单），暂不支持更正花名册。"
    )
    assert chat.say("li_minzheng", "/更正 1 松林村") == (
        "格式：/更正 任务号 单位 第N题 新值 [原因]，例如：/更正 12 松林村 第2题 360 核对户籍后更正"
    )

    assert sha256(runtime, "松林村") == digest_before
    assert chat.pushed_texts("zhang_dehua") == []
    with runtime.factory() as session:
        assert session.scalar(select(sa.func.count()).select_from(ReviewStep)) == 2
        assert session.scalar(select(sa.func.count()).where(ReviewStep.superseded_at.is_not(None))) == 0
        ledger = get_ledger(session, "unit_profile")
        assert known_values(session, ledger, "松林村", runtime.engine.now())["dibao_persons"].value == 356
    assert chat.say("admin", "/更正 1 汉东村 第3题 4").startswith("已更正：永川区/朱沱镇/汉东村")


def verify_digest(engine, monkeypatch, *args: str):
    """`python -m bot verify-digest ARGS` on the test's database, in this process."""
    monkeypatch.setenv("YBT_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    return CliRunner().invoke(command_line, ["verify-digest", *args])


def test_verify_digest_recomputes_every_signed_digest_and_finds_a_tampered_answer(chat, clock, runtime, engine,
                                                                                  monkeypatch):  # fmt: skip
    both_approved(chat, clock)
    chat.say("li_minzheng", "/更正 1 汉东村 第3题 4")  # a correction is verified against its new digest
    songlin, handong = sha256(runtime, "松林村"), sha256(runtime, "汉东村")

    result = verify_digest(engine, monkeypatch, "--task", "1")

    assert result.exit_code == 0, result.output
    assert f"永川区/朱沱镇/松林村\n  签字摘要：{songlin}\n  重新计算：{songlin}\n  一致\n" in result.stdout
    assert f"永川区/朱沱镇/汉东村\n  签字摘要：{handong}\n  重新计算：{handong}\n  一致\n" in result.stdout
    assert result.stdout.endswith("一致 2 个，不一致 0 个。\n")

    with runtime.factory.begin() as session:  # someone edits the database behind the bot's back
        submission_id = session.scalar(
            select(Submission.id).join(Assignment).join(OrgUnit).where(OrgUnit.name == "松林村")
        )
        session.execute(
            sa.update(Answer)
            .where(Answer.submission_id == submission_id, Answer.field_name == "persons")
            .values(number_value=999)
        )
    tampered = sha256(runtime, "松林村")

    result = verify_digest(engine, monkeypatch, "--task", "1")

    assert result.exit_code == 1
    assert f"永川区/朱沱镇/松林村\n  签字摘要：{songlin}\n  重新计算：{tampered}\n  不一致\n" in result.stdout
    assert result.stdout.endswith("一致 1 个，不一致 1 个。\n")
    only = verify_digest(engine, monkeypatch, "--task", "1", "--unit", "汉东村")
    assert only.exit_code == 0 and "松林村" not in only.stdout and "一致 1 个，不一致 0 个。" in only.stdout
    missing = verify_digest(engine, monkeypatch, "--task", "7")
    assert missing.exit_code == 2 and "没有任务#7。" in missing.output


def test_verify_digest_lists_units_not_approved_yet(chat, clock, runtime, engine, monkeypatch):
    chat.say("li_minzheng", ISSUE)
    fill(chat, "zhang_dehua")
    chat.say("zhang_dehua", "提交")

    result = verify_digest(engine, monkeypatch, "--task", "1", "--unit", "松林村")

    assert result.exit_code == 0
    assert "永川区/朱沱镇/松林村\n  还没有审核通过（待审核），没有签字" in result.stdout


def test_the_summary_reads_the_review_steps_of_the_whole_task_not_one_unit_at_a_time(chat, clock, runtime, engine):
    both_approved(chat, clock)
    chat.pushes("li_minzheng")
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        chat.say("li_minzheng", "/汇总")
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)

    assert "审核签字" in load_workbook(io.BytesIO(chat.pushes("li_minzheng")[-1].file_bytes)).sheetnames
    # one query each for the 审核签字 sheet, the review figures of 填报负担 and the reviewers still holding units up,
    # however many units the task has
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT") and "review_steps" in s]) == 3


def test_a_correction_recomputes_calculations_and_keeps_the_forms_rules_and_its_record_key(chat, clock, runtime):
    with runtime.factory.begin() as session:
        ensure_template(session, HOME_VISIT, runtime.engine.now())
    chat.say("li_minzheng", "/发布 入户核查 截止 11月30日18点 范围 松林村")
    for text in ["开始", HEAD, "是", "40", "20000", "提交"]:  # 家庭人口数 comes from the ledger: 1
        chat.say("zhang_dehua", text)
    chat.say("zhou_jianguo", "通过")

    assert chat.say("li_minzheng", "/更正 1 松林村 第3题 25") == "第3题的新值不行：父亲年龄应不小于30岁"
    assert chat.say("li_minzheng", "/更正 1 松林村 第2题 否") == (
        "改了第2题，表里要问的题目也会变（显示条件），不能直接更正。"
    )
    assert chat.say("li_minzheng", "/更正 1 松林村 第1题 500118197701172729") == (
        "第1题（户主身份证号）是台账记录的编号，改了它其他答案就对应到另一条记录，不能更正。"
    )
    reply = chat.say("li_minzheng", "/更正 任务#1 松林村 第4题 4 家庭人口漏报")

    assert "第4题 家庭人口数：1人 → 4人" in reply and "台账已同步：家庭人口。" in reply
    with runtime.factory() as session:
        ledger = get_ledger(session, "dibao_households")
        assert known_values(session, ledger, HEAD, runtime.engine.now())["household_size"].value == 4
        checked = verify(session, 1)
        assert [(check.unit, check.agrees) for check in checked.checks] == [("永川区/朱沱镇/松林村", True)]
    book = summary_book(chat)
    assert sheet_rows(book, "汇总")[1][4:] == ("500118196003138318", "是", 40, 4, 20000, 5000)
    assert (
        sheet_rows(book, "审核签字")[2][9]
        == "更正 家庭人口数：1人 → 4人；人均年收入：20000元 → 5000元；原因：家庭人口漏报"
    )
