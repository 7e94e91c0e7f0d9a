"""Shared fixtures: one migrated database per run, emptied before every test."""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import make_server

from bot.app import create_app
from bot.config import Config
from bot.platforms.registry import configured_platforms
from bot.platforms.simulator import Received, SimulatorPlatform
from bot.platforms.wecom.emulator import SAMPLE_AES_KEY, SAMPLE_CORP_ID, SAMPLE_TOKEN, EmulatorSettings, WeComEmulator
from bot.platforms.wecom.emulator import serve as serve_emulator
from bot.platforms.wecom.emulator_cli import talking_to
from bot.platforms.wecom.platform import WeComPlatform
from bot.runtime import Runtime, build_runtime, load_demo_org
from handlers.core.clock import ManualClock
from handlers.core.messages import Incoming
from ledger_store.db import make_engine, make_session_factory, upgrade
from ledger_store.ledgers import get_ledger, write_values
from ledger_store.models import Base, Person
from ledger_store.org import SIMULATOR
from ledger_store.org_import import import_org

URL_VARIABLE = "YBT_TEST_DATABASE_URL"


def _reset_schema(engine: Engine) -> None:
    """Drop whatever an earlier run left, including Alembic's own table."""
    Base.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The database under test: SQLite by default, or the server named in YBT_TEST_DATABASE_URL."""
    url = os.environ.get(URL_VARIABLE) or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    engine = make_engine(url)
    try:
        with engine.connect():
            pass
    except OperationalError as error:
        if os.environ.get("CI"):
            pytest.fail(f"{URL_VARIABLE}={url} is not reachable in CI: {error}")
        pytest.skip(f"database server not reachable: {error}")
    _reset_schema(engine)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine: Engine) -> sessionmaker[Session]:
    """A session factory on an empty database (every table emptied before the test)."""
    empty_all_tables(engine)
    return make_session_factory(engine)


def empty_all_tables(engine: Engine) -> None:
    """Delete every row and restart the ids at 1, so each test sees a database as fresh as a new one."""
    tables = list(reversed(Base.metadata.sorted_tables))
    with engine.begin() as connection:
        dialect = connection.dialect.name
        if dialect == "postgresql":
            names = ", ".join(table.name for table in tables)
            connection.execute(sa.text(f"TRUNCATE TABLE {names} RESTART IDENTITY CASCADE"))
            return
        if dialect in ("mysql", "mariadb"):
            # MariaDB checks a self-referencing key row by row, so org_units cannot be emptied in one go.
            connection.execute(sa.text("SET FOREIGN_KEY_CHECKS=0"))
        for table in tables:
            connection.execute(table.delete())
            if dialect in ("mysql", "mariadb"):
                connection.execute(sa.text(f"ALTER TABLE {table.name} AUTO_INCREMENT = 1"))
        if dialect in ("mysql", "mariadb"):
            connection.execute(sa.text("SET FOREIGN_KEY_CHECKS=1"))


START = datetime(2024, 11, 28, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


class Dialogue:
    """Plays several people of the demo organisation against the engine, with a clock the test moves."""

    def __init__(self, runtime: Runtime, platform: SimulatorPlatform, clock: ManualClock) -> None:
        self.runtime = runtime
        self.platform = platform
        self.clock = clock
        self._ids = itertools.count(1)

    def say(self, account: str, text: str) -> str:
        """Send a message as `account`; the direct replies joined, after the outbox was delivered."""
        message_id = f"sim-{next(self._ids)}"
        replies = self.runtime.engine.receive(Incoming(SIMULATOR, account, text, message_id=message_id))
        self.runtime.deliver()
        return "\n".join(reply.text for reply in replies)

    def send_file(self, account: str, name: str, content: bytes) -> str:
        """Send a file as `account` (a workbook, say); the direct replies joined, after the outbox was delivered."""
        message_id = f"sim-file-{next(self._ids)}"
        incoming = Incoming(SIMULATOR, account, "", message_id=message_id, file_name=name, file_bytes=content)
        replies = self.runtime.engine.receive(incoming)
        self.runtime.deliver()
        return "\n".join(reply.text for reply in replies)

    def pushes(self, account: str) -> list[Received]:
        """Everything pushed to `account` since the last call."""
        return self.platform.take(account)

    def pushed_texts(self, account: str) -> list[str]:
        """The texts pushed to `account` since the last call (files dropped)."""
        return [m.text for m in self.pushes(account) if m.text]


@pytest.fixture
def clock() -> ManualClock:
    """A clock at Thursday 2024-11-28 10:00 in Chongqing, moved only by the test."""
    return ManualClock(START.astimezone(UTC))


@pytest.fixture
def runtime(db, engine: Engine, clock: ManualClock, tmp_path: Path) -> Runtime:
    """The bot on the test database with the demo organisation and a simulator platform."""
    platform = SimulatorPlatform(files_dir=tmp_path / "files")
    built = build_runtime(Config(), platform, clock=clock, database=engine)
    assert load_demo_org(built) is not None
    return built


@pytest.fixture
def chat(runtime: Runtime, clock: ManualClock) -> Dialogue:
    """A dialogue with the demo organisation."""
    return Dialogue(runtime, runtime.platform, clock)


@pytest.fixture
def ledger_without_dibao(runtime: Runtime) -> None:
    """The demo ledger forgets 松林村's and 汉东村's 在保低保户数: a 低保月报 asks every village all 8 questions.

    For tests of the question-by-question flow; tests of what the ledger offers use the demo data as it is.
    """
    with runtime.factory.begin() as session:
        ledger = get_ledger(session, "unit_profile")
        for village in ("松林村", "汉东村"):
            write_values(session, ledger, village, None, {"dibao_households": None}, None, "test", runtime.engine.now())


TOWN_OFFICE = "单位,上级单位,层级,姓名,账号,角色\n朱沱镇民政办,朱沱镇,部门,何文,he_wen,发布员\n"


@pytest.fixture
def town_office(runtime: Runtime, tmp_path: Path) -> str:
    """A department under 朱沱镇 with one issuer, he_wen, imported as an admin would; returns the account."""
    path = tmp_path / "town_office.csv"
    path.write_text(TOWN_OFFICE, encoding="utf-8")
    with runtime.factory.begin() as session:
        assert import_org(session, path).errors == []
    return "he_wen"


@dataclass
class WeComWorld:
    """The WeCom emulator playing the demo organisation's members against the bot's real HTTP server."""

    emulator: WeComEmulator
    runtime: Runtime
    app: Flask
    callback_url: str
    seen: dict[str, int] = field(default_factory=dict)

    def write(self, userid: str, text: str, msg_id: str | None = None) -> None:
        """A member's message reaches the callback URL; the bot acknowledges it with an empty 200."""
        response = self.emulator.member_says(userid, text, msg_id=msg_id)
        assert response.status_code == 200 and response.text == ""

    def settle(self) -> None:
        """Finish the work the bot does after acknowledging (the same pass the server runs after a response)."""
        self.app.extensions["worker"].run()

    def say(self, userid: str, text: str, msg_id: str | None = None) -> list[str]:
        """A member writes; the texts that member received afterwards."""
        self.write(userid, text, msg_id)
        self.settle()
        return self.texts(userid)

    def texts(self, userid: str) -> list[str]:
        """Text messages `userid` received since the last call."""
        return [m["text"]["content"] for m in self.take(userid) if m["msgtype"] == "text"]

    def take(self, userid: str) -> list[dict]:
        """Everything `userid` received since the last call."""
        seen = self.seen.setdefault(userid, 0)
        inbox = self.emulator.inbox(userid)
        self.seen[userid] = len(inbox)
        return inbox[seen:]


@pytest.fixture
def world(engine: Engine, db) -> Iterator[WeComWorld]:
    """The demo organisation on WeCom: the local emulator, the bot's HTTP server on loopback, retries without waits."""
    clock = ManualClock(datetime.now(UTC))
    emulator = WeComEmulator(
        EmulatorSettings(SAMPLE_CORP_ID, "test-secret", 1000002, SAMPLE_TOKEN, SAMPLE_AES_KEY),
        clock=lambda: clock.now().timestamp(),
    )
    api = serve_emulator(emulator)
    config = talking_to(emulator, api.url, Config())
    platforms = configured_platforms(config, engine)
    for platform in platforms:
        if isinstance(platform, WeComPlatform):
            platform.sleep = lambda seconds: None
    runtime = build_runtime(config, *platforms, clock=clock, database=engine)
    load_demo_org(runtime)
    with runtime.factory() as session:
        for person in session.scalars(sa.select(Person)):
            emulator.add_member(person.account, person.name)
    app = create_app(runtime)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    emulator.settings.callback_url = f"http://127.0.0.1:{server.server_port}/wecom/callback"
    yield WeComWorld(emulator, runtime, app, emulator.settings.callback_url)
    server.shutdown()
    api.shutdown()
