"""The migrations build exactly the schema the models describe."""

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text

from ledger_store.db import alembic_config, make_engine
from ledger_store.models import Base


def test_migrated_schema_matches_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, Base.metadata) == []


@pytest.fixture
def scratch(engine, tmp_path) -> Iterator[Engine]:
    """An empty database of its own beside the one under test (a file on SQLite, a new database on a server)."""
    if engine.dialect.name == "sqlite":
        scratch = make_engine(f"sqlite:///{tmp_path / 'migrations.sqlite3'}")
        yield scratch
        scratch.dispose()
        return
    name = f"{engine.url.database}_migrations"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    scratch = make_engine(engine.url.set(database=name).render_as_string(hide_password=False))
    yield scratch
    scratch.dispose()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")


def test_the_last_migrations_go_down_and_up_again_keeping_waiting_messages(scratch):
    """An operator going back a release and forward again: the schema is whole again, and a message waiting when
    the per-person claim came gets its sender from what was stored."""
    config = alembic_config(scratch)
    command.upgrade(config, "0015")
    with scratch.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO inbound_messages (platform, message_key, received_at, status, payload, attempts) "
                "VALUES ('wecom', 'k1', '2026-12-01 10:00:00', 'pending', :payload, 0)"
            ),
            {"payload": '{"user_id": "zhang_dehua", "text": "120"}'},
        )
    command.upgrade(config, "head")
    command.downgrade(config, "0015")
    command.upgrade(config, "head")
    with scratch.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        assert connection.execute(text("SELECT sender FROM inbound_messages")).scalar_one() == "zhang_dehua"
