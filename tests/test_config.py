"""Configuration: defaults, the documented example, the environment override and errors an operator can fix."""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.config import (
    ROOT,
    CalendarConfig,
    Config,
    ConfigError,
    DatabaseConfig,
    DeliveryConfig,
    DingTalkConfig,
    RetentionConfig,
    ReviewConfig,
    SchedulerConfig,
    SimulatorConfig,
    WebConfig,
    WeComConfig,
    load_config,
)
from cli.bot_command import command_line

EXAMPLE = ROOT / "config.example.toml"


def write_toml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_without_a_file_every_option_has_its_default() -> None:
    config = load_config(environ={})

    assert config == Config()
    assert config.timezone.key == "Asia/Shanghai"
    assert config.database.url == f"sqlite:///{ROOT / 'var' / 'yibiaotong.sqlite3'}"
    assert (config.web.host, config.web.port) == ("127.0.0.1", 8080)
    assert config.simulator.files_dir == ROOT / "var" / "simulator-files"
    assert (config.delivery.platform, config.delivery.max_attempts, config.delivery.batch_size) == (
        "simulator",
        5,
        100,
    )


def test_the_example_file_shows_every_option_with_its_default() -> None:
    documented = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))

    assert load_config(EXAMPLE, environ={}) == Config()
    options = {
        "database": DatabaseConfig,
        "web": WebConfig,
        "simulator": SimulatorConfig,
        "delivery": DeliveryConfig,
        "wecom": WeComConfig,
        "dingtalk": DingTalkConfig,
        "scheduler": SchedulerConfig,
        "calendar": CalendarConfig,
        "review": ReviewConfig,
        "retention": RetentionConfig,
    }
    assert set(documented) == {"bot", *options}
    assert set(documented["bot"]) == {"timezone"}
    for section, settings in options.items():
        assert set(documented[section]) == {f.name for f in fields(settings)}, section


def test_the_environment_database_url_wins_over_the_file(tmp_path: Path) -> None:
    path = write_toml(tmp_path / "bot.toml", '[database]\nurl = "sqlite:///file.sqlite3"\n')
    server = "postgresql+psycopg://ybt:secret@127.0.0.1:5432/yibiaotong"

    assert load_config(path, environ={"YBT_DATABASE_URL": server}).database.url == server
    assert load_config(environ={"YBT_DATABASE_URL": server}).database.url == server


def test_the_simulator_secret_comes_from_the_file_or_the_environment_and_stays_out_of_reprs(tmp_path: Path) -> None:
    path = write_toml(tmp_path / "bot.toml", '[simulator]\nsecret = "from-the-file"\n')

    assert load_config(path, environ={}).simulator.secret == "from-the-file"
    assert load_config(path, environ={"YBT_SIMULATOR_SECRET": "from-env"}).simulator.secret == "from-env"
    assert load_config(environ={}).simulator.secret == ""
    assert "from-the-file" not in repr(load_config(path, environ={}))


def test_the_dingtalk_app_secret_comes_from_the_file_or_the_environment_and_stays_out_of_reprs(tmp_path: Path) -> None:
    path = write_toml(tmp_path / "bot.toml", '[dingtalk]\napp_key = "dingkey"\napp_secret = "from-the-file"\n')

    config = load_config(path, environ={})
    assert (config.dingtalk.app_secret, config.dingtalk.enabled, config.dingtalk.robot) == (
        "from-the-file",
        True,
        "dingkey",
    )
    from_env = load_config(path, environ={"YBT_DINGTALK_APP_SECRET": "from-env"})
    assert from_env.dingtalk.app_secret == "from-env"
    assert "from-the-file" not in repr(config)
    assert not load_config(environ={}).dingtalk.enabled


def test_relative_paths_are_taken_from_the_project_folder_not_the_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_toml(
        tmp_path / "bot.toml",
        '[database]\nurl = "sqlite:///data/bot.sqlite3"\n[simulator]\nfiles_dir = "out/files"\n',
    )
    monkeypatch.chdir(tmp_path)

    config = load_config(path, environ={})

    assert config.database.url == f"sqlite:///{ROOT / 'data' / 'bot.sqlite3'}"
    assert config.simulator.files_dir == ROOT / "out" / "files"


@pytest.mark.parametrize("url", ["sqlite:////srv/ybt/bot.sqlite3", "sqlite:///:memory:", "mysql+pymysql://u:p@db/ybt"])
def test_absolute_memory_and_server_urls_are_kept_as_written(tmp_path: Path, url: str) -> None:
    path = write_toml(tmp_path / "bot.toml", f'[database]\nurl = "{url}"\n')

    assert load_config(path, environ={}).database.url == url


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[feishu]\napp_id = 'cli_123'\n", "unknown sections"),
        ("[dingtalk]\nappkey = 'ding123'\n", "unknown options in [dingtalk]"),
        ("[dingtalk]\nreplay_window_seconds = 0\n", "replay_window_seconds must be at least 1"),
        ("[wecom]\nagent_id = '1000002'\n", "whole number, not '1000002'"),
        (
            "[web]\nhots = '0.0.0.0'\n",
            "hots (known: host, port, public_url, secret_key, link_minutes, session_hours, backlog_late_seconds,",
        ),
        ("[database]\nurl = 5\n", "url"),
        ("[web]\nport = '8080'\n", "whole number, not '8080'"),
        ("[web]\nport = 70000\n", "between 1 and 65535"),
        ("[delivery]\nmax_attempts = true\n", "whole number, not True"),
        ("[delivery]\nbatch_size = 0\n", "batch_size must be at least 1"),
        ("[delivery]\nper_platform_per_minute = -1\n", "per_platform_per_minute must be 0 (no cap) or more"),
        ("[review]\nremind_after_hours = 0\n", "remind_after_hours must be at least 1"),
        ("[review]\nremind_after_hours = 1.5\n", "whole number, not 1.5"),
        ("[bot]\ntimezone = 'Beijing'\n", "'Beijing' is not a time zone"),
        ("[bot]\ntimezone = 'Asia'\n", "'Asia' is not a time zone"),
        ("web = 8080\n", "[web] section"),
        ("[web]\nport =\n", "line 2"),
    ],
)
def test_a_mistake_in_the_file_is_a_config_error_naming_it(tmp_path: Path, text: str, says: str) -> None:
    path = write_toml(tmp_path / "bot.toml", text)

    with pytest.raises(ConfigError) as raised:
        load_config(path, environ={})

    assert says in str(raised.value)
    assert str(path) in str(raised.value)


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.toml", environ={})


@pytest.mark.parametrize("text", ["[web]\nport =\n", "[database]\nurl = 5\n"])
def test_the_command_line_prints_a_broken_config_in_chinese_and_exits_2(tmp_path: Path, text: str) -> None:
    path = write_toml(tmp_path / "broken.toml", text)
    database = tmp_path / "x.sqlite3"

    result = CliRunner(env={"YBT_DATABASE_URL": f"sqlite:///{database}"}).invoke(
        command_line, ["--config", str(path), "migrate"]
    )

    assert result.exit_code == 2
    assert result.stderr.startswith("配置文件有误：")
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not database.exists()
