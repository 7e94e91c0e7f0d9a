"""`python -m bot fake-wecom`: a local WeCom on loopback where the operator plays members talking to the bot."""

from __future__ import annotations

import csv
import shlex
import sys
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TextIO

import requests

from bot.config import Config, WeComConfig
from bot.platforms.emulator_console import start_on_loopback, typed_lines
from bot.platforms.wecom.emulator import EmulatorSettings, WeComEmulator, serve

# The app `python -m bot fake-wecom` plays unless told otherwise (with WeCom's sample corp id, token and key).
DEFAULT_SECRET = "fake-wecom-secret"
DEFAULT_AGENT_ID = 1000002
QUIET_AFTER_REPLY = 0.5

INTRO = """本地企业微信模拟器（只监听本机）
接口地址（机器人的 WeCom API base URL）：{url}
CorpID {corp_id} · Secret {secret} · AgentID {agent_id}
Token {token} · EncodingAESKey {aes_key}
成员消息发往：{callback}
通讯录：{members} 名成员、{departments} 个部门（来自 {org}）
输入 :help 查看用法。"""

HELP = """用法：
  @账号 文本                      以该成员身份给机器人发一条文字消息
  :file @账号 文件路径             以该成员身份发一个文件
  :click @账号 task_id 按钮key     点击发给该成员的卡片按钮
  :verify                          像企业微信保存回调配置时那样验证回调 URL
  :quit                            退出"""


def run_fake_wecom(settings: EmulatorSettings, port: int, org: Path) -> int:
    """Run the emulator on loopback with the members of `org`, and let the operator play them in the terminal."""
    emulator = WeComEmulator(settings)
    handle = start_on_loopback(
        lambda path: seed_from_org_file(emulator, path), lambda at: serve(emulator, port=at), org, port
    )
    if handle is None:
        return 2
    print(
        INTRO.format(
            url=handle.url,
            corp_id=settings.corp_id,
            secret=settings.secret,
            agent_id=settings.agent_id,
            token=settings.token,
            aes_key=settings.encoding_aes_key,
            callback=settings.callback_url,
            members=len(emulator.members),
            departments=len(emulator.departments),
            org=org,
        )
    )
    try:
        run_console(emulator, typed_lines(), sys.stdout)
    finally:
        handle.shutdown()
    return 0


def seed_from_org_file(emulator: WeComEmulator, path: Path) -> None:
    """Seed departments and members from an organisation CSV (单位, 上级单位, 姓名, 手机号, 角色, 企业微信账号)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    ids: dict[str, int] = {}
    for row in rows:
        ids.setdefault(row["单位"], len(ids) + 1)
    for unit, unit_id in ids.items():
        parent = next(row["上级单位"] for row in rows if row["单位"] == unit)
        emulator.add_department(unit_id, unit, parentid=ids.get(parent, 1) if parent else 0, order=unit_id)
    for row in rows:
        userid = (row.get("企业微信账号") or "").strip()
        if not userid:
            continue
        known = emulator.members.get(userid)
        departments = [*known["department"], ids[row["单位"]]] if known else [ids[row["单位"]]]
        emulator.add_member(userid, row["姓名"], departments, row.get("手机号") or "", position=row.get("角色") or "")


def run_console(emulator: WeComEmulator, lines: Iterable[str], out: TextIO, wait: float = 3.0) -> None:
    """Play members line by line and print what every member receives after each line."""
    for raw in lines:
        line = raw.strip()
        if line in (":quit", ":q"):
            return
        if not line:
            continue
        if line == ":help":
            print(HELP, file=out)
            continue
        seen = {userid: len(emulator.inbox(userid)) for userid in emulator.members}
        try:
            response = _act(emulator, line, out)
        except requests.RequestException as error:  # before OSError, which it subclasses
            print(f"  机器人的回调地址 {emulator.settings.callback_url} 无法访问：{type(error).__name__}", file=out)
            continue
        except (ValueError, OSError) as error:
            print(f"  {error}", file=out)
            continue
        if response is not None and response.status_code != 200:
            print(f"  机器人回调返回 HTTP {response.status_code}：企业微信会认为投递失败并重试", file=out)
        if response is not None:
            _print_new_messages(emulator, seen, out, wait)


def _act(emulator: WeComEmulator, line: str, out: TextIO) -> requests.Response | None:
    if line.startswith("@"):
        userid, _, text = line[1:].partition(" ")
        if not text.strip():
            raise ValueError("要说什么？格式：@账号 文本")
        return emulator.member_says(userid, text.strip())
    words = shlex.split(line)
    if words[0] == ":file" and len(words) == 3 and words[1].startswith("@"):
        path = Path(words[2]).expanduser()
        return emulator.member_sends_file(words[1][1:], path.read_bytes(), path.name)
    if words[0] == ":click" and len(words) == 4 and words[1].startswith("@"):
        return emulator.member_clicks_card(words[1][1:], words[2], words[3])
    if words == [":verify"]:
        answer = emulator.verify_callback_url()
        verdict = "通过" if answer.status_code == 200 and answer.text == emulator.last_echo else "未通过"
        print(f"  回调 URL 验证{verdict}（HTTP {answer.status_code}，应答 {answer.text[:40]!r}）", file=out)
        return None
    raise ValueError("看不懂这一行；输入 :help 查看用法")


def _print_new_messages(emulator: WeComEmulator, seen: dict[str, int], out: TextIO, wait: float) -> None:
    """Poll the inboxes: the bot acknowledges the callback first and answers through the API a moment later."""
    deadline, last_news = time.monotonic() + wait, None
    while time.monotonic() < deadline:
        for userid, member in emulator.members.items():
            inbox = emulator.inbox(userid)
            for message in inbox[seen.get(userid, 0) :]:
                print(f"  → {userid}（{member['name']}）：{describe(emulator, message)}", file=out)
                last_news = time.monotonic()
            seen[userid] = len(inbox)
        if last_news is not None and time.monotonic() - last_news > QUIET_AFTER_REPLY:
            return
        time.sleep(0.05)
    if last_news is None:
        print("  （没有成员收到新消息）", file=out)


def describe(emulator: WeComEmulator, message: dict) -> str:
    """One line for a delivered message, as a member would roughly see it."""
    msgtype, body = message["msgtype"], message.get(message["msgtype"]) or {}
    if msgtype in ("text", "markdown"):
        return body.get("content") or ""
    if msgtype == "file":
        name, data = emulator.uploads.get(body.get("media_id"), ("?", b""))
        return f"[文件] {name}（{len(data)} 字节）"
    if msgtype == "template_card":
        title = (body.get("main_title") or {}).get("title", "")
        buttons = " ".join(f"[{b.get('text')}:{b.get('key')}]" for b in body.get("button_list") or [])
        return f"[卡片 {body.get('task_id')}] {title} {buttons}".rstrip()
    return f"[{msgtype}]"


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
