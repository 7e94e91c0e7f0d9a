"""Hostile query parameters on the WeCom callback, over real HTTP: refused as bad input, never a 500, nothing stored."""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from sqlalchemy import func, select

from bot.app import create_app
from bot.engine import Engine
from ledger_store.db import make_engine, make_session_factory
from ledger_store.models import InboundMessage

ODD_VALUES = {
    "superscript digits": "²³",
    "400 digits": "9" * 400,
    "Arabic-Indic digits": "١٧٠٠٠٠٠٠٠٠",
    "a minus sign": "-1",
    "an exponent": "1e9",
    "a trailing newline": "1700000000\n",
    "a NUL byte": "\x00",
    "empty": "",
}


def signed_query(world) -> tuple[dict[str, str], bytes]:
    """The query and body of a genuine signed callback (sent once; the test replays it with changes)."""
    genuine = world.emulator.member_says("zhang_dehua", "帮助")
    return dict(parse_qsl(urlsplit(genuine.request.url).query)), genuine.request.body


def stored(world) -> int:
    with world.runtime.factory() as session:
        return session.scalar(select(func.count()).select_from(InboundMessage))


def call(world, method: str, query: str, body: bytes) -> requests.Response:
    url = f"{world.callback_url}?{query}"
    return requests.request(method, url, data=body if method == "POST" else None, timeout=10)


def test_an_odd_value_in_any_parameter_is_refused_and_changes_nothing(world):
    query, body = signed_query(world)
    not_refused = []
    for method in ("GET", "POST"):
        given = query | ({"echostr": "P9nAzCzyDtyTWESHep1vC5X9xho"} if method == "GET" else {})
        for name in ("timestamp", "nonce", "msg_signature", *(["echostr"] if method == "GET" else [])):
            for odd, value in ODD_VALUES.items():
                response = call(world, method, urlencode(given | {name: value}), body)
                if response.status_code not in (400, 403) or len(response.text) > 100:
                    not_refused.append((method, name, odd, response.status_code, response.text[:100]))

    assert not_refused == []
    assert stored(world) == 1  # only the genuine one


def test_a_parameter_given_twice_or_left_out_is_refused(world):
    query, body = signed_query(world)
    for method in ("GET", "POST"):
        given = query | ({"echostr": "P9nAzCzyDtyTWESHep1vC5X9xho"} if method == "GET" else {})
        for name in given:
            twice = call(world, method, urlencode(given) + f"&{name}={given[name]}", body)
            left_out = call(world, method, urlencode({key: value for key, value in given.items() if key != name}), body)

            assert (twice.status_code, twice.text) == (400, f"repeated {name}")
            assert (left_out.status_code, left_out.text) == (400, f"missing {name}")
    assert stored(world) == 1


def test_a_genuine_callback_still_goes_through_after_the_odd_ones(world):
    query, body = signed_query(world)
    call(world, "POST", urlencode(query | {"timestamp": "²³"}), body)

    world.settle()

    [answer] = world.texts("zhang_dehua")
    assert "/待办" in answer


def test_a_database_failure_while_storing_is_a_bare_500_that_wecom_retries(world):
    query, body = signed_query(world)
    unreachable = make_session_factory(make_engine("sqlite:////nonexistent-dir/x.sqlite3"))
    engine = Engine(unreachable, world.runtime.engine.clock, world.runtime.engine.tz)
    client = create_app(dataclasses.replace(world.runtime, engine=engine)).test_client()

    response = client.post("/wecom/callback", query_string=query, data=body)

    assert (response.status_code, response.text) == (500, "Internal Server Error")
