"""The terminal chat simulator: speak as any person, see what everyone receives, replay scripts."""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from sqlalchemy import select

from bot.platforms.simulator import Received, SimulatorPlatform
from bot.runtime import Runtime
from handlers.core.masking import mask_sensitive
from handlers.core.messages import Incoming, Reply
from ledger_store.db import transaction
from ledger_store.models import Person
from ledger_store.org import SIMULATOR

SCRIPT_LINE = re.compile(r"^(?P<account>[A-Za-z0-9_.\-]+)\s*[:：]\s?(?P<text>.*)$")
BOT = "机器人"

USAGE = """用法：
  @账号 文本    以该账号身份发言（之后默认用这个账号）
  @账号         切换到该账号
  文本          以当前账号发言
  :人员         查看所有账号和角色
  :帮助         查看本说明
  :退出         结束（也可按 Ctrl-D）"""


class ChatSimulator:
    """Plays several people against one runtime and prints every message each of them receives."""

    def __init__(self, runtime: Runtime, platform: SimulatorPlatform, out: TextIO) -> None:
        self.runtime = runtime
        self.platform = platform
        self.out = out
        self.names = self._load_names()

    def say(self, account: str, text: str) -> list[Reply]:
        """Send `text` as `account`; print the direct replies and every push that followed."""
        self.names = self.names or self._load_names()
        # The transcript is a record other people read (and keep): a typed ID number or mobile is masked in it too.
        self.out.write(f"{self.label(account)} > {mask_sensitive(text)}\n")
        incoming = Incoming(SIMULATOR, account, text, message_id=uuid.uuid4().hex)
        replies = self.runtime.engine.receive(incoming)
        for reply in replies:
            self._print(f"{BOT} → {self.label(account)}", reply.text)
        self.runtime.deliver()
        for receiver, messages in self.platform.take_all().items():
            for message in messages:
                self._print_received(receiver, message)
        self.out.write("\n")
        return replies

    def label(self, account: str) -> str:
        """胡晓燕(hu_xiaoyan), or the bare account when nobody has it."""
        name = self.names.get(account)
        return f"{name}({account})" if name else account

    def people(self) -> str:
        """Every registered account with unit and roles, for :人员."""
        role_names = {"filler": "填报员", "reviewer": "审核员", "issuer": "发布员", "admin": "管理员"}
        with transaction(self.runtime.factory) as session:
            lines = []
            for person in session.scalars(select(Person).order_by(Person.id)):
                where = (
                    person.department.name if person.department else (person.org_unit.name if person.org_unit else "")
                )
                roles = "、".join(role_names.get(r.role, r.role) for r in person.roles)
                lines.append(f"  {person.account:<16} {person.name} {where} {roles}")
        return "\n".join(lines)

    def _load_names(self) -> dict[str, str]:
        with transaction(self.runtime.factory) as session:
            return {account: name for account, name in session.execute(select(Person.account, Person.name))}

    def _print_received(self, receiver: str, message: Received) -> None:
        if message.text:
            self._print(f"{BOT} 推送 → {self.label(receiver)}", message.text)
        if message.file_name:
            where = f"，已保存到 {message.file_path}" if message.file_path else ""
            self._print(f"{BOT} 文件 → {self.label(receiver)}", f"{message.file_name}{where}")

    def _print(self, header: str, body: str) -> None:
        self.out.write(f"  [{header}]\n")
        for line in body.splitlines() or [""]:
            self.out.write(f"    {line}\n")


def run_script(simulator: ChatSimulator, lines: Iterable[str]) -> int:
    """Replay lines of '账号: 文本'; blank lines and # comments are skipped. Returns the exit status."""
    status = 0
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parsed = SCRIPT_LINE.match(line)
        if parsed is None:
            simulator.out.write(f"第 {number} 行格式不对（应为“账号: 文本”），已跳过：{line}\n")
            status = 1
            continue
        simulator.say(parsed.group("account"), parsed.group("text").strip())
    return status


def run_interactive(simulator: ChatSimulator, account: str | None, stdin: TextIO = sys.stdin) -> None:
    """The terminal loop: read a line, speak as the current account, print what everybody gets."""
    current = account
    simulator.out.write(USAGE + "\n\n")
    while True:
        simulator.out.write(f"{simulator.label(current) if current else '（未选账号）'}> ")
        simulator.out.flush()
        line = stdin.readline()
        if not line:
            simulator.out.write("\n")
            return
        line = line.strip()
        if not line:
            continue
        if line in (":退出", ":quit", ":q", "：退出"):
            return
        if line in (":帮助", ":help", "：帮助"):
            simulator.out.write(USAGE + "\n")
            continue
        if line in (":人员", ":people", "：人员"):
            simulator.out.write(simulator.people() + "\n")
            continue
        if line.startswith("@"):
            who, _, text = line[1:].partition(" ")
            if who not in simulator.names:
                simulator.out.write(f"没有账号“{who}”，输入 :人员 查看所有账号。\n")
                continue
            current = who
            if not text.strip():
                simulator.out.write(f"已切换到 {simulator.label(current)}\n")
                continue
            line = text.strip()
        if current is None:
            simulator.out.write("请先用“@账号”选择要扮演的人，输入 :人员 查看账号。\n")
            continue
        simulator.say(current, line)


def script_lines(path: Path) -> list[str]:
    """Lines of a script file (UTF-8, BOM tolerated)."""
    return path.read_text(encoding="utf-8-sig").splitlines()
