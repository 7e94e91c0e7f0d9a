"""DingTalk Stream mode: the bot holds one websocket to DingTalk, stores each robot message and card click and
acknowledges it at once.

Built on the dingtalk-stream SDK's client, frame and handler classes, with its own run loop in a thread of its own
because the SDK's `start()` cannot be stopped, waits a fixed 10 s after any failure and reads a host fixed at import.
Here: frames are taken in arrival order and acknowledged once the message is stored (handling and replies follow in
the worker); blocking calls (HTTP, database) run in worker threads, never on the event loop; a connection with no
frame and no answered ping for `stream_idle_seconds` is dropped and reopened with capped, jittered exponential
backoff; DingTalk's `disconnect` frame reopens at once; a database lease lets one process of many hold the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import secrets
import socket
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

import requests
import websockets
from dingtalk_stream import AckMessage, CallbackHandler, CallbackMessage, ChatbotMessage, Credential, SystemMessage
from dingtalk_stream import DingTalkStreamClient as SdkClient

from bot.config import DingTalkConfig
from bot.platforms.api_calls import CallCounter, counted
from bot.platforms.dingtalk.api import CallMeter
from bot.platforms.dingtalk.cards import CARD_TOPIC, CardClick, CardClickError, card_click
from bot.platforms.dingtalk.inbound import InboundError, SessionWebhook, parse_inbound
from handlers.core.masking import mask_sensitive
from ledger_store.leases import acquire, release

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)
GATEWAY_PATH = "/v1.0/gateway/connections/open"
PING = "ping"  # the topic of DingTalk's SYSTEM keepalive frames
OPEN_TIMEOUT = 10.0


class GatewayRefused(Exception):
    """DingTalk would not open a Stream connection (wrong credentials, Stream not enabled, a server error)."""


class NotStored(Exception):
    """A robot message could not be stored; it is left unacknowledged, so DingTalk delivers it again."""


class StreamClient(SdkClient):
    """The SDK's client, opening its connection on the configured host (the SDK reads an env var at import)."""

    def __init__(
        self, config: DingTalkConfig, meter: CallMeter | None = None, counter: CallCounter | None = None
    ) -> None:
        super().__init__(Credential(config.app_key, config.app_secret), logger=logging.getLogger("dingtalk_stream"))
        self.gateway_url = config.api_base_url.rstrip("/") + GATEWAY_PATH
        self.meter, self.counter = meter, counter

    def open_connection(self) -> dict:
        """The endpoint and ticket for one connection; GatewayRefused or requests' error when there is none."""
        subscriptions = [{"type": "CALLBACK", "topic": topic} for topic in self.callback_handler_map]
        body = {"clientId": self.credential.client_id, "clientSecret": self.credential.client_secret,
                "subscriptions": subscriptions, "ua": "yibiaotong-bot", "localIp": ""}  # fmt: skip
        with counted(self.counter):  # an OpenAPI call like any other: in the totals, failed or not
            response = requests.post(self.gateway_url, json=body, timeout=OPEN_TIMEOUT)
            if self.meter is not None:  # and, answered, against the month's allowance
                self.meter.count(metered=True)
            if response.status_code != 200:
                raise GatewayRefused(f"HTTP {response.status_code}: {response.text[:200]}")
            answer = response.json()
            if not isinstance(answer.get("endpoint"), str) or not isinstance(answer.get("ticket"), str):
                raise GatewayRefused("no endpoint or ticket in the answer")
            return answer

    async def route_message(self, json_message: dict) -> str:
        """The SDK's routing, except that a frame it cannot read is acknowledged with an error, not dropped, and a
        message that could not be stored is not acknowledged at all."""
        try:
            if (
                json_message.get("type") == SystemMessage.TYPE
                and (json_message.get("headers") or {}).get("topic") == PING
            ):
                # DingTalk's keepalive: the SDK's system handler echoes the data back; the SDK would also log a warning
                ack = await self.system_handler.raw_process(SystemMessage.from_dict(json_message))
                await self.websocket.send(json.dumps(ack.to_dict()))
                return ""
            return await super().route_message(json_message)
        except NotStored:
            return ""
        except Exception as error:  # the SDK's from_dict on a broken frame: anything a bad body can raise
            message_id = (json_message.get("headers") or {}).get("messageId")
            log.warning("dingtalk stream frame %s unreadable: %s", message_id, mask_sensitive(repr(error)[:300]))
            if message_id:
                await self.websocket.send(json.dumps(error_ack(message_id).to_dict()))
            return ""


