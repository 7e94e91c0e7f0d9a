"""The emulator's Stream gateway: a websocket server on loopback that pushes robot messages as DingTalk's frames,
pings (websocket pings and SYSTEM `ping` frames), redelivers what was not acknowledged in time, and can say
`disconnect` or go silent, for tests to look at.

It runs its own event loop in one thread; every public method may be called from any other thread.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

GATEWAY_PATH = "/v1.0/gateway/connections/open"
ROBOT_TOPIC = "/v1.0/im/bot/messages/get"
SYSTEM_PREFIX = "system-"  # the messageIds of the gateway's SYSTEM frames
# How often the gateway looks for frames to send or send again (seconds).
TICK = 0.02


@dataclass
class Pending:
    """A frame waiting for its acknowledgement, and when it last went out (None: not yet)."""

    text: str
    sent_at: float | None = None


class StreamGateway:
    """DingTalk's Stream side for one app: tickets, connections, frames in flight and the acknowledgements."""

    def __init__(self, app_key: str, redeliver_after: float = 60.0, ping_interval: float = 20.0) -> None:
        self.app_key, self.redeliver_after, self.ping_interval = app_key, redeliver_after, ping_interval
        self.url = ""  # ws://host:port once started
        self.acks: list[dict] = []
        self.opened = 0  # connections accepted so far
        self.sent: list[str] = []  # messageIds in the order they went out, redeliveries included
        self.first_sent: dict[str, float] = {}  # messageId -> time.monotonic() it first went out
        self._tickets: set[str] = set()
        self._pending: dict[str, Pending] = {}
        self._live: list[ServerConnection] = []  # may get frames: neither told to go nor gone silent
        self._silent: list[ServerConnection] = []
        self._acks_to_lose = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # --- running --------------------------------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1") -> str:
        """Listen on a free loopback port in a thread of its own; the ws:// URL the gateway hands out."""
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(host, ready), name="dingtalk-gateway", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self.url

    def stop(self) -> None:
        """Close every connection and the server, and end the thread."""
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._shutdown.set)
            self._thread.join(10)

    def _run(self, host: str, ready: threading.Event) -> None:
        asyncio.run(self._main(host, ready))

    async def _main(self, host: str, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._shutdown = asyncio.Event()
        # Pings are the gateway's own (see _keepalive), so that a silent connection stops sending them too.
        async with serve(self._connection, host, 0, ping_interval=None, close_timeout=1) as server:
            port = server.sockets[0].getsockname()[1]
            self.url = f"ws://{host}:{port}/connect"
            ready.set()
            ticker = asyncio.create_task(self._tick())
            await self._shutdown.wait()
            ticker.cancel()
            for connection in list(self._silent):
                connection.transport.abort()

    # --- what tests and the emulator do ---------------------------------------------------------------------------

    def ticket(self) -> str:
        """A one-use ticket for the next connection (what /v1.0/gateway/connections/open returns)."""
        ticket = secrets.token_urlsafe(16)
        with self._lock:
            self._tickets.add(ticket)
        return ticket

    def push(self, body: dict, topic: str = ROBOT_TOPIC) -> str:
        """Queue a CALLBACK frame carrying `body`; it goes out on a live connection. Its messageId."""
        message_id = f"stream-{next(self._ids):06d}"
        frame = {
            "specVersion": "1.0",
            "type": "CALLBACK",
            "headers": {
                "appId": self.app_key,
                "contentType": "application/json",
                "messageId": message_id,
                "topic": topic,
                "time": str(int(time.time() * 1000)),
            },
            "data": json.dumps(body, ensure_ascii=False),
        }
        return self.push_frame(message_id, json.dumps(frame, ensure_ascii=False))

    def push_frame(self, message_id: str, text: str) -> str:
        """Queue a frame exactly as given (a test's broken one, say)."""
        with self._lock:
            self._pending[message_id] = Pending(text)
        return message_id

    def disconnect(self) -> None:
        """Send the SYSTEM `disconnect` frame on every live connection; nothing more goes to them."""
        frame = self._system_frame("disconnect", {"reason": "server is restarting"})
        with self._lock:
            leaving, self._live = self._live, []
        for connection in leaving:
            self._call(connection.send(frame))

    def _system_frame(self, topic: str, data: dict) -> str:
        message_id = f"{SYSTEM_PREFIX}{next(self._ids):06d}"
        headers = {"contentType": "application/json", "messageId": message_id, "topic": topic,
                   "time": str(int(time.time() * 1000))}  # fmt: skip
        return json.dumps({"specVersion": "1.0", "type": "SYSTEM", "headers": headers, "data": json.dumps(data)})

    def lose_acks(self, count: int) -> None:
        """The next `count` acknowledgements of messages (not of pings) get lost on the way: their frames go out
        again after redeliver_after."""
        with self._lock:
            self._acks_to_lose += count

    def go_silent(self) -> None:
        """Stop reading from, writing to and pinging every live connection, without closing it (a dead link)."""
        with self._lock:
            quiet, self._live = self._live, []
            self._silent.extend(quiet)
        for connection in quiet:
            self._loop.call_soon_threadsafe(connection.transport.pause_reading)  # type: ignore[union-attr]

    def connections(self) -> int:
        """Connections that may get frames now."""
        with self._lock:
            return len(self._live)

    def acked(self, message_id: str) -> list[int]:
        """The codes of every acknowledgement of one frame, in order."""
        with self._lock:
            return [ack["code"] for ack in self.acks if ack["messageId"] == message_id]

    def unacked(self) -> int:
        """Frames still waiting for an acknowledgement."""
        with self._lock:
            return len(self._pending)

    def _call(self, coroutine) -> None:
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    # --- inside the loop ------------------------------------------------------------------------------------------

    async def _connection(self, connection: ServerConnection) -> None:
        ticket = parse_qs(urlsplit(connection.request.path).query).get("ticket", [""])[0]  # type: ignore[union-attr]
        with self._lock:
            known = ticket in self._tickets
            self._tickets.discard(ticket)
            if known:
                self._live.append(connection)
                self.opened += 1
        if not known:
            await connection.close(1008, "invalid ticket")
            return
        keepalive = asyncio.create_task(self._keepalive(connection))
        try:
            async for raw in connection:
                self._record_ack(raw)
        except ConnectionClosed:
            pass
        finally:
            keepalive.cancel()
            with self._lock:
                for group in (self._live, self._silent):
                    if connection in group:
                        group.remove(connection)

    async def _keepalive(self, connection: ServerConnection) -> None:
        while True:
            await asyncio.sleep(self.ping_interval)
            with self._lock:
                if connection not in self._live:
                    continue
            try:
                await connection.ping()  # the websocket's own ping, and DingTalk's SYSTEM ping frame to acknowledge
                await connection.send(self._system_frame("ping", {"opaque": secrets.token_hex(4)}))
            except ConnectionClosed:
                return

    def _record_ack(self, raw: str | bytes) -> None:
        try:
            ack = json.loads(raw)
            message_id = ack["headers"]["messageId"]
        except (ValueError, KeyError, TypeError):
            return
        with self._lock:
            if self._acks_to_lose and not message_id.startswith(SYSTEM_PREFIX):
                self._acks_to_lose -= 1
                return
            self.acks.append({"messageId": message_id, "code": ack.get("code"), "message": ack.get("message"),
                              "data": ack.get("data"), "at": time.monotonic()})  # fmt: skip
            self._pending.pop(message_id, None)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            now = time.monotonic()
            with self._lock:
                if not self._live:
                    continue
                due = [
                    (message_id, pending)
                    for message_id, pending in self._pending.items()
                    if pending.sent_at is None or now - pending.sent_at >= self.redeliver_after
                ]
                connection = self._live[-1]
                for message_id, pending in due:
                    pending.sent_at = now
                    self.sent.append(message_id)
                    self.first_sent.setdefault(message_id, now)
            for _, pending in due:
                try:
                    await connection.send(pending.text)
                except ConnectionClosed:
                    pending.sent_at = None  # it goes out again on the next live connection
