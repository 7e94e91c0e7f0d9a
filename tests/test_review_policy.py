"""Who reviews a task (审核上报): /发布's words, the town's reviewer or the department, fallbacks, recurring policy,
and working through /审核 one submission at a time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.config import SchedulerConfig
from handlers.core.messages import ButtonClick, Incoming
from ledger_store.models import Assignment, AssignmentStatus, Person, Recurrence, ReportTask
from ledger_store.org import SIMULATOR
from scheduler.jobs import TimedWork

TZ = ZoneInfo("Asia/Shanghai")
DIBAO = ["350", "3", "1", "15000", "是", "13908315526", "无"]  # after confirming 在保低保户数 from the ledger


def fill_dibao(chat, account: str, households: str = "确认") -> str:
    """Fill 低保月报 from the start and submit; the reply to 提交."""
    chat.say(account, "开始")
    chat.say(account, households)
    for answer in DIBAO:
        chat.say(account, answer)
    return chat.say(account, "提交")


def statuses(runtime) -> dict[str, str]:
    with runtime.factory() as session:
        rows = session.execute(select(Assignment.org_unit_id, Assignment.status, Assignment.id)).all()
        return {session.get(Assignment, row.id).org_unit.name: row.status for row in rows}


def test_by_default_a_village_s_report_waits_for_its_town_s_reviewer_and_counts_only_once_approved(chat, runtime):
    reply = chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村")
    assert reply.endswith("审核：村（社区）报送由所属镇街审核员审核，镇街报送由本部门审核。")
    submitted = fill_dibao(chat, "zhang_dehua")
    assert "等待朱沱镇审核。审核通过后才计入台账和汇总" in submitted
    [request] = chat.pushed_texts("zhou_jianguo")
    assert request.startswith("【待审核】永川区/朱沱镇/松林村 张德华 提交了《低保月报》（任务#1）：")
    assert "2. 在保低保人数：350人" in request
    assert "7. 填报人手机号：139****5526" in request  # masked on the way out
    assert chat.pushed_texts("yang_zhiqiang") == []  # the other street's reviewer hears nothing
    assert chat.pushes("li_minzheng") == []  # no summary before approval
    assert statuses(runtime) == {"松林村": AssignmentStatus.REVIEWING}
    assert "1/1 已报" not in chat.say("li_minzheng", "/进度 1")

    chat.pushed_texts("zhang_dehua")
    assert chat.say("zhou_jianguo", "通过") == "已通过：永川区/朱沱镇/松林村 《低保月报》（任务#1）。"
    assert chat.pushed_texts("zhang_dehua") == ["《低保月报》（任务#1）已由朱沱镇 周建国审核通过，已计入台账和汇总。"]
    assert "1/1 已报" in chat.pushed_texts("li_minzheng")[0]
    assert statuses(runtime) == {"松林村": AssignmentStatus.SUBMITTED}


def test_without_review_a_submission_counts_at_once(chat):
    reply = chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村 不审核")
    assert reply.endswith("不审核：提交即计入。")
    assert "已提交，谢谢" in fill_dibao(chat, "zhang_dehua")
    assert chat.pushed_texts("zhou_jianguo") == []
    assert "1/1 已报" in chat.pushed_texts("li_minzheng")[0]


def test_a_town_s_own_report_is_reviewed_by_the_issuing_department(chat, runtime):
    chat.say("li_minzheng", "/发布 残疾人两项补贴情况 截止 11月30日18点 范围 朱沱镇")
    chat.say("hu_xiaoyan", "开始")
    for answer in ["12", "5", "8600.50", "2024-11-20", "社保卡", "1", "110102199101010078", "13908315526"]:
        chat.say("hu_xiaoyan", answer)
    assert "等待区民政局审核" in chat.say("hu_xiaoyan", "提交")
    assert chat.pushed_texts("zhou_jianguo") == []  # the town's reviewer does not judge the town's own report
    [request] = chat.pushed_texts("li_minzheng")
    assert request.startswith("【待审核】永川区/朱沱镇 胡晓燕 提交了《残疾人两项补贴情况》（任务#1）：")
    # another department's issuer and a filler are refused, by word, by command and by the button
    assert chat.say("wang_canlian", "/审核") == "目前没有等您审核的报送。"
    assert chat.say("wang_canlian", "通过") == "目前没有等您审核的报送。"
    forged = Incoming(SIMULATOR, "wang_canlian", "", message_id="w1", button=ButtonClick("rv1", "通过"))
    assert [reply.text for reply in runtime.engine.receive(forged)] == [
        "这份报送不归您审核（只能审核本镇街以下单位的报送，且不能审核自己提交的）。"
    ]
    assert "审核员或发布员" in chat.say("zhang_dehua", "/审核")
    assert "已通过" in chat.say("li_minzheng", "通过")
    assert chat.say("zhou_jianguo", "通过") != "已通过"  # nothing waits on him: the word is not a review


def test_a_village_whose_town_has_no_reviewer_is_reviewed_by_the_department_and_the_issue_says_so(chat, runtime):
    with runtime.factory.begin() as session:
        session.execute(update(Person).where(Person.account == "zhou_jianguo").values(active=False))
    reply = chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村 汉东村 红旗社区")
    assert reply.endswith("松林村、汉东村的上级镇街没有审核员，改由区民政局审核。")
    fill_dibao(chat, "zhang_dehua")
    assert chat.pushed_texts("li_minzheng")[0].startswith("【待审核】永川区/朱沱镇/松林村")


def test_district_acceptance_follows_the_town_s_approval(chat):
    reply = chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村 审核 区级")
    assert "镇街审核通过后，再由本部门验收" in reply
    fill_dibao(chat, "zhang_dehua")
    chat.pushed_texts("zhou_jianguo")
    chat.pushed_texts("zhang_dehua")
    assert "已转区民政局验收" in chat.say("zhou_jianguo", "通过")
    [notice] = chat.pushed_texts("zhang_dehua")
    assert "朱沱镇 周建国审核通过，正等部门验收" in notice
    [request] = chat.pushed_texts("li_minzheng")
    assert request.startswith("【待验收】永川区/朱沱镇/松林村 张德华 提交了《低保月报》（任务#1），朱沱镇已审核通过：")
    assert "已通过" in chat.say("li_minzheng", "通过")
    pushed = chat.pushed_texts("li_minzheng")
    assert any("1/1 已报" in text for text in pushed)


def test_a_recurring_report_keeps_its_review_policy_for_every_period(chat, runtime, clock):
    reply = chat.say("li_minzheng", "/发布 低保月报 每月25日 截止 次月3日 18:00 范围 松林村 审核 区级")
    assert "镇街审核通过后，再由本部门验收" in reply
    with runtime.factory() as session:
        assert session.scalars(select(Recurrence.review)).one() == "town+department"
    clock.set(datetime(2024, 12, 25, 9, 1, tzinfo=TZ).astimezone(UTC))
    work = TimedWork(runtime, SchedulerConfig(), holder="scheduler")
    work.tick()
    with runtime.factory() as session:
        assert session.scalars(select(ReportTask.review)).one() == "town+department"


def test_review_walks_through_the_list_oldest_first_and_stops_on_cancel(chat, clock):
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村 汉东村 石庙村")
    fill_dibao(chat, "zhang_dehua")
    clock.advance(minutes=40)
    fill_dibao(chat, "luo_xiuying")
    clock.advance(minutes=20)
    chat.pushed_texts("zhou_jianguo")
    assert chat.say("zhou_jianguo", "通过") == "您有多份待审核，请先发 /审核，逐份处理。"
    listing = chat.say("zhou_jianguo", "/审核")
    assert listing.startswith(
        "等您审核的报送共 2 份，从最早的开始：\n1. 松林村 《低保月报》（任务#1），待审核，已等1小时\n"
    )
    assert "2. 汉东村 《低保月报》（任务#1），待审核，已等20分钟" in listing
    assert "【待审核】永川区/朱沱镇/松林村" in listing
    following = chat.say("zhou_jianguo", "下一份")
    assert following.startswith("【待审核】永川区/朱沱镇/汉东村")
    decided = chat.say("zhou_jianguo", "通过")
    assert decided.startswith("已通过：永川区/朱沱镇/汉东村")
    assert "【待审核】永川区/朱沱镇/松林村" in decided  # the one put back comes next
    assert chat.say("zhou_jianguo", "取消") == "好的，先不审了。发 /审核 可继续。"
    assert chat.say("zhou_jianguo", "/审核").startswith("等您审核的报送共 1 份")


def test_a_return_after_the_deadline_of_a_task_without_late_answers_can_still_be_filled(chat, clock):
    chat.say("li_minzheng", "/发布 低保月报 截止 11月28日18点 范围 松林村 不收迟报")
    fill_dibao(chat, "zhang_dehua")
    clock.advance(hours=10)  # past the deadline: the task takes no new answers
    chat.say("zhou_jianguo", "退回 第2题 人数和花名册对不上")
    assert "需要重填：第2题 在保低保人数" in chat.pushed_texts("zhang_dehua")[-1]
    reopened = chat.say("zhang_dehua", "开始")
    assert "第2/8题" in reopened and "已截止" not in reopened
    chat.say("zhang_dehua", "349")
    assert "已重新提交" in chat.say("zhang_dehua", "提交")
