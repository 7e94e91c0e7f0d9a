"""Configuration: read once from TOML into typed objects; secrets may come from the environment."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{ROOT / 'var' / 'yibiaotong.sqlite3'}"
DATABASE_URL_VARIABLE = "YBT_DATABASE_URL"


@dataclass(frozen=True)
class DatabaseConfig:
    """Where the data lives."""

    url: str = DEFAULT_DATABASE_URL


@dataclass(frozen=True)
class WebConfig:
    """The HTTP server that platforms call back."""

    host: str = "127.0.0.1"
    port: int = 8080


@dataclass(frozen=True)
class SimulatorConfig:
    """The local chat simulator."""

    files_dir: Path = ROOT / "var" / "simulator-files"


@dataclass(frozen=True)
class DeliveryConfig:
    """How the outbox is drained."""

    platform: str = "simulator"
    max_attempts: int = 5
    batch_size: int = 100


@dataclass(frozen=True)
class Config:
    """Everything the bot can be told."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    web: WebConfig = field(default_factory=WebConfig)
    simulator: SimulatorConfig = field(default_factory=SimulatorConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)


class ConfigError(ValueError):
    """The configuration file says something we cannot use."""


def load_config(path: Path | None = None, environ: dict[str, str] | None = None) -> Config:
    """Read `path` (defaults when None), then let YBT_DATABASE_URL override the database URL."""
    environ = dict(os.environ) if environ is None else environ
    data: dict = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise ConfigError(f"cannot read {path}: {error}") from error
    unknown = set(data) - {"bot", "database", "web", "simulator", "delivery"}
    if unknown:
        raise ConfigError(f"unknown sections in {path}: {', '.join(sorted(unknown))}")
    bot = data.get("bot", {})
    database = data.get("database", {})
    url = environ.get(DATABASE_URL_VARIABLE) or sqlite_from_root(database.get("url")) or DEFAULT_DATABASE_URL
    simulator = data.get("simulator", {})
    try:
        return Config(
            timezone=ZoneInfo(bot.get("timezone", "Asia/Shanghai")),
            database=DatabaseConfig(url=url),
            web=WebConfig(**data.get("web", {})),
            simulator=SimulatorConfig(
                files_dir=resolve(simulator.get("files_dir"), SimulatorConfig.files_dir)
            ),
            delivery=DeliveryConfig(**data.get("delivery", {})),
        )
    except (TypeError, ValueError, KeyError) as error:
        raise ConfigError(f"invalid setting in {path}: {error}") from error


def resolve(value: str | None, default: Path) -> Path:
    """A configured path, relative to the project root when not absolute."""
    if value is None:
        return default
    candidate = Path(value)
    return candidate if candidate.is_absolute() else ROOT / candidate


def sqlite_from_root(url: str | None) -> str | None:
    """A relative SQLite path in the config file is taken from the project folder, not the shell's."""
    prefix = "sqlite:///"
    if url and url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str(ROOT / url[len(prefix) :])
    return url
