"""What the platform emulators' consoles (fake-wecom, fake-dingtalk) share: starting on loopback with the
organisation's members, and the operator's typed lines."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

Handle = TypeVar("Handle")


def start_on_loopback(
    seed: Callable[[Path], None], serve: Callable[[int], Handle], org: Path, port: int
) -> Handle | None:
    """Seed the emulator's members from `org` and serve it on 127.0.0.1:`port`; None (said on stderr) when the
    organisation file cannot be read or the port cannot be taken."""
    try:
        seed(org)
    except (OSError, UnicodeDecodeError, KeyError) as error:
        print(f"无法读取通讯录 {org}：{error}", file=sys.stderr)
        return None
    try:
        return serve(port)
    except OSError as error:
        print(f"无法在 127.0.0.1:{port} 启动：{error.strerror}", file=sys.stderr)
        return None


def typed_lines() -> Iterator[str]:
    """Lines the operator types, until end of input."""
    while True:
        try:
            yield input("> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return
