"""The department dashboard (/看板) in the browser: one-time links, sessions, each page as every role and as nobody,
CSRF, the 催报 button, the CSV download and a paged tree of many units (Flask test client, real database)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.app import create_app
from bot.config import Config, ConfigError, WebConfig, load_config
from bot.platforms.simulator import SimulatorPlatform
from bot.runtime import build_runtime, load_demo_org
from ledger_store.db import transaction
from ledger_store.login_links import create_link
from ledger_store.models import Assignment, AuditEntry, LoginLink, OrgUnit, OutboxMessage, Person, ReportTask
from tests.conftest import Dialogue

PUBLIC_URL = "https://ybt.example.gov.cn"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
NEED_LOGIN = "请在聊天里发送 /看板"
SPENT = "链接已用过或已过期，请在聊天里重新发送 /看板"


@pytest.fixture
def site(db, engine, clock, tmp_path: Path):
    """The bot with a public dashboard address, the demo organisation, and 区民政局's 低保月报 (#1) to 朱沱镇's three
    villages."""
    config = Config(web=WebConfig(public_url=PUBLIC_URL, secret_key="test-only-key"))
    platform = SimulatorPlatform(files_dir=tmp_path / "files")
    runtime = build_runtime(config, platform, clock=clock, database=engine)
    assert load_demo_org(runtime) is not None
    chat = Dialogue(runtime, platform, clock)
    issued = chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 朱沱镇下辖 不审核")
    assert "已发布《低保月报》（任务#1）" in issued
    chat.pushes("zhang_dehua"), chat.pushes("luo_xiuying"), chat.pushes("chen_guoping")
    return chat


def browser(chat: Dialogue):
    """A fresh browser (cookie jar) on the bot's web app."""
    return create_app(chat.runtime).test_client()


def link_from_chat(chat: Dialogue, account: str) -> str:
    """The path and query of the link /看板 answers with."""
    reply = chat.say(account, "/看板")
    url = re.search(r"https://\S+", reply).group(0)
    assert url.startswith(PUBLIC_URL + "/dashboard/login?t=")
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def token_of(path: str) -> str:
    """The token in a login link's query."""
    return path.split("t=", 1)[1]


def signed_in(chat: Dialogue, account: str):
    """A browser signed in as the person, by a link stored for them (fillers and reviewers get none from /看板)."""
    with transaction(chat.runtime.factory) as session:
        person = session.scalar(select(Person).where(Person.account == account))
        token = create_link(session, person.id, chat.runtime.engine.now(), 10)
    client = browser(chat)
    assert client.post("/dashboard/login", data={"t": token}).status_code == 303
    return client


def csrf_of(client, path: str = "/dashboard/tasks/1") -> str:
    """The CSRF token in the forms of a page."""
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def reminders(chat: Dialogue) -> list[OutboxMessage]:
    """The reminder pushes in the outbox (催报 keys them remind:<assignment>:manual-<minute>)."""
    with chat.runtime.factory() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.like("remind:%"))))


# The link


def test_the_chat_link_opens_a_session_once(site):
    path = link_from_chat(site, "li_minzheng")
    client = browser(site)
    page = client.get(path)
    assert page.status_code == 200 and "进入看板" in page.get_data(as_text=True)  # a preview fetching it uses nothing
    signed = client.post("/dashboard/login", data={"t": token_of(path)})
    assert signed.status_code == 303 and signed.headers["Location"].endswith("/dashboard/")
    assert "低保月报" in client.get("/dashboard/").get_data(as_text=True)
    again = browser(site).post("/dashboard/login", data={"t": token_of(path)})
    assert again.status_code == 410 and SPENT in again.get_data(as_text=True)


def test_a_link_opened_too_late_says_what_to_do(site, clock):
    path = link_from_chat(site, "li_minzheng")
    clock.advance(minutes=11)
    late = browser(site).post("/dashboard/login", data={"t": token_of(path)})
    assert late.status_code == 410 and SPENT in late.get_data(as_text=True)
    forged = browser(site).post("/dashboard/login", data={"t": "not-a-token"})
    assert forged.status_code == 410


