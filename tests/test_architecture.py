"""The layers import only downwards: ledger_store knows nothing of ours, handlers know no platform or web,
scheduler uses bot's runtime but bot never uses scheduler, and only cli/ composes the two into commands.
Inside handlers/ the same holds between its packages, from texts and core up to commands and chat."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "ledger_store": {"bot", "handlers", "scheduler", "cli", "tests", "flask", "wechatpy"},
    "handlers": {"bot", "scheduler", "cli", "tests", "flask", "wechatpy", "werkzeug", "requests"},
    "bot": {"scheduler", "cli", "tests"},
    "scheduler": {"cli", "tests"},
    "cli": {"tests"},
}
# `python -m bot` and `python -m scheduler` must start in those packages; each only hands over to cli/.
LAUNCHERS = {"bot/__main__.py", "scheduler/__main__.py"}


def imported_modules(path: Path) -> set[str]:
    """Full names of every module a file imports (absolute imports only)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def imported_packages(path: Path) -> set[str]:
    """Top-level names of every module a file imports."""
    return {name.split(".")[0] for name in imported_modules(path)}


def source_files(package: str) -> list[Path]:
    """The package's Python files, its launcher aside."""
    return [path for path in (ROOT / package).rglob("*.py") if str(path.relative_to(ROOT)) not in LAUNCHERS]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_respect_the_layers(package):
    offending = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package])
        for path in source_files(package)
    }
    assert {file: names for file, names in offending.items() if names} == {}


@pytest.mark.parametrize("launcher", sorted(LAUNCHERS))
def test_the_launchers_only_hand_over_to_the_command_lines_in_cli(launcher):
    assert imported_packages(ROOT / launcher) <= {"sys", "cli"}


def test_nothing_imports_a_launcher():
    importing = sorted(
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if ".venv" not in path.parts and imported_modules(path) & {"bot.__main__", "scheduler.__main__"}
    )
    assert importing == []


def test_only_the_scheduler_process_and_the_demos_run_the_timed_work():
    # The web app, its workers and serve never start a scheduler: that is `python -m scheduler`'s job.
    timed = {"TimedWork", "background", "blocking", "timed_work"}
    running = set()
    for path in sorted((ROOT / "cli").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                names = {name.id for name in ast.walk(node) if isinstance(name, ast.Name)}
                if names & timed:
                    running.add(f"{path.relative_to(ROOT)}:{node.name}")
    assert running == {
        "cli/demos.py:timed_work",
        "cli/demos.py:run_chat_demo",
        "cli/demos.py:run_wecom_demo",
        "cli/demos.py:run_dingtalk_demo",
        "cli/scheduler_command.py:command_line",
    }


# What only a platform's adapter knows: WeCom's error field and codes' home, its card type, its API host and paths.
PLATFORM_DETAILS = ("errcode", "template_card", "qyapi.weixin", "media/upload", "media/get", "message/send")


@pytest.mark.parametrize("package", ["handlers", "ledger_store"])
def test_platform_details_stay_in_their_adapters(package):
    found = {
        str(path.relative_to(ROOT)): [word for word in PLATFORM_DETAILS if word in path.read_text(encoding="utf-8")]
        for path in (ROOT / package).rglob("*.py")
    }
    assert {file: words for file, words in found.items() if words} == {}


# handlers/ in layers, lowest first: a package imports only the packages before it. A new domain (审核 review/,
# 分析 analysis/) takes its place in this list: above what it reads, below commands/ and chat/ that call it.
HANDLER_LAYERS = ("texts", "core", "forms", "ledgers", "tasks", "review", "conversation", "commands", "chat")


def handler_packages_imported(path: Path) -> set[str]:
    """The handlers packages a file imports (`from handlers import x` names the package x)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "handlers":
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("handlers."):
            names.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            names.update(alias.name.split(".")[1] for alias in node.names if alias.name.startswith("handlers."))
    return names


def test_every_handler_module_lives_in_a_package_of_the_layers():
    packages = {path.name for path in (ROOT / "handlers").iterdir() if path.is_dir() and path.name != "__pycache__"}
    flat = sorted(path.name for path in (ROOT / "handlers").glob("*.py") if path.name != "__init__.py")
    assert (packages, flat) == (set(HANDLER_LAYERS), [])


@pytest.mark.parametrize("package", HANDLER_LAYERS)
def test_handler_packages_import_only_the_layers_below(package):
    below = set(HANDLER_LAYERS[: HANDLER_LAYERS.index(package)])
    offending = {
        str(path.relative_to(ROOT)): sorted(handler_packages_imported(path) - below - {package})
        for path in (ROOT / "handlers" / package).rglob("*.py")
    }
    assert {file: names for file, names in offending.items() if names} == {}
