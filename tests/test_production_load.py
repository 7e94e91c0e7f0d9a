"""Exactly once under load, as production runs: 4 gunicorn web workers, 2 `python -m bot worker` processes and
2 `python -m scheduler` processes (one leads, one waits) on PostgreSQL, while 50 people write at once.

Each of 50 new 村 fillers writes from a thread of their own, one message after another, about 36 messages each,
and WeCom sends about one in ten again with the same MsgId: at once beside the first post, right after it, or after
the person's next message. Meanwhile a task with a deadline inside the test is issued to all of them, so the
leading scheduler reminds each of them at the deadline while the replies flow. Every reply tells which message
it answers (an unknown command is echoed, 帮助 is answered with the help), so a person's inbox shows both that
each message was answered once and that the answers came in the order of the messages. WeCom's limit of 30
pushes a member a minute holds the last few answers of each person back for a minute, so the test also shows
that a held answer is not overtaken by a later one; that minute is most of the test's two minutes.
"""

from __future__ import annotations

import os
import random
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import func, select

from ledger_store.models import InboundMessage, InboundStatus, OutboxMessage, Person
from ledger_store.org_import import import_org
from tests.conftest import URL_VARIABLE
from tests.test_production import Processes, deployment_environ, eventually, free_port, gunicorn_present, healthy

pytestmark = pytest.mark.skipif(
    not os.environ.get(URL_VARIABLE, "").startswith("postgresql"),
    reason=f"the load test runs real processes on PostgreSQL only: set {URL_VARIABLE}=postgresql+psycopg://...",
)

SENDERS = 50
CALLBACKS = 2000
RESENT_SHARE = 0.1
HELP_SHARE = 0.15
DEADLINE_AFTER = timedelta(seconds=45)  # the reminders fall due while the messages are still coming in
SETTLE_SECONDS = 150
# Ticks every second; a leader slowed down by the load keeps its lease for 10 s without renewing it.
MORE_CONFIG = """
[scheduler]
tick_seconds = 1
deliver_seconds = 1
lease_seconds = 10
quiet_start = "00:00"
quiet_end = "00:00"
"""
ECHO = re.compile(r"没有“(/[^”]+)”这个命令")
TASK = "《残疾人两项补贴情况》"
REMINDER = "提醒：" + TASK


def load_org(world, folder: Path) -> list[str]:
    """A town of 50 villages, each with a filler on WeCom; returns their accounts."""
    accounts = [f"load_{n:02d}" for n in range(1, SENDERS + 1)]
    rows = ["单位,上级单位,层级,姓名,账号,角色,手机号,企业微信账号,钉钉账号", "压测镇,永川区,镇,,,,,,"]
    rows += [f"压测{n:02d}村,压测镇,村,压测员{n:02d},{a},填报员,,{a}," for n, a in enumerate(accounts, start=1)]
    path = folder / "load_org.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with world.runtime.factory.begin() as session:
        assert import_org(session, path).errors == []
    for n, account in enumerate(accounts, start=1):
        world.emulator.add_member(account, f"压测员{n:02d}")
    return accounts


@dataclass
class Script:
    """What one person says, in order, and which of their messages WeCom sends again and how."""

    account: str
    texts: list[str]
    resend: dict[int, str] = field(default_factory=dict)  # index -> "together" | "after" | "later"


def scripts(accounts: list[str], rng: random.Random) -> list[Script]:
    """Messages for every person such that, with the resends, CALLBACKS callbacks are posted in all."""
    resends = round(CALLBACKS * RESENT_SHARE)
    distinct = CALLBACKS - resends
    made = []
    for n, account in enumerate(accounts):
        count = distinct // SENDERS + (n < distinct % SENDERS)
        texts = ["帮助" if rng.random() < HELP_SHARE else f"/压测{n + 1:02d}之{i + 1:02d}" for i in range(count)]
        made.append(Script(account, texts))
    chosen = rng.sample([(s, i) for s in made for i in range(len(s.texts))], resends)
    for script, index in chosen:
        script.resend[index] = rng.choice(("together", "after", "later"))
    return made


class Sender:
    """Posts one person's messages one after another, as WeCom does; a callback not acknowledged in time is sent
    again with its MsgId, as WeCom retries."""

    def __init__(self, world, script: Script, start: threading.Barrier) -> None:
        self.world, self.script, self.start = world, script, start
        self.posts: list[str] = []  # the MsgId of every callback posted, resends and retries included
        self.problems: list[str] = []

    def post(self, text: str, msg_id: str) -> None:
        for _ in range(3):
            self.posts.append(msg_id)
            try:
                response = self.world.emulator.member_says(self.script.account, text, msg_id=msg_id)
            except requests.RequestException:
                continue  # WeCom got no answer in 5 seconds: it sends the message again
            if response.status_code == 200 and response.text == "":
                return
            self.problems.append(f"{msg_id}: {response.status_code} {response.text[:200]}")
            return
        self.problems.append(f"{msg_id}: no answer after three tries")

    def run(self) -> None:
        self.start.wait()
        later: tuple[str, str] | None = None
        for index, text in enumerate(self.script.texts):
            msg_id = f"{self.script.account}-{index:03d}"
            how = self.script.resend.get(index)
            if how == "together":
                twin = threading.Thread(target=self.post, args=(text, msg_id))
                twin.start()
                self.post(text, msg_id)
                twin.join()
            else:
                self.post(text, msg_id)
            if how == "after":
                self.post(text, msg_id)
            if later is not None:
                self.post(*later)
                later = None
            if how == "later":
                later = (text, msg_id)
        if later is not None:
            self.post(*later)


