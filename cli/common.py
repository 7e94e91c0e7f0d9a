"""What every command shares: help in Chinese, `--config` before or after the command, exit code 2 on a complaint."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from bot.config import Config, config_or_complaint
from bot.runtime import Runtime

CONFIG_HELP = "配置文件（TOML），不写则用内置默认值"
HELP_HELP = "显示这段说明并退出"
SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class ChineseHelp:
    """Describes -h/--help in Chinese, like every other option."""

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        """Click's help option, with our description."""
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = HELP_HELP
        return option


class Command(ChineseHelp, click.Command):
    """A subcommand of ours."""


class Group(ChineseHelp, click.Group):
    """A command line of subcommands."""

    command_class = Command


def config_option(command: Any) -> Any:
    """`--config FILE` on a command, so it may follow the command's name as well as precede it."""
    return click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help=CONFIG_HELP)(
        command
    )


def configuration(after: Path | None) -> Config:
    """The file named after the command, else before it, else the defaults; exit 2 after saying what is wrong."""
    before = click.get_current_context().find_root().params.get("config_path")
    config = config_or_complaint(after or before)
    if config is None:
        raise click.exceptions.Exit(2)
    return config


def without_platform(config: Config) -> Config:
    """`config` for commands that reach no chat platform: whatever they push stays in the local simulator."""
    return replace(config, delivery=replace(config.delivery, platform="simulator"))


def platform_runtime(config: Config) -> Runtime:
    """The bot with every configured platform; exit 2 naming the setting a platform still lacks."""
    from bot.platforms.registry import configured_runtime, unready_platform

    complaint = unready_platform(config)
    if complaint is not None:
        click.echo(complaint, err=True)
        raise click.exceptions.Exit(2)
    return configured_runtime(config)


def exit_code(command: click.Command, argv: list[str] | None, prog_name: str) -> int:
    """Run a command line as `python -m` would, returning its exit code instead of exiting (tests call this)."""
    try:
        command.main(args=argv, prog_name=prog_name)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 0 if done.code is None else 1
    return 0


@contextmanager
def dingtalk_stream(runtime: Runtime, stored: Callable[[], None]) -> Iterator[None]:
    """Hold DingTalk's Stream connection (as the lease allows) while inside, when the app is in stream mode."""
    if "dingtalk" not in runtime.platforms or runtime.config.dingtalk.mode != "stream":
        yield
        return
    from bot.platforms.dingtalk.stream import stream_runner  # websockets and the SDK only when they are used

    runner = stream_runner(runtime, stored)
    runner.start()
    try:
        yield
    finally:
        runner.stop()
