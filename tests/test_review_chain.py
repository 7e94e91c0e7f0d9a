"""审核上报 as the people live it: a village's report goes through its town, then the department, before it counts.

松林村 (张德华) fills a 低保月报 issued with `审核 区级`; 朱沱镇's reviewer 周建国 returns questions and approves;
区民政局's 李敏正 accepts. The ledger and the summary take the figures only at the last approval.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.config import SchedulerConfig
from handlers.core.messages import ButtonClick, Incoming
from ledger_store.ledgers import get_ledger, known_values
from ledger_store.models import ReviewStep
from ledger_store.org import SIMULATOR
from ledger_store.org_import import import_org
from scheduler.jobs import TimedWork

DIBAO_ANSWERS = ["120", "350", "3", "1", "15000", "是", "13908315526", "跳过"]
ISSUE = "/发布 低保月报 截止 11月30日18点 范围 松林村 汉东村 审核 区级"
NOT_YOURS = "这份报送不归您审核（只能审核本镇街以下单位的报送，且不能审核自己提交的）。"
NOTHING = "目前没有等您审核的报送。"


def fill(chat, account: str, answers: list[str] = DIBAO_ANSWERS) -> str:
    """Open the form, answer every question, submit; the reply to 提交."""
    chat.say(account, "开始")
    for answer in answers:
        chat.say(account, answer)
    return chat.say(account, "提交")


def ledger_dibao(runtime, village: str) -> tuple[object, object]:
    """(在保低保户数, 在保低保人数) as 村社区基本情况台账 holds them for a village."""
    with runtime.factory() as session:
        known = known_values(session, get_ledger(session, "unit_profile"), village, runtime.engine.now())
    return tuple(known[name].value if name in known else None for name in ("dibao_households", "dibao_persons"))


def press(runtime, account: str, step_id: int, value: str, key: str) -> str:
    """A click on a review request's button (通过 or 退回), as WeCom delivers it; the direct reply."""
    click = Incoming(SIMULATOR, account, "", message_id=key, button=ButtonClick(f"rv{step_id}", value))
    return "\n".join(reply.text for reply in runtime.engine.receive(click))


def step_ids(runtime) -> list[int]:
    with runtime.factory() as session:
        return list(session.scalars(select(ReviewStep.id).order_by(ReviewStep.id)))


