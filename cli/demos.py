"""The demos, each with the scheduler's timed work running inside: the chat simulator, the whole WeCom path, or the
whole DingTalk Stream path.

`python -m bot demo --wecom` runs the WeCom path on one machine: the emulator serves WeCom's API on loopback, the
bot's real HTTP server takes the encrypted callbacks, and the console posts members' messages exactly as WeCom would
and prints what every member receives. `python -m bot demo --dingtalk` does the same for DingTalk in Stream mode: the
bot opens its websocket to the emulator's gateway, which pushes each member's message as a frame.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TextIO

from sqlalchemy import select
from werkzeug.serving import make_server

from bot.app import create_app
from bot.chat import ChatSimulator, run_interactive
from bot.config import Config, DeliveryConfig, DingTalkConfig
from bot.platforms.dingtalk import emulator as dingtalk_emulator
from bot.platforms.dingtalk import emulator_cli as dingtalk_console
from bot.platforms.dingtalk.emulator_stream import StreamGateway
from bot.platforms.registry import configured_runtime
from bot.platforms.simulator import SimulatorPlatform
from bot.platforms.wecom.emulator import (
    SAMPLE_AES_KEY,
    SAMPLE_CORP_ID,
    SAMPLE_TOKEN,
    EmulatorSettings,
    WeComEmulator,
    serve,
)
from bot.platforms.wecom.emulator_cli import run_console, seed_from_org_file, talking_to
from bot.runtime import DEMO_ORG, Runtime, build_runtime, load_demo_org
from bot.worker import Worker
from cli.common import dingtalk_stream
from ledger_store.db import transaction
from ledger_store.models import Person, PlatformIdentity
from scheduler.jobs import TimedWork
from scheduler.process import background

DEMO_SECRET = "demo-secret"
DEMO_AGENT_ID = 1000002

CHAT_INTRO = """一表通机器人 · 本地聊天模拟器
数据库：{database}
示范单位：永川区（朱沱镇、中山路街道及下辖村社区），部门：区民政局、区残联。

试一试：
  @li_minzheng /发布 低保月报 截止 明天17:00       区民政局李敏正发布任务（默认发给各镇街）
  @hu_xiaoyan 开始                                 朱沱镇胡晓燕逐题填写
  @li_minzheng /进度                               查看谁还没报
  @liu_ting 开始                                   中山路街道刘婷填写；最后一个提交后汇总表自动发给区民政局
  @li_minzheng /发布 低保月报 每月25日 截止 次月3日 18:00   每月定时发布；“/定时”查看
定时提醒、截止汇总和定时发布在后台运行（与 python -m scheduler 相同）。
机器人发出的文件保存在 {files}
"""

WECOM_INTRO = """一表通机器人 · 企业微信全链路演示（全部在本机）
模拟企业微信接口：{api}
机器人回调地址：  {callback}
每条消息都像企业微信那样加密、签名后 POST 到机器人；机器人先回 200，再通过接口回复。

试一试：
  @li_minzheng /发布 残疾人两项补贴情况 截止 明天17:00 范围 石庙村
  @chen_guoping 开始
  :click @chen_guoping <卡片的 task_id> 2      点卡片上的按钮
输入 :help 查看用法，:quit 结束。
"""

DINGTALK_INTRO = """一表通机器人 · 钉钉 Stream 模式全链路演示（全部在本机）
模拟钉钉接口：{api}
Stream 网关：  {gateway}
机器人用 AppKey 向网关申请连接，再用 websocket 接收消息；每条消息先存库、立刻确认，再处理、经会话 webhook 回复。
示范单位每个人的钉钉账号与登录账号相同。

试一试：
  @li_minzheng /发布 残疾人两项补贴情况 截止 明天17:00 范围 石庙村
  @chen_guoping 开始
