"""`python -m scheduler`: reminders, deadlines, recurring reports and delivery, in their own process."""

from __future__ import annotations

import logging
import signal
from pathlib import Path

import click

from bot.logs import configure_logging
from cli.common import CONFIG_HELP, SETTINGS, Command, configuration, exit_code, platform_runtime
from scheduler.jobs import TimedWork
from scheduler.process import blocking

log = logging.getLogger("scheduler")


@click.command(cls=Command, context_settings=SETTINGS)
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help=CONFIG_HELP)
def command_line(config_path: Path | None) -> None:
    """一表通机器人的定时进程（Ctrl+C 或 SIGTERM 结束）。

    \b
    每分钟查一遍提醒、截止和定期报表，每 10 秒投递一次推送（见配置的 [scheduler]）。
    与 python -m bot serve 并行运行。误开第二个（或有意做备用）时，
    它在数据库的租约上等待，主进程停下后接手。
    """
    configure_logging(logging.INFO)
    config = configuration(config_path)
    work = TimedWork(platform_runtime(config), config.scheduler)
    scheduler = blocking(work, config.scheduler)
    log.info("scheduler %s started: every %ss timed work, every %ss delivery", work.holder,
             config.scheduler.tick_seconds, config.scheduler.deliver_seconds)  # fmt: skip
    signal.signal(signal.SIGTERM, _stop)  # systemd's and Docker's stop: the same as Ctrl+C
    try:
        work.run_once()  # inside the try: on a slow start, Ctrl+C may come while this first round still runs
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        work.stop()


def _stop(_signal: int, _frame: object) -> None:
    """SIGTERM ends the scheduler as Ctrl+C does: the lease is handed back on the way out, so a standby takes over."""
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    """`python -m scheduler ARGS`, returning the exit code; a second one started beside it waits as a standby."""
    return exit_code(command_line, argv, "python -m scheduler")
