"""Two reviewers answering one submission at the same moment, and a filler writing while her report is returned.

Each message runs in its own thread on its own database connection, released together by a barrier. On
PostgreSQL and MariaDB a second barrier holds both transactions at the conditional UPDATE that claims the
decision, so each has read the submission as undecided before either decides: the worst interleaving, every
round. On SQLite writers take turns on an in-process lock, so the messages run one after the other there; the
outcome a person sees must be the same.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from bot.config import SchedulerConfig
from handlers.core.messages import ButtonClick, Incoming
from ledger_store.models import Assignment, AssignmentStatus, AuditEntry, Conversation, ReviewStep
from ledger_store.org import SIMULATOR
from ledger_store.org_import import import_org
from scheduler.jobs import TimedWork

SECOND_REVIEWER = "单位,上级单位,层级,姓名,账号,角色\n朱沱镇,永川区,镇,王强,wang_qiang,审核员\n"
REVIEWERS = {"zhou_jianguo": "周建国", "wang_qiang": "王强"}
VILLAGES = {"zhang_dehua": "松林村", "luo_xiuying": "汉东村", "chen_guoping": "石庙村"}
DIBAO_ANSWERS = ["120", "350", "3", "1", "15000", "是", "13908315526", "跳过"]
WAIT = 5  # seconds a thread waits for the other at a meeting point before going on alone


@pytest.fixture
def town(chat, runtime, tmp_path: Path, ledger_without_dibao):
    """朱沱镇 with a second reviewer, 王强 (wang_qiang), and a 低保月报 to its three villages, reviewed by the town."""
    sheet = tmp_path / "second_reviewer.csv"
    sheet.write_text(SECOND_REVIEWER, encoding="utf-8")
    with runtime.factory.begin() as session:
        assert import_org(session, sheet).errors == []
    assert "已发布" in chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村 汉东村 石庙村")
    return chat


def submit(chat, filler: str) -> None:
    """The filler answers every question and submits; both reviewers are asked."""
    chat.say(filler, "开始")
    for answer in DIBAO_ANSWERS:
        chat.say(filler, answer)
    assert "等待朱沱镇审核" in chat.say(filler, "提交")
    chat.pushed_texts(filler)  # the task's push, read
    for reviewer in REVIEWERS:
        assert any(VILLAGES[filler] in push for push in chat.pushed_texts(reviewer))


def racing(runtime) -> Callable[[list[Incoming]], list[str]]:
    """all_at_once for this runtime: threads released by a barrier, then the outbox delivered."""

    def run(messages: list[Incoming]) -> list[str]:
        start = threading.Barrier(len(messages))
        replies: list[str] = [""] * len(messages)
        errors: list[BaseException] = []

        def one(index: int) -> None:
            start.wait()
            try:
                replies[index] = "\n".join(reply.text for reply in runtime.engine.receive(messages[index]))
            except BaseException as error:  # noqa: BLE001 - the test reports it
                errors.append(error)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(messages))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        runtime.deliver()
        return replies

    return run


@contextmanager
def meeting_at_the_claim(
    engine, parties: int, statement_start: str = "UPDATE REVIEW_STEPS", wait: float = WAIT, first_only: bool = False
) -> Iterator[None]:
    """On a database server, hold every transaction at its `UPDATE review_steps` (or each statement that begins
    with `statement_start`; only its first one with `first_only`) until all have reached it, `wait` seconds at most."""
    if engine.dialect.name == "sqlite":
        yield
        return
    meeting = threading.Barrier(parties)

    met: set[int] = set()

    def hold(conn, cursor, statement: str, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith(statement_start) and threading.get_ident() not in met:
            if first_only:
                met.add(threading.get_ident())
            # The other may go another way (or be done already): then this one goes on alone.
            with contextlib.suppress(threading.BrokenBarrierError):
                meeting.wait(timeout=wait)

    event.listen(engine, "before_cursor_execute", hold)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", hold)


def typed(account: str, text: str, key: str) -> Incoming:
    return Incoming(SIMULATOR, account, text, message_id=key)


def clicked(account: str, step_id: int, value: str, key: str) -> Incoming:
    return Incoming(SIMULATOR, account, "", message_id=key, button=ButtonClick(f"rv{step_id}", value))


def latest_step_id(runtime) -> int:
    with runtime.factory() as session:
        return session.scalar(select(func.max(ReviewStep.id)))


def decisions_of(runtime, step_id: int) -> tuple[str | None, int, int]:
    """(the step's decision, how many approve/return audit entries it left, who decided it)."""
    with runtime.factory() as session:
        step = session.get(ReviewStep, step_id)
        entries = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(
                AuditEntry.entity == "assignment",
                AuditEntry.entity_id == str(step.assignment_id),
                AuditEntry.action.in_(("approve", "return")),
            )
        )
        return step.decision, entries, step.decided_by.account


