"""The HTTP door as a platform would knock on it: the health check and the simulator endpoint."""

from __future__ import annotations

import dataclasses

import pytest
from flask.testing import FlaskClient

from bot.app import create_app
from ledger_store.db import make_engine

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


def test_the_same_message_id_twice_is_handled_once(client: FlaskClient, runtime) -> None:
    post(client, "li_minzheng", ISSUE, message_id="issue-1")
    again = post(client, "li_minzheng", ISSUE, message_id="issue-1")
    assert again.status_code == 200 and again.get_json() == {"replies": []}
    assert len(runtime.platform.take("zhang_dehua")) == 1

    post(client, "zhang_dehua", "开始", message_id="m-1")
    assert "第2/8题" in post(client, "zhang_dehua", "120", message_id="m-2").get_json()["replies"][0]
    assert post(client, "zhang_dehua", "120", message_id="m-2").get_json() == {"replies": []}
    assert "第3/8题" in post(client, "zhang_dehua", "350", message_id="m-3").get_json()["replies"][0]


def test_health_check_reports_an_unreachable_database_as_json_503(runtime) -> None:
    unreachable = dataclasses.replace(runtime, database=make_engine("sqlite:////nonexistent-dir/x.sqlite3"))
    response = create_app(unreachable).test_client().get("/healthz")

    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unreachable"}
