"""What an operator's probes see: /healthz answers while the process lives, /readyz says whether the database and
its schema are fit and how long work waits, /metrics counts from the database in Prometheus' text format."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, text

from bot.app import create_app
from bot.config import ConfigError, WebConfig, load_config
from handlers.core.messages import Incoming
from ledger_store.api_usage import count_calls
from ledger_store.db import head_revision, make_engine
from ledger_store.leases import acquire, release
from ledger_store.models import Person
from ledger_store.org import SIMULATOR

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


@pytest.fixture
def client(runtime) -> FlaskClient:
    """Flask's test client on the bot with the demo organisation."""
    return create_app(runtime).test_client()


def unescape(value: str) -> str:
    """A label value as the text format escaped it, read back."""
    return re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), value)


def scrape(client: FlaskClient, **headers: str) -> dict[tuple[str, frozenset], float]:
    """GET /metrics and parse it as Prometheus would: every sample by (name, labels), after its HELP and TYPE."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    described, samples = set(), {}
    for line in response.get_data(as_text=True).splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            described.add((line[2:6], line.split(" ")[2]))
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, labels, value = match.group(1), match.group(2) or "", match.group(3)
        assert {("HELP", name), ("TYPE", name)} <= described, name
        assert name.startswith("ybt_")
        pairs = frozenset((key, unescape(raw)) for key, raw in LABEL.findall(labels))
        samples[(name, pairs)] = float(value)
    return samples


def sample(samples: dict, name: str, **labels: str) -> float:
    """One sample's value."""
    return samples[(name, frozenset(labels.items()))]


def accept(runtime, account: str, text: str, message_id: str) -> None:
    """A platform message stored after the acknowledgement, to be handled by the worker later."""
    assert runtime.engine.accept(Incoming(SIMULATOR, account, text, message_id=message_id))


def test_alive_answers_without_touching_the_database_and_ready_says_it_is_unreachable(runtime) -> None:
    unreachable = dataclasses.replace(runtime, database=make_engine("sqlite:////nonexistent-dir/x.sqlite3"))
    client = create_app(unreachable).test_client()

    alive = client.get("/healthz")
    assert alive.status_code == 200 and alive.get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json() == {"ready": False, "database": "unreachable"}
    assert client.get("/metrics").status_code == 503


def test_a_migrated_database_with_nothing_waiting_is_ready(client: FlaskClient) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.get_json() == {
        "ready": True,
        "database": "ok",
        "migrations": {"current": True, "database": head_revision(), "code": head_revision()},
        "backlog": {
            "inbound": {"pending": 0, "oldest_seconds": None},
            "outbox": {"pending": 0, "oldest_seconds": None},
            "late": False,
            "late_after_seconds": 600,
        },
    }


def test_a_database_behind_the_code_is_not_ready(client: FlaskClient, engine) -> None:
    head = head_revision()
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0013'"))
    try:
        response = client.get("/readyz")
        metrics = scrape(client)
    finally:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})

    assert response.status_code == 503
    body = response.get_json()
    assert body["ready"] is False
    assert body["migrations"] == {"current": False, "database": "0013", "code": head}
    assert sample(metrics, "ybt_migrations_current") == 0
    assert client.get("/readyz").status_code == 200


def test_the_backlog_counts_what_waits_and_how_long_by_the_bots_clock(client: FlaskClient, runtime, clock) -> None:
    accept(runtime, "zhang_dehua", "帮助", "m-1")
    clock.advance(seconds=30)
    accept(runtime, "luo_xiuying", "帮助", "m-2")
    clock.advance(seconds=60)

    backlog = client.get("/readyz").get_json()["backlog"]
    assert backlog["inbound"] == {"pending": 2, "oldest_seconds": 90.0}
    assert backlog["outbox"] == {"pending": 0, "oldest_seconds": None}
    assert backlog["late"] is False

    assert runtime.process_pending() == 2  # the replies wait in the outbox until delivery
    clock.advance(seconds=601)
    response = client.get("/readyz")
    backlog = response.get_json()["backlog"]
    assert backlog["inbound"] == {"pending": 0, "oldest_seconds": None}
    assert backlog["outbox"] == {"pending": 2, "oldest_seconds": 601.0}
    # Late, and said so, but still ready: every process shares the backlog, so none should leave the load balancer.
    assert backlog["late"] is True
    assert response.status_code == 200 and response.get_json()["ready"] is True

    runtime.deliver()
    assert client.get("/readyz").get_json()["backlog"]["outbox"] == {"pending": 0, "oldest_seconds": None}


def test_a_message_waiting_longer_than_the_configured_limit_is_late(runtime, clock) -> None:
    config = dataclasses.replace(runtime.config, web=WebConfig(backlog_late_seconds=60))
    client = create_app(dataclasses.replace(runtime, config=config)).test_client()
    accept(runtime, "zhang_dehua", "帮助", "m-1")
    clock.advance(seconds=60)
    assert client.get("/readyz").get_json()["backlog"]["late"] is False
    clock.advance(seconds=1)

    backlog = client.get("/readyz").get_json()["backlog"]
    assert backlog["late"] is True and backlog["late_after_seconds"] == 60
    assert backlog["inbound"] == {"pending": 1, "oldest_seconds": 61.0}


