"""`python -m bot demo --wecom`: the whole WeCom path on one machine, with the emulator playing the members.

The emulator serves WeCom's API on loopback, the bot's real HTTP server takes the encrypted callbacks, and
the console posts members' messages exactly as WeCom would and prints what every member receives.
"""

from __future__ import annotations

import logging
import sys
import threading
from dataclasses import replace
from typing import TextIO

from werkzeug.serving import make_server

from bot.app import create_app
from bot.config import Config, WeComConfig
from bot.platforms.registry import configured_runtime
from bot.platforms.wecom.emulator import (
    SAMPLE_AES_KEY,
    SAMPLE_CORP_ID,
    SAMPLE_TOKEN,
    EmulatorSettings,
    WeComEmulator,
    serve,
)
from bot.platforms.wecom.emulator_cli import run_console, seed_from_org_file
from bot.runtime import DEMO_ORG, load_demo_org
from scheduler.jobs import TimedWork
from scheduler.process import background

DEMO_SECRET = "demo-secret"
DEMO_AGENT_ID = 1000002

INTRO = """一表通机器人 · 企业微信全链路演示（全部在本机）
模拟企业微信接口：{api}
机器人回调地址：  {callback}
每条消息都像企业微信那样加密、签名后 POST 到机器人；机器人先回 200，再通过接口回复。

试一试：
  @li_minzheng /发布 残疾人两项补贴情况 截止 明天17:00 范围 石庙村
  @chen_guoping 开始
  :click @chen_guoping <卡片的 task_id> 2      点卡片上的按钮
输入 :help 查看用法，:quit 结束。
"""


def run_wecom_demo(config: Config, lines=None, out: TextIO = sys.stdout, wait: float = 3.0) -> int:
    """Start the emulator and the bot on loopback, then run the member console until :quit or EOF."""
    emulator = WeComEmulator(EmulatorSettings(SAMPLE_CORP_ID, DEMO_SECRET, DEMO_AGENT_ID, SAMPLE_TOKEN, SAMPLE_AES_KEY))
    seed_from_org_file(emulator, DEMO_ORG)
    api = serve(emulator)
    config = talking_to(emulator, api.url, config)
    runtime = configured_runtime(config)
    report = load_demo_org(runtime)
    if report is not None:
        print(report.summary(), file=out)
    app = create_app(runtime, background=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per message drowns the console
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, name="bot-http", daemon=True).start()
    work = TimedWork(runtime, config.scheduler)
    timer = background(work, config.scheduler)
    timer.start()  # reminders, deadlines, recurring reports and retries, as `python -m scheduler` runs them
    emulator.settings.callback_url = f"http://127.0.0.1:{server.server_port}/wecom/callback"
    print(INTRO.format(api=api.url, callback=emulator.settings.callback_url), file=out)
    try:
        run_console(emulator, lines if lines is not None else typed_lines(out), out, wait=wait)
    finally:
        timer.shutdown(wait=False)
        work.stop()
        server.shutdown()
        app.extensions["worker"].stop()
        api.shutdown()
    return 0


def talking_to(emulator: WeComEmulator, api_url: str, config: Config) -> Config:
    """`config` with its WeCom app set to the emulator's credentials and API, and pushes going to WeCom."""
    settings = emulator.settings
    wecom = WeComConfig(
        corp_id=settings.corp_id,
        agent_id=settings.agent_id,
        secret=settings.secret,
        token=settings.token,
        encoding_aes_key=settings.encoding_aes_key,
        api_base_url=api_url,
    )
    return replace(config, wecom=wecom, delivery=replace(config.delivery, platform="wecom"))


def typed_lines(out: TextIO):
    """Lines typed at the terminal, with a prompt."""
    while True:
        out.write("企业微信> ")
        out.flush()
        line = sys.stdin.readline()
        if not line:
            return
        yield line