def test_only_the_token_hash_is_stored(site):
    token = token_of(link_from_chat(site, "li_minzheng"))
    with site.runtime.factory() as session:
        hashes = list(session.scalars(select(LoginLink.token_hash)))
    assert token not in hashes and len(hashes) == 1 and len(hashes[0]) == 64


def test_the_session_cookie_is_httponly_lax_secure_and_expires(site, clock):
    client = browser(site)
    path = link_from_chat(site, "li_minzheng")
    cookie = client.post("/dashboard/login", data={"t": token_of(path)}).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie and "Expires=" in cookie
    clock.advance(hours=8, minutes=1)
    assert client.get("/dashboard/").status_code == 401


def test_without_a_public_address_the_command_says_it_is_not_set_up(chat):
    assert chat.say("li_minzheng", "/看板") == "看板还没有开通：管理员尚未配置看板网址。"


def test_fillers_and_reviewers_get_no_link(site):
    assert "需要发布员权限" in site.say("zhang_dehua", "/看板")
    assert "需要发布员权限" in site.say("zhou_jianguo", "/看板")


# Each page as every role and as nobody


PAGES = ("/dashboard/tasks/1", "/dashboard/tasks/1/progress.csv", "/dashboard/tasks/1/summary.xlsx")


def test_the_owning_department_sees_its_task_counts_and_every_page(site):
    client = signed_in(site, "li_minzheng")
    listing = client.get("/dashboard/").get_data(as_text=True)
    assert "#1 低保月报" in listing
    assert re.search(r"低保月报</a></td>\s*<td class=\"n\">3</td>(\s*<td class=\"n\">0</td>){4}", listing)
    for path in PAGES:
        assert client.get(path).status_code == 200, path
    page = client.get("/dashboard/tasks/1").get_data(as_text=True)
    assert "朱沱镇/松林村" in page and "张德华" in page and "未开始" in page and "下载汇总表" in page
    workbook = load_workbook(io.BytesIO(client.get("/dashboard/tasks/1/summary.xlsx").data))
    assert workbook.sheetnames


@pytest.mark.parametrize("account", ["wang_canlian", "zhang_dehua", "zhou_jianguo"])
def test_other_departments_fillers_and_reviewers_find_no_task(site, account):
    client = signed_in(site, account)
    assert "低保月报" not in client.get("/dashboard/").get_data(as_text=True)
    for path in PAGES:
        assert client.get(path).status_code == 404, path
    missing = client.get("/dashboard/tasks/99")  # the same answer as for a task that exists
    assert missing.status_code == 404 and missing.get_data() == client.get("/dashboard/tasks/1").get_data()
    assert "没有这个任务，或者您无权查看" in missing.get_data(as_text=True)


def test_fillers_and_reviewers_are_told_the_dashboard_is_not_theirs(site):
    assert "只给发布员和管理员使用" in signed_in(site, "zhang_dehua").get("/dashboard/").get_data(as_text=True)
    assert "只给发布员和管理员使用" not in signed_in(site, "li_minzheng").get("/dashboard/").get_data(as_text=True)


def test_an_admin_sees_every_task_but_not_another_departments_workbook(site):
    client = signed_in(site, "admin")
    assert "#1 低保月报" in client.get("/dashboard/").get_data(as_text=True)
    assert client.get("/dashboard/tasks/1").status_code == 200
    assert client.get("/dashboard/tasks/1/progress.csv").status_code == 200
    assert "下载汇总表" not in client.get("/dashboard/tasks/1").get_data(as_text=True)
    assert client.get("/dashboard/tasks/1/summary.xlsx").status_code == 404


def test_nobody_signed_in_is_sent_to_chat(site):
    client = browser(site)
    for path in ("/dashboard/", *PAGES):
        answer = client.get(path)
        assert answer.status_code == 401 and NEED_LOGIN in answer.get_data(as_text=True), path
    assert client.post("/dashboard/tasks/1/remind", data={"csrf": "x"}).status_code == 401
    assert reminders(site) == []