def test_metrics_count_messages_accepted_handled_and_pushed(client: FlaskClient, runtime, chat, clock) -> None:
    before = scrape(client)
    assert sample(before, "ybt_migrations_current") == 1
    assert sample(before, "ybt_inbound_accepted_total") == 0
    assert sample(before, "ybt_outbox_pending") == 0

    accept(runtime, "zhang_dehua", "帮助", "m-1")
    clock.advance(seconds=42)
    waiting = scrape(client)
    assert sample(waiting, "ybt_inbound_accepted_total") == 1
    assert sample(waiting, "ybt_inbound_pending") == 1
    assert sample(waiting, "ybt_inbound_oldest_pending_seconds") == 42
    assert sample(waiting, "ybt_inbound_handled_total") == 0

    runtime.process_pending()
    handled = scrape(client)
    assert sample(handled, "ybt_inbound_pending") == 0
    assert sample(handled, "ybt_inbound_oldest_pending_seconds") == 0
    assert sample(handled, "ybt_inbound_handled_total") == 1
    assert sample(handled, "ybt_outbox_pending") == 1

    runtime.deliver()
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村")  # handled at once; its push is delivered
    after = scrape(client)
    assert sample(after, "ybt_inbound_accepted_total") == 2
    assert sample(after, "ybt_inbound_handled_total") == 2
    assert sample(after, "ybt_inbound_failed_total") == 0
    assert sample(after, "ybt_outbox_pending") == 0
    assert sample(after, "ybt_outbox_sent_total") == 2
    assert sample(after, "ybt_outbox_dead") == 0


def test_metrics_name_the_lease_holder_and_the_platform_calls(client: FlaskClient, runtime) -> None:
    now = runtime.engine.now()
    holder = 'host "a"\\b\nc:4711'  # a host name never looks like this, but a label must survive it
    assert acquire(runtime.factory, "timed-work", holder, now, timedelta(minutes=2))
    count_calls(runtime.factory, "dingtalk", "2024-10", 10_000, metered=9)
    count_calls(runtime.factory, "dingtalk", "2024-11", 10_000, metered=3, free=2)

    samples = scrape(client)
    assert sample(samples, "ybt_scheduler_lease_holder", lease="timed-work", holder=holder) == 1
    assert sample(samples, "ybt_platform_api_month_calls", platform="dingtalk", period="2024-11", metered="true") == 3
    assert sample(samples, "ybt_platform_api_month_calls", platform="dingtalk", period="2024-11", metered="false") == 2
    assert sample(samples, "ybt_platform_api_allowance", platform="dingtalk", period="2024-11") == 10_000
    assert not [key for key in samples if ("period", "2024-10") in key[1]]  # only the latest month

    release(runtime.factory, "timed-work", holder, now)
    assert not [key for key in scrape(client) if key[0] == "ybt_scheduler_lease_holder"]


def test_with_a_token_metrics_answer_only_who_brings_it(runtime) -> None:
    config = dataclasses.replace(runtime.config, web=WebConfig(metrics_token="scrape-me"))
    client = create_app(dataclasses.replace(runtime, config=config)).test_client()

    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": "scrape-me"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-me"}).status_code == 200
    assert client.get("/healthz").status_code == 200 and client.get("/readyz").status_code == 200


def test_neither_page_names_a_person_or_quotes_a_message(client: FlaskClient, runtime, chat) -> None:
    chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村")
    accept(runtime, "zhang_dehua", "我的电话是13983160217", "m-1")

    metrics = client.get("/metrics").get_data(as_text=True).splitlines()
    samples = [line for line in metrics if not line.startswith("#")]  # HELP says "admin" as a word, not an account
    pages = client.get("/readyz").get_data(as_text=True) + "\n".join(samples)
    with runtime.factory() as session:
        people = session.execute(select(Person.name, Person.account)).all()
    assert people
    for name, account in people:
        assert name not in pages and account not in pages
    assert "13983160217" not in pages and "低保" not in pages


def test_the_token_and_the_late_limit_come_from_the_config_file_or_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[web]\nmetrics_token = "from-file"\nbacklog_late_seconds = 120\n', encoding="utf-8")

    assert load_config(path, environ={}).web.metrics_token == "from-file"
    assert load_config(path, environ={}).web.backlog_late_seconds == 120
    assert load_config(path, environ={"YBT_METRICS_TOKEN": "from-env"}).web.metrics_token == "from-env"
    assert "from-file" not in repr(load_config(path, environ={}))
    path.write_text("[web]\nbacklog_late_seconds = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="backlog_late_seconds must be at least 1"):
        load_config(path, environ={})
