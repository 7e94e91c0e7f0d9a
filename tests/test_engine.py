"""The engine's promises at its edge: failures roll back and are answered in Chinese, never with a trace."""

from __future__ import annotations

import logging
import sys

from sqlalchemy import select

from bot.logs import MaskingFormatter
from handlers import conversation
from handlers.texts.commands import INTERNAL_ERROR
from ledger_store.models import Conversation


def test_a_failure_mid_message_rolls_back_and_apologises(chat, runtime, monkeypatch, caplog):
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村")
    chat.say("zhang_dehua", "开始")
    chat.say("zhang_dehua", "120")

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire 110102199101010078")

    monkeypatch.setattr(conversation, "parse_answer", broken)
    with caplog.at_level(logging.ERROR):
        reply = chat.say("zhang_dehua", "350")
    assert reply == INTERNAL_ERROR
    assert "Traceback" not in reply and "RuntimeError" not in reply
    with runtime.factory() as session:
        state = session.scalar(select(Conversation))
        assert state.position == 1 and "persons" not in state.answers
    monkeypatch.undo()
    assert "第3/8题" in chat.say("zhang_dehua", "350")


def test_logs_never_show_a_full_mobile_or_id_number():
    try:
        raise RuntimeError("bad answer 110102199101010078 from 13908315526")
    except RuntimeError:
        record = logging.makeLogRecord(
            {"msg": "message from %s failed", "args": ("13908315526",), "exc_info": sys.exc_info()}
        )
    line = MaskingFormatter("%(message)s").format(record)
    assert "RuntimeError" in line
    assert "13908315526" not in line and "110102199101010078" not in line
    assert "139****5526" in line and "1101**********0078" in line
