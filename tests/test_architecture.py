"""The layers import only downwards: ledger_store knows nothing of ours, handlers know no platform or web."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "ledger_store": {"bot", "handlers", "scheduler", "tests", "flask", "wechatpy"},
    "handlers": {"bot", "scheduler", "tests", "flask", "wechatpy", "werkzeug", "requests"},
    "bot": {"tests"},
    "scheduler": {"tests"},
}


def imported_packages(path: Path) -> set[str]:
    """Top-level names of every module a file imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_respect_the_layers(package):
    offending = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {file: names for file, names in offending.items() if names} == {}


def test_web_workers_never_start_a_scheduler():
    # Only the two demos embed the timed work; the web app, its workers and serve do not.
    importing = sorted(
        str(path.relative_to(ROOT)) for path in (ROOT / "bot").rglob("*.py") if "scheduler" in imported_packages(path)
    )
    assert importing == ["bot/__main__.py", "bot/wecom_demo.py"]
    source = (ROOT / "bot" / "__main__.py").read_text(encoding="utf-8")
    serve = source[source.index("def serve(") : source.index("def fake_wecom(")]
    assert "TimedWork" not in serve and "background(" not in serve


# What only a platform's adapter knows: WeCom's error field and codes' home, its card type, its API host and paths.
PLATFORM_DETAILS = ("errcode", "template_card", "qyapi.weixin", "media/upload", "media/get", "message/send")


@pytest.mark.parametrize("package", ["handlers", "ledger_store"])
def test_platform_details_stay_in_their_adapters(package):
    found = {
        str(path.relative_to(ROOT)): [word for word in PLATFORM_DETAILS if word in path.read_text(encoding="utf-8")]
        for path in (ROOT / package).rglob("*.py")
    }
    assert {file: words for file, words in found.items() if words} == {}
