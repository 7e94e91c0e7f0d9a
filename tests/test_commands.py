"""The commands as departments and fillers use them: issue, progress, remind, summary, to-dos, help."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.config import SchedulerConfig
from ledger_store.models import Assignment, Level, OrgUnit, OutboxMessage, Person, PersonRole, ReportTask, Role
from scheduler.jobs import TimedWork

EVERYONE = (
    "admin",
    "li_minzheng",
    "wang_canlian",
    "hu_xiaoyan",
    "zhou_jianguo",
    "zhang_dehua",
    "luo_xiuying",
    "chen_guoping",
    "liu_ting",
    "yang_zhiqiang",
    "huang_li",
    "wu_min",
    "deng_xiaohong",
)
TOWN_FILLERS = ("hu_xiaoyan", "liu_ting")
VILLAGE_FILLERS = ("zhang_dehua", "luo_xiuying", "chen_guoping")


def dibao_answers(new_households: int) -> dict[str, str]:
    """Every answer of a 低保月报 by question, with the headline figure chosen by the test."""
    return {
        "在保低保户数": "120",
        "在保低保人数": "350",
        "本月新增低保户": str(new_households),
        "本月退出低保户": "1",
        "本月发放低保金": "15000",
        "本月是否完成入户核查": "是",
        "填报人手机号": "13908315526",
        "备注": "跳过",
    }


QUESTION = re.compile(r"第\d+/\d+题\n(?P<label>[^\n（]+)")


def fill(chat, account: str, answers: list[str]) -> str:
    """Answer several questions in a row; the last reply."""
    reply = ""
    for answer in answers:
        reply = chat.say(account, answer)
    return reply


def answer_form(chat, account: str, answers: dict[str, str]) -> str:
    """Open the form and answer it up to the review: what a ledger offers is confirmed, each question by its label."""
    reply = chat.say(account, "开始")
    while "请核对" not in reply:
        asked = QUESTION.search(reply)
        reply = chat.say(account, "确认" if "已从台账带出" in reply else answers[asked.group("label")])
    return reply


def submit_dibao(chat, account: str, new_households: int = 3) -> str:
    """Start, answer every question (confirming what the ledger knows) and submit; the reply to 提交."""
    answer_form(chat, account, dibao_answers(new_households))
    return chat.say(account, "提交")


def drop_pushes(chat) -> None:
    """Forget what has been pushed so far, so a test sees only what follows."""
    for account in EVERYONE:
        chat.pushes(account)


def count(runtime, model) -> int:
    """Rows of a table."""
    with runtime.factory() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def villages(chat):
    """A 低保月报 by 区民政局 to the three villages of 朱沱镇, due Saturday 18:00; pushes dropped."""
    reply = chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 朱沱镇下辖 不审核")
    assert "已发布《低保月报》（任务#" in reply
    drop_pushes(chat)
    return chat


# /发布


@pytest.mark.parametrize(
    ("deadline", "shown"),
    [
        ("2024-11-30 18:00", "11月30日（周六）18:00"),
        ("11月30日18点", "11月30日（周六）18:00"),
        ("明天17:00", "11月29日（周五）17:00"),
        ("12月2日", "12月2日（周一）18:00"),
    ],
)
def test_issue_reads_the_deadline_and_shows_it_back(chat, deadline, shown):
    reply = chat.say("li_minzheng", f"/发布 低保月报 截止 {deadline} 范围 松林村 不审核")
    assert f"已发布《低保月报》（任务#1），{shown}截止，已通知1个单位：松林村。" in reply
    assert "/进度 1" in reply
    [push] = chat.pushed_texts("zhang_dehua")
    assert f"请在{shown}前报送" in push


def test_issue_has_an_english_alias(chat):
    assert "已发布《低保月报》" in chat.say("li_minzheng", "/issue 低保月报 截止 明天17:00 范围 松林村")
    assert len(chat.pushed_texts("zhang_dehua")) == 1


def test_without_a_scope_the_task_goes_to_every_town_and_street(chat):
    reply = chat.say("li_minzheng", "/发布 低保月报 截止 明天17:00")
    assert "已通知2个单位：朱沱镇、中山路街道" in reply
    assert "截止前24小时、2小时和截止时提醒未报单位；截止后仍接收迟报，每个工作日提醒一次。\n" in reply
    assert reply.endswith("镇街报送由本部门审核。")  # towns' own reports: the department reviews them
    for account in TOWN_FILLERS:
        [push] = chat.pushed_texts(account)
        assert "【区民政局】发布了《低保月报》" in push and "11月29日（周五）17:00" in push
    for account in VILLAGE_FILLERS:
        assert chat.pushed_texts(account) == []


def test_a_subtree_scope_targets_the_units_below(chat):
    reply = chat.say("li_minzheng", "/发布 低保月报 截止 明天17:00 范围 朱沱镇下辖 不审核")
    assert "已通知3个单位：松林村、汉东村、石庙村" in reply
    for account in VILLAGE_FILLERS:
        assert len(chat.pushed_texts(account)) == 1
    assert chat.pushed_texts("hu_xiaoyan") == []
    assert chat.pushed_texts("huang_li") == []


def test_a_town_department_issues_to_its_own_villages_and_no_further(chat, town_office):
    # 低保月报 reads and writes 村社区基本情况台账 (区民政局's): the town's office issues it once shared in full.
    chat.say("admin", "/台账权限 村社区基本情况台账 共享 朱沱镇民政办 完整")
    reply = chat.say(town_office, "/发布 低保月报 截止 明天17:00 不审核")
    assert "已通知3个单位：松林村、汉东村、石庙村" in reply
    assert "【朱沱镇民政办】发布了《低保月报》" in chat.pushed_texts("zhang_dehua")[0]
    assert [chat.pushed_texts(account) for account in ("hu_xiaoyan", "liu_ting", "huang_li")] == [[], [], []]
    outside = "“红旗社区”不在朱沱镇范围内，本部门只能向朱沱镇及下辖单位发布任务。"
    assert chat.say(town_office, "/发布 低保月报 截止 明天17:00 范围 松林村 红旗社区 不审核") == outside
    subtree = chat.say(town_office, "/发布 低保月报 截止 明天17:00 范围 中山路街道下辖 不审核")
    assert subtree.startswith("“中山路街道”不在朱沱镇范围内")
    assert chat.pushed_texts("zhang_dehua") == [] and chat.pushed_texts("huang_li") == []
    assert "已通知1个单位：松林村" in chat.say(town_office, "/发布 低保月报 截止 12月5日 范围 松林村 不审核")


def test_several_units_may_be_named_with_any_separator(chat):
    reply = chat.say("li_minzheng", "/发布 低保月报截止明天17:00范围松林村、汉东村，红旗社区 不审核")
    assert "已通知3个单位：松林村、汉东村、红旗社区" in reply


def test_a_unique_fragment_of_a_template_title_is_enough(chat):
    reply = chat.say("wang_canlian", "/发布 残疾人两项补贴 截止 12月5日 范围 石庙村 不审核")
    assert "已发布《残疾人两项补贴情况》" in reply
    assert "【区残联】发布了《残疾人两项补贴情况》" in chat.pushed_texts("chen_guoping")[0]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/发布", "请写明要发布的模板。格式：/发布 模板名 截止 时间"),
        ("/发布 截止 明天17:00 不审核", "请写明要发布的模板。格式：/发布 模板名 截止 时间"),
        ("/发布 低保月报", "请写明截止时间。格式：/发布 模板名 截止 时间"),
        ("/发布 低保月报 范围 松林村", "请写明截止时间。格式：/发布 模板名 截止 时间"),
        ("/发布 低保月报 截止 下午 不审核", "没看懂截止时间“下午”。可以写 2024-11-30 18:00、11月30日18点、明天17:00"),
        ("/发布 低保月报 截止 昨天17:00 不审核", "截止时间11月27日（周三）17:00已经过了，请写一个以后的时间。"),
        ("/发布 低保月报 截止 今天9:00 不审核", "截止时间11月28日（周四）09:00已经过了"),
        ("/发布 低宝月报 截止 明天17:00 不审核", "没有找到模板“低宝月报”。您是不是要找：低保月报？"),
        ("/发布 低保年报 截止 明天17:00 不审核", "没有找到模板“低保年报”。您是不是要找：低保月报、低保对象信息核对？"),
        (
            "/发布 养老月报 截止 明天17:00 不审核",
            "两项补贴花名册、残疾人信息核对、低保对象信息核对、矛盾纠纷排查情况、土地流转情况、消防隐患整改情况。",
        ),
        ("/发布 低保月报 截止 明天17:00 范围 松林 不审核", "没有找到单位“松林”。您是不是要找：松林村"),
        ("/发布 低保月报 截止 明天17:00 范围 朱陀镇 不审核", "没有找到单位“朱陀镇”。您是不是要找：朱沱镇？"),
        ("/发布 低保月报 截止 明天17:00 范围 松林村 朱陀镇 不审核", "没有找到单位“朱陀镇”"),
        ("/发布 低保月报 截止 明天17:00 范围 朱陀镇下辖 不审核", "没有找到单位“朱陀镇”。您是不是要找：朱沱镇？"),
        ("/发布 低保月报 截止 明天17:00 范围 松林村第一网格 不审核", "“松林村第一网格”还没有登记填报员，无法下发。"),
        (
            "/发布 低保月报 截止 明天17:00 范围 松林村第一网格下辖 不审核",
            "范围内没有登记了填报员的单位，任务没有发布。",
        ),
    ],
)
def test_a_refused_issue_says_why_and_changes_nothing(chat, runtime, command, expected):
    assert expected in chat.say("li_minzheng", command)
    assert count(runtime, ReportTask) == 0
    assert count(runtime, Assignment) == 0
    assert count(runtime, OutboxMessage) == 0
    assert runtime.platform.take_all() == {}


def test_a_filler_may_not_issue_and_is_told_which_role_it_takes(chat, runtime):
    reply = chat.say("hu_xiaoyan", "/发布 低保月报 截止 明天17:00 不审核")
    assert reply == "抱歉，“/发布”需要发布员权限。如需开通，请联系管理员。"
    assert count(runtime, ReportTask) == 0
    assert runtime.platform.take_all() == {}


def test_an_unknown_account_is_asked_to_register(chat, runtime):
    assert chat.say("stranger", "/发布 低保月报 截止 明天17:00 不审核") == "您还未登记，请联系管理员。"
    assert chat.say("stranger", "/帮助") == "您还未登记，请联系管理员。"
    assert count(runtime, ReportTask) == 0
    assert runtime.platform.take_all() == {}


def add_villages(runtime, count: int) -> None:
    """`count` more communities under 中山路街道, each with a filler."""
    with runtime.factory.begin() as session:
        street = session.scalars(select(OrgUnit).where(OrgUnit.name == "中山路街道")).one()
        for n in range(1, count + 1):
            unit = OrgUnit(name=f"新建第{n}社区", level=Level.VILLAGE, parent_id=street.id)
            filler = Person(account=f"filler{n}", name=f"填报员{n}", org_unit=unit)
            filler.roles = [PersonRole(role=Role.FILLER)]
            session.add(filler)


def test_a_task_to_many_units_confirms_in_one_short_message_and_progress_stays_readable(chat, runtime):
    add_villages(runtime, 40)  # with 红旗社区, 萱花社区 and 凤凰湖社区: 43 communities
    reply = chat.say("li_minzheng", "/发布 低保月报 截止 明天17:00 范围 中山路街道下辖 不审核")
    assert "已通知43个单位：红旗社区、萱花社区、凤凰湖社区、新建第1社区" in reply
    assert "新建第17社区等（完整名单见“/汇总 1”）。" in reply and "新建第18社区" not in reply
    assert len(chat.pushed_texts("filler40")) == 1
    progress = chat.say("li_minzheng", "/进度")
    assert progress.count("（未开始）") == 15 and len(progress.encode()) <= 2048  # one WeCom text
    assert progress.endswith("……另有28个单位未报，完整名单见“/汇总 1”的“未报送”表。")
    assert chat.say("li_minzheng", "/催报").startswith("已提醒43个未报单位：红旗社区、")
    drop_pushes(chat)
    work = TimedWork(runtime, SchedulerConfig(), holder="scheduler")
    chat.clock.advance(hours=31)  # Friday 17:00, the deadline
    work.tick()
    work.drain()
    [digest] = chat.pushed_texts("li_minzheng")
    assert digest.endswith("新建第17社区等43个单位（名单见汇总表的“未报送”表）")
    chat.clock.advance(days=3, hours=-8)  # Monday 09:00, the first working day after it
    work.tick()
    work.drain()
    [upward] = chat.pushed_texts("yang_zhiqiang")  # 中山路街道's reviewer
    assert upward.endswith("新建第17社区（填报员17）等43个单位。") and len(upward.encode()) <= 2048


def test_a_filler_is_told_how_many_other_tasks_are_open(chat):
    chat.say("li_minzheng", "/发布 低保月报 截止 明天17:00 范围 松林村 不审核")
    assert "另有" not in chat.pushed_texts("zhang_dehua")[0]
    chat.say("wang_canlian", "/发布 残疾人两项补贴情况 截止 后天 范围 松林村 汉东村 不审核")
    assert "您另有1项待办，回复“/待办”可查看。" in chat.pushed_texts("zhang_dehua")[0]
    assert "另有" not in chat.pushed_texts("luo_xiuying")[0]


# /进度


def test_progress_counts_and_names_who_is_missing_and_where_they_are(villages):
    submit_dibao(villages, "zhang_dehua")
    villages.say("luo_xiuying", "开始")
    fill(villages, "luo_xiuying", ["确认", "350"])  # the ledger's 在保低保户数, then the second question
    reply = villages.say("li_minzheng", "/进度")
    assert "《低保月报》#1：已报 1/3，11月30日（周六）18:00截止（还剩2天8小时）。" in reply
    assert "· 永川区/朱沱镇/汉东村 罗秀英（填到第3/8题）" in reply
    assert "· 永川区/朱沱镇/石庙村 陈国平（未开始）" in reply
    assert "张德华" not in reply


def test_progress_says_when_a_filler_has_answered_everything_but_not_submitted(villages):
    assert "请核对" in answer_form(villages, "zhang_dehua", dibao_answers(3))
    reply = villages.say("li_minzheng", "/progress")
    assert "· 永川区/朱沱镇/松林村 张德华（已填完，还没提交）" in reply
    assert "9/8" not in reply


def test_progress_finds_a_task_by_hash_id_title_fragment_or_takes_the_latest(villages):
    villages.say("li_minzheng", "/发布 残疾人两项补贴情况 截止 12月5日 范围 中山路街道 不审核")
    assert "《低保月报》#1" in villages.say("li_minzheng", "/进度 #1")
    assert "《低保月报》#1" in villages.say("li_minzheng", "/进度 1")
    assert "《低保月报》#1" in villages.say("li_minzheng", "/进度 低保")
    assert "《残疾人两项补贴情况》#2" in villages.say("li_minzheng", "/进度 残疾人")
    assert "《残疾人两项补贴情况》#2" in villages.say("li_minzheng", "/进度")


def test_progress_of_an_unknown_task_lists_the_recent_ones(villages):
    villages.say("li_minzheng", "/发布 残疾人两项补贴情况 截止 12月5日 范围 中山路街道 不审核")
    reply = villages.say("li_minzheng", "/进度 99")
    assert reply == "没有找到任务“99”。最近的任务：#2 残疾人两项补贴情况；#1 低保月报。"


def test_a_department_does_not_see_another_departments_tasks_but_the_admin_does(villages):
    assert "还没有发布过任务" in villages.say("wang_canlian", "/进度 1")
    villages.say("wang_canlian", "/发布 残疾人两项补贴情况 截止 12月5日 范围 松林村 不审核")
    refused = villages.say("wang_canlian", "/进度 1")
    assert refused.startswith("没有找到任务“1”。") and "低保月报" not in refused
    assert "低保月报" not in villages.say("wang_canlian", "/进度 低保")
    assert "《低保月报》#1：已报 0/3" in villages.say("admin", "/进度 1")
    assert "《残疾人两项补贴情况》#2：已报 0/1" in villages.say("admin", "/进度")


def test_a_filler_may_not_see_progress(villages):
    assert "需要发布员权限" in villages.say("zhang_dehua", "/进度")


# /催报


def test_remind_pushes_to_exactly_the_fillers_who_have_not_submitted(villages, clock):
    submit_dibao(villages, "zhang_dehua")
    villages.say("luo_xiuying", "开始")
    fill(villages, "luo_xiuying", ["确认", "350"])  # the ledger's 在保低保户数, then the second question
    drop_pushes(villages)
    assert villages.say("li_minzheng", "/催报") == "已提醒2个未报单位：汉东村、石庙村。"
    [to_luo] = villages.pushed_texts("luo_xiuying")
    assert "《低保月报》（任务#1）11月30日（周六）18:00截止（还剩2天8小时）" in to_luo
    assert "第3/8题" in to_luo
    [to_chen] = villages.pushed_texts("chen_guoping")
    assert "《低保月报》" in to_chen and "还剩2天8小时" in to_chen
    assert runtime_pushes_except(villages, "luo_xiuying", "chen_guoping") == {}

    clock.advance(hours=30)
    villages.say("li_minzheng", "/remind")
    assert "还剩1天2小时" in villages.pushed_texts("chen_guoping")[0]
    clock.advance(hours=28)
    villages.say("li_minzheng", "/催报")
    assert "已逾期2小时" in villages.pushed_texts("chen_guoping")[0]


def test_reminding_twice_in_the_same_minute_pushes_once_and_says_so(villages):
    drop_pushes(villages)
    villages.say("li_minzheng", "/催报")
    assert villages.say("li_minzheng", "/催报") == "这一分钟内已经提醒过了，请稍后再催。"
    assert len(villages.pushed_texts("chen_guoping")) == 1


def test_remind_says_so_when_everyone_has_submitted(chat):
    chat.say("li_minzheng", "/发布 低保月报 截止 明天17:00 范围 松林村 不审核")
    submit_dibao(chat, "zhang_dehua")
    drop_pushes(chat)
    assert chat.say("li_minzheng", "/催报") == "全部已报，不需要催报。"
    assert chat.pushes("zhang_dehua") == []


def runtime_pushes_except(chat, *accounts: str) -> dict:
    """Whatever was pushed to anybody not named."""
    return {who: got for who, got in chat.platform.take_all().items() if who not in accounts and got}


# /汇总


def test_summary_sends_the_asker_a_workbook_with_totals_and_the_missing(villages):
    submit_dibao(villages, "zhang_dehua", new_households=4)
    drop_pushes(villages)
    reply = villages.say("li_minzheng", "/汇总")
    assert reply == "正在生成《低保月报》汇总表（已报 1/3），马上以文件发给您。"
    digest, workbook_push = villages.pushes("li_minzheng")
    assert digest.text.startswith("《低保月报》（任务#1）：1/3 已报，本月新增低保户合计 4")
    assert "未报：汉东村、石庙村" in digest.text
    assert workbook_push.file_name == "低保月报汇总_任务1_20241128-100000.xlsx"
    workbook = load_workbook(io.BytesIO(workbook_push.file_bytes))
    assert workbook.sheetnames == ["汇总", "未报送", "填报负担", "分镇统计"]
    summary_rows = list(workbook["汇总"].iter_rows(values_only=True))
    assert summary_rows[1][1:3] == ("永川区/朱沱镇/松林村", "张德华")
    assert summary_rows[-1][1] == "合计"
    missing = [row[1:3] for row in workbook["未报送"].iter_rows(min_row=2, values_only=True)]
    assert missing == [("永川区/朱沱镇/汉东村", "罗秀英"), ("永川区/朱沱镇/石庙村", "陈国平")]
    assert runtime_pushes_except(villages) == {}


def test_summary_by_alias_and_by_task_number(villages):
    villages.say("li_minzheng", "/发布 残疾人两项补贴情况 截止 12月5日 范围 松林村 不审核")
    drop_pushes(villages)
    assert "《低保月报》汇总表（已报 0/3）" in villages.say("li_minzheng", "/summary 1")
    assert villages.pushes("li_minzheng")[1].file_name.startswith("低保月报汇总_任务1_")


def test_the_digests_of_two_tasks_of_one_template_name_their_tasks(villages):
    assert "（任务#2）" in villages.say("li_minzheng", "/发布 低保月报 截止 12月5日 范围 石庙村 不审核")
    drop_pushes(villages)
    villages.say("li_minzheng", "/汇总 1")
    villages.say("li_minzheng", "/汇总 2")
    digests = [push.text for push in villages.pushes("li_minzheng") if push.text]
    assert [digest.split("：")[0] for digest in digests] == ["《低保月报》（任务#1）", "《低保月报》（任务#2）"]


def test_two_summaries_of_one_task_in_one_second_are_two_files(villages, clock):
    villages.say("li_minzheng", "/汇总 1")
    submit_dibao(villages, "zhang_dehua")  # in the same second: the clock does not move
    villages.say("li_minzheng", "/汇总 1")
    clock.advance(minutes=1)
    villages.say("li_minzheng", "/汇总 1")
    files = [push for push in villages.pushes("li_minzheng") if push.file_bytes]
    assert [push.file_name for push in files] == [
        "低保月报汇总_任务1_20241128-100000.xlsx",
        "低保月报汇总_任务1_20241128-100000_2.xlsx",
        "低保月报汇总_任务1_20241128-100100.xlsx",
    ]
    # Each is its own file in the simulator's folder: the second did not overwrite the first.
    submitted = [load_workbook(push.file_path)["汇总"]["D2"].value for push in files]
    assert submitted[0] == "未报送" and submitted[1] != "未报送"


# Completion


def test_when_the_last_target_submits_the_issuer_gets_the_digest_and_file_once(chat):
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村 汉东村 不审核")
    drop_pushes(chat)
    submit_dibao(chat, "zhang_dehua", new_households=3)
    assert chat.pushes("li_minzheng") == []
    assert "已提交" in submit_dibao(chat, "luo_xiuying", new_households=5)
    digest, workbook_push = chat.pushes("li_minzheng")
    assert digest.text == "《低保月报》（任务#1）：2/2 已报，本月新增低保户合计 8 户；台账带出 2 项，实际问了 14 题"
    assert workbook_push.file_name == "低保月报汇总_任务1_20241128-100000.xlsx"
    assert load_workbook(io.BytesIO(workbook_push.file_bytes))["未报送"].max_row == 1
    assert chat.pushes("wang_canlian") == [] and chat.pushes("admin") == []

    assert "全部已报。" in chat.say("li_minzheng", "/进度")
    assert chat.say("li_minzheng", "/催报") == "全部已报，不需要催报。"
    chat.say("luo_xiuying", "/待办")
    chat.say("zhang_dehua", "开始")
    assert chat.pushes("li_minzheng") == []


# /帮助


def test_help_lists_what_each_role_may_do(chat):
    issuer = chat.say("li_minzheng", "/帮助")
    assert issuer.startswith("李敏正您好（发布员）。")
    for command in ("/发布", "/模板", "/进度", "/催报", "/汇总", "/待办"):
        assert command in issuer
    filler = chat.say("hu_xiaoyan", "/help")
    assert filler.startswith("胡晓燕您好（填报员）。")
    assert "/待办" in filler and "回复“开始”逐题填写" in filler
    for command in ("/发布", "/进度", "/催报", "/汇总", "/模板"):
        assert command not in filler
    assert chat.say("hu_xiaoyan", "帮助") == filler
    assert "/发布" in chat.say("admin", "/帮助")


# /待办


def test_todo_lists_open_tasks_with_deadline_and_a_number_chooses(villages):
    villages.say("wang_canlian", "/发布 残疾人两项补贴 截止 12月5日 范围 松林村 不审核")
    listing = villages.say("zhang_dehua", "/待办")
    assert listing == (
        "您的待办：\n"
        "1. 《低保月报》（任务#1）11月30日（周六）18:00截止（还剩2天8小时）\n"
        "2. 《残疾人两项补贴情况》（任务#2）12月5日（周四）18:00截止（还剩7天8小时）\n"
        "回复序号选择要填写的任务。"
    )
    assert villages.say("zhang_dehua", "待办") == listing
    assert villages.say("zhang_dehua", "/todo") == listing
    chosen = villages.say("zhang_dehua", "2")
    assert "开始填写《残疾人两项补贴情况》" in chosen and "第1/8题" in chosen


def test_cancel_clears_the_choice_of_task(villages):
    villages.say("wang_canlian", "/发布 残疾人两项补贴 截止 12月5日 范围 松林村 不审核")
    villages.say("zhang_dehua", "待办")
    assert villages.say("zhang_dehua", "取消") == "好的，先不填。需要时回复“开始”或“/待办”。"
    again = villages.say("zhang_dehua", "2")
    assert "开始填写" not in again and "您的待办" in again


def test_todo_with_one_open_task_shows_how_far_it_got(villages):
    villages.say("chen_guoping", "开始")
    fill(villages, "chen_guoping", ["120", "350"])
    villages.say("chen_guoping", "取消")
    listing = villages.say("chen_guoping", "/待办")
    assert "1. 《低保月报》（任务#1）11月30日（周六）18:00截止（还剩2天8小时，已填2/8题）" in listing
    assert "回复“开始”填写。" in listing


def test_todo_with_nothing_open(chat):
    assert chat.say("liu_ting", "/待办") == "您目前没有待填报的任务。发送“/帮助”查看可以做什么。"


# /模板 and unknown commands


def test_templates_lists_the_forms_with_question_counts(chat):
    reply = chat.say("li_minzheng", "/模板")
    assert "· 低保月报（8题）" in reply
    assert "· 残疾人两项补贴情况（8题）" in reply
    assert "发布示例：/发布" in reply


@pytest.mark.parametrize(("typed", "suggested"), [("/进渡", "/进度"), ("/催保", "/催报"), ("/progres", "/progress")])
def test_an_unknown_command_suggests_the_closest(chat, typed, suggested):
    reply = chat.say("li_minzheng", typed)
    assert reply == f"没有“{typed}”这个命令。您是不是要用“{suggested}”？发送“/帮助”查看可用命令。"


def test_full_width_slash_is_a_command_too(chat):
    assert "可用模板" in chat.say("li_minzheng", "／模板")
