"""/发布 in a department's words: the admin acting for a department, lookalike tasks, scope and deadline words."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.config import SchedulerConfig
from ledger_store.models import AuditEntry, Department, OrgUnit, Person, PersonRole, ReportTask, Role
from scheduler.jobs import TimedWork

ALL = (
    "li_minzheng", "wang_canlian", "admin", "hu_xiaoyan", "zhang_dehua", "luo_xiuying", "chen_guoping",
    "liu_ting", "huang_li", "wu_min", "deng_xiaohong",
)  # fmt: skip
DIBAO = ["350", "3", "1", "15000", "是", "13908315526", "跳过"]  # after confirming the ledger's 在保低保户数


def tasks(runtime) -> list[tuple[int, str, str]]:
    """(id, department, issuer account) of every task."""
    with runtime.factory() as session:
        return [
            (task.id, task.department.name, task.issued_by.account)
            for task in session.scalars(select(ReportTask).order_by(ReportTask.id))
        ]


def reached(chat) -> dict[str, int]:
    """Who got a push since the last call, and how many."""
    return {account: len(got) for account in ALL if (got := chat.pushes(account))}


# The admin acts for a department


def test_an_admin_of_no_department_is_told_how_to_name_one_and_nothing_is_issued(chat, runtime):
    reply = chat.say("admin", "/发布 低保月报 截止 明天17:00 范围 松林村 不审核")
    assert reply == (
        "管理员请写明代哪个部门发布，如：/发布 低保月报 截止 明天17:00 部门 区民政局。"
        "可选部门：区民政局、区残联、区司法局、区农业农村委、区应急局。"
    )
    assert "没有所属部门" not in reply
    assert tasks(runtime) == [] and reached(chat) == {}


def test_an_admin_issues_for_a_department_which_owns_the_task_and_its_summary_workbook(chat, runtime):
    reply = chat.say("admin", "/发布 低保月报 截止 明天17:00 范围 松林村 部门 区民政局 不审核")
    assert reply.startswith("已发布《低保月报》（任务#1），11月29日（周五）17:00截止，已通知1个单位：松林村。")
    assert "这是代区民政局发布的任务：汇总表发给区民政局的发布员，您收到汇总情况。" in reply
    assert tasks(runtime) == [(1, "区民政局", "admin")]
    assert "【区民政局】发布了《低保月报》（任务#1）" in chat.pushed_texts("zhang_dehua")[0]
    [notice] = chat.pushed_texts("li_minzheng")
    assert notice.startswith(
        "管理员陈志刚代区民政局发布了《低保月报》（任务#1），11月29日（周五）17:00截止，发给1个单位。"
    )
    assert reached(chat) == {}  # not 区残联, nobody else
    assert "《低保月报》#1：已报 0/1" in chat.say("li_minzheng", "/进度")  # the department's own task

    for answer in ["开始", "确认", *DIBAO, "提交"]:
        chat.say("zhang_dehua", answer)
    digest, workbook = chat.pushes("li_minzheng")
    assert digest.text.startswith("《低保月报》（任务#1）：1/1 已报")
    assert workbook.file_name.startswith("低保月报汇总_任务1_")
    # The workbook shows whole ID numbers and mobiles: the admin, outside the department, gets the digest only.
    [digest_only] = chat.pushes("admin")
    assert digest_only.file_name is None and digest_only.text.startswith("《低保月报》（任务#1）：1/1 已报")
    assert digest_only.text.endswith("汇总表（数据不打码）只发给区民政局的发布员。")
    assert chat.pushes("wang_canlian") == []
    with runtime.factory() as session:
        issued = session.scalar(select(AuditEntry).where(AuditEntry.action == "issue").order_by(AuditEntry.id))
        assert issued.actor_id == session.scalar(select(Person.id).where(Person.account == "admin"))
        assert issued.new["department"] == "区民政局"


def test_at_the_deadline_the_department_gets_the_summary_and_the_admin_its_digest(chat, runtime, clock):
    chat.say("admin", "/发布 低保月报 截止 明天17:00 范围 松林村 汉东村 部门 区民政局 不审核")
    reached(chat)
    clock.advance(hours=31)  # Friday 17:00, the deadline
    work = TimedWork(runtime, SchedulerConfig(), holder="scheduler")
    work.tick()
    work.drain()
    digest, workbook = chat.pushes("li_minzheng")
    assert "未报：松林村、汉东村" in digest.text and workbook.file_name.startswith("低保月报汇总_任务1_")
    [digest_only] = chat.pushes("admin")
    assert "未报：松林村、汉东村" in digest_only.text and digest_only.file_name is None
    assert chat.pushes("wang_canlian") == []


@pytest.mark.parametrize(
    "command",
    [
        "/发布 残疾人两项补贴情况 截止 12月5日 范围 石庙村 部门 区残联 不审核",
        "/发布 残疾人两项补贴情况 截止 12月5日 范围 石庙村 部门：区残联 不审核",
        "/发布 残疾人两项补贴情况 部门 区残联 截止 12月5日 范围 石庙村 不审核",
        "/发布 残疾人两项补贴情况 截止 12月5日 范围 石庙村 代区残联发布 不审核",
        "/发布 代 区残联 残疾人两项补贴情况 截止 12月5日 范围 石庙村 不审核",
    ],
)
def test_the_department_may_be_named_where_and_how_a_person_writes_it(chat, runtime, command):
    assert "已发布《残疾人两项补贴情况》（任务#1）" in chat.say("admin", command)
    assert tasks(runtime) == [(1, "区残联", "admin")]
    assert len(chat.pushed_texts("wang_canlian")) == 1 and chat.pushed_texts("li_minzheng") == []


def test_an_issuer_may_not_issue_for_another_department(chat, runtime):
    reply = chat.say("li_minzheng", "/发布 低保月报 截止 明天17:00 范围 松林村 部门 区残联 不审核")
    assert reply == "只有管理员可以代其他部门（区残联）发布任务，您只能以本部门（区民政局）的名义发布。"
    assert chat.say("li_minzheng", "/发布 低保月报 截止 明天17:00 代区残联 不审核") == reply
    assert tasks(runtime) == [] and reached(chat) == {}
    assert "已发布" in chat.say("li_minzheng", "/发布 低保月报 截止 明天17:00 范围 松林村 部门 区民政局 不审核")
    assert tasks(runtime) == [(1, "区民政局", "li_minzheng")]


def test_an_unknown_department_is_answered_with_the_closest(chat, runtime):
    reply = chat.say("admin", "/发布 低保月报 截止 明天17:00 部门 区民证局 不审核")
    assert reply == (
        "没有找到部门“区民证局”。您是不是要找：区民政局、区应急局、区司法局？"
        "可选部门：区民政局、区残联、区司法局、区农业农村委、区应急局。"
    )
    assert tasks(runtime) == []


def test_a_word_starting_with_dai_is_no_department_unless_it_names_one(chat, runtime):
    # 代 only means "on behalf of" before a department's name; the template is still looked for.
    reply = chat.say("li_minzheng", "/发布 代课教师统计 截止 明天17:00 不审核")
    assert reply.startswith("没有找到模板“代课教师统计”")


def test_an_issuer_without_a_department_is_still_told_to_ask_the_admin(chat, runtime):
    with runtime.factory.begin() as session:
        person = session.scalar(select(Person).where(Person.account == "hu_xiaoyan"))
        person.roles.append(PersonRole(role=Role.ISSUER))
    refused = chat.say("hu_xiaoyan", "/发布 低保月报 截止 明天17:00 不审核")
    assert refused == "您没有所属部门，不能发布任务。请联系管理员。"
    assert tasks(runtime) == []


# Lookalike tasks


def test_the_same_task_again_waits_for_a_confirmation_and_then_has_its_own_number(chat, runtime):
    chat.say("li_minzheng", "/发布 低保月报 截止 明天17:00 范围 松林村 汉东村 不审核")
    first = chat.pushed_texts("zhang_dehua")
    reached(chat)
    asked = chat.say("li_minzheng", "/发布 低保月报 截止 明天17:00 范围 松林村 不审核")
    assert asked == (
        "区民政局已有相似的任务（同一模板、截止时间相差不到一天、发给相同的单位）：\n"
        "· 《低保月报》（任务#1）11月29日（周五）17:00截止，发给松林村、汉东村，已报 0/2\n"
        "确实要再发布一次，请回复“确认发布”；回复其他内容则不发布。"
    )
    assert len(tasks(runtime)) == 1 and reached(chat) == {}
    assert "已发布《低保月报》（任务#2）" in chat.say("li_minzheng", "确认发布")
    second = chat.pushed_texts("zhang_dehua")
    assert reached(chat) == {}
    # Two tasks alike in everything but their number: their notices differ, so WeCom's duplicate check keeps both.
    assert "（任务#1）" in first[0] and "（任务#2）" in second[0] and first != second
    assert chat.say("li_minzheng", "确认发布") != "" and len(tasks(runtime)) == 2  # confirming works once


def test_outside_a_form_a_plain_confirm_issues_the_lookalike_too(chat, runtime):
    chat.say("li_minzheng", "/发布 低保月报 截止 明天17:00 范围 松林村 不审核")
    chat.say("li_minzheng", "/发布 低保月报 截止 明天17:00 范围 松林村 不审核")
    assert "已发布《低保月报》（任务#2）" in chat.say("li_minzheng", "确认")


@pytest.mark.parametrize("answer", ["不发布", "取消", "/进度", "好的"])
def test_anything_but_confirming_drops_the_lookalike(chat, runtime, answer):
    chat.say("li_minzheng", "/发布 低保月报 截止 明天17:00 范围 松林村 不审核")
    chat.say("li_minzheng", "/发布 低保月报 截止 明天17:00 范围 松林村 不审核")
    reply = chat.say("li_minzheng", answer)
    if answer in ("不发布", "取消"):
        assert reply == "好的，没有发布。"
    elif answer == "/进度":
        assert reply.startswith("《低保月报》#1：已报 0/1")  # the command is answered as usual
    chat.say("li_minzheng", "确认发布")
    assert len(tasks(runtime)) == 1


@pytest.mark.parametrize(
    ("account", "command", "asked"),
    [
        ("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 汉东村 石庙村 不审核", True),  # one unit in common
        ("li_minzheng", "/发布 低保月报 截止 12月1日9点 范围 松林村 不审核", True),  # 15 hours later
        ("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村 不收迟报 不审核", True),  # other terms alike
        ("li_minzheng", "/发布 低保月报 截止 12月1日18点 范围 松林村 不审核", False),  # a day later
        ("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 石庙村 不审核", False),  # other units
        ("li_minzheng", "/发布 残疾人两项补贴情况 截止 11月30日18点 范围 松林村 不审核", False),  # another form
        ("wang_canlian", "/发布 低保月报 截止 11月30日18点 范围 松林村 不审核", False),  # another department
    ],
)
def test_what_counts_as_a_lookalike(chat, runtime, account, command, asked):
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村 汉东村 不审核")
    if account == "wang_canlian":  # 低保月报 reads and writes 村社区基本情况台账: 区残联 needs it whole to issue it
        chat.say("admin", "/台账权限 村社区基本情况台账 共享 区残联 完整")
    reply = chat.say(account, command)
    assert ("已有相似的任务" in reply) is asked
    assert len(tasks(runtime)) == (1 if asked else 2)


def test_many_lookalikes_are_listed_three_at_most(chat, runtime):
    for _ in range(4):
        chat.say("li_minzheng", "/发布 低保月报 截止 明天17:00 范围 松林村 不审核")
        chat.say("li_minzheng", "确认发布")
    asked = chat.say("li_minzheng", "/发布 低保月报 截止 明天17:00 范围 松林村 不审核")
    assert [line[:14] for line in asked.splitlines()[1:5]] == [
        "· 《低保月报》（任务#4）",
        "· 《低保月报》（任务#3）",
        "· 《低保月报》（任务#2）",
        "· ……另有1个相似的任务，",
    ]


def test_a_task_everyone_reported_still_counts_as_a_lookalike(chat, runtime):
    chat.say("li_minzheng", "/发布 低保月报 截止 明天17:00 范围 松林村 不审核")
    for answer in ["开始", "确认", *DIBAO, "提交"]:
        chat.say("zhang_dehua", answer)
    assert "已报 1/1" in chat.say("li_minzheng", "/发布 低保月报 截止 明天17:00 范围 松林村 不审核")


def test_an_issuer_in_the_middle_of_a_form_loses_no_answer_to_the_question(chat, runtime):
    with runtime.factory.begin() as session:  # 张德华 also issues for 区民政局
        person = session.scalar(select(Person).where(Person.account == "zhang_dehua"))
        person.department_id = session.scalar(select(Department.id).where(Department.name == "区民政局"))
        person.roles.append(PersonRole(role=Role.ISSUER))
    chat.say("li_minzheng", "/发布 低保月报 截止 明天17:00 范围 松林村 不审核")
    assert "已从台账带出" in chat.say("zhang_dehua", "开始")
    asked = chat.say("zhang_dehua", "/发布 低保月报 截止 明天17:00 范围 松林村 不审核")
    assert "请回复“确认发布”" in asked and "《低保月报》" in asked.splitlines()[-1]  # and where the form stands
    # In a form, 确认 is the form's word: it confirms the ledger's values, and the lookalike is dropped.
    assert "第2/8题" in chat.say("zhang_dehua", "确认")
    assert len(tasks(runtime)) == 1
    chat.say("zhang_dehua", "/发布 低保月报 截止 明天17:00 范围 松林村 不审核")
    issued = chat.say("zhang_dehua", "确认发布")
    assert "已发布《低保月报》（任务#2）" in issued and "第2/8题" in issued.splitlines()[-1]
    assert "第3/8题" in chat.say("zhang_dehua", "350")


# Scope words


@pytest.mark.parametrize(
    ("scope", "units"),
    [
        ("各村", ["松林村", "汉东村", "石庙村"]),
        ("朱沱镇各村", ["松林村", "汉东村", "石庙村"]),
        ("中山路街道各村", []),
        ("各社区", ["红旗社区", "萱花社区", "凤凰湖社区"]),
        ("中山路街道各社区", ["红旗社区", "萱花社区", "凤凰湖社区"]),
        ("各村社区", ["松林村", "汉东村", "石庙村", "红旗社区", "萱花社区", "凤凰湖社区"]),
        ("各镇街", ["朱沱镇", "中山路街道"]),
        ("各街道", ["中山路街道"]),
        ("各镇", ["朱沱镇"]),
        ("各网格", []),
        ("全部", ["朱沱镇", "中山路街道", "松林村", "汉东村", "石庙村", "红旗社区", "萱花社区", "凤凰湖社区"]),
        ("朱沱镇全部", ["松林村", "汉东村", "石庙村"]),
        ("朱沱镇下辖、红旗社区", ["松林村", "汉东村", "石庙村", "红旗社区"]),
    ],
)
def test_scope_words_reach_the_units_a_person_means(chat, scope, units):
    reply = chat.say("li_minzheng", f"/发布 低保月报 截止 明天17:00 范围 {scope} 不审核")
    if not units:
        assert reply == "范围内没有登记了填报员的单位，任务没有发布。"
        return
    assert f"已通知{len(units)}个单位：{'、'.join(units)}。" in reply
    got = reached(chat)
    assert got.pop("li_minzheng", None) is None and len(got) == len(units)


def test_a_town_department_s_scope_words_stay_in_its_town(chat, town_office):
    reply = chat.say(town_office, "/发布 残疾人两项补贴情况 截止 明天17:00 范围 全部 不审核")
    assert "已通知3个单位：松林村、汉东村、石庙村" in reply
    assert chat.say(town_office, "/发布 残疾人两项补贴情况 截止 明天17:00 范围 各社区 不审核") == (
        "范围内没有登记了填报员的单位，任务没有发布。"
    )
    assert chat.say(town_office, "/发布 残疾人两项补贴情况 截止 明天17:00 范围 中山路街道各社区 不审核").startswith(
        "“中山路街道”不在朱沱镇范围内"
    )


def test_villages_are_told_from_communities_by_the_imported_level_or_else_by_the_name(chat, runtime, tmp_path):
    with runtime.factory.begin() as session:
        town = session.scalar(select(OrgUnit).where(OrgUnit.name == "朱沱镇"))
        # Made before kinds were stored (or synced from WeCom): known by the name; imported: known by the kind.
        for account, name, kind in (
            ("xinqiao", "新桥村", None),
            ("daping", "大坪组", "村"),
            ("binjiang", "滨江小区", "社区"),
        ):
            unit = OrgUnit(name=name, level="village", kind=kind, parent_id=town.id)
            filler = Person(account=account, name=f"{name}填报员", org_unit=unit)
            filler.roles = [PersonRole(role=Role.FILLER)]
            session.add(filler)
    reply = chat.say("li_minzheng", "/发布 低保月报 截止 明天17:00 范围 朱沱镇各村 不审核")
    assert "已通知5个单位：松林村、汉东村、石庙村、新桥村、大坪组。" in reply


# Deadline words


@pytest.mark.parametrize(
    "command",
    [
        "/发布 低保月报 截止：明天17:00 范围 松林村 不审核",
        "/发布 低保月报 截止:明天17:00 范围：松林村 不审核",
        "/发布 低保月报 截止 ： 明天17:00 范围 松林村 不审核",
        "/发布 低保月报，截止时间：明天17:00，范围：松林村 不审核",
    ],
)
def test_a_colon_after_the_deadline_or_scope_word_is_fine(chat, command):
    assert "已发布《低保月报》（任务#1），11月29日（周五）17:00截止，已通知1个单位：松林村。" in chat.say(
        "li_minzheng", command
    )


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("月底", "11月30日（周六）18:00"),
        ("本月底17:00", "11月30日（周六）17:00"),
        ("月底前", "11月30日（周六）18:00"),
        ("下月底", "12月31日（周二）18:00"),
        ("下个月底 下午5点", "12月31日（周二）17:00"),
        ("12月底", "12月31日（周二）18:00"),
    ],
)
def test_month_end_words_are_the_last_day_of_the_month(chat, written, shown):
    reply = chat.say("li_minzheng", f"/发布 低保月报 截止 {written} 范围 松林村 不审核")
    assert f"已发布《低保月报》（任务#1），{shown}截止" in reply
    assert f"请在{shown}前报送" in chat.pushed_texts("zhang_dehua")[0]
