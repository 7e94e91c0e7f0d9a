"""The dashboard in a real browser: Debian's Chromium, headless through chromedriver, against the bot served on
loopback. The one-time link from /看板, 进入看板, the task list, a task page, the CSV download, 催报, the spent link
and a phone-size page; screenshots are left in var/test-artefacts/browser/ (or $YBT_TEST_ARTEFACTS).

Outside CI the tests skip when chromium or chromedriver is not installed; with CI=true a missing browser fails."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from bot.app import create_app
from bot.config import Config, WebConfig
from bot.platforms.emulator_server import serve_on_loopback
from bot.platforms.simulator import SimulatorPlatform
from bot.runtime import build_runtime, load_demo_org
from ledger_store.models import OutboxMessage, Person
from tests.conftest import Dialogue

ROOT = Path(__file__).resolve().parent.parent
ARTEFACTS = Path(os.environ.get("YBT_TEST_ARTEFACTS") or ROOT / "var" / "test-artefacts") / "browser"
SPENT = "链接已用过或已过期，请在聊天里重新发送 /看板"
VILLAGE_FILLERS = {"zhang_dehua", "luo_xiuying", "chen_guoping"}
WAIT_SECONDS = 30  # an upper bound for a page or a download on a loaded machine, never a pause


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[tuple[webdriver.Chrome, Path]]:
    """Headless Chromium that saves downloads into a fresh folder; the folder comes with it."""
    binary, driver_binary = shutil.which("chromium"), shutil.which("chromedriver")
    if binary is None or driver_binary is None:
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver must be installed in CI (.ci/run installs them)")
        pytest.skip("chromium or chromedriver not installed (apt-get install chromium chromium-driver)")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = Options()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(argument)
    options.add_argument("--lang=zh-CN")
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads)})
    driver = webdriver.Chrome(service=Service(driver_binary), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver, downloads
    finally:
        driver.quit()


@pytest.fixture
def served(db, engine, clock, tmp_path: Path) -> Iterator[tuple[Dialogue, str]]:
    """The bot served on a loopback port, its public address that port, the demo organisation, and 区民政局's
    低保月报 (#1) to 朱沱镇's three villages; the chat and the base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = Config(web=WebConfig(public_url=base, secret_key="test-only-key"))
    platform = SimulatorPlatform(files_dir=tmp_path / "files")
    runtime = build_runtime(config, platform, clock=clock, database=engine)
    assert load_demo_org(runtime) is not None
    chat = Dialogue(runtime, platform, clock)
    assert "已发布《低保月报》（任务#1）" in chat.say(
        "li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 朱沱镇下辖 不审核"
    )
    server = serve_on_loopback(create_app(runtime), "dashboard-under-test", port=port)
    try:
        yield chat, base
    finally:
        server.shutdown()


def free_port() -> int:
    """A loopback port nobody listens on now (the bot's public address must name it before the app is built)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def page_text(driver: webdriver.Chrome) -> str:
    """What the page shows."""
    return driver.find_element(By.TAG_NAME, "body").text


def gone(old) -> Callable[[webdriver.Chrome], bool]:
    """Has the page `old` belongs to been replaced? Chromium answers a look at an element of a page being replaced
    either "stale element" or, at the wrong moment, "Node with given id does not belong to the document": both
    mean the same."""

    def replaced(_driver: webdriver.Chrome) -> bool:
        try:
            old.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" not in str(error):
                raise
            return True
        return False

    return replaced


def click(driver: webdriver.Chrome, how: str, what: str) -> None:
    """Click an element and wait until the page it leads to has loaded."""
    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(how, what).click()
    wait = WebDriverWait(driver, WAIT_SECONDS)
    wait.until(gone(old))
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")


def screenshot(driver: webdriver.Chrome, engine, name: str) -> Path:
    """Save a screenshot as a test artefact, named by the database under test so CI's three runs keep theirs."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{engine.dialect.name}-{name}.png"
    assert driver.save_screenshot(str(path)) and path.stat().st_size > 0
    return path


def downloaded(folder: Path) -> Path:
    """The one finished download in `folder`, once Chromium has written it whole."""

    def finished(_driver) -> Path | bool:
        files = list(folder.iterdir())
        done = [f for f in files if not f.name.endswith(".crdownload")]
        return done[0] if len(files) == 1 and done else False

    return WebDriverWait(None, WAIT_SECONDS).until(finished)


def test_a_department_signs_in_by_the_chat_link_downloads_and_reminds_in_chromium(served, chromium, engine):
    chat, base = served
    driver, downloads = chromium
    link = re.search(r"https?://\S+", chat.say("li_minzheng", "/看板")).group(0)
    assert link.startswith(base + "/dashboard/login?t=")

    driver.get(link)
    assert "进入看板" in driver.title and "这个链接只能用一次" in page_text(driver)
    screenshot(driver, engine, "1-link")
    click(driver, By.XPATH, "//button[text()='进入看板']")
    assert driver.current_url == base + "/dashboard/"
    assert "李敏正，您好" in page_text(driver) and "#1 低保月报" in page_text(driver)
    screenshot(driver, engine, "2-tasks")

    click(driver, By.LINK_TEXT, "#1 低保月报")
    assert driver.current_url == base + "/dashboard/tasks/1" and "朱沱镇" in page_text(driver)
    screenshot(driver, engine, "3-task")

    driver.find_element(By.LINK_TEXT, "下载进度 CSV").click()
    saved = downloaded(downloads)
    assert saved.suffix == ".csv"
    rows = list(csv.reader(io.StringIO(saved.read_bytes().decode("utf-8-sig"))))
    assert rows[0] == ["镇街", "单位", "填报人", "状态", "已等待"]
    assert sorted(row[2] for row in rows[1:]) == ["张德华", "罗秀英", "陈国平"]

    click(driver, By.XPATH, "//button[text()='催报未报单位']")
    assert driver.current_url == base + "/dashboard/tasks/1" and "已提醒3个未报单位" in page_text(driver)
    with chat.runtime.factory() as session:
        reminders = session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.like("remind:%"))).all()
        assert {session.get(Person, m.person_id).account for m in reminders} == VILLAGE_FILLERS
    screenshot(driver, engine, "4-reminded")

    driver.get(link)
    click(driver, By.XPATH, "//button[text()='进入看板']")
    assert SPENT in page_text(driver)
    screenshot(driver, engine, "5-spent")


def test_the_task_page_fits_a_phone_screen(served, chromium, engine):
    chat, base = served
    driver, _ = chromium
    driver.get(re.search(r"https?://\S+", chat.say("li_minzheng", "/看板")).group(0))
    click(driver, By.XPATH, "//button[text()='进入看板']")
    metrics = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    driver.get(base + "/dashboard/tasks/1")
    assert "催报未报单位" in page_text(driver)
    assert driver.execute_script("return window.innerWidth") == 390
    # Nothing wider than the screen: a wide table scrolls inside its own box, the page itself never sideways
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 390
    screenshot(driver, engine, "6-task-phone")
