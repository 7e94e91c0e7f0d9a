"""Every chat platform the bot can use, one line each: its name and how its adapter is built from a configuration.

A new platform is a folder under bot/platforms/ holding its adapter (see base.Platform: routes, send, download,
structured delivery errors) and one line in PLATFORMS; nothing in handlers/ or ledger_store/ changes. The names
here are the values `[delivery] platform` may take.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from bot.config import Config, dingtalk_complaint, wecom_complaint
from bot.platforms.base import Platform
from bot.platforms.simulator import SimulatorPlatform
from bot.runtime import Runtime, build_runtime, open_database

# name -> the adapter for a configuration, or None when the configuration does not set that platform up.
PlatformFactory = Callable[[Config, Engine], Platform | None]


def simulator_platform(config: Config, database: Engine) -> Platform:
    """The local simulator, always there: the terminal chat and the tests speak through it."""
    return SimulatorPlatform(files_dir=config.simulator.files_dir)


def configured_wecom(config: Config, database: Engine) -> Platform | None:
    """The WeCom adapter when its app is configured."""
    return wecom_platform(config, database) if config.wecom.enabled else None


def configured_dingtalk(config: Config, database: Engine) -> Platform | None:
    """The DingTalk adapter when its app is configured."""
    return dingtalk_platform(config, database) if config.dingtalk.enabled else None


PLATFORMS: dict[str, PlatformFactory] = {
    "simulator": simulator_platform,
    "wecom": configured_wecom,
    "dingtalk": configured_dingtalk,
}


def configured_platforms(config: Config, database: Engine) -> list[Platform]:
    """The adapters of every platform `config` sets up."""
    return [platform for build in PLATFORMS.values() if (platform := build(config, database)) is not None]


def configured_runtime(config: Config) -> Runtime:
    """The bot on the configured database with every configured platform: what serve and the scheduler run."""
    database = open_database(config)
    return build_runtime(config, *configured_platforms(config, database), database=database)


def unready_platform(config: Config) -> str | None:
    """What keeps a platform `config` asks for from starting, in one Chinese line; None when nothing does.

    WeCom is asked for when pushes go to it, or when its corp_id is filled in (an empty one runs without WeCom);
    DingTalk likewise with its app_key.
    """
    if config.delivery.platform == "wecom" or config.wecom.corp_id:
        complaint = wecom_complaint(config.wecom)
        if complaint:
            return complaint
    if config.delivery.platform == "dingtalk" or config.dingtalk.app_key:
        return dingtalk_complaint(config.dingtalk)
    return None


def wecom_platform(config: Config, database: Engine) -> Platform:
    """The WeCom adapter on the configured API host; its access token is shared through the database or Redis, and
    its calls are counted there."""
    from bot.platforms.api_calls import CallCounter
    from bot.platforms.wecom.api import WeComClient  # only the commands that reach WeCom load its client
    from bot.platforms.wecom.platform import WeComPlatform
    from bot.platforms.wecom.token_store import make_token_storage
    from ledger_store.db import make_session_factory

    factory = make_session_factory(database)
    storage = make_token_storage(config.wecom, factory)
    client = WeComClient.from_config(config.wecom, storage, CallCounter(factory, "wecom"))
    return WeComPlatform(config.wecom, client)


def dingtalk_platform(config: Config, database: Engine, clock: Callable[[], datetime] | None = None) -> Platform:
    """The DingTalk adapter on the configured API host; its access token is shared through the database or Redis,
    and its calls are counted there against the monthly allowance and, failed or not, in the totals.
    `clock` (aware UTC) for tests."""
    from bot.platforms.api_calls import CallCounter
    from bot.platforms.dingtalk.api import DingTalkClient  # only the commands that reach DingTalk load its client
    from bot.platforms.dingtalk.budget import UsageMeter
    from bot.platforms.dingtalk.platform import DingTalkPlatform
    from bot.platforms.dingtalk.token_store import make_token_storage
    from handlers.core.clock import SystemClock
    from ledger_store.db import make_session_factory

    settings, factory, now = config.dingtalk, make_session_factory(database), clock or SystemClock().now
    storage = make_token_storage(settings, factory)
    meter = UsageMeter(factory, settings.monthly_call_allowance, now)
    client = DingTalkClient(settings.app_key, settings.app_secret, storage, settings.api_base_url, meter=meter,
                            oapi_base_url=settings.oapi_base_url, counter=CallCounter(factory, "dingtalk"))  # fmt: skip
    return DingTalkPlatform(settings, client, now)