# 催报 and CSRF


def test_remind_without_or_with_a_wrong_csrf_token_is_refused_and_sends_nothing(site):
    client = signed_in(site, "li_minzheng")
    assert client.post("/dashboard/tasks/1/remind").status_code == 400
    assert client.post("/dashboard/tasks/1/remind", data={"csrf": "wrong"}).status_code == 400
    other = signed_in(site, "li_minzheng")
    assert client.post("/dashboard/tasks/1/remind", data={"csrf": csrf_of(other)}).status_code == 400
    assert client.post("/dashboard/logout").status_code == 400
    assert reminders(site) == []


def test_the_remind_button_reaches_the_unanswered_once_a_minute_and_is_audited(site, clock):
    client = signed_in(site, "li_minzheng")
    token = csrf_of(client)
    pressed = client.post("/dashboard/tasks/1/remind", data={"csrf": token}, follow_redirects=True)
    assert "已提醒3个未报单位" in pressed.get_data(as_text=True)
    with site.runtime.factory() as session:
        fillers = {session.get(Person, m.person_id).account for m in reminders(site)}
        audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "remind")).all()
    assert fillers == {"zhang_dehua", "luo_xiuying", "chen_guoping"}
    assert [(entry.entity, entry.entity_id, entry.new) for entry in audited] == [("report_task", "1", {"units": 3})]
    again = client.post("/dashboard/tasks/1/remind", data={"csrf": token}, follow_redirects=True)
    assert "这一分钟内已经提醒过了" in again.get_data(as_text=True)
    assert len(reminders(site)) == 3
    assert site.say("li_minzheng", "/催报") == "这一分钟内已经提醒过了，请稍后再催。"  # the chat shares the rule
    clock.advance(minutes=1)
    client.post("/dashboard/tasks/1/remind", data={"csrf": token})
    assert len(reminders(site)) == 6
    clock.advance(minutes=1)
    assert site.say("li_minzheng", "/催报").startswith("已提醒3个未报单位")
    with site.runtime.factory() as session:
        assert len(session.scalars(select(AuditEntry).where(AuditEntry.action == "remind")).all()) == 3


def test_another_department_cannot_remind_with_its_own_valid_token(site):
    client = signed_in(site, "wang_canlian")
    token = csrf_of(client, "/dashboard/")
    assert client.post("/dashboard/tasks/1/remind", data={"csrf": token}).status_code == 404
    assert reminders(site) == []


def test_logout_ends_the_session(site):
    client = signed_in(site, "li_minzheng")
    assert client.post("/dashboard/logout", data={"csrf": csrf_of(client, "/dashboard/")}).status_code == 200
    assert client.get("/dashboard/").status_code == 401


# CSV and the paged tree


def test_states_and_waiting_times_of_the_units(site, clock):
    clock.advance(hours=5)
    with transaction(site.runtime.factory) as session:
        rows = {a.org_unit.name: a for a in session.scalars(select(Assignment))}
        rows["松林村"].status, rows["松林村"].submitted_at = "reviewing", site.runtime.engine.now() - timedelta(hours=2)
        rows["汉东村"].status, rows["汉东村"].submitted_at = "submitted", site.runtime.engine.now()
    client = signed_in(site, "li_minzheng")
    listing = client.get("/dashboard/").get_data(as_text=True)
    assert re.search(
        r'低保月报</a></td>\s*<td class="n">1</td>\s*<td class="n">0</td>\s*<td class="n">1</td>'
        r'\s*<td class="n">0</td>\s*<td class="n">1</td>',
        listing,
    )
    page = client.get("/dashboard/tasks/1").get_data(as_text=True)
    assert "<td>朱沱镇/松林村</td><td>张德华</td><td>待审核</td><td>2小时</td>" in page
    assert "<td>朱沱镇/汉东村</td><td>罗秀英</td><td>已通过</td><td>—</td>" in page
    assert "<td>朱沱镇/石庙村</td><td>陈国平</td><td>未开始</td><td>5小时</td>" in page