def error_ack(message_id: str) -> AckMessage:
    """The acknowledgement of a frame the bot cannot use: received, and refused as a bad request."""
    ack = AckMessage()
    ack.code, ack.message = AckMessage.STATUS_BAD_REQUEST, "malformed"
    ack.headers.message_id, ack.headers.content_type = message_id, "application/json"
    return ack


class RobotMessages(CallbackHandler):
    """The robot's messages: each is parsed and stored (in a worker thread) before the SDK acknowledges it."""

    def __init__(self, store: Callable[[Any], tuple[int, str]]) -> None:
        super().__init__()
        self.store = store

    async def process(self, message: CallbackMessage) -> tuple[int, str]:
        """Store the message; the SDK turns the answer into the frame's acknowledgement."""
        return await asyncio.to_thread(self.store, message.data)


class CardClicks(CallbackHandler):
    """Clicks on cards created with callbackType STREAM: each is stored (in a worker thread), then acknowledged, then
    followed up (in a worker thread) when it was new."""

    def __init__(
        self, store: Callable[[Any], tuple[int, CardClick | None]], follow_up: Callable[[CardClick], None]
    ) -> None:
        super().__init__()
        self.store, self.follow_up = store, follow_up

    async def raw_process(self, message: CallbackMessage) -> None:
        """Store the click and send its acknowledgement here, so that the follow-up starts only once it is sent."""
        code, click = await asyncio.to_thread(self.store, message.data)
        ack = click_ack(message.headers.message_id, code)
        await self.dingtalk_client.websocket.send(json.dumps(ack.to_dict()))
        if click is not None:
            # Not awaited: the next frame need not wait for DingTalk's card API; the executor keeps the work.
            asyncio.get_running_loop().run_in_executor(None, self.follow_up, click)


def click_ack(message_id: str, code: int) -> AckMessage:
    """A card click's acknowledgement. Its response may carry card data to show; it carries none, since the card is
    updated through the API once the click is known to be new."""
    ack = AckMessage()
    ack.code, ack.message = code, "OK" if code == AckMessage.STATUS_OK else "malformed"
    ack.headers.message_id, ack.headers.content_type = message_id, "application/json"
    ack.data = {"response": {}}
    return ack