def test_a_village_report_goes_through_its_town_twice_returned_then_the_department(chat, runtime, ledger_without_dibao):
    assert "镇街审核通过后，再由本部门验收" in chat.say("li_minzheng", ISSUE)
    chat.pushed_texts("zhang_dehua")
    assert fill(chat, "zhang_dehua") == (
        "已提交《低保月报》（任务#1），等待朱沱镇审核。审核通过后才计入台账和汇总；如被退回会通知您。"
    )
    [request] = chat.pushed_texts("zhou_jianguo")
    assert request.startswith(
        "【待审核】永川区/朱沱镇/松林村 张德华 提交了《低保月报》（任务#1）：\n1. 在保低保户数：120户\n"
    )
    assert "5. 本月发放低保金：15000元" in request and "7. 填报人手机号：139****5526" in request
    assert ledger_dibao(runtime, "松林村") == (None, None)  # submitted is not approved
    # While it waits she cannot change it, and is told so.
    assert chat.say("zhang_dehua", "开始") == (
        "《低保月报》（任务#1）已提交，正等朱沱镇审核，审核期间不能修改；通过或退回都会通知您。"
    )

    # Round 1: two questions back, with the reason as typed.
    returned = chat.say("zhou_jianguo", "退回 第3题 第5题 新增户数与名单不符，发放金额请核对")
    assert returned == "已退回：永川区/朱沱镇/松林村 《低保月报》（任务#1）（第3、5题），已通知填报人重填。"
    [notice] = chat.pushed_texts("zhang_dehua")
    assert notice == (
        "《低保月报》（任务#1）被朱沱镇 周建国退回（第1轮）。原因：新增户数与名单不符，发放金额请核对\n"
        "需要重填：第3题 本月新增低保户；第5题 本月发放低保金。其他答案已保留，不会再问。\n"
        "回复“开始”重新填写，填好后发“提交”。"
    )
    opening = chat.say("zhang_dehua", "开始")
    assert opening.startswith("《低保月报》已退回，原因：新增户数与名单不符，发放金额请核对。需要重填：第3题")
    assert "第3/8题" in opening and "当前答案：3户" in opening
    assert "第5/8题" in chat.say("zhang_dehua", "4")  # 第4题 is not asked again
    check = chat.say("zhang_dehua", "16000")
    assert "请核对" in check and "3. 本月新增低保户：4户" in check and "1. 在保低保户数：120户" in check
    assert chat.say("zhang_dehua", "提交") == "已重新提交《低保月报》（任务#1），改动已标出，已送朱沱镇再审。"
    [again] = chat.pushed_texts("zhou_jianguo")
    assert "（第2轮，标★的2题是这次改过的）" in again
    assert "3. ★本月新增低保户：4户（原为 3户）" in again and "5. ★本月发放低保金：16000元（原为 15000元）" in again
    assert "1. 在保低保户数：120户\n" in again  # unchanged: no star

    # Round 2: one question back; round 3 approved by the town.
    assert "（第5题）" in chat.say("zhou_jianguo", "退回 第5题 金额与花名册合计不符")
    assert "（第2轮）。原因：金额与花名册合计不符" in chat.pushed_texts("zhang_dehua")[0]
    assert "第5/8题" in chat.say("zhang_dehua", "开始")
    chat.say("zhang_dehua", "16500")
    chat.say("zhang_dehua", "提交")
    [third] = chat.pushed_texts("zhou_jianguo")
    assert "（第3轮，标★的1题是这次改过的）" in third and "5. ★本月发放低保金：16500元（原为 16000元）" in third
    assert "3. 本月新增低保户：4户\n" in third
    assert chat.say("zhou_jianguo", "通过") == "已通过：永川区/朱沱镇/松林村 《低保月报》（任务#1）。已转区民政局验收。"
    assert chat.pushed_texts("zhang_dehua") == ["《低保月报》（任务#1）已由朱沱镇 周建国审核通过，正等部门验收。"]
    assert ledger_dibao(runtime, "松林村") == (None, None)  # the town's approval is not the last

    # The department accepts.
    [acceptance] = chat.pushed_texts("li_minzheng")
    assert acceptance.startswith(
        "【待验收】永川区/朱沱镇/松林村 张德华 提交了《低保月报》（任务#1），朱沱镇已审核通过"
        "（第3轮，标★的1题是这次改过的）："
    )
    assert "5. ★本月发放低保金：16500元（原为 16000元）" in acceptance
    listing = chat.say("li_minzheng", "/审核")
    assert listing.startswith("等您审核的报送共 1 份，从最早的开始：\n1. 松林村 《低保月报》（任务#1），待验收，已等")
    assert chat.say("li_minzheng", "通过").startswith("已通过：永川区/朱沱镇/松林村 《低保月报》（任务#1）。")
    assert chat.pushed_texts("zhang_dehua") == ["《低保月报》（任务#1）已由区民政局 李敏正审核通过，已计入台账和汇总。"]
    assert ledger_dibao(runtime, "松林村") == (120, 350)  # now it counts
    assert chat.pushes("li_minzheng") == []  # 汉东村 is still out: no summary yet

    # Every round is kept: two returns, then the town's and the department's approvals of round 3.
    with runtime.factory() as session:
        steps = session.scalars(select(ReviewStep).order_by(ReviewStep.id))
        rounds = [(s.round, s.stage, s.decision, s.decided_by.account, s.reopened) for s in steps]
    assert rounds == [
        (1, 0, "returned", "zhou_jianguo", ["new_households", "amount"]),
        (2, 0, "returned", "zhou_jianguo", ["amount"]),
        (3, 0, "approved", "zhou_jianguo", None),
        (3, 1, "approved", "li_minzheng", None),
    ]

    # The last unit's approval sends the summary.
    fill(chat, "luo_xiuying")
    chat.say("zhou_jianguo", "通过")
    assert ledger_dibao(runtime, "汉东村") == (None, None)
    chat.pushed_texts("li_minzheng")
    chat.say("li_minzheng", "通过")
    [summary, workbook] = chat.pushes("li_minzheng")
    assert summary.text.startswith("《低保月报》（任务#1）：2/2 已报") and workbook.file_name.endswith(".xlsx")
    assert ledger_dibao(runtime, "汉东村") == (120, 350)


@pytest.fixture
def submitted(chat, ledger_without_dibao):
    """松林村's 低保月报 waits on 朱沱镇 (reviewed by the town only)."""
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村 汉东村")
    fill(chat, "zhang_dehua")
    chat.pushed_texts("zhou_jianguo")
    chat.pushed_texts("zhang_dehua")
    return chat


