"""The command lines as people use them, run in-process: help in Chinese everywhere, `--config` on either side of
the command, commands that reach no platform under a WeCom configuration, and one plain line when a setting is missing.
"""

from __future__ import annotations

import io
import re
import socket
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from openpyxl import Workbook

from bot.config import load_config, wecom_complaint
from bot.platforms.wecom.emulator import SAMPLE_AES_KEY
from cli.bot_command import command_line
from cli.scheduler_command import command_line as scheduler_command_line

ROOT = Path(__file__).resolve().parent.parent
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def no_settings_from_the_environment(monkeypatch):
    """Only the files written here configure these runs."""
    for name in ("YBT_DATABASE_URL", "YBT_WECOM_SECRET", "YBT_WECOM_TOKEN", "YBT_WECOM_AES_KEY"):
        monkeypatch.delenv(name, raising=False)


def run(*args: str, command: click.Command = command_line, typed: str | None = None) -> Result:
    """The command line with these arguments, in this process."""
    return CliRunner().invoke(command, list(args), input=typed)


def write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def wecom_config(
    tmp_path: Path, wecom: str = 'corp_id = "ww0123456789abcdef"\nagent_id = 1000002\ntoken = "t"\n'
) -> Path:
    """A configuration whose pushes go to WeCom, on a database of its own; by default the secret and key are missing."""
    return write_config(
        tmp_path / "wecom.toml",
        f'[database]\nurl = "sqlite:///{tmp_path / "bot.sqlite3"}"\n[delivery]\nplatform = "wecom"\n[wecom]\n{wecom}',
    )


@pytest.mark.parametrize("name", ["", *sorted(command_line.commands)])
def test_every_command_explains_itself_in_chinese(name):
    words = [name] if name else []

    result = run(*words, "--help")

    assert result.exit_code == 0, result.output
    command = command_line.commands[name] if name else command_line
    first_line = command.help.strip().splitlines()[0]
    assert CHINESE.search(first_line) and first_line in result.stdout
    assert "显示这段说明并退出" in result.stdout
    for option in command.params:
        if isinstance(option, click.Option):
            assert CHINESE.search(option.help or ""), option.name


def test_the_scheduler_explains_itself_in_chinese():
    result = run("--help", command=scheduler_command_line)

    assert result.exit_code == 0
    assert "一表通机器人的定时进程" in result.stdout and "--config" in result.stdout


