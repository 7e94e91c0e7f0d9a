"""The HTTP door as a platform would knock on it: the health check, the simulator endpoint and who may use it.

What /readyz and /metrics say is in test_health.py."""

from __future__ import annotations

import dataclasses
import json

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bot.app import create_app
from bot.config import SimulatorConfig
from ledger_store.models import AuditEntry, InboundMessage, OutboxMessage, ReportTask

ISSUE = "/发布 低保月报 截止 11月30日18点 范围 松林村"


@pytest.fixture
def client(runtime) -> FlaskClient:
    """Flask's test client on the bot with the demo organisation."""
    return create_app(runtime).test_client()


def post(client: FlaskClient, account: str, text: str, message_id: str | None = None):
    """POST one simulator message; the response."""
    payload = {"account": account, "text": text}
    if message_id is not None:
        payload["message_id"] = message_id
    return client.post("/simulator/messages", json=payload)


def test_health_check_says_ok(client: FlaskClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_a_message_goes_through_the_bot_and_the_replies_come_back_in_chinese(client, runtime) -> None:
    response = post(client, "li_minzheng", ISSUE)

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    [issued, *_] = response.get_json()["replies"]
    assert "已发布《低保月报》" in issued and "松林村" in issued
    assert "已发布《低保月报》" in response.get_data(as_text=True)  # readable, not \u5df2...
    [push] = runtime.platform.take("zhang_dehua")
    assert "【区民政局】发布了《低保月报》" in push.text


def test_an_unknown_person_gets_the_polite_answer(client: FlaskClient) -> None:
    assert post(client, "stranger", "你好").get_json() == {"replies": ["您还未登记，请联系管理员。"]}


@pytest.mark.parametrize(
    "body",
    [
        '{"account": "zhang_dehua", "text": ',
        "[]",
        '["zhang_dehua", "开始"]',
        '{"account": "zhang_dehua"}',
        '{"account": "zhang_dehua", "text": 120}',
    ],
)
def test_a_body_that_is_not_account_and_text_gets_400_in_chinese(client: FlaskClient, body: str) -> None:
    response = client.post("/simulator/messages", data=body, content_type="application/json")

    assert response.status_code == 400
    assert "需要 JSON" in response.get_json()["error"]
    assert "需要 JSON" in response.get_data(as_text=True)


def test_a_form_post_without_json_gets_400(client: FlaskClient) -> None:
    response = client.post("/simulator/messages", data={"account": "zhang_dehua", "text": "开始"})

    assert response.status_code == 400


def test_the_same_message_id_twice_is_handled_once(client: FlaskClient, runtime, ledger_without_dibao) -> None:
    post(client, "li_minzheng", ISSUE, message_id="issue-1")
    again = post(client, "li_minzheng", ISSUE, message_id="issue-1")
    assert again.status_code == 200 and again.get_json() == {"replies": []}
    assert len(runtime.platform.take("zhang_dehua")) == 1

    post(client, "zhang_dehua", "开始", message_id="m-1")
    assert "第2/8题" in post(client, "zhang_dehua", "120", message_id="m-2").get_json()["replies"][0]
    assert post(client, "zhang_dehua", "120", message_id="m-2").get_json() == {"replies": []}
    assert "第3/8题" in post(client, "zhang_dehua", "350", message_id="m-3").get_json()["replies"][0]


OUTSIDER = {"REMOTE_ADDR": "203.0.113.7"}


def counts(runtime) -> list[int]:
    """Rows of the tables a handled message would add to: stored messages, tasks, outbox, audit log."""
    with runtime.factory() as session:
        tables = (InboundMessage, ReportTask, OutboxMessage, AuditEntry)
        return [session.scalar(select(func.count()).select_from(table)) for table in tables]


@pytest.fixture
def unchanged(runtime):
    """A check that nothing was stored, issued, queued, audited or pushed since the test began."""
    before = counts(runtime)
    return lambda: counts(runtime) == before and runtime.platform.take_all() == {}


def test_a_client_on_another_machine_is_refused_and_nothing_is_handled(client, unchanged) -> None:
    response = client.post("/simulator/messages", json={"account": "admin", "text": ISSUE}, environ_base=OUTSIDER)

    assert response.status_code == 403
    assert "只接受本机" in response.get_json()["error"]
    assert unchanged()


@pytest.mark.parametrize("header", ["X-Forwarded-For", "X-Real-IP", "Forwarded"])
def test_a_request_a_proxy_on_this_machine_forwarded_is_refused(client, unchanged, header) -> None:
    response = client.post("/simulator/messages", json={"account": "li_minzheng", "text": ISSUE},
                           headers={header: "127.0.0.1"})  # fmt: skip

    assert response.status_code == 403 and unchanged()


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_loopback_clients_are_answered(client, address) -> None:
    response = client.post("/simulator/messages", json={"account": "stranger", "text": "你好"},
                           environ_base={"REMOTE_ADDR": address})  # fmt: skip

    assert response.status_code == 200


@pytest.fixture
def guarded(runtime) -> FlaskClient:
    """The app with [simulator] secret set."""
    config = dataclasses.replace(runtime.config, simulator=SimulatorConfig(secret="长长的-secret"))
    return create_app(dataclasses.replace(runtime, config=config)).test_client()


def test_with_a_secret_only_requests_carrying_it_are_answered_from_anywhere(guarded, unchanged) -> None:
    message = {"account": "li_minzheng", "text": ISSUE}
    wrong = {"X-Simulator-Secret": "guess"}
    right = {"X-Simulator-Secret": "长长的-secret".encode().decode("latin-1")}

    assert guarded.post("/simulator/messages", json=message).status_code == 403  # loopback is not enough now
    assert guarded.post("/simulator/messages", json=message, headers=wrong, environ_base=OUTSIDER).status_code == 403
    assert unchanged()
    answered = guarded.post("/simulator/messages", json=message, headers=right, environ_base=OUTSIDER)
    assert answered.status_code == 200 and "已发布《低保月报》" in answered.get_json()["replies"][0]


def test_when_wecom_is_the_platform_there_is_no_simulator_door(world) -> None:
    url = world.callback_url.replace("/wecom/callback", "/simulator/messages")

    response = requests.post(url, json={"account": "admin", "text": "/投递"}, timeout=10)

    assert (response.status_code, response.text) == (404, "Not Found")
    with world.runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 0


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"account": "zhang_dehua", "text": "好" * 40000}),
        "[" * 50000 + "]" * 50000,
        '{"account": "zhang_dehua", "text": "开始", "message_id": ' + "9" * 5000 + "}",
        json.dumps({"account": "zhang_dehua", "text": "开始", "message_id": {"a": 1}}),
        json.dumps({"account": "zhang_dehua", "text": "开始", "message_id": "m" * 129}),
        json.dumps({"account": "zhang_dehua", "text": "开始", "message_id": True}),
        json.dumps({"account": "z" * 65, "text": "开始"}),
        json.dumps({"account": "", "text": "开始"}),
    ],
    ids=["over 64 KB", "nested 50000 deep", "5000-digit id", "id an object", "id too long", "id true",
         "account too long", "account empty"],
)  # fmt: skip
def test_a_body_too_large_or_of_the_wrong_shape_gets_400_and_nothing_is_handled(client, unchanged, body) -> None:
    response = client.post("/simulator/messages", data=body.encode(), content_type="application/json")

    assert response.status_code == 400 and "需要 JSON" in response.get_json()["error"]
    assert unchanged()


def test_a_body_that_is_not_utf8_gets_400(client) -> None:
    response = client.post(
        "/simulator/messages", data=b'{"account": "\xff", "text": "x"}', content_type="application/json"
    )

    assert response.status_code == 400


def test_error_pages_are_one_short_line(client) -> None:
    assert (client.get("/nothing").status_code, client.get("/nothing").text) == (404, "Not Found")
    wrong_method = client.get("/simulator/messages")
    assert (wrong_method.status_code, wrong_method.text) == (405, "Method Not Allowed")