def test_a_reviewer_outside_the_town_is_refused_by_word_and_by_button(submitted, runtime):
    [step_id] = step_ids(runtime)
    assert submitted.say("yang_zhiqiang", "/审核") == NOTHING
    assert submitted.say("yang_zhiqiang", "通过") == NOTHING
    assert submitted.say("yang_zhiqiang", "退回 第3题 不对") == NOTHING
    assert press(runtime, "yang_zhiqiang", step_id, "通过", "y1") == NOT_YOURS
    assert press(runtime, "yang_zhiqiang", step_id, "退回", "y2") == NOT_YOURS
    with runtime.factory() as session:
        assert session.get(ReviewStep, step_id).decision is None
    assert "1. 松林村 《低保月报》（任务#1），待审核" in submitted.say("zhou_jianguo", "/审核")


def test_a_reviewer_never_reviews_their_own_submission(submitted, runtime, tmp_path: Path):
    # 张德华 submitted for 松林村, then moves to the town as a second reviewer: his own report is not his to pass.
    sheet = tmp_path / "moved.csv"
    sheet.write_text(
        "单位,上级单位,层级,姓名,账号,角色\n朱沱镇,永川区,镇,张德华,zhang_dehua,审核员\n", encoding="utf-8"
    )
    with runtime.factory.begin() as session:
        assert import_org(session, sheet).errors == []
    [step_id] = step_ids(runtime)
    assert submitted.say("zhang_dehua", "/审核") == NOTHING
    assert submitted.say("zhang_dehua", "通过") == NOTHING
    assert press(runtime, "zhang_dehua", step_id, "通过", "own") == NOT_YOURS
    assert submitted.say("zhou_jianguo", "通过").startswith("已通过：永川区/朱沱镇/松林村")


def test_approve_all_after_the_list_asks_first(submitted):
    fill(submitted, "luo_xiuying")
    listing = submitted.say("zhou_jianguo", "/审核")
    assert listing.startswith("等您审核的报送共 2 份，从最早的开始：\n1. 松林村 《低保月报》（任务#1），待审核，已等")
    assert "\n2. 汉东村 《低保月报》（任务#1），待审核" in listing
    assert "【待审核】永川区/朱沱镇/松林村 张德华" in listing  # the first one in full
    assert (
        submitted.say("zhou_jianguo", "全部通过") == "确认一次通过列表里的 2 份报送？回复“确认”通过，其他任何回复取消。"
    )
    assert submitted.say("zhou_jianguo", "算了") == "好的，没有批量通过。"
    submitted.say("zhou_jianguo", "全部通过")
    assert submitted.say("zhou_jianguo", "确认") == "已通过 2 份。"
    assert submitted.say("zhou_jianguo", "/审核") == NOTHING
    [summary, workbook] = submitted.pushes("li_minzheng")  # both approved: the summary goes out
    assert summary.text.startswith("《低保月报》（任务#1）：2/2 已报") and workbook.file_name.endswith(".xlsx")


def test_outside_a_list_approve_all_is_no_answer(submitted):
    assert submitted.say("zhou_jianguo", "全部通过") == "请先发 /审核 列出等您审核的报送，看过再回复“全部通过”。"
    assert submitted.say("zhou_jianguo", "/审核").startswith("等您审核的报送共 1 份")


@pytest.mark.parametrize(
    ("said", "reply"),
    [
        ("退回", "请写明退回原因，例如：退回 第3题 户数与台账不符。"),
        ("退回 第3题", "请写明退回原因，例如：退回 第3题 户数与台账不符。"),
        ("退回 第99题 不对", "没有第99题（这张表共 8 题），请改正后再发，例如：退回 第3题 户数不对。"),
        ("退回 第3题 第９题 不对", "没有第9题（这张表共 8 题），请改正后再发，例如：退回 第3题 户数不对。"),
    ],
)
def test_a_return_needs_a_reason_and_questions_the_form_has(submitted, runtime, said, reply):
    assert submitted.say("zhou_jianguo", said) == reply
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).where(ReviewStep.decision.is_not(None))) == 0
    assert submitted.pushed_texts("zhang_dehua") == []


def test_full_width_question_numbers_are_read_and_the_reason_kept_as_typed(submitted):
    assert "（第3、5题）" in submitted.say("zhou_jianguo", "退回 第３题、第５题：户数不对，请核对")
    [notice] = submitted.pushed_texts("zhang_dehua")
    assert "原因：户数不对，请核对\n需要重填：第3题 本月新增低保户；第5题 本月发放低保金。" in notice


