"""`python -m bot demo --wecom`: a member's message goes through the emulator, the bot server and back."""

from __future__ import annotations

import io

from bot.config import Config, DatabaseConfig
from bot.wecom_demo import run_wecom_demo


def test_the_wecom_demo_issues_a_task_and_the_filler_sees_the_first_question(tmp_path):
    config = Config(database=DatabaseConfig(url=f"sqlite:///{tmp_path / 'demo.sqlite3'}"))
    out = io.StringIO()
    lines = [
        "@li_minzheng /发布 低保月报 截止 2099-12-31 18:00 范围 松林村",
        "@zhang_dehua 开始",
        ":quit",
        "@zhang_dehua 这一行不会执行",
    ]
    assert run_wecom_demo(config, lines=lines, out=out, wait=1.0) == 0
    screen = out.getvalue()
    assert "导入完成" in screen
    assert "li_minzheng（李敏正）：已发布《低保月报》" in screen
    assert "zhang_dehua（张德华）：【区民政局】发布了《低保月报》" in screen
    assert "《低保月报》第1/8题" in screen
    assert "这一行不会执行" not in screen
