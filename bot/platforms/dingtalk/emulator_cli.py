"""`python -m bot fake-dingtalk`: a local DingTalk on loopback where the operator plays members talking to the bot."""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

import requests

from bot.platforms.dingtalk.emulator import DingTalkEmulator, EmulatorSettings, serve
from bot.platforms.emulator_console import start_on_loopback, typed_lines

# The app `python -m bot fake-dingtalk` plays unless told otherwise.
DEFAULT_APP_KEY = "dingfakeappkey"
DEFAULT_APP_SECRET = "fake-dingtalk-secret"
QUIET_AFTER_REPLY = 0.5

INTRO = """本地钉钉模拟器（只监听本机）
接口地址（机器人的 [dingtalk] api_base_url 和 webhook_base_url）：{url}
AppKey {app_key} · AppSecret {app_secret}
{delivery}
成员：{members} 名（来自 {org} 的“钉钉账号”一列）
输入 :help 查看用法。"""

HELP = """用法：
  @钉钉账号 文本                  以该成员身份在单聊里给机器人发一条文字消息
  :quit                            退出"""


def run_fake_dingtalk(settings: EmulatorSettings, port: int, org: Path) -> int:
    """Run the emulator on loopback with the members of `org`, and let the operator play them in the terminal."""
    emulator = DingTalkEmulator(settings)
    handle = start_on_loopback(
        lambda path: seed_from_org_file(emulator, path), lambda at: serve(emulator, port=at), org, port
    )
    if handle is None:
        return 2
    intro = INTRO.format(
        url=handle.url,
        app_key=settings.app_key,
        app_secret=settings.app_secret,
        delivery=(
            f'Stream 网关：{emulator.gateway.url}（机器人配置 mode = "stream"，连上后成员消息经 websocket 推送）'
            if settings.stream
            else f"成员消息发往：{settings.callback_url}"
        ),
        members=len(emulator.members),
        org=org,
    )
    print(intro)
    try:
        run_console(emulator, typed_lines(), sys.stdout)
    finally:
        handle.shutdown()
    return 0


def seed_from_org_file(emulator: DingTalkEmulator, path: Path) -> None:
    """Seed members from an organisation CSV: everyone with a 钉钉账号."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            userid = (row.get("钉钉账号") or "").strip()
            if userid:
                emulator.add_member(userid, row["姓名"])


def run_console(emulator: DingTalkEmulator, lines: Iterable[str], out: TextIO, wait: float = 3.0) -> None:
    """Play members line by line and print what every member receives after each line."""
    for raw in lines:
        line = raw.strip()
        if line in (":quit", ":q"):
            return
        if not line:
            continue
        if not line.startswith("@") or not line[1:].partition(" ")[2].strip():
            print(HELP, file=out)
            continue
        userid, _, text = line[1:].partition(" ")
        seen = {member: len(emulator.inbox(member)) for member in {*emulator.members, userid}}
        try:
            response = emulator.member_says(userid, text.strip())
        except requests.RequestException as error:
            print(f"  机器人的回调地址 {emulator.settings.callback_url} 无法访问：{type(error).__name__}", file=out)
            continue
        if isinstance(response, str):  # stream mode: the frame waits on the gateway for the bot's connection
            if not emulator.gateway.connections():
                print("  机器人尚未连上 Stream 网关，消息在网关排队", file=out)
        elif response.status_code != 200:
            print(f"  机器人回调返回 HTTP {response.status_code}", file=out)
            continue
        print_new_messages(emulator, seen, out, wait)


def print_new_messages(emulator: DingTalkEmulator, seen: dict[str, int], out: TextIO, wait: float) -> None:
    """Poll the inboxes: the bot acknowledges the callback first and answers a moment later."""
    deadline, last_news = time.monotonic() + wait, None
    while time.monotonic() < deadline:
        for userid in seen:
            inbox = emulator.inbox(userid)
            for message in inbox[seen[userid] :]:
                via = "会话回复" if message["via"] == "webhook" else "批量单聊"
                print(f"  → {userid}（{via}）：{message['text']}", file=out)
                last_news = time.monotonic()
            seen[userid] = len(inbox)
        if last_news is not None and time.monotonic() - last_news > QUIET_AFTER_REPLY:
            return
        time.sleep(0.05)
    if last_news is None:
        print("  （没有成员收到新消息）", file=out)
