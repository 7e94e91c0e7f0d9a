"""`python -m bot serve` as a real process: it finishes stranded work by itself and refuses probes as bad input."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from handlers.core.messages import Incoming

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def eventually(condition, seconds: float = 30.0) -> bool:
    """Poll until the condition holds, for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


@pytest.fixture
def serve(world, engine, tmp_path):
    """Start `python -m bot serve` on the test database, talking to the world's WeCom emulator; kill -9 at the end."""
    wecom = world.runtime.config.wecom
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[web]\nport = {port}\n[delivery]\nplatform = "wecom"\n'
        f'[wecom]\ncorp_id = "{wecom.corp_id}"\nagent_id = {wecom.agent_id}\nsecret = "{wecom.secret}"\n'
        f'token = "{wecom.token}"\nencoding_aes_key = "{wecom.encoding_aes_key}"\n'
        f'api_base_url = "{wecom.api_base_url}"\n',
        encoding="utf-8",
    )
    environ = {**os.environ, "YBT_DATABASE_URL": engine.url.render_as_string(hide_password=False), "FLASK_DEBUG": "1"}
    processes = []

    def start() -> str:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(config), "serve"],
            cwd=ROOT, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        assert eventually(lambda: healthy(url) or process.poll() is not None) and process.poll() is None, (
            process.stderr.read().decode()
        )
        world.emulator.settings.callback_url = f"{url}/wecom/callback"
        return url

    yield start
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)


def test_a_message_acknowledged_before_a_kill_is_answered_when_serve_starts_without_any_callback(world, serve):
    world.runtime.engine.accept(Incoming("wecom", "zhang_dehua", "帮助", message_id="msg:before-the-kill"))

    serve()

    assert eventually(lambda: world.emulator.inbox("zhang_dehua"))
    assert "/待办" in world.texts("zhang_dehua")[0]


def test_probes_against_a_running_serve_get_short_refusals_and_a_genuine_message_still_gets_its_reply(world, serve):
    url = serve()

    door = requests.post(f"{url}/simulator/messages", json={"account": "admin", "text": "/投递"}, timeout=10)
    odd_time = requests.get(f"{url}/wecom/callback", params={"msg_signature": "0" * 40, "timestamp": "²³",
                            "nonce": "1", "echostr": "x"}, timeout=10)  # fmt: skip
    long_time = requests.post(f"{url}/wecom/callback", params={"msg_signature": "0" * 40, "timestamp": "1" * 400,
                              "nonce": "1"}, data=b"<xml/>", timeout=10)  # fmt: skip
    debugger_file = {"__debugger__": "yes", "cmd": "resource", "f": "debugger.js"}
    debugger = requests.get(f"{url}/", params=debugger_file, timeout=10)
    assert (debugger.status_code, debugger.text) == (404, "Not Found")  # FLASK_DEBUG=1, yet no debugger
    assert (door.status_code, door.text) == (404, "Not Found")
    assert (odd_time.status_code, odd_time.text) == (400, "bad timestamp")
    assert (long_time.status_code, long_time.text) == (400, "bad timestamp")

    for _ in range(3):
        assert world.emulator.member_says("zhang_dehua", "帮助").status_code == 200

    assert eventually(lambda: len(world.emulator.inbox("zhang_dehua")) == 3)
