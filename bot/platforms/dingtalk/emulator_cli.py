"""`python -m bot fake-dingtalk`: a local DingTalk on loopback where the operator plays members talking to the bot."""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import TextIO

import requests

from bot.platforms.dingtalk.contacts import ROOT_DEPT_ID
from bot.platforms.dingtalk.emulator import DingTalkEmulator, EmulatorSettings, serve
from bot.platforms.emulator_console import start_on_loopback, typed_lines

# The app `python -m bot fake-dingtalk` plays unless told otherwise.
DEFAULT_APP_KEY = "dingfakeappkey"
DEFAULT_APP_SECRET = "fake-dingtalk-secret"
# The HTTP card callback the emulator registers for the bot at start (as /v1.0/card/callbacks/register would).
DEFAULT_CARD_ROUTE_KEY = "yibiaotong-cards"
DEFAULT_CARD_SECRET = "fake-card-callback-secret"
QUIET_AFTER_REPLY = 0.5
VIA = {"webhook": "会话回复", "batch": "批量单聊", "work_notice": "工作通知"}

INTRO = """本地钉钉模拟器（只监听本机）
接口地址（机器人的 [dingtalk] api_base_url、webhook_base_url 和 oapi_base_url）：{url}
AppKey {app_key} · AppSecret {app_secret}
{delivery}
成员：{members} 名（来自 {org} 的“钉钉账号”一列），部门 {departments} 个（通讯录可用 sync-dingtalk 同步）
卡片：card_template_id {template} · card_callback_route_key {route_key} · card_callback_secret {card_secret}
卡片点击发往：{card_callback}
输入 :help 查看用法。"""

HELP = """用法：
  @钉钉账号 文本                  以该成员身份在单聊里给机器人发一条文字消息
  :file @钉钉账号 文件路径         以该成员身份在单聊里给机器人发一个文件
  :click @钉钉账号 卡片ID 选项值   点击发给该成员的卡片上的按钮（卡片ID、选项值见收到的卡片）
  :quit                            退出"""


def run_fake_dingtalk(settings: EmulatorSettings, port: int, org: Path) -> int:
    """Run the emulator on loopback with the members of `org`, and let the operator play them in the terminal."""
    emulator = DingTalkEmulator(settings)
    handle = start_on_loopback(
        lambda path: seed_from_org_file(emulator, path), lambda at: serve(emulator, port=at), org, port
    )
    if handle is None:
        return 2
    card_callback = card_callback_url(settings.callback_url or "")
    emulator.register_card_route(DEFAULT_CARD_ROUTE_KEY, card_callback, DEFAULT_CARD_SECRET)
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
        departments=len(emulator.departments),
        org=org,
        template=settings.card_template_id,
        route_key=DEFAULT_CARD_ROUTE_KEY,
        card_secret=DEFAULT_CARD_SECRET,
        card_callback=card_callback,
    )
    print(intro)
    try:
        run_console(emulator, typed_lines(), sys.stdout)
    finally:
        handle.shutdown()
    return 0


def seed_from_org_file(emulator: DingTalkEmulator, path: Path) -> None:
    """Seed departments from an organisation CSV (the first unit without a parent is the organisation, dept_id 1),
    and members from everyone with a 钉钉账号, in every unit they appear in."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    ids: dict[str, int] = {}
    for row in rows:
        if row["单位"] not in ids:
            ids[row["单位"]] = ROOT_DEPT_ID if not ids and not row["上级单位"] else len(ids) + 2
    for unit, dept_id in ids.items():
        parent = next(row["上级单位"] for row in rows if row["单位"] == unit)
        emulator.add_department(dept_id, unit, ids.get(parent, ROOT_DEPT_ID))
    for row in rows:
        userid = (row.get("钉钉账号") or "").strip()
        if not userid:
            continue
        known = emulator.profiles.get(userid)
        departments = [*known["dept_id_list"], ids[row["单位"]]] if known else [ids[row["单位"]]]
        emulator.add_member(userid, row["姓名"], departments, (row.get("手机号") or "").strip())


def card_callback_url(callback_url: str) -> str:
    """Where the bot takes card clicks: beside its robot callback."""
    return callback_url.removesuffix("/dingtalk/callback") + "/dingtalk/card-callback"


def run_console(emulator: DingTalkEmulator, lines: Iterable[str], out: TextIO, wait: float = 3.0) -> None:
    """Play members line by line and print what every member receives after each line."""
    for raw in lines:
        line = raw.strip()
        if line in (":quit", ":q"):
            return
        if not line:
            continue
        words = line.split(maxsplit=2)
        clicking = len(line.split()) == 4 and words[0] == ":click" and words[1].startswith("@")
        if words[0] == ":file" and len(words) == 3 and words[1].startswith("@"):
            userid, path = words[1][1:], Path(words[2])
            if not path.is_file():
                print(f"  找不到文件：{path}", file=out)
                continue
            send = partial(emulator.member_sends_file, userid, path.read_bytes(), path.name)
        elif clicking:
            userid, card, value = line.split()[1:]
            send = partial(emulator.member_clicks_card, userid[1:], card, value)
            userid = userid[1:]
        elif line.startswith("@") and line[1:].partition(" ")[2].strip():
            userid, _, text = line[1:].partition(" ")
            send = partial(emulator.member_says, userid, text.strip())
        else:
            print(HELP, file=out)
            continue
        seen = {member: len(emulator.inbox(member)) for member in {*emulator.members, userid}}
        try:
            response = send()
        except ValueError as error:
            print(f"  {error}", file=out)
            continue
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
                print(f"  → {userid}{describe(message)}", file=out)
                last_news = time.monotonic()
            seen[userid] = len(inbox)
        if last_news is not None and time.monotonic() - last_news > QUIET_AFTER_REPLY:
            return
        time.sleep(0.05)
    if last_news is None:
        print("  （没有成员收到新消息）", file=out)


def describe(message: dict) -> str:
    """How a member's new message is shown: how it came, and a card's id and buttons."""
    if message["via"] == "card":
        buttons = " ".join(f"[{label}:{value}]" for value, label in message["options"])
        return f"（卡片 {message['out_track_id']}）：{message['text']} {buttons}"
    return f"（{VIA[message['via']]}）：{message['text']}"
