"""`python -m bot demo --wecom`: a member's message goes through the emulator, the bot server and back."""

from __future__ import annotations

import io

from bot.config import Config, DatabaseConfig
from bot.platforms.wecom.emulator import (
    SAMPLE_AES_KEY,
    SAMPLE_CORP_ID,
    SAMPLE_TOKEN,
    EmulatorSettings,
    WeComEmulator,
    serve,
)
from cli.bot_command import main
from cli.demos import run_wecom_demo


def test_the_wecom_demo_issues_a_task_and_the_filler_sees_the_first_question(tmp_path):
    config = Config(database=DatabaseConfig(url=f"sqlite:///{tmp_path / 'demo.sqlite3'}"))
    out = io.StringIO()
    lines = [
        "@li_minzheng /发布 低保月报 截止 3个工作日 范围 松林村",
        "@zhang_dehua 开始",
        ":quit",
        "@zhang_dehua 这一行不会执行",
    ]
    assert run_wecom_demo(config, lines=lines, out=out, wait=1.0) == 0
    screen = out.getvalue()
    assert "导入完成" in screen
    assert "li_minzheng（李敏正）：已发布《低保月报》" in screen
    assert "zhang_dehua（张德华）：【区民政局】发布了《低保月报》" in screen
    assert "《低保月报》以下 1 项已从台账带出" in screen
    assert "这一行不会执行" not in screen


def test_sync_wecom_on_the_command_line_pulls_members_from_the_configured_app(tmp_path, capsys):
    emulator = WeComEmulator(EmulatorSettings(SAMPLE_CORP_ID, "cli-secret", 1000002, SAMPLE_TOKEN, SAMPLE_AES_KEY))
    emulator.add_department(1, "永川区")
    emulator.add_department(2, "朱沱镇", parentid=1)
    emulator.add_member("hu_xiaoyan", "胡晓燕", [2], "13908315526")
    api = serve(emulator)
    try:
        config = tmp_path / "bot.toml"
        config.write_text(
            f"""
[database]
url = "sqlite:///{tmp_path / "sync.sqlite3"}"
[wecom]
corp_id = "{SAMPLE_CORP_ID}"
agent_id = 1000002
secret = "cli-secret"
token = "{SAMPLE_TOKEN}"
encoding_aes_key = "{SAMPLE_AES_KEY}"
api_base_url = "{api.url}"
""",
            encoding="utf-8",
        )
        assert main(["--config", str(config), "sync-wecom"]) == 0
    finally:
        api.shutdown()
    printed = capsys.readouterr().out
    assert "胡晓燕" in printed


def test_sync_wecom_without_an_app_says_what_to_fill_in(tmp_path, capsys):
    assert main(["sync-wecom"]) == 2
    assert "[wecom]" in capsys.readouterr().err
