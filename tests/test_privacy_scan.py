"""No whole ID number or mobile in the audit table, a log line or a chat message after a full scenario.

The scenario touches every place personal numbers pass through: a form asking an ID number and a mobile, a
roster whose rows are changed, removed and added, a form writing a mobile back to a ledger, a ledger import,
an organisation import with mobiles (and an account that is a mobile), /查询 and /导出 by a number, a share
changed by the admin, and a message failing in the database with the numbers in the statement's parameters.
Logs are captured from every logger at DEBUG (SQLAlchemy then logs each statement with its parameters) and
read as the bot writes them, through bot.logs.MaskingFormatter.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path

import pytest
from sqlalchemy import event, select

from bot.logs import MaskingFormatter
from handlers.texts.commands import INTERNAL_ERROR
from ledger_store.ledger_import import import_ledger
from ledger_store.models import AuditEntry, OutboxMessage
from ledger_store.org_import import import_org

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"  # as bot.logs.configure_logging writes
ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
SPOT_CHECK = "500118195803120218"  # 刘大贵 in the demo's 残疾人台账
NEW_PERSON = "110101199003070011"
FILLER_MOBILE = "15823617730"
LEDGER_CSV = """身份证号,姓名,家庭人口,家庭月人均收入,联系电话,保障类别,单位
500118196003138318,张德明,1,612.8,13700001234,A类,松林村
44011320141005001X,李四,2,480,13650238871,B类,汉东村
"""
ORG_CSV = """单位,上级单位,层级,姓名,账号,角色,手机号
松林村,朱沱镇,村,张德华,zhang_dehua,填报员,13800001111
汉东村,朱沱镇,村,罗小兵,13700002222,填报员,13700002222
"""


def leaks(text: str) -> list[str]:
    """Whole ID numbers and mobiles in the text."""
    return ID_NUMBER.findall(text) + MOBILE.findall(text)


@pytest.fixture
def failing_once(engine):
    """Arms a database failure: the next INSERT of answers holding `needle` fails, naming the row it was writing."""
    armed: dict[str, str] = {}

    def fail(conn, cursor, statement, parameters, context, executemany):
        if armed and "INSERT INTO answers" in statement and armed["needle"] in str(parameters):
            armed.clear()
            # Drivers name the values they choked on, as PostgreSQL's "Key (key)=(…) already exists" does.
            raise conn.dialect.loaded_dbapi.OperationalError(f"disk I/O error writing {parameters!r}")

    event.listen(engine, "before_cursor_execute", fail)
    yield armed
    event.remove(engine, "before_cursor_execute", fail)


def test_no_whole_id_number_or_mobile_is_left_anywhere(chat, runtime, caplog, tmp_path: Path, failing_once):
    caplog.set_level(logging.DEBUG)
    said: list[str] = []

    def say(account: str, text: str) -> str:
        reply = chat.say(account, text)
        said.append(reply)
        return reply

    # A form asking an ID number and a mobile; the first submission fails in the database.
    say("wang_canlian", "/发布 残疾人两项补贴情况 截止 11月30日18点 范围 松林村 不审核")
    say("zhang_dehua", "开始")
    for answer in ("3", "1", "1500", "2024-11-20", "1", "1", SPOT_CHECK, FILLER_MOBILE):
        say("zhang_dehua", answer)
    failing_once["needle"] = SPOT_CHECK
    assert say("zhang_dehua", "提交") == INTERNAL_ERROR
    assert not failing_once, "the database failure was not triggered"
    assert "已提交" in say("zhang_dehua", "提交")

    # A roster: a row changed, one removed, one added; then the filler's mobile.
    say("wang_canlian", "/发布 两项补贴花名册 截止 11月30日18点 范围 松林村 不审核")
    say("zhang_dehua", "开始")
    say("zhang_dehua", "确认")
    say("zhang_dehua", "修改")
    for answer in ("跳过", "跳过", "二级", "跳过"):
        say("zhang_dehua", answer)
    say("zhang_dehua", "删除")
    say("zhang_dehua", "添加")
    for answer in (NEW_PERSON, "孙小红", "3", "1"):
        listing = say("zhang_dehua", answer)
    assert "（无变化 1 行、已修改 1 行、新增 1 行、删除 1 行）" in listing
    assert "第2/2题" in say("zhang_dehua", "完成")
    say("zhang_dehua", "13908315526")
    assert "已提交" in say("zhang_dehua", "提交")

    # A form writing a mobile back to 村社区基本情况台账.
    say("li_minzheng", "/发布 村社区基本情况 截止 11月30日18点 范围 石庙村 不审核")
    say("chen_guoping", "开始")
    say("chen_guoping", "确认")
    for answer in ("12", "刘明", "13983041299", "无"):
        say("chen_guoping", answer)
    assert "已提交" in say("chen_guoping", "提交")

    # Imports: a ledger file and an organisation file, both with numbers.
    ledger_file = tmp_path / "低保.csv"
    ledger_file.write_text(LEDGER_CSV, encoding="utf-8")
    import_ledger(runtime.factory, "dibao_households", ledger_file, None, runtime.engine.now())
    org_file = tmp_path / "org.csv"
    org_file.write_text(ORG_CSV, encoding="utf-8")
    with runtime.factory.begin() as session:
        assert import_org(session, org_file).errors == []

    # Taking data out by number, and an admin sharing a ledger.
    say("li_minzheng", "/查询 低保对象台账 联系电话=13700001234")
    say("li_minzheng", "/导出 低保对象台账 身份证号=500118196003138318")
    say("li_minzheng", "/导出 低保对象台账 身份证号 包含 44011320141005001x")
    say("admin", "/台账权限 低保对象台账 共享 区残联")
    say("wang_canlian", "/查询 低保对象台账 身份证号 包含 500118196003138318")
    say("wang_canlian", "/导出 低保对象台账")

    with runtime.factory() as session:
        entries = session.scalars(select(AuditEntry)).all()
        pushed = [row.text for row in session.scalars(select(OutboxMessage)) if row.text]
    assert {"submit", "ledger_write", "ledger_import", "org_import", "export", "ledger_share"} <= {
        entry.action for entry in entries
    }
    audit_text = "\n".join(
        json.dumps([entry.entity_id, entry.old, entry.new], ensure_ascii=False, default=str) for entry in entries
    )
    assert leaks(audit_text) == []

    # What was logged holds the numbers (the failed statement's parameters): the scan below can fail.
    plain = logging.Formatter()
    logged = [record.getMessage() + (plain.formatException(record.exc_info) if record.exc_info else "")
              for record in caplog.records]  # fmt: skip
    assert any(SPOT_CHECK in text and "disk I/O error" in text for text in logged)
    written = "\n".join(MaskingFormatter(FORMAT).format(record) for record in caplog.records)
    assert "disk I/O error" in written and "Traceback" in written
    assert leaks(written) == []

    assert leaks("\n".join(said + pushed)) == []


def test_a_traceback_another_handler_reuses_is_already_masked():
    # logging keeps the formatted traceback on the record; a second handler with a plain formatter prints that copy.
    try:
        raise RuntimeError(f"cannot store {SPOT_CHECK} for {FILLER_MOBILE}")
    except RuntimeError:
        record = logging.makeLogRecord({"msg": "failed", "exc_info": sys.exc_info()})
    MaskingFormatter(FORMAT).format(record)
    again = logging.Formatter("%(message)s").format(record)
    assert "RuntimeError" in again and leaks(again) == []
