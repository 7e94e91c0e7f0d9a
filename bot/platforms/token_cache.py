"""Values every process must share, kept in the database (the cached_values table) or in Redis: the platforms'
access tokens, DingTalk's reply webhooks and uploads. wechatpy's session storages, so WeCom's client takes them as
they are; the other platforms use the same get / set with a time to live / delete."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from wechatpy.session import SessionStorage
from wechatpy.session.redisstorage import RedisStorage

from ledger_store.db import transaction
from ledger_store.models import CachedValue

# A value is dropped this long before the platform says it expires, so no call goes out with a token about to die.
SAFETY_MARGIN = timedelta(seconds=60)
LOCK_WAIT_MS = 200
log = logging.getLogger(__name__)


def utc_now() -> datetime:
    """Now as the database stores it: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


class DatabaseStorage(SessionStorage):
    """A wechatpy session storage on the cached_values table, shared by every process using the database."""

    def __init__(
        self, factory: sessionmaker[Session], prefix: str = "cache", now: Callable[[], datetime] = utc_now
    ) -> None:
        self.factory, self.prefix, self.now = factory, prefix, now

    def key_name(self, key: str) -> str:
        """The row key for a wechatpy key."""
        return f"{self.prefix}:{key}"

    def get(self, key: str, default: Any = None) -> Any:
        """The stored value, or `default` when there is none or it has expired."""
        with transaction(self.factory) as session:
            row = session.scalar(select(CachedValue).where(CachedValue.key == self.key_name(key)))
            if row is None or (row.expires_at is not None and row.expires_at <= self.now()):
                return default
            return json.loads(row.value)

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        """Store `value` (kept `ttl` seconds less the safety margin); a concurrent writer of the same key is fine.

        This is a cache: a write lost to a busy database is logged and costs only a refetch. On SQLite the
        write waits briefly, because the delivery loop may hold the database's one write lock while it sends.
        """
        if value is None:
            return
        expires_at = self.now() + timedelta(seconds=ttl) - SAFETY_MARGIN if ttl else None
        values = {"key": self.key_name(key), "value": json.dumps(value), "expires_at": expires_at}
        try:
            with transaction(self.factory, LOCK_WAIT_MS) as session:
                session.execute(upsert(session.get_bind().dialect.name, values))
        except OperationalError as error:
            log.warning("could not cache %s: %s", self.key_name(key), error.orig)

    def delete(self, key: str) -> None:
        """Forget a value."""
        with transaction(self.factory) as session:
            session.execute(delete(CachedValue).where(CachedValue.key == self.key_name(key)))


def upsert(dialect: str, values: dict[str, Any]) -> Any:
    """INSERT ... ON CONFLICT UPDATE in the dialect's words, so two processes storing one key cannot collide."""
    changed = {"value": values["value"], "expires_at": values["expires_at"]}
    if dialect in ("mysql", "mariadb"):
        return mysql.insert(CachedValue).values(values).on_duplicate_key_update(**changed)
    if dialect == "postgresql":
        return postgresql.insert(CachedValue).values(values).on_conflict_do_update(index_elements=["key"], set_=changed)
    if dialect == "sqlite":
        return sqlite.insert(CachedValue).values(values).on_conflict_do_update(index_elements=["key"], set_=changed)
    raise ValueError(f"no upsert for database dialect {dialect!r}")


class RedisTokenStorage(RedisStorage):
    """wechatpy's Redis storage, expiring values the safety margin early like DatabaseStorage."""

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        """Store `value` for `ttl` seconds less the safety margin (at least one second)."""
        margin = int(SAFETY_MARGIN.total_seconds())
        super().set(key, value, max(ttl - margin, 1) if ttl else None)
