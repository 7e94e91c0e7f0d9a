"""Assembles the parts from a Config: database, engine, platform, delivery. Used by every entry point."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine as DatabaseEngine
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Config
from bot.delivery import deliver_pending
from bot.engine import Engine
from bot.platforms.base import Platform
from handlers.commands.ledger_define import load_rows
from handlers.core.clock import Clock, SystemClock
from handlers.core.context import DashboardLinks
from handlers.core.messages import Incoming
from handlers.forms.registry import ensure_builtin_forms
from handlers.ledgers.catalog import assign_standard_owners, ensure_standard_ledgers
from ledger_store.db import make_engine, make_session_factory, transaction, upgrade
from ledger_store.models import Person
from ledger_store.org_import import ImportReport, import_org

DEMO_ORG = Path(__file__).parent / "demo" / "org.csv"
# The standard ledgers' definition workbooks with demo records in their 数据 sheets (bot/demo/make_ledger_books.py).
DEMO_LEDGERS = Path(__file__).parent / "demo" / "ledgers"


@dataclass
class Runtime:
    """The running bot: one engine and the platforms it delivers to."""

    config: Config
    database: DatabaseEngine
    factory: sessionmaker[Session]
    engine: Engine
    platforms: dict[str, Platform]

    @property
    def platform(self) -> Platform:
        """The platform pushes go to unless they answer a message from another one."""
        return self.platforms[self.config.delivery.platform]

    def process_pending(
        self, limit: int = 100, skip: set[int] | None = None, stopping: Callable[[], bool] | None = None
    ) -> int:
        """Handle up to `limit` messages accepted after an HTTP acknowledgement, fetching their files."""
        return self.engine.process_pending(limit, fetch_file=self.fetch_file, skip=skip, stopping=stopping)

    def fetch_file(self, incoming: Incoming) -> tuple[str, bytes]:
        """The file a platform message refers to."""
        platform = self.platforms[incoming.platform]
        return platform.download(incoming.media_id)

    def deliver(self, max_batches: int = 1000) -> int:
        """Push what is due in the outbox, in at most `max_batches` passes; returns the number sent."""
        return deliver_pending(
            self.factory,
            self.platforms,
            self.config.delivery.platform,
            self.engine.now,
            max_attempts=self.config.delivery.max_attempts,
            batch_size=self.config.delivery.batch_size,
            max_batches=max_batches,
            per_platform_per_minute=self.config.delivery.per_platform_per_minute,
        )


def open_database(config: Config) -> DatabaseEngine:
    """Connect to the configured database and migrate it to the newest schema."""
    if config.database.url.startswith("sqlite:///"):
        Path(config.database.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    database = make_engine(config.database.url)
    upgrade(database)
    return database


def build_runtime(
    config: Config, *platforms: Platform, clock: Clock | None = None, database: DatabaseEngine | None = None
) -> Runtime:
    """Wire the engine and the platforms on a migrated database (opened from the config unless given)."""
    by_name = {platform.name: platform for platform in platforms}
    if config.delivery.platform not in by_name:
        raise ValueError(f"delivery platform {config.delivery.platform!r} is not among {sorted(by_name)}")
    database = database or open_database(config)
    factory = make_session_factory(database)
    links = DashboardLinks(config.web.public_url, config.web.link_minutes)
    engine = Engine(factory, clock or SystemClock(), config.timezone, config.calendar.calendar(), links)
    with transaction(factory) as session:
        ensure_builtin_forms(session, engine.now())
        ensure_standard_ledgers(session, engine.now())
    return Runtime(config, database, factory, engine, by_name)


def load_demo_org(runtime: Runtime) -> ImportReport | None:
    """Import the demo organisation and its demo ledgers into an empty database; None when people exist."""
    with transaction(runtime.factory) as session:
        if session.scalar(select(func.count()).select_from(Person)):
            return None
        report = import_org(session, DEMO_ORG)
        assign_standard_owners(session, runtime.engine.now())
        for path in sorted(DEMO_LEDGERS.glob("*.xlsx")):
            problems = load_rows(runtime.engine.context(session), path)
            if problems:
                raise RuntimeError(f"{path}: {problems}")
    return report
