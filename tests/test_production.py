"""The production layout as real processes: gunicorn's web workers store and acknowledge, `python -m bot worker`
processes handle and deliver, and all of them stop cleanly on SIGTERM (see deploy/)."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.wsgi import DeploymentError, create_app
from tests.test_serve import eventually, free_port, healthy

ROOT = Path(__file__).resolve().parent.parent
STOP_SECONDS = 20


def gunicorn_present() -> bool:
    """gunicorn is in requirements.txt; a machine without it skips these tests, CI fails them."""
    if importlib.util.find_spec("gunicorn") is not None:
        return True
    if os.environ.get("CI"):
        pytest.fail("gunicorn is not installed: run make test (it installs requirements.txt)")
    pytest.skip("gunicorn is not installed (pip install -r requirements.txt)")
    return False


class Processes:
    """Started processes, their output in files; whatever is still running at the end is killed."""

    def __init__(self, folder: Path, environ: dict[str, str]) -> None:
        self.folder, self.environ = folder, environ
        self.running: list[tuple[subprocess.Popen, Path]] = []

    def start(self, name: str, *arguments: str) -> subprocess.Popen:
        log = self.folder / f"{name}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, *arguments], cwd=ROOT, env=self.environ, stdout=output, stderr=subprocess.STDOUT
            )
        self.running.append((process, log))
        return process

    def output(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')}" for _, log in self.running)

    def kill_the_rest(self) -> None:
        for process, _ in self.running:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


def deployment_environ(world, engine, folder: Path, more_config: str = "") -> dict[str, str]:
    """The environment deploy/'s units give every process: the config file (with `more_config` appended), the
    database, the session key."""
    wecom = world.runtime.config.wecom
    config = folder / "config.toml"
    config.write_text(
        f'[delivery]\nplatform = "wecom"\n'
        f'[wecom]\ncorp_id = "{wecom.corp_id}"\nagent_id = {wecom.agent_id}\nsecret = "{wecom.secret}"\n'
        f'token = "{wecom.token}"\nencoding_aes_key = "{wecom.encoding_aes_key}"\n'
        f'api_base_url = "{wecom.api_base_url}"\n' + more_config,
        encoding="utf-8",
    )
    return {
        **os.environ,
        "YBT_CONFIG": str(config),
        "YBT_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "YBT_WEB_SECRET_KEY": "the-same-key-in-every-web-process",
    }


@pytest.fixture
def deployment(world, engine, tmp_path) -> dict[str, str]:
    """The environment of every process of the deployment, on the test database and the world's WeCom emulator."""
    return deployment_environ(world, engine, tmp_path)


@pytest.fixture
def production(deployment, tmp_path):
    """Starts processes as deploy/ lays them out, on the test database and the world's WeCom emulator."""
    gunicorn_present()
    processes = Processes(tmp_path, deployment)
    yield processes
    processes.kill_the_rest()


def test_two_web_workers_and_two_handling_workers_answer_each_message_once_in_order_and_stop_cleanly(world, production):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    web = production.start(
        "gunicorn", "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
        "--workers", "2", "bot.wsgi:create_app()",
    )  # fmt: skip
    config = production.environ["YBT_CONFIG"]
    workers = [
        production.start(f"worker-{n}", "-m", "bot", "worker", "--poll-seconds", "0.2", "--config", config)
        for n in (1, 2)
    ]
    assert eventually(lambda: healthy(url) or web.poll() is not None) and web.poll() is None, production.output()
    world.emulator.settings.callback_url = f"{url}/wecom/callback"

    world.write("wang_canlian", "/发布 残疾人两项补贴情况 截止 后天18点 范围 石庙村 不审核")
    # He starts once the task has reached him (other people's messages may be handled at the same time as hers).
    assert eventually(lambda: len(world.emulator.inbox("chen_guoping")) >= 1), production.output()
    world.write("chen_guoping", "开始")
    world.write("chen_guoping", "12", msg_id="CAIQ5LbzswYY__8BIAIqBmhlbGxv")
    assert world.emulator.resend_last_callback().status_code == 200  # WeCom's retry of the same message
    world.write("zhang_dehua", "帮助")
    world.write("chen_guoping", "5")

    assert eventually(lambda: len(world.emulator.inbox("chen_guoping")) >= 4), production.output()
    time.sleep(1.0)  # time for a second answer to the repeated message, were there one
    published = world.texts("wang_canlian")
    pushed, first, second, third = world.texts("chen_guoping")
    helped = world.texts("zhang_dehua")
    assert len(published) == 1 and "已发布《残疾人两项补贴情况》" in published[0]
    assert "【区残联】发布了《残疾人两项补贴情况》" in pushed
    assert "开始填写《残疾人两项补贴情况》" in first
    assert "第2/8题" in second and "第3/8题" in third
    assert len(helped) == 1 and "/待办" in helped[0]

    for process in [web, *workers]:
        process.send_signal(signal.SIGTERM)
    codes = [process.wait(timeout=STOP_SECONDS) for process in [web, *workers]]
    assert codes == [0, 0, 0], production.output()
    assert "stopped" in production.output()


def test_a_web_process_without_a_shared_session_key_refuses_to_start_and_says_which_setting(deployment, monkeypatch):
    monkeypatch.setenv("YBT_CONFIG", deployment["YBT_CONFIG"])
    monkeypatch.setenv("YBT_DATABASE_URL", deployment["YBT_DATABASE_URL"])
    monkeypatch.delenv("YBT_WEB_SECRET_KEY", raising=False)

    with pytest.raises(DeploymentError, match="YBT_WEB_SECRET_KEY"):
        create_app()
