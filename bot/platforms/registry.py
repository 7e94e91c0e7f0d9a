"""The platforms a configuration asks for: the simulator always, WeCom when its app is configured."""

from __future__ import annotations

from sqlalchemy import Engine

from bot.config import Config, wecom_complaint
from bot.platforms.base import Platform
from bot.platforms.simulator import SimulatorPlatform
from bot.platforms.wecom.api import WeComClient
from bot.platforms.wecom.platform import WeComPlatform
from bot.platforms.wecom.token_store import make_token_storage
from bot.runtime import Runtime, build_runtime, open_database
from ledger_store.db import make_session_factory


def configured_platforms(config: Config, database: Engine) -> list[Platform]:
    """Platform adapters for `config`; WeCom shares its access token through the database or Redis."""
    platforms: list[Platform] = [SimulatorPlatform(files_dir=config.simulator.files_dir)]
    if config.wecom.enabled:
        platforms.append(wecom_platform(config, database))
    return platforms


def configured_runtime(config: Config) -> Runtime:
    """The bot on the configured database with every configured platform: what serve and the scheduler run."""
    database = open_database(config)
    return build_runtime(config, *configured_platforms(config, database), database=database)


def unready_platform(config: Config) -> str | None:
    """What keeps a platform `config` asks for from starting, in one Chinese line; None when nothing does.

    WeCom is asked for when pushes go to it, or when its corp_id is filled in (an empty one runs without WeCom).
    """
    if config.delivery.platform == "wecom" or config.wecom.corp_id:
        return wecom_complaint(config.wecom)
    return None


def wecom_platform(config: Config, database: Engine) -> WeComPlatform:
    """The WeCom adapter on the configured API host."""
    storage = make_token_storage(config.wecom, make_session_factory(database))
    return WeComPlatform(config.wecom, WeComClient.from_config(config.wecom, storage))
