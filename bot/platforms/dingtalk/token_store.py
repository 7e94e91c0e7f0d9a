"""Where DingTalk's access token and reply webhooks are kept so every process shares them (see
bot.platforms.token_cache)."""

from __future__ import annotations

import redis
from sqlalchemy.orm import Session, sessionmaker

from bot.config import DingTalkConfig
from bot.platforms.dingtalk.api import Storage
from bot.platforms.token_cache import DatabaseStorage, RedisTokenStorage

KEY_PREFIX = "dingtalk"


def make_token_storage(config: DingTalkConfig, factory: sessionmaker[Session]) -> Storage:
    """The storage `token_cache` names: "database", or a redis:// (rediss://, unix://) URL."""
    cache = config.token_cache
    if cache == "database":
        return DatabaseStorage(factory, prefix=KEY_PREFIX)
    if cache.startswith(("redis://", "rediss://", "unix://")):
        return RedisTokenStorage(redis.Redis.from_url(cache), prefix=KEY_PREFIX)
    raise ValueError(f"[dingtalk] token_cache must be 'database' or a redis:// URL, not {cache!r}")