def test_without_a_signing_key_a_restart_ends_every_session(site):
    site.runtime.config = Config(web=WebConfig(public_url=PUBLIC_URL))
    before = signed_in(site, "li_minzheng")
    assert before.get("/dashboard/").status_code == 200
    restarted = create_app(site.runtime).test_client()
    cookie = before.get_cookie("ybt_dashboard")
    restarted.set_cookie("ybt_dashboard", cookie.value)
    assert restarted.get("/dashboard/").status_code == 401


def test_the_csv_has_a_row_per_unit_with_a_bom_and_formula_names_kept_as_text(site):
    with transaction(site.runtime.factory) as session:
        session.scalar(select(OrgUnit).where(OrgUnit.name == "朱沱镇")).name = "=HYPERLINK(1)镇"
    download = signed_in(site, "li_minzheng").get("/dashboard/tasks/1/progress.csv")
    assert download.data.startswith(b"\xef\xbb\xbf") and "attachment" in download.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(download.data.decode("utf-8-sig"))))
    assert rows[0] == ["镇街", "单位", "填报人", "状态", "已等待"]
    town = "'=HYPERLINK(1)镇"
    assert sorted(row[:3] for row in rows[1:]) == [
        [town, town + "/松林村", "张德华"],
        [town, town + "/汉东村", "罗秀英"],
        [town, town + "/石庙村", "陈国平"],
    ]
    assert {row[3] for row in rows[1:]} == {"未开始"} and all(row[4] for row in rows[1:])
    assert not any(cell.startswith("=") for row in rows for cell in row)


def test_a_task_of_hundreds_of_units_shows_its_towns_and_one_town_a_page_at_a_time(site):
    with transaction(site.runtime.factory) as session:
        town = session.scalar(select(OrgUnit).where(OrgUnit.name == "朱沱镇"))
        filler = session.scalar(select(Person).where(Person.account == "zhang_dehua"))
        units = [OrgUnit(name=f"测试村{n:03d}", level="village", kind="村", parent_id=town.id) for n in range(600)]
        session.add_all(units)
        session.flush()
        task = session.get(ReportTask, 1)
        session.add_all(Assignment(task_id=task.id, org_unit_id=u.id, filler_id=filler.id) for u in units)
        street = session.scalar(select(OrgUnit).where(OrgUnit.name == "中山路街道"))
        liu = session.scalar(select(Person).where(Person.account == "liu_ting"))
        session.add(Assignment(task_id=task.id, org_unit_id=street.id, filler_id=liu.id))
    client = signed_in(site, "li_minzheng")
    towns = client.get("/dashboard/tasks/1").get_data(as_text=True)
    assert "中山路街道" in towns and "603" in towns and "测试村" not in towns  # two towns: listed, none opened
    first = client.get(f"/dashboard/tasks/1?town={town.id}").get_data(as_text=True)
    assert "第1/4页" in first and first.count("<td>朱沱镇/") == 200 and "下一页" in first and "上一页" not in first
    last = client.get(f"/dashboard/tasks/1?town={town.id}&page=4").get_data(as_text=True)
    assert last.count("<td>朱沱镇/") == 3 and "上一页" in last and "下一页" not in last


# Configuration


def test_the_signing_key_comes_from_the_environment_and_the_address_must_be_a_web_address(tmp_path: Path):
    path = tmp_path / "bot.toml"
    path.write_text('[web]\npublic_url = "https://ybt.example.gov.cn"\nlink_minutes = 5\n', encoding="utf-8")
    web = load_config(path, environ={"YBT_WEB_SECRET_KEY": "from-env"}).web
    assert (web.public_url, web.secret_key, web.link_minutes, web.session_hours) == (PUBLIC_URL, "from-env", 5, 8)
    assert "from-env" not in repr(web)
    path.write_text('[web]\npublic_url = "ybt.example.gov.cn"\n', encoding="utf-8")
    with pytest.raises(ConfigError):
        load_config(path, environ={})
