"""`sync-wecom` and `sync-dingtalk`: one path, the platform the only difference — check its settings, read its
whole directory, then apply it (bot.contacts) and print what changed."""

from __future__ import annotations

import sys
from collections.abc import Callable

from sqlalchemy import Engine

from bot.config import Config, dingtalk_complaint, wecom_complaint
from bot.contacts import sync_directory
from bot.platforms.base import DeliveryError, Platform
from bot.platforms.registry import dingtalk_platform, wecom_platform
from bot.runtime import open_database
from handlers.core.clock import SystemClock
from handlers.texts.delivery import platform_title
from ledger_store.db import make_session_factory

# platform name -> (what its configuration still lacks, its adapter)
SYNCED: dict[str, tuple[Callable[[Config], str | None], Callable[[Config, Engine], Platform]]] = {
    "wecom": (lambda config: wecom_complaint(config.wecom), wecom_platform),
    "dingtalk": (lambda config: dingtalk_complaint(config.dingtalk), dingtalk_platform),
}


def sync_platform_contacts(config: Config, name: str) -> int:
    """Pull one platform's contacts into the organisation; exit code 2 when it is not configured, 1 when it
    refused (nothing is written then: the directory is read whole before anything is applied)."""
    complaint_of, build = SYNCED[name]
    complaint = complaint_of(config)
    if complaint is not None:
        print(complaint, file=sys.stderr)
        return 2
    database = open_database(config)
    platform = build(config, database)
    try:
        directory = platform.directory()
    except DeliveryError as error:
        print(f"{platform_title(name)}通讯录同步失败，没有改动任何数据：{error.reason}。", file=sys.stderr)
        return 1
    if directory is None:
        return 0
    report = sync_directory(make_session_factory(database), platform.name, directory, SystemClock().now)
    print(report.summary())
    return 0