def test_buttons_approve_ask_for_a_reason_and_are_declined_once_decided(submitted, runtime, tmp_path: Path):
    sheet = tmp_path / "second_reviewer.csv"
    sheet.write_text("单位,上级单位,层级,姓名,账号,角色\n朱沱镇,永川区,镇,王强,wang_qiang,审核员\n", encoding="utf-8")
    with runtime.factory.begin() as session:
        assert import_org(session, sheet).errors == []
    [first] = step_ids(runtime)
    asked = press(runtime, "zhou_jianguo", first, "退回", "r1")
    assert asked == "永川区/朱沱镇/松林村：请回复退回原因；只退回几题就写题号，例如：第3题 第5题 户数与台账不符。"
    assert submitted.say("zhou_jianguo", "第3题 与名单不符").startswith("已退回：永川区/朱沱镇/松林村")
    # The returned request's buttons no longer work, for him or for the other reviewer.
    assert press(runtime, "zhou_jianguo", first, "通过", "r2") == (
        "这份报送已经处理过了，按钮已失效。发 /审核 看还有哪些待审核。"
    )
    assert press(runtime, "wang_qiang", first, "通过", "r3") == (
        "松林村 《低保月报》（任务#1）已由周建国在11月28日10:00退回，您的处理未生效。"
    )
    submitted.say("zhang_dehua", "开始")
    submitted.say("zhang_dehua", "4")
    submitted.say("zhang_dehua", "提交")
    second = step_ids(runtime)[-1]
    assert press(runtime, "wang_qiang", second, "通过", "a1").startswith("已通过：永川区/朱沱镇/松林村")
    assert press(runtime, "zhou_jianguo", second, "退回", "a2") == (
        "松林村 《低保月报》（任务#1）已由王强在11月28日10:00通过，您的处理未生效。"
    )
    # Typed too: 周建国's 通过 finds nothing waiting and is told who decided the last one.
    assert submitted.say("zhou_jianguo", "通过") == (
        "松林村 《低保月报》（任务#1）已由王强在11月28日10:00通过，您的处理未生效。"
    )


def test_in_a_list_a_request_decided_by_someone_else_is_not_decided_again_unseen(submitted, runtime, tmp_path):
    sheet = tmp_path / "second_reviewer.csv"
    sheet.write_text("单位,上级单位,层级,姓名,账号,角色\n朱沱镇,永川区,镇,王强,wang_qiang,审核员\n", encoding="utf-8")
    with runtime.factory.begin() as session:
        assert import_org(session, sheet).errors == []
    fill(submitted, "luo_xiuying")
    songlin, handong = step_ids(runtime)
    assert "【待审核】永川区/朱沱镇/松林村" in submitted.say("zhou_jianguo", "/审核")
    press(runtime, "wang_qiang", songlin, "通过", "w")  # while 周建国 reads 松林村's
    reply = submitted.say("zhou_jianguo", "退回 第3题 不对")
    assert reply.startswith("松林村 《低保月报》（任务#1）已由王强在11月28日10:00通过，您的处理未生效。\n\n")
    assert "【待审核】永川区/朱沱镇/汉东村 罗秀英" in reply  # the next is shown, not returned
    with runtime.factory() as session:
        assert session.get(ReviewStep, handong).decision is None


TZ = ZoneInfo("Asia/Shanghai")


def test_a_large_change_against_the_previous_period_is_flagged(chat, runtime, clock, ledger_without_dibao):
    work = TimedWork(runtime, SchedulerConfig(), holder="scheduler")
    assert "已设定定时发布" in chat.say("li_minzheng", "/发布 低保月报 每月25日 截止 次月3日 18:00 范围 松林村")
    clock.set(datetime(2024, 12, 25, 9, tzinfo=TZ).astimezone(UTC))
    work.tick()
    first = ["120", "350", "12", "1", "15000", "是", "13908315526", "跳过"]
    assert "等待朱沱镇审核" in fill(chat, "zhang_dehua", first)
    [request] = chat.pushed_texts("zhou_jianguo")
    assert "3. 本月新增低保户：12户\n" in request  # no previous period yet
    chat.say("zhou_jianguo", "通过")
    clock.set(datetime(2025, 1, 25, 9, tzinfo=TZ).astimezone(UTC))
    work.tick()
    # The ledger now holds 在保低保户数 and 人数 (confirmed); last period's 12 is offered for 第3题, and 30 typed.
    chat.say("zhang_dehua", "开始")
    assert "第3/8题" in chat.say("zhang_dehua", "确认")
    for answer in ["30", "1", "15000", "是", "13908315526", "跳过"]:
        chat.say("zhang_dehua", answer)
    chat.say("zhang_dehua", "提交")
    [request] = chat.pushed_texts("zhou_jianguo")
    assert "3. 本月新增低保户：30户（上期 12户，+150%）⚠" in request
    assert "4. 本月退出低保户：1户（上期 1户，0%）\n" in request  # no change: no flag