def answers(texts: list[str]) -> tuple[list[str], list[str], list[str]]:
    """A person's inbox read as (the answers in order, the reminders, anything else besides the task's push)."""
    answered, reminded, other = [], [], []
    for text in texts:
        echoed = ECHO.search(text)
        if echoed:
            answered.append(echoed.group(1))
        elif "可以使用" in text:
            answered.append("帮助")
        elif text.startswith(REMINDER):
            reminded.append(text)
        elif "发布了" + TASK not in text:
            other.append(text)
    return answered, reminded, other


def texts_of(world, account: str) -> list[str]:
    return [m["text"]["content"] for m in world.emulator.inbox(account) if m["msgtype"] == "text"]


def pushes_sent(world, account: str, prefix: str) -> int:
    """How many message/send calls carried a text starting with `prefix` to `account` (repeats included)."""
    return sum(
        1
        for body in list(world.emulator.sent)
        if body.get("msgtype") == "text"
        and body["text"]["content"].startswith(prefix)
        and account in body.get("touser", "").split("|")
    )


def progress_report(world, plan: list[Script]) -> str:
    """Who still waits for answers or a reminder, for the message of a test that timed out."""
    lines = []
    for script in plan:
        answered, reminded, other = answers(texts_of(world, script.account))
        if len(answered) < len(script.texts) or not reminded or other:
            lines.append(f"{script.account}: {len(answered)}/{len(script.texts)} answered, {len(reminded)} reminders")
    return "\n".join(lines)


@pytest.fixture
def production(world, engine, tmp_path):
    """Processes as deploy/ lays them out, ticking every second, with no quiet hours (the test may run at night)."""
    gunicorn_present()
    processes = Processes(tmp_path, deployment_environ(world, engine, tmp_path, MORE_CONFIG))
    yield processes
    processes.kill_the_rest()


def test_two_thousand_callbacks_from_fifty_people_are_each_answered_once_in_order_and_reminded_once(
    world, db, production, tmp_path
):
    began = time.monotonic()
    accounts = load_org(world, tmp_path)
    rng = random.Random(15)
    plan = scripts(accounts, rng)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = production.environ["YBT_CONFIG"]
    web = production.start(
        "gunicorn", "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
        "--workers", "4", "bot.wsgi:create_app()",
    )  # fmt: skip
    for n in (1, 2):
        production.start(f"worker-{n}", "-m", "bot", "worker", "--poll-seconds", "0.2", "--config", config)
        production.start(f"scheduler-{n}", "-m", "scheduler", "--config", config)
    assert eventually(lambda: healthy(url) or web.poll() is not None, 60) and web.poll() is None, production.output()
    world.emulator.settings.callback_url = f"{url}/wecom/callback"

    local_now = datetime.now(ZoneInfo("Asia/Shanghai"))
    deadline = (local_now + DEADLINE_AFTER).replace(microsecond=0)
    villages = " ".join(f"压测{n:02d}村" for n in range(1, SENDERS + 1))
    world.write("wang_canlian", f"/发布 残疾人两项补贴情况 截止 {deadline:%Y年%m月%d日%H:%M:%S} 范围 {villages} 不审核")
    assert eventually(lambda: world.emulator.inbox("wang_canlian"), 30), production.output()
    assert "已发布" + TASK in world.texts("wang_canlian")[0]

    start = threading.Barrier(SENDERS)
    senders = [Sender(world, script, start) for script in plan]
    threads = [threading.Thread(target=sender.run) for sender in senders]
    loaded = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    load_seconds = time.monotonic() - loaded
    assert not any(thread.is_alive() for thread in threads)
    assert [p for s in senders for p in s.problems] == []
    posted = sum(len(sender.posts) for sender in senders)
    distinct = sum(len(script.texts) for script in plan)
    assert posted >= CALLBACKS

    def settled() -> bool:
        return all(
            len(answers(texts_of(world, s.account))[0]) >= len(s.texts) and answers(texts_of(world, s.account))[1]
            for s in plan
        )

    assert eventually(settled, SETTLE_SECONDS), progress_report(world, plan)
    time.sleep(2.0)  # time for a second answer or reminder, were there one
    settled_seconds = time.monotonic() - loaded

    for script in plan:
        answered, reminded, other = answers(texts_of(world, script.account))
        assert answered == script.texts, script.account
        assert len(reminded) == 1 and other == [], script.account
        assert pushes_sent(world, script.account, REMINDER) == 1, script.account
    with db() as session:
        statuses = dict(
            session.execute(select(InboundMessage.status, func.count()).group_by(InboundMessage.status)).all()
        )
        keys = session.scalars(select(InboundMessage.message_key)).all()
        repeated_keys = session.execute(
            select(OutboxMessage.person_id, OutboxMessage.dedupe_key, func.count())
            .group_by(OutboxMessage.person_id, OutboxMessage.dedupe_key)
            .having(func.count() > 1)
        ).all()
        load_people = set(session.scalars(select(Person.id).where(Person.account.in_(accounts))))
        reminder_rows = session.scalars(
            select(OutboxMessage.person_id).where(OutboxMessage.text.startswith(REMINDER))
        ).all()
    assert statuses == {InboundStatus.DONE: distinct + 1}  # and the /发布
    assert len(keys) == len(set(keys))
    assert repeated_keys == []
    assert sorted(reminder_rows) == sorted(load_people)
    print(
        f"\n{posted} callbacks ({distinct} messages) from {SENDERS} people posted in {load_seconds:.1f} s; "
        f"all answered and reminded {settled_seconds:.1f} s after the load began; "
        f"{time.monotonic() - began:.1f} s in all"
    )
