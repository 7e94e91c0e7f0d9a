"""What the local platform emulators share: serving a Flask app on loopback only, a handle to stop it, and a file
made up while it is served (so a member can send gigabytes the emulator never holds)."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


@dataclass
class GeneratedFile:
    """A file of `size` bytes made up while it is served, so a member can send gigabytes the emulator never holds;
    `declared` False serves it without Content-Length (chunked), so only counting the bytes read can stop it.
    `served` counts the bytes handed to the server so far: what a download cost."""

    size: int
    declared: bool = True
    chunk: int = 64 * 1024
    served: int = 0

    def __len__(self) -> int:
        return self.size

    def chunks(self) -> Iterator[bytes]:
        """The content, a chunk of zeros at a time."""
        block = bytes(self.chunk)
        for start in range(0, self.size, self.chunk):
            piece = block[: min(self.chunk, self.size - start)]
            self.served += len(piece)
            yield piece


class QuietRequestHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """The emulators record their calls themselves; keep the terminal for the conversation."""


@dataclass
class ServerHandle:
    """A running emulator: the base URL to give the bot, and a way to stop it."""

    url: str
    server: BaseWSGIServer
    thread: threading.Thread

    def shutdown(self) -> None:
        """Stop serving and release the port."""
        self.server.shutdown()
        self.thread.join()
        self.server.server_close()


def serve_on_loopback(app: Flask, name: str, host: str = "127.0.0.1", port: int = 0) -> ServerHandle:
    """Serve `app` on a loopback address in a daemon thread named `name`; port 0 picks a free port. Any other
    address is refused: an emulator hands out tokens and plays members, and must never be reachable from outside."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"the {name} only listens on loopback addresses, not {host!r}")
    server = make_server(host, port, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name=name, daemon=True)
    thread.start()
    shown = f"[{host}]" if ":" in host else host
    return ServerHandle(f"http://{shown}:{server.port}", server, thread)