def state_of(runtime, village: str) -> AssignmentStatus:
    with runtime.factory() as session:
        query = select(Assignment).where(Assignment.org_unit.has(name=village))
        return session.scalar(query).status


@pytest.mark.parametrize(
    ("zhou_says", "wang_says"),
    [("通过", "通过"), ("通过", "退回 第3题 户数与名单不符"), ("退回 整份重填", "通过")],
    ids=["both approve", "approve and return", "return and approve"],
)
def test_two_reviewers_answering_at_once_one_decision_wins_and_the_other_is_told_who(
    town, runtime, engine, zhou_says, wang_says
):
    run = racing(runtime)
    for round_, (filler, village) in enumerate(VILLAGES.items()):
        submit(town, filler)
        step_id = latest_step_id(runtime)
        messages = [
            typed("zhou_jianguo", zhou_says, f"zhou-{round_}"),
            typed("wang_qiang", wang_says, f"wang-{round_}"),
        ]
        with meeting_at_the_claim(engine, 2):
            zhou, wang = run(messages)
        decision, entries, winner = decisions_of(runtime, step_id)
        assert entries == 1  # one decision recorded, once
        won, lost = (zhou, wang) if winner == "zhou_jianguo" else (wang, zhou)
        said = zhou_says if winner == "zhou_jianguo" else wang_says
        assert decision == ("approved" if said == "通过" else "returned")
        assert won.startswith("已通过：" if said == "通过" else "已退回：")
        word = "通过" if decision == "approved" else "退回"
        assert f"{village} 《低保月报》（任务#1）已由{REVIEWERS[winner]}在11月28日10:00{word}，您的处理未生效。" in lost
        [notice] = town.pushed_texts(filler)  # the filler hears of one decision only
        assert REVIEWERS[winner] in notice
        expected = AssignmentStatus.SUBMITTED if decision == "approved" else AssignmentStatus.RETURNED
        assert state_of(runtime, village) == expected


def test_two_reviewers_pressing_the_buttons_of_one_request_at_once(town, runtime, engine):
    run = racing(runtime)
    submit(town, "zhang_dehua")
    step_id = latest_step_id(runtime)
    with meeting_at_the_claim(engine, 2):
        replies = run([clicked("zhou_jianguo", step_id, "通过", "z"), clicked("wang_qiang", step_id, "通过", "w")])
    decision, entries, winner = decisions_of(runtime, step_id)
    assert (decision, entries) == ("approved", 1)
    assert sum(reply.startswith("已通过：永川区/朱沱镇/松林村") for reply in replies) == 1
    assert sum(f"已由{REVIEWERS[winner]}在11月28日10:00通过，您的处理未生效" in reply for reply in replies) == 1
    assert len(town.pushed_texts("zhang_dehua")) == 1
    assert state_of(runtime, "松林村") == AssignmentStatus.SUBMITTED


def test_two_workers_handling_the_stored_answers_of_two_reviewers_at_once(town, runtime):
    """The path WeCom takes: both messages are stored at the callback, then two workers take them up together.
    On SQLite they take turns; on PostgreSQL and MariaDB the two reviewers' messages are handled at the same time.
    Either way one decision is recorded and the other reviewer is told whose it was."""
    submit(town, "zhang_dehua")
    step_id = latest_step_id(runtime)
    assert runtime.engine.accept(typed("zhou_jianguo", "通过", "stored-zhou"))
    assert runtime.engine.accept(typed("wang_qiang", "通过", "stored-wang"))
    start = threading.Barrier(2)

    def worker() -> None:
        start.wait()
        runtime.engine.process_pending()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    runtime.deliver()
    decision, entries, winner = decisions_of(runtime, step_id)
    assert (decision, entries) == ("approved", 1)
    loser = "wang_qiang" if winner == "zhou_jianguo" else "zhou_jianguo"
    [won] = town.pushed_texts(winner)
    [lost] = town.pushed_texts(loser)
    assert won.startswith("已通过：永川区/朱沱镇/松林村")
    assert lost == f"松林村 《低保月报》（任务#1）已由{REVIEWERS[winner]}在11月28日10:00通过，您的处理未生效。"


