"""Two issuers of one department creating the same report at the same moment, and the last two units submitting
at the same moment. Each message runs in its own
thread on its own connection, released together, and on PostgreSQL and MariaDB each is held at the statement
that writes until the other reaches it too (or 5 s passed: the other waits for a lock). On SQLite writers take
turns, so they run one after the other; what the issuers see must be the same. The department's row is locked
before the check for a like one, so the second sees the first's task or recurrence instead of creating a copy; a
submission locks its task first, so the last one sees every other and the summary goes out at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from ledger_store.models import AuditEntry, Recurrence, RecurrenceStatus, ReportTask
from tests.test_concurrent_writes import add_people
from tests.test_review_races import DIBAO_ANSWERS, VILLAGES, meeting_at_the_claim, racing, typed

SECOND_ISSUER = "区民政局,永川区,部门,赵静,zhao_jing,发布员\n"
ISSUERS = ("li_minzheng", "zhao_jing")


@pytest.fixture
def two_issuers(chat, runtime, tmp_path: Path, ledger_without_dibao):
    add_people(runtime, tmp_path, SECOND_ISSUER)
    return chat


def counted(runtime, model) -> int:
    with runtime.factory() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_two_issuers_sending_the_same_report_at_once_issue_it_once(two_issuers, runtime, engine):
    command = "/发布 低保月报 截止 11月30日18点 范围 松林村 汉东村 石庙村"
    with meeting_at_the_claim(engine, 2, "INSERT INTO REPORT_TASKS"):
        replies = racing(runtime)([typed(account, command, f"issue-{account}") for account in ISSUERS])
    assert counted(runtime, ReportTask) == 1
    assert sum("已发布" in reply for reply in replies) == 1
    [asked] = [reply for reply in replies if "已发布" not in reply]
    assert "低保月报" in asked and "任务#1" in asked  # the second is shown the first's task before issuing another


def test_two_issuers_setting_up_the_same_recurring_report_at_once_set_it_up_once(two_issuers, runtime, engine):
    command = "/发布 低保月报 每月25日 截止 次月3日18点 范围 松林村 汉东村 石庙村"
    with meeting_at_the_claim(engine, 2, "INSERT INTO RECURRENCES"):
        replies = racing(runtime)([typed(account, command, f"recur-{account}") for account in ISSUERS])
    assert counted(runtime, Recurrence) == 1
    assert sum("已设定定时发布《低保月报》（定时#1）" in reply for reply in replies) == 1
    assert sum("已有一样的定时发布：定时#1《低保月报》" in reply for reply in replies) == 1


def test_a_recurrence_stopped_by_one_issuer_is_not_paused_back_by_the_other_at_the_same_moment(
    two_issuers, runtime, engine
):
    two_issuers.say("li_minzheng", "/发布 低保月报 每月25日 截止 次月3日18点 范围 松林村 汉东村 石庙村")
    said = [typed("li_minzheng", "/定时 停止 1", "stop"), typed("zhao_jing", "/定时 暂停 1", "pause")]
    with meeting_at_the_claim(engine, 2, "UPDATE RECURRENCES"):
        stop, pause = racing(runtime)(said)
    assert "定时#1《低保月报》已停止" in stop
    # Whichever came first, the stop stands: a pause after it finds nothing left to pause.
    assert "定时#1《低保月报》已暂停" in pause or "没有找到定时#1" in pause
    with runtime.factory() as session:
        assert session.scalar(select(Recurrence.status)) == RecurrenceStatus.STOPPED
        changes = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "recurrence_status").order_by(AuditEntry.id)
        ).all()
    # The history is truthful: each change starts from what the one before it left.
    assert changes[0].old == {"status": "active"}
    assert all(later.old == earlier.new for earlier, later in zip(changes, changes[1:], strict=False))


def test_the_last_two_units_submitting_at_once_get_the_summary_sent_at_once(two_issuers, runtime, engine):
    chat = two_issuers
    assert "已发布" in chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村 汉东村 石庙村 不审核")
    for filler in VILLAGES:
        chat.say(filler, "开始")
        for answer in DIBAO_ANSWERS:
            chat.say(filler, answer)
    assert "已提交" in chat.say("zhang_dehua", "提交")
    last_two = [typed(filler, "提交", f"submit-{filler}") for filler in ("luo_xiuying", "chen_guoping")]
    with meeting_at_the_claim(engine, 2, "INSERT INTO SUBMISSIONS"):
        replies = racing(runtime)(last_two)
    assert all("已提交" in reply for reply in replies), replies
    # No scheduler tick ran: the second of the two saw the first and summed the task up.
    assert chat.pushed_texts("li_minzheng") == ["《低保月报》（任务#1）：3/3 已报，本月新增低保户合计 9 户"]


def test_on_mariadb_the_bot_reads_what_was_committed_before_each_statement(engine):
    """MariaDB's default, REPEATABLE READ, would let the one who waited for a task's lock read an older snapshot."""
    if engine.dialect.name not in ("mysql", "mariadb"):
        pytest.skip("PostgreSQL runs READ COMMITTED by default; SQLite has one writer")
    with engine.connect() as connection:
        assert connection.get_isolation_level() == "READ COMMITTED"