输入 :help 查看用法，:quit 结束。
"""


@contextmanager
def timed_work(runtime: Runtime) -> Iterator[None]:
    """Reminders, deadlines, recurring reports and retries in a thread, as `python -m scheduler` runs them."""
    work = TimedWork(runtime, runtime.config.scheduler)
    timer = background(work, runtime.config.scheduler)
    timer.start()
    try:
        yield
    finally:
        timer.shutdown(wait=False)
        work.stop()


def run_chat_demo(config: Config) -> int:
    """Load the demo organisation if the database is empty, and open the chat simulator in the terminal."""
    platform = SimulatorPlatform(files_dir=config.simulator.files_dir)
    runtime = build_runtime(config, platform)
    report = load_demo_org(runtime)
    if report is not None:
        print(report.summary())
    print(CHAT_INTRO.format(database=config.database.url, files=config.simulator.files_dir))
    with timed_work(runtime):
        run_interactive(ChatSimulator(runtime, platform, sys.stdout), account=None, stdin=sys.stdin)
    return 0


def run_wecom_demo(
    config: Config, lines: Iterable[str] | None = None, out: TextIO = sys.stdout, wait: float = 3.0
) -> int:
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
    emulator.settings.callback_url = f"http://127.0.0.1:{server.server_port}/wecom/callback"
    print(WECOM_INTRO.format(api=api.url, callback=emulator.settings.callback_url), file=out)
    try:
        with timed_work(runtime):
            run_console(emulator, lines if lines is not None else typed_lines(out), out, wait=wait)
    finally:
        server.shutdown()
        app.extensions["worker"].stop()
        api.shutdown()
    return 0


def typed_lines(out: TextIO, prompt: str = "企业微信> ") -> Iterator[str]:
    """Lines typed at the terminal, with a prompt."""
    while True:
        out.write(prompt)
        out.flush()
        line = sys.stdin.readline()
        if not line:
            return
        yield line


def run_dingtalk_demo(
    config: Config, lines: Iterable[str] | None = None, out: TextIO = sys.stdout, wait: float = 3.0
) -> int:
    """Start the DingTalk emulator with its Stream gateway, connect the bot to it, then run the member console."""
    settings = dingtalk_emulator.EmulatorSettings(
        dingtalk_console.DEFAULT_APP_KEY, dingtalk_console.DEFAULT_APP_SECRET, stream=True
    )
    emulator = dingtalk_emulator.DingTalkEmulator(settings)
    api = dingtalk_emulator.serve(emulator)
    dingtalk = DingTalkConfig(app_key=settings.app_key, app_secret=settings.app_secret, api_base_url=api.url,
                              webhook_base_url=api.url, oapi_base_url=api.url, mode="stream")  # fmt: skip
    runtime = configured_runtime(replace(config, dingtalk=dingtalk, delivery=DeliveryConfig(platform="dingtalk")))
    report = load_demo_org(runtime)
    if report is not None:
        print(report.summary(), file=out)
    on_dingtalk_as_themselves(runtime, emulator)
    print(DINGTALK_INTRO.format(api=api.url, gateway=emulator.gateway.url), file=out)
    worker = Worker(runtime)
    worker.start()
    try:
        with timed_work(runtime), dingtalk_stream(runtime, worker.kick):
            connected(emulator.gateway, within=10.0)
            dingtalk_console.run_console(emulator, lines if lines is not None else typed_lines(out, "钉钉> "), out,
                                         wait=wait)  # fmt: skip
    finally:
        worker.stop()
        api.shutdown()
    return 0


def connected(gateway: StreamGateway, within: float) -> bool:
    """Wait until the bot holds a connection to the gateway, at most `within` seconds; whether it does."""
    deadline = time.monotonic() + within
    while not gateway.connections():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def on_dingtalk_as_themselves(runtime: Runtime, emulator: dingtalk_emulator.DingTalkEmulator) -> None:
    """Give everyone in the demo organisation a DingTalk id equal to their account, on the bot and the emulator."""
    with transaction(runtime.factory) as session:
        linked = set(session.scalars(select(PlatformIdentity.person_id).where(PlatformIdentity.platform == "dingtalk")))
        for person in session.scalars(select(Person)):
            if person.id not in linked:
                session.add(PlatformIdentity(person_id=person.id, platform="dingtalk", user_id=person.account))
            emulator.add_member(person.account, person.name)