class StreamRunner:
    """Holds the Stream connection while this process holds the lease; `start()` and `stop()` from any thread."""

    def __init__(
        self,
        runtime: Runtime,
        config: DingTalkConfig,
        remember_webhook: Callable[[SessionWebhook], None],
        stored: Callable[[], None],
        update_card: Callable[[CardClick], None],
        card_belongs: Callable[[CardClick], bool],
        meter: CallMeter | None = None,
        counter: CallCounter | None = None,
    ) -> None:
        self.runtime, self.config, self.remember_webhook, self.stored = runtime, config, remember_webhook, stored
        self.update_card, self.card_belongs = update_card, card_belongs
        self.lease_name = f"dingtalk-stream:{config.app_key}"
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.client = StreamClient(config, meter, counter)
        self.client.register_callback_handler(ChatbotMessage.TOPIC, RobotMessages(self.store))
        self.client.register_callback_handler(CARD_TOPIC, CardClicks(self.store_click, self.follow_up_click))
        self.connected = threading.Event()
        self.connections = 0  # opened so far
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._main: asyncio.Task | None = None
        self._started = threading.Event()

    # --- from other threads ---------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the runner's thread: it waits for the lease, then connects and keeps the connection up."""
        self._thread = threading.Thread(target=asyncio.run, args=(self._run(),), name="dingtalk-stream", daemon=True)
        self._thread.start()
        self._started.wait(10)

    def stop(self, timeout: float = 10.0) -> None:
        """Close the connection, give up the lease and end the thread; once stopped, nothing more happens."""
        if self._loop is not None and self._main is not None and self.running:
            with contextlib.suppress(RuntimeError):  # the loop ended between the look and the call
                self._loop.call_soon_threadsafe(self._main.cancel)
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        """True while the runner's thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    # --- a message ------------------------------------------------------------------------------------------------

    def store(self, body: Any) -> tuple[int, str]:
        """Parse and store one robot message (a repeated msgId is acknowledged and dropped); wake the worker."""
        engine = self.runtime.engine
        try:
            inbound = parse_inbound(body, self.config.webhook_base_url, engine.now())
        except InboundError as error:
            log.warning("dingtalk stream message malformed: %s", mask_sensitive(str(error)))
            return AckMessage.STATUS_BAD_REQUEST, "malformed"
        try:
            if inbound.webhook is not None:
                self.remember_webhook(inbound.webhook)  # before the message is stored, so its reply can find it
            accepted = engine.accept(inbound.incoming)
        except Exception as error:
            log.exception("dingtalk stream message %s not stored", inbound.incoming.message_id)
            raise NotStored(inbound.incoming.message_id) from error
        if accepted:
            self.stored()
        else:
            log.info("dingtalk message %s seen before, dropped", inbound.incoming.message_id)
        return AckMessage.STATUS_OK, "OK"

    def store_click(self, body: Any) -> tuple[int, CardClick | None]:
        """Parse and store one card click: the acknowledgement's code, and the click when it is new (a repeated
        click, DingTalk's redelivery, is acknowledged and dropped)."""
        try:
            click = card_click(body)
        except CardClickError as error:
            log.warning("dingtalk stream card click malformed: %s", mask_sensitive(str(error)))
            return AckMessage.STATUS_BAD_REQUEST, None
        if not self.card_belongs(click):
            log.warning(
                "dingtalk stream card click on card %s by someone it was not sent to, refused", click.out_track_id
            )
            return AckMessage.STATUS_BAD_REQUEST, None
        message_id = mask_sensitive(click.incoming.message_id)
        try:
            accepted = self.runtime.engine.accept(click.incoming)
        except Exception as error:
            log.exception("dingtalk stream card click %s not stored", message_id)
            raise NotStored(message_id) from error
        if not accepted:
            log.info("dingtalk card click %s seen before, dropped", message_id)
            return AckMessage.STATUS_OK, None
        return AckMessage.STATUS_OK, click

    def follow_up_click(self, click: CardClick) -> None:
        """After a new click's acknowledgement: show the choice on its card, then wake the worker; only logged when
        it fails (the click is stored: the worker finds it on its next round anyway)."""
        try:
            self.update_card(click)
        except Exception:
            log.exception("updating the clicked DingTalk card failed")
        finally:
            self.stored()

    # --- the loop -------------------------------------------------------------------------------------------------

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._main = asyncio.current_task()
        self._started.set()
        failures = 0
        try:
            while True:
                if not await asyncio.to_thread(self._take_lease):
                    await asyncio.sleep(self.config.stream_lease_seconds / 3)
                    continue
                try:
                    outcome = await self._hold_connection()
                    failures = 0
                    if outcome == SdkClient.TAG_DISCONNECT:
                        continue  # DingTalk asked us to go; what we did not acknowledge comes on the new connection
                except (OSError, requests.RequestException, websockets.WebSocketException, GatewayRefused) as error:
                    log.warning("dingtalk stream connection failed: %s", mask_sensitive(str(error)[:300]))
                    failures += 1
                except Exception:  # a surprise must not end the runner: the next attempt may well work
                    log.exception("dingtalk stream connection failed unexpectedly")
                    failures += 1
                await asyncio.sleep(self.backoff(failures))
        except asyncio.CancelledError:
            pass
        finally:
            self.connected.clear()
            self._give_up_lease()

    def backoff(self, failures: int) -> float:
        """Seconds to wait before reopening: the base after a connection that worked, doubling with each failure in
        a row up to the cap, each time somewhere in its upper half so that many bots do not return at once."""
        ceiling = min(self.config.stream_backoff_max_seconds, self.config.stream_backoff_seconds * 2**failures)
        return ceiling * (0.5 + random.random() / 2)

    async def _hold_connection(self) -> str:
        """One connection from opening to its end: TAG_DISCONNECT when DingTalk asked us to go, else ""."""
        answer = await asyncio.to_thread(self.client.open_connection)
        uri = f"{answer['endpoint']}?ticket={quote_plus(answer['ticket'])}"
        # The library pings every third of the idle time and gives up on a link whose pong is a third late, then
        # waits a third at most for the closing handshake: a silent link is dropped within the idle time.
        third = self.config.stream_idle_seconds / 3
        async with websockets.connect(uri, ping_interval=third, ping_timeout=third, close_timeout=third,
                                      open_timeout=OPEN_TIMEOUT) as websocket:  # fmt: skip
            self.client.websocket = websocket
            self.connections += 1
            self.connected.set()
            log.info("dingtalk stream connected (%s)", self.holder)
            renewing = asyncio.create_task(self._keep_lease(websocket))
            try:
                async for raw in websocket:
                    # One frame at a time: one person's messages are stored in the order DingTalk sent them.
                    if await self.client.route_message(frame_of(raw)) == SdkClient.TAG_DISCONNECT:
                        log.info("dingtalk stream: DingTalk asked to reconnect")
                        return SdkClient.TAG_DISCONNECT
            except websockets.ConnectionClosed as closed:
                log.warning("dingtalk stream connection lost: %s", closed)
            finally:
                renewing.cancel()
                self.connected.clear()
        return ""

    async def _keep_lease(self, websocket: websockets.ClientConnection) -> None:
        """Renew the lease while connected; close the connection if another process holds it now."""
        while True:
            await asyncio.sleep(self.config.stream_lease_seconds / 3)
            if not await asyncio.to_thread(self._take_lease):
                log.warning("dingtalk stream lease lost to another process; closing the connection")
                await websocket.close()
                return

    def _give_up_lease(self) -> None:
        try:
            release(self.runtime.factory, self.lease_name, self.holder, self.runtime.engine.now())
        except Exception:  # the lease then runs out by itself, and a standby takes over a little later
            log.exception("dingtalk stream lease could not be given up")

    def _take_lease(self) -> bool:
        ttl = timedelta(seconds=self.config.stream_lease_seconds)
        try:
            return acquire(self.runtime.factory, self.lease_name, self.holder, self.runtime.engine.now(), ttl)
        except Exception:
            log.exception("dingtalk stream lease could not be read")
            return False


def frame_of(raw: str | bytes) -> dict:
    """A frame's JSON; a frame that is not JSON becomes an empty one the SDK ignores."""
    try:
        frame = json.loads(raw)
    except ValueError:
        log.warning("dingtalk stream: a frame that is not JSON, ignored")
        return {}
    return frame if isinstance(frame, dict) else {}


def stream_runner(runtime: Runtime, stored: Callable[[], None]) -> StreamRunner | None:
    """The Stream runner when the DingTalk app is configured in stream mode (not started), else None."""
    platform = runtime.platforms.get("dingtalk")
    config: DingTalkConfig | None = getattr(platform, "config", None)
    if config is None or config.mode != "stream":
        return None
    return StreamRunner(
        runtime,
        config,
        platform.remember_webhook,  # type: ignore[union-attr]
        stored,
        platform.update_clicked_card,  # type: ignore[union-attr]
        platform.card_belongs,  # type: ignore[union-attr]
        platform.client.meter,  # type: ignore[union-attr]
        platform.client.counter,  # type: ignore[union-attr]
    )
