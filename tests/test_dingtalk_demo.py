"""`python -m bot demo --dingtalk` (make demo-dingtalk): members' messages reach the bot over the Stream connection."""

from __future__ import annotations

import io

from bot.config import Config, DatabaseConfig
from cli.demos import run_dingtalk_demo


def test_the_dingtalk_demo_issues_a_task_over_stream_and_the_filler_sees_the_first_question(tmp_path):
    config = Config(database=DatabaseConfig(url=f"sqlite:///{tmp_path / 'demo.sqlite3'}"))
    out = io.StringIO()
    lines = [
        "@li_minzheng /发布 低保月报 截止 3个工作日 范围 松林村",
        "@zhang_dehua 开始",
        "@li_minzheng /汇总 低保月报",
        ":quit",
        "@zhang_dehua 这一行不会执行",
    ]
    assert run_dingtalk_demo(config, lines=lines, out=out, wait=2.0) == 0
    screen = out.getvalue()
    assert "导入完成" in screen and "Stream 网关：  ws://127.0.0.1:" in screen
    assert "li_minzheng（会话回复）：已发布《低保月报》" in screen
    assert "zhang_dehua（批量单聊）：【区民政局】发布了《低保月报》" in screen
    assert "zhang_dehua（会话回复）：" in screen and "《低保月报》以下 1 项已从台账带出" in screen
    assert "li_minzheng（批量单聊）：[文件] " in screen  # the summary workbook, uploaded to the emulator, not DingTalk
    assert "这一行不会执行" not in screen and "尚未连上" not in screen
