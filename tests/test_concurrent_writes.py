"""Two people writing the same ledger record at the same moment: neither change is lost, the history tells the truth.

Each message runs in its own thread on its own database connection, released together by a barrier. A second
barrier holds each transaction at the statement that writes the record, so without the record lock both would
have read it before either writes: the worst interleaving. With the lock the second waits at its read instead, and
the first goes on alone after a short wait. On SQLite writers take turns, so the messages never overlap there.

The demo organisation: 张德华 (zhang_dehua) keeps 松林村, 黄丽 (huang_li) 红旗社区; 周建国 (zhou_jianguo) reviews
朱沱镇. Each test adds a second person where it needs one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from ledger_store.ledgers import UNIT, get_ledger, get_record, history
from ledger_store.models import AuditEntry, OrgUnit
from ledger_store.org_import import import_org
from tests.test_review_races import meeting_at_the_claim, racing, typed
from tests.workbooks import survey_workbook

ZHAO_GUIYING = "500118196607280825"  # 残疾人台账, 汉东村
NEW_PERSON = "110101199003070011"  # a valid ID number no ledger knows
WAIT = 3  # seconds a transaction waits at the meeting point for the other (which waits at its lock) before going on

pytestmark = pytest.mark.usefixtures("servers_only")


@pytest.fixture
def servers_only(engine) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite has one writer at a time: two writes never overlap")


def add_people(runtime, tmp_path: Path, rows: str) -> None:
    sheet = tmp_path / "people.csv"
    sheet.write_text("单位,上级单位,层级,姓名,账号,角色\n" + rows, encoding="utf-8")
    with runtime.factory.begin() as session:
        assert import_org(session, sheet).errors == []


def test_two_cadres_updating_different_fields_of_their_village_at_once_keep_both(chat, runtime, engine, tmp_path):
    add_people(runtime, tmp_path, "松林村,朱沱镇,村,李春梅,li_chunmei,填报员\n")
    for account in ("zhang_dehua", "li_chunmei"):
        assert "开始修改村社区基本情况台账中 松林村 的记录" in chat.say(account, "/更新 村社区基本情况")
    chat.say("li_chunmei", "不变")  # she is at 户籍人口, he at 户籍户数
    with meeting_at_the_claim(engine, 2, "UPDATE LEDGER_RECORDS", WAIT, first_only=True):
        replies = racing(runtime)([typed("zhang_dehua", "360", "m-zhang"), typed("li_chunmei", "1210", "m-li")])
    assert all("第2/6项" in reply or "第3/6项" in reply for reply in replies)
    with runtime.factory() as session:
        ledger = get_ledger(session, "unit_profile")
        record = get_record(session, ledger, "松林村")
        assert (record.values["households"], record.values["population"]) == (360, 1210)
        changes = [(c.field, c.old, c.new) for c in history(session, ledger, "松林村") if c.source == "更新（聊天）"]
        assert sorted(changes) == [("households", 356, 360), ("population", 1204, 1210)]
        audits = session.scalars(select(AuditEntry).where(AuditEntry.action == "ledger_write")).all()
        written = [audit.new for audit in audits if audit.new.get("_source") == "更新（聊天）"]
        assert sorted(written, key=str) == [
            {"_source": "更新（聊天）", "households": 360},
            {"_source": "更新（聊天）", "population": 1210},
        ]


def test_two_moves_of_one_record_at_once_end_where_the_history_says(chat, runtime, engine, tmp_path):
    add_people(runtime, tmp_path, "朱沱镇,永川区,镇,王强,wang_qiang,审核员\n")
    moves = [
        typed("zhou_jianguo", f"/迁移 残疾人台账 {ZHAO_GUIYING} 到 松林村", "m-zhou"),
        typed("wang_qiang", f"/迁移 残疾人台账 {ZHAO_GUIYING} 到 石庙村", "m-wang"),
    ]
    with meeting_at_the_claim(engine, 2, "UPDATE LEDGER_RECORDS", WAIT, first_only=True):
        replies = racing(runtime)(moves)
    with runtime.factory() as session:
        ledger = get_ledger(session, "disabled_people")
        units = {unit.id: unit.name for unit in session.scalars(select(OrgUnit))}
        moved = [(units[c.old], units[c.new]) for c in history(session, ledger, ZHAO_GUIYING, UNIT)]
        now_in = units[get_record(session, ledger, ZHAO_GUIYING).org_unit_id]
    # each move starts where the one before it ended, and the record is where the last one took it
    assert moved in ([("汉东村", "松林村"), ("松林村", "石庙村")], [("汉东村", "石庙村"), ("石庙村", "松林村")])
    assert now_in == moved[-1][1]
    first, second = moved
    said = dict(zip(("松林村", "石庙村"), replies, strict=True))
    assert f"从{first[0]}迁到{first[1]}" in said[first[1]] and f"从{second[0]}迁到{second[1]}" in said[second[1]]


def test_one_new_record_written_by_two_at_once_is_made_once_and_no_one_sees_an_error(chat, runtime, engine):
    form = survey_workbook(
        [
            ["身份证号", "idcard", "身份证号", "是", "残疾人台账.身份证号"],
            ["文本", "address", "现居住地址", "是", "残疾人台账.现居住地址"],
        ],
        title="新增残疾人",
        code="new_disabled",
    )
    assert "已导入表单《新增残疾人》" in chat.send_file("wang_canlian", "新增残疾人.xlsx", form)
    for village in ("松林村", "汉东村"):  # two tasks, so neither submission waits on the other's task
        assert "已发布" in chat.say("wang_canlian", f"/发布 新增残疾人 截止 11月30日18点 范围 {village} 不审核")
    # both villages report the same person the ledger does not know yet
    for account, address in (("zhang_dehua", "松林村2组"), ("luo_xiuying", "汉东村3组")):
        chat.say(account, "开始")
        chat.say(account, NEW_PERSON)
        assert "请核对您的答案" in chat.say(account, address)
    submits = [typed("zhang_dehua", "提交", "m-zhang"), typed("luo_xiuying", "提交", "m-luo")]
    with meeting_at_the_claim(engine, 2, "INSERT INTO LEDGER_RECORDS", WAIT, first_only=True):
        replies = racing(runtime)(submits)
    assert all(reply.endswith("已提交，谢谢！") for reply in replies), replies
    with runtime.factory() as session:
        ledger = get_ledger(session, "disabled_people")
        record = get_record(session, ledger, NEW_PERSON)
        village = session.get(OrgUnit, record.org_unit_id).name
        changes = [(c.field, c.old, c.new) for c in history(session, ledger, NEW_PERSON)]
    # the person is the first village's; the second's answer stays in its submission, not in another's record
    address = {"松林村": "松林村2组", "汉东村": "汉东村3组"}[village]
    assert record.values["address"] == address and changes == [("address", None, address)]
