"""Where the WeCom access token is kept so every process shares one: the database, or Redis (see
bot.platforms.token_cache)."""

from __future__ import annotations

import redis
from sqlalchemy.orm import Session, sessionmaker
from wechatpy.session import SessionStorage

from bot.config import WeComConfig
from bot.platforms.token_cache import DatabaseStorage, RedisTokenStorage

KEY_PREFIX = "wecom"


def make_token_storage(config: WeComConfig, factory: sessionmaker[Session]) -> SessionStorage:
    """The storage `token_cache` names: "database", or a redis:// (rediss://, unix://) URL."""
    cache = config.token_cache
    if cache == "database":
        return DatabaseStorage(factory, prefix=KEY_PREFIX)
    if cache.startswith(("redis://", "rediss://", "unix://")):
        return RedisTokenStorage(redis.Redis.from_url(cache), prefix=KEY_PREFIX)
    raise ValueError(f"[wecom] token_cache must be 'database' or a redis:// URL, not {cache!r}")
