"""A form linked to a ledger is the ledger's data: only its owner, or a department it is shared with in full, issues
it; a form brought in by chat belongs to its department; a summary workbook goes only to the task's department.

Each rule is tried from the side of the department that must be refused.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.config import SchedulerConfig
from ledger_store.models import Form, FormVersion, ReportTask
from scheduler.jobs import TimedWork
from tests.test_form_import import SETTINGS, SURVEY, workbook

TZ = ZoneInfo("Asia/Shanghai")
REFUSED = (
    "“低保月报”的部分题目从村社区基本情况台账（区民政局）预填并写回，区残联没有这本台账的完整共享，不能发布这张表。"
    "如需发布，请联系台账归属部门或管理员开通完整共享（/台账权限 村社区基本情况台账 共享 区残联 完整）。"
)


def task_count(runtime) -> int:
    with runtime.factory() as session:
        return len(session.scalars(select(ReportTask.id)).all())


def reached_fillers(chat) -> dict[str, list[str]]:
    texts = {account: chat.pushed_texts(account) for account in ("zhang_dehua", "luo_xiuying", "chen_guoping")}
    return {account: found for account, found in texts.items() if found}


def test_a_department_with_a_masked_share_cannot_issue_a_form_that_reads_the_ledger_whole(chat, runtime):
    # 区残联 may read 村社区基本情况台账 masked; 低保月报 would prefill from it and show the answers whole.
    assert chat.say("wang_canlian", "/发布 低保月报 截止 明天17:00 范围 松林村") == REFUSED
    assert chat.say("wang_canlian", "/发布 低保月报 每月25日 截止 次月3日 范围 松林村") == REFUSED
    assert chat.say("admin", "/发布 低保月报 截止 明天17:00 范围 松林村 部门 区残联") == REFUSED
    assert task_count(runtime) == 0 and reached_fillers(chat) == {}
    assert "定时#" not in chat.say("wang_canlian", "/定时")  # and no recurrence was set up

    chat.say("admin", "/台账权限 村社区基本情况台账 共享 区残联 完整")
    assert "已发布《低保月报》（任务#1）" in chat.say("wang_canlian", "/发布 低保月报 截止 明天17:00 范围 松林村")
    assert list(reached_fillers(chat)) == ["zhang_dehua"]


def test_the_owner_and_a_form_without_links_are_not_asked_for_anything(chat, runtime):
    assert "已发布《低保月报》（任务#1）" in chat.say("li_minzheng", "/发布 低保月报 截止 明天17:00 范围 松林村")
    reply = chat.say("wang_canlian", "/发布 残疾人两项补贴情况 截止 明天17:00 范围 汉东村")
    assert "已发布《残疾人两项补贴情况》（任务#2）" in reply
    assert task_count(runtime) == 2


def test_a_share_taken_away_before_the_confirmation_stops_the_lookalike(chat, runtime):
    chat.say("admin", "/台账权限 村社区基本情况台账 共享 区残联 完整")
    chat.say("wang_canlian", "/发布 低保月报 截止 明天17:00 范围 松林村")
    assert "已有相似的任务" in chat.say("wang_canlian", "/发布 低保月报 截止 明天17:00 范围 松林村")
    chat.say("admin", "/台账权限 村社区基本情况台账 取消共享 区残联")
    reply = chat.say("wang_canlian", "确认发布")
    assert reply.startswith("“低保月报”的部分题目从村社区基本情况台账（区民政局）预填并写回")
    assert task_count(runtime) == 1


def test_a_recurring_period_is_not_issued_once_the_department_lost_the_ledger(chat, runtime, clock):
    assert "定时#1" in chat.say("li_minzheng", "/发布 低保月报 每月25日 截止 次月3日 18:00 范围 松林村")
    chat.say("admin", "/台账权限 村社区基本情况台账 归属 区残联")
    chat.pushed_texts("li_minzheng")
    clock.set(datetime(2024, 12, 25, 9, 0, tzinfo=TZ).astimezone(UTC))
    work = TimedWork(runtime, SchedulerConfig(), holder="scheduler")
    for _ in range(2):  # told once, however many ticks
        work.tick()
        work.drain()
    assert task_count(runtime) == 0 and reached_fillers(chat) == {}
    [notice] = chat.pushed_texts("li_minzheng")
    assert notice.startswith("周期任务“低保月报”（2024-12）本期没有发布：“低保月报”的部分题目从村社区基本情况台账")
    assert "（区残联）预填并写回，区民政局没有这本台账的完整共享" in notice


def test_a_workbook_linking_a_ledger_the_department_cannot_issue_is_not_imported(chat, runtime):
    linked = [*SURVEY, ["整数", "persons", "在保低保人数", "", "是", "村社区基本情况台账.在保低保人数"]]
    linked[0] = [*SURVEY[0], "台账字段"]
    reply = chat.send_file("wang_canlian", "监测.xlsx", workbook(survey=linked))
    assert reply.startswith("表单有 1 处问题，没有导入。")
    assert "村社区基本情况台账（区民政局）预填并写回，区残联没有这本台账的完整共享" in reply
    with runtime.factory() as session:
        assert session.scalar(select(Form).where(Form.code == "fanpin_monthly")) is None
    imported = chat.send_file("li_minzheng", "监测.xlsx", workbook(survey=linked))
    assert imported.startswith("已导入表单《防返贫监测月报》")


def test_a_workbook_cannot_replace_a_built_in_template_or_another_department_s_form(chat, runtime):
    builtin = [["form_title", "form_id"], ["低保月报", "dibao_monthly"]]
    reply = chat.send_file("li_minzheng", "低保.xlsx", workbook(settings=builtin))
    assert reply == (
        "表单有 1 处问题，没有导入。请修改后重新发送：\n1. 表单编号 dibao_monthly 已被系统模板“低保月报”使用，"
        "不能用上传的表格修改。请在 settings 工作表里把 form_id 改成一个新的编号后重新发送。"
    )
    assert "第1版" in chat.send_file("wang_canlian", "监测.xlsx", workbook())
    changed = [*SURVEY, ["日期", "visited_on", "走访日期", "", "是"]]
    reply = chat.send_file("li_minzheng", "监测.xlsx", workbook(survey=changed))
    assert "表单编号 fanpin_monthly 已被区残联的“防返贫监测月报”使用，只有区残联可以修改它。" in reply
    with runtime.factory() as session:
        form = session.scalar(select(Form).where(Form.code == "fanpin_monthly"))
        assert form.owner.name == "区残联"
        assert len(session.scalars(select(FormVersion).where(FormVersion.form_id == form.id)).all()) == 1
        dibao = session.scalar(select(Form).where(Form.code == "dibao_monthly"))
        assert len(session.scalars(select(FormVersion).where(FormVersion.form_id == dibao.id)).all()) == 1
    # Another department may still issue it as it is; its own department (or the admin) may change it.
    assert "已发布《防返贫监测月报》" in chat.say("li_minzheng", "/发布 防返贫监测月报 截止 明天17:00 范围 松林村")
    assert "第2版" in chat.send_file("wang_canlian", "监测.xlsx", workbook(survey=changed))
    assert "第3版" in chat.send_file("admin", "监测.xlsx", workbook(survey=SURVEY, settings=SETTINGS))
