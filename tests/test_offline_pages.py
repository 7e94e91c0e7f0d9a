"""The dashboard works offline: no page loads a script, a style, a font or an image from another address (no CDN),
checked in every template under bot/ and in every page as a browser gets it; and the pages carry no JavaScript."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.app import create_app
from bot.config import Config, WebConfig
from bot.platforms.simulator import SimulatorPlatform
from bot.runtime import build_runtime, load_demo_org
from tests.conftest import Dialogue

BOT = Path(__file__).resolve().parent.parent / "bot"
# An address with a scheme or starting with // is another site's; a path on this site starts with / or a name.
ELSEWHERE = r"""\s*["']?\s*(?:[a-z][a-z0-9+.-]*:|//|\\\\)"""
LOADING_TAGS = "script|link|img|iframe|source|video|audio|embed|object"
EXTERNAL = (
    re.compile(rf"<(?:{LOADING_TAGS})\b[^>]*\b(?:src|href|data|srcset)={ELSEWHERE}", re.I),
    re.compile(rf"url\({ELSEWHERE}", re.I),
    re.compile(rf"@import\s+(?:url\()?{ELSEWHERE}", re.I),
)


@pytest.fixture
def site(db, engine, clock, tmp_path: Path) -> Dialogue:
    """The bot with a public dashboard address, the demo organisation and 区民政局's 低保月报 (#1)."""
    config = Config(web=WebConfig(public_url="https://ybt.example.gov.cn", secret_key="test-only-key"))
    platform = SimulatorPlatform(files_dir=tmp_path / "files")
    runtime = build_runtime(config, platform, clock=clock, database=engine)
    assert load_demo_org(runtime) is not None
    chat = Dialogue(runtime, platform, clock)
    assert "任务#1" in chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 朱沱镇下辖 不审核")
    return chat


def external_references(html: str) -> list[str]:
    """What in a page or template would be fetched from another site."""
    return [match.group(0) for pattern in EXTERNAL for match in pattern.finditer(html)]


def test_the_checker_catches_a_cdn_in_each_form():
    cdn = (
        '<script src="https://cdn.jsdelivr.net/npm/chart.js"></script>',
        "<link rel=stylesheet href=//unpkg.com/x.css>",
        '<img srcset="http://example.com/a.png 2x">',
        "<style>body { background: url('https://example.com/a.png') }</style>",
        '<style>@import "https://fonts.googleapis.com/css?family=Noto";</style>',
    )
    assert all(external_references(html) for html in cdn)
    local = '<link href="/static/app.css"><img src="logo.png"><style>@import "a.css";</style>'
    assert external_references(local + '<a href="https://www.gov.cn">a link is not loaded</a>') == []


def test_no_template_loads_anything_from_another_site_or_carries_a_script():
    templates = sorted(BOT.rglob("*.html"))
    assert templates
    for template in templates:
        html = template.read_text(encoding="utf-8")
        assert external_references(html) == [], template
        assert "<script" not in html.lower(), template


def test_no_page_a_browser_gets_loads_anything_from_another_site(site):
    client = create_app(site.runtime).test_client()
    pages = {"need_login": client.get("/dashboard/")}
    link = re.search(r"https://\S+", site.say("li_minzheng", "/看板")).group(0)
    path = link.removeprefix("https://ybt.example.gov.cn")
    pages["link"] = client.get(path)
    assert client.post("/dashboard/login", data={"t": path.split("t=", 1)[1]}).status_code == 303
    pages["tasks"] = client.get("/dashboard/")
    pages["task"] = client.get("/dashboard/tasks/1")
    pages["not_found"] = client.get("/dashboard/tasks/999")
    pages["spent"] = create_app(site.runtime).test_client().post("/dashboard/login", data={"t": "used"})
    assert [(name, page.status_code) for name, page in pages.items()] == [
        ("need_login", 401),
        ("link", 200),
        ("tasks", 200),
        ("task", 200),
        ("not_found", 404),
        ("spent", 410),
    ]
    for name, page in pages.items():
        html = page.get_data(as_text=True)
        assert "<html" in html and external_references(html) == [], name
        assert "<script" not in html.lower(), name
