"""The demo organisation on the local DingTalk: every person a member with the DingTalk id dt_<account>, and the
bot's HTTP app served on loopback for the emulator's callbacks (shared by the DingTalk test modules)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import make_server

from bot.platforms.dingtalk.emulator import DingTalkEmulator
from bot.runtime import Runtime
from ledger_store.models import InboundMessage, Person, PlatformIdentity


def on_dingtalk(runtime: Runtime, emulator: DingTalkEmulator) -> None:
    """Every person of the organisation a member of the emulated DingTalk, tied to the id dt_<account>."""
    with runtime.factory.begin() as session:
        for person in session.scalars(select(Person)):
            session.add(PlatformIdentity(person_id=person.id, platform="dingtalk", user_id=f"dt_{person.account}"))
            emulator.add_member(f"dt_{person.account}", person.name)


def serve_app(app: Flask) -> tuple[str, Callable[[], None]]:
    """Serve the bot's app on a free loopback port in a daemon thread: its base URL, and how to stop it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server.shutdown


class Members:
    """What the members of a DingTalk test world received, and what the bot stored; for the worlds' dataclasses,
    which hold `emulator`, `runtime` and a `seen` dict."""

    emulator: DingTalkEmulator
    runtime: Runtime
    seen: dict[str, int]

    def take(self, account: str) -> list[dict]:
        """What `account` received since the last look: {"via": ..., "text": ...} and, for a card or a file, more."""
        inbox = self.emulator.inbox(f"dt_{account}")
        seen, self.seen[account] = self.seen.get(account, 0), len(inbox)
        return inbox[seen:]

    def stored(self) -> int:
        """How many messages the bot has stored (handled or not)."""
        with self.runtime.factory() as session:
            return session.scalar(select(func.count()).select_from(InboundMessage))