def test_fake_wecom_help_works_from_the_shell_as_the_readme_shows():
    result = subprocess.run(
        [sys.executable, "-m", "bot", "fake-wecom", "--help"],
        cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=60,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "--callback-url" in result.stdout and "本地企业微信模拟器" in result.stdout


def test_fake_wecom_posts_to_the_callback_url_it_is_given(world):
    result = run("fake-wecom", "--callback-url", world.callback_url, "--port", "0", typed=":verify\n:quit\n")

    assert result.exit_code == 0, result.output
    assert f"成员消息发往：{world.callback_url}" in result.stdout
    assert "回调 URL 验证通过" in result.stdout


@pytest.mark.parametrize("where", ["before", "after"])
def test_config_may_come_before_or_after_the_command(tmp_path, where):
    database = tmp_path / "chosen.sqlite3"
    config = write_config(tmp_path / "bot.toml", f'[database]\nurl = "sqlite:///{database}"\n')
    option = ["--config", str(config)]

    result = run(*option, "migrate") if where == "before" else run("migrate", *option)

    assert result.exit_code == 0, result.output
    assert result.stdout == f"数据库已是最新结构：sqlite:///{database}\n"
    assert database.exists()


def test_commands_that_reach_no_platform_work_under_a_wecom_configuration_without_its_secrets(tmp_path):
    config = str(wecom_config(tmp_path))
    form = tmp_path / "form.xlsx"
    form.write_bytes(xlsform())
    script = tmp_path / "story.txt"
    script.write_text("li_minzheng: /发布 低保月报 截止 3个工作日 范围 松林村\n", encoding="utf-8")
    households = tmp_path / "households.csv"
    households.write_text("身份证号,姓名,保障类别,单位\n500118196003138318,张德明,A类,松林村\n", encoding="utf-8")

    assert run("migrate", "--config", config).exit_code == 0
    assert run("import-org", "bot/demo/org.csv", "--config", config).exit_code == 0
    assert run("import-ledger", "低保对象台账", str(households), "--config", config).exit_code == 0
    imported = run("import-form", str(form), "--config", config)
    chat = run("chat", "--script", str(script), "--out", str(tmp_path / "files"), "--config", config)

    assert imported.exit_code == 0 and "已导入表单《入户走访》" in imported.stdout
    assert chat.exit_code == 0, chat.output
    # The push reached the terminal's simulator: a command that reaches no platform never waits for WeCom.
    assert "[机器人 推送 → 张德华(zhang_dehua)]" in chat.stdout


def test_the_demo_under_a_wecom_configuration_keeps_its_pushes_in_the_terminal(tmp_path):
    config = wecom_config(tmp_path)
    with config.open("a", encoding="utf-8") as handle:
        handle.write(f'[simulator]\nfiles_dir = "{tmp_path / "files"}"\n')

    result = run("demo", "--config", str(config), typed="@li_minzheng /发布 低保月报 截止 3个工作日 范围 松林村\n")

    assert result.exit_code == 0, result.output
    assert "导入完成" in result.stdout
    assert "[机器人 推送 → 张德华(zhang_dehua)]" in result.stdout


@pytest.mark.parametrize("command", [["serve"], ["sync-wecom"], []])
def test_a_missing_secret_is_one_chinese_line_naming_what_to_set(tmp_path, command):
    config = wecom_config(tmp_path)
    entry = command_line if command else scheduler_command_line

    result = run(*command, "--config", str(config), command=entry)

    assert result.exit_code == 2
    assert result.stderr == (
        "企业微信应用缺少 secret、encoding_aes_key：请在配置文件的 [wecom] 一节填写"
        "（也可以设置环境变量 YBT_WECOM_SECRET、YBT_WECOM_AES_KEY）。\n"
    )


def test_a_filled_in_corp_id_asks_for_wecom_even_while_pushes_go_to_the_simulator(tmp_path):
    wecom = f'[wecom]\ncorp_id = "ww1"\nsecret = "s"\nencoding_aes_key = "{SAMPLE_AES_KEY}"\n'
    config = write_config(tmp_path / "half.toml", f'[database]\nurl = "sqlite:///{tmp_path / "bot.sqlite3"}"\n{wecom}')

    result = run("serve", "--config", str(config))

    assert result.exit_code == 2
    assert (
        result.stderr
        == "企业微信应用缺少 token：请在配置文件的 [wecom] 一节填写（也可以设置环境变量 YBT_WECOM_TOKEN）。\n"
    )


def test_a_key_that_wecom_could_not_have_issued_is_named_before_serving(tmp_path):
    config = wecom_config(tmp_path, 'corp_id = "ww1"\nsecret = "s"\ntoken = "t"\nencoding_aes_key = "short"\n')

    result = run("serve", "--config", str(config))

    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert "encoding_aes_key" in result.stderr and "YBT_WECOM_AES_KEY" in result.stderr


def test_secrets_may_come_from_the_environment_instead(tmp_path):
    environ = {"YBT_WECOM_SECRET": "s", "YBT_WECOM_AES_KEY": SAMPLE_AES_KEY}

    assert wecom_complaint(load_config(wecom_config(tmp_path), environ=environ).wecom) is None


@pytest.mark.parametrize("command", [["migrate"], ["serve"], ["import-org", "bot/demo/org.csv"], []])
def test_an_unknown_platform_is_one_chinese_line_and_nothing_starts(tmp_path, command):
    database = tmp_path / "bot.sqlite3"
    config = write_config(
        tmp_path / "lark.toml", f'[database]\nurl = "sqlite:///{database}"\n[delivery]\nplatform = "feishu"\n'
    )
    entry = command_line if command else scheduler_command_line

    result = run(*command, "--config", str(config), command=entry)

    assert result.exit_code == 2
    assert result.stderr == (
        f'配置文件有误：{config} 的 [delivery] platform 是 "feishu"，没有这个平台，'
        '请改为 "dingtalk" 或 "simulator" 或 "wecom"。\n'
    )
    assert not database.exists()


@pytest.mark.parametrize("pushes", ["dingtalk", "simulator"])
@pytest.mark.parametrize("command", [["serve"], []])
def test_a_dingtalk_app_key_without_its_app_secret_is_one_chinese_line(tmp_path, command, pushes):
    database = tmp_path / "bot.sqlite3"
    text = f'[database]\nurl = "sqlite:///{database}"\n[delivery]\nplatform = "{pushes}"\n[dingtalk]\napp_key = "k"\n'
    config = write_config(tmp_path / "ding.toml", text)
    entry = command_line if command else scheduler_command_line

    result = run(*command, "--config", str(config), command=entry)

    assert result.exit_code == 2
    assert result.stderr == (
        "钉钉应用缺少 app_secret：请在配置文件的 [dingtalk] 一节填写"
        "（app_secret 也可以用环境变量 YBT_DINGTALK_APP_SECRET）。\n"
    )


def test_fake_dingtalk_help_works_from_the_shell_as_the_readme_shows():
    result = subprocess.run(
        [sys.executable, "-m", "bot", "fake-dingtalk", "--help"],
        cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=60,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "--callback-url" in result.stdout and "本地钉钉模拟器" in result.stdout


def test_fake_dingtalk_in_stream_mode_names_its_gateway():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = subprocess.run(
        [sys.executable, "-m", "bot", "fake-dingtalk", "--stream", "--port", str(port)],
        cwd=ROOT, input=":quit\n", capture_output=True, text=True, encoding="utf-8", timeout=60,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "Stream 网关：ws://127.0.0.1:" in result.stdout and "成员消息发往" not in result.stdout


def xlsform() -> bytes:
    """A one-question XLSForm workbook."""
    book = Workbook()
    book.active.title = "survey"
    book["survey"].append(["type", "name", "label"])
    book["survey"].append(["integer", "visits", "本月走访户数"])
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id"])
    settings.append(["入户走访", "home_visits"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
