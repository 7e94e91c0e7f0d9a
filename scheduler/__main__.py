"""`python -m scheduler [--config FILE]`: reminders, deadlines, recurring reports and delivery, in their own process."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from bot.config import config_or_complaint
from bot.logs import configure_logging
from bot.platforms.registry import configured_runtime
from scheduler.jobs import TimedWork
from scheduler.process import blocking

log = logging.getLogger("scheduler")


def main(argv: list[str] | None = None) -> int:
    """Run the scheduler until interrupted; a second one started beside it waits as a standby."""
    parser = argparse.ArgumentParser(prog="python -m scheduler", description="一表通机器人的定时任务进程")
    parser.add_argument("--config", type=Path, help="配置文件（TOML），默认用内置默认值")
    args = parser.parse_args(argv)
    configure_logging(logging.INFO)
    config = config_or_complaint(args.config)
    if config is None:
        return 2
    work = TimedWork(configured_runtime(config), config.scheduler)
    scheduler = blocking(work, config.scheduler)
    log.info("scheduler %s started: every %ss timed work, every %ss delivery", work.holder,
             config.scheduler.tick_seconds, config.scheduler.deliver_seconds)  # fmt: skip
    try:
        work.run_once()  # inside the try: on a slow start, Ctrl+C may come while this first round still runs
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        work.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