def test_approving_the_whole_list_while_the_other_reviewer_approves_one_of_it(town, runtime, engine):
    run = racing(runtime)
    for filler in VILLAGES:
        submit(town, filler)
    assert "共 3 份" in town.say("zhou_jianguo", "/审核")
    assert "确认一次通过列表里的 3 份" in town.say("zhou_jianguo", "全部通过")
    middle = latest_step_id(runtime) - 1  # 汉东村's
    with meeting_at_the_claim(engine, 2):
        zhou, wang = run([typed("zhou_jianguo", "确认", "all"), clicked("wang_qiang", middle, "通过", "one")])
    with runtime.factory() as session:
        steps = list(session.scalars(select(ReviewStep).order_by(ReviewStep.id)))
        assert [step.decision for step in steps] == ["approved"] * 3
        by_wang = [step.id for step in steps if step.decided_by.account == "wang_qiang"]
    if by_wang == [middle]:
        assert zhou == "已通过 2 份。另有 1 份已被他人处理或不归您审核，未动。"
        assert wang.startswith("已通过：永川区/朱沱镇/汉东村")
    else:
        assert by_wang == [] and zhou == "已通过 3 份。"
        assert "汉东村 《低保月报》（任务#1）已由周建国在11月28日10:00通过，您的处理未生效。" in wang
    assert all(state_of(runtime, village) == AssignmentStatus.SUBMITTED for village in VILLAGES.values())
    # The summary goes out once: at the last approval or, where that one's snapshot could not see the other
    # (MariaDB's REPEATABLE READ), at the scheduler's next tick.
    work = TimedWork(runtime, SchedulerConfig(), holder="scheduler")
    work.tick()
    work.drain()
    [summary, workbook] = town.pushes("li_minzheng")
    assert "3/3 已报" in summary.text and workbook.file_name.endswith(".xlsx")


@contextmanager
def filler_writes_inside_the_return(engine, filler_done: threading.Event) -> Iterator[None]:
    """On a database server, the return waits (up to WAIT seconds) after claiming its decision, before it commits,
    while the filler's message is handled: she writes into the middle of the return."""
    if engine.dialect.name == "sqlite":
        yield
        return
    claimed = threading.Event()

    def hold(conn, cursor, statement: str, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("UPDATE REVIEW_STEPS") and not claimed.is_set():
            claimed.set()
            filler_done.wait(timeout=WAIT)

    event.listen(engine, "after_cursor_execute", hold)
    try:
        yield
    finally:
        event.remove(engine, "after_cursor_execute", hold)


@pytest.mark.parametrize("she_says", ["开始", "130", "修改 3", "提交"])
def test_a_filler_writing_while_her_report_is_returned_sees_one_state_or_the_other(town, runtime, engine, she_says):
    submit(town, "zhang_dehua")
    done = threading.Event()
    replies: dict[str, str] = {}

    def reviewer() -> None:
        said = runtime.engine.receive(typed("zhou_jianguo", "退回 第3题 第5题 新增户数与名单不符", "return"))
        replies["zhou"] = "\n".join(reply.text for reply in said)

    def filler() -> None:
        try:
            said = runtime.engine.receive(typed("zhang_dehua", she_says, "filler"))
            replies["zhang"] = "\n".join(reply.text for reply in said)
        finally:
            done.set()

    with filler_writes_inside_the_return(engine, done):
        threads = [threading.Thread(target=reviewer), threading.Thread(target=filler)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    runtime.deliver()
    assert replies["zhou"].startswith("已退回：永川区/朱沱镇/松林村 《低保月报》（任务#1）（第3、5题）")
    heard = replies["zhang"]
    returned = "《低保月报》已退回，原因：新增户数与名单不符。需要重填：第3题 本月新增低保户；第5题 本月发放低保金。"
    if heard == "《低保月报》（任务#1）已提交，正等朱沱镇审核，审核期间不能修改；通过或退回都会通知您。":
        heard = town.say("zhang_dehua", she_says)  # before the return: her message changed nothing; now again
    if she_says == "开始":  # after the return: she is asked the first reopened question
        assert heard.startswith(returned) and "第3/8题" in heard
    else:  # or told how to take the returned form up again
        assert heard == returned + "\n回复“开始”重新填写，填好后发“提交”。"
        assert "第3/8题" in town.say("zhang_dehua", "开始")
    assert state_of(runtime, "松林村") == AssignmentStatus.RETURNED
    with runtime.factory() as session:
        conversation = session.scalar(select(Conversation))
        assert conversation.reopened == ["new_households", "amount"]
    # The return holds: she is asked only the two questions, and the town gets round 2 with both marked.
    assert "第5/8题" in town.say("zhang_dehua", "4")
    assert "请核对" in town.say("zhang_dehua", "16000")
    assert "已重新提交" in town.say("zhang_dehua", "提交")
    [again] = [push for push in town.pushed_texts("zhou_jianguo") if "第2轮" in push]
    assert "★本月新增低保户：4户（原为 3户）" in again and "★本月发放低保金：16000元（原为 15000元）" in again
