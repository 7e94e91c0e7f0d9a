"""预警: a department's rules on a ledger, defined in chat or on the dashboard; matching records pushed to its issuers
once per (rule, record), audited, across scheduler runs and two processes racing; listed (masked) on the page."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from bot.app import create_app
from bot.config import Config, ConfigError, SchedulerConfig, WebConfig, load_config
from bot.platforms.simulator import SimulatorPlatform
from bot.runtime import build_runtime, load_demo_org
from handlers.commands import warning_rules
from ledger_store.db import transaction
from ledger_store.ledgers import define_ledger, get_ledger, write_values
from ledger_store.models import (
    AuditEntry,
    Department,
    LedgerRecord,
    OrgUnit,
    Person,
    PersonRole,
    Role,
    WarningHit,
    WarningRule,
)
from ledger_store.warnings import claim, recent_hits
from scheduler.jobs import TimedWork
from tests.conftest import Dialogue
from tests.test_dashboard import signed_in

# The demo 低保对象台账 (区民政局's, li_minzheng): 8 households, 3 of them in 保障类别 A类, keyed by ID number.
A_CLASS = "/预警 低保对象台账 保障类别=A类"
NEW_HOUSEHOLD = "500118199001011234"
ZHANG_DEMING = "500118196003138318"  # an A类 household of 松林村
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def site(db, engine, clock, tmp_path):
    """The bot with a dashboard address and the demo organisation; a dialogue with it."""
    config = Config(web=WebConfig(public_url="https://ybt.example.gov.cn", secret_key="test-only-key"))
    runtime = build_runtime(config, SimulatorPlatform(files_dir=tmp_path / "files"), clock=clock, database=engine)
    assert load_demo_org(runtime) is not None
    return Dialogue(runtime, runtime.platform, clock)


def work(chat: Dialogue) -> TimedWork:
    """The scheduler's timed work on the dialogue's bot."""
    return TimedWork(chat.runtime, SchedulerConfig(), holder="scheduler-a")


def tick_later(chat: Dialogue, timed: TimedWork | None = None):
    """The scheduler's tick once the rules are due again ([scheduler] warning_minutes, 10 by default, later)."""
    chat.clock.advance(minutes=10)
    return (timed or work(chat)).tick()


def add_household(chat: Dialogue, id_number: str, category: str, unit: str = "松林村", **more: object) -> None:
    """A new 低保 household written into the ledger, as a report's write-back would."""
    add_households(chat, [id_number], category, unit, **more)


def add_households(chat: Dialogue, id_numbers: list[str], category: str, unit: str = "松林村", **more: object) -> None:
    """New 低保 households written into the ledger in one transaction, as one import would."""
    with transaction(chat.runtime.factory) as session:
        ledger = get_ledger(session, "dibao_households")
        unit_id = session.scalar(select(OrgUnit.id).where(OrgUnit.name == unit))
        values = {"name": "钱新民", "category": category, "mobile": "13800138000", **more}
        for id_number in id_numbers:
            write_values(session, ledger, id_number, unit_id, values, None, "test", chat.runtime.engine.now())


def overwrite_stored(chat: Dialogue, id_number: str, **stored: object) -> None:
    """Put values into a 低保 record's JSON unchecked, like an old record's from before a field's type changed."""
    with transaction(chat.runtime.factory) as session:
        ledger = get_ledger(session, "dibao_households")
        record = session.scalar(select(LedgerRecord).where(LedgerRecord.ledger_id == ledger.id,
                                                           LedgerRecord.key == id_number))  # fmt: skip
        record.values = {**record.values, **stored}


def hits(chat: Dialogue) -> list[tuple[int, int]]:
    """(rule, record) of every hit stored."""
    with chat.runtime.factory() as session:
        return list(session.execute(select(WarningHit.rule_id, WarningHit.record_id).order_by(WarningHit.id)).all())


def audit_rows(chat: Dialogue, action: str) -> list[AuditEntry]:
    """The audit entries of one action, oldest first."""
    with chat.runtime.factory() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


# In chat


def test_a_rule_defined_in_chat_says_how_many_match_and_pushes_them_masked_once(site):
    reply = site.say("li_minzheng", A_CLASS)
    assert reply.startswith("已设预警#1：低保对象台账 保障类别=A类。现有 3 条记录符合，已推送给本部门发布员")
    [push] = site.pushed_texts("li_minzheng")
    assert push.startswith("预警#1（低保对象台账 保障类别=A类）新发现 3 条符合的记录：")
    assert "张德明" in push and "5001**********8318" in push and "131****1935" in push
    assert "500118196003138318" not in push and "13159081935" not in push
    [added] = audit_rows(site, "warning_rule_add")
    assert added.new == {"ledger": "低保对象台账", "conditions": "保障类别=A类"}
    [found] = audit_rows(site, "warning_hits")
    assert len(found.new["records"]) == 3 and found.new["record_count"] == 3
    assert found.entity_id == "1" and len(found.new["pushed_to"]) == 1
    listed = site.say("li_minzheng", "/预警")
    assert "· #1 低保对象台账 保障类别=A类：已发现 3 条" in listed
    assert site.say("li_minzheng", "/预警 查看") == listed  # the help's own words list the rules too


def test_each_record_is_pushed_once_across_runs_even_when_it_stops_and_starts_matching(site):
    site.say("li_minzheng", A_CLASS)
    site.pushed_texts("li_minzheng")
    timed = work(site)
    assert tick_later(site, timed).warned == 0
    site.runtime.deliver()
    assert site.pushed_texts("li_minzheng") == []
    add_household(site, NEW_HOUSEHOLD, "A类")
    assert tick_later(site, timed).warned == 1
    site.runtime.deliver()
    [push] = site.pushed_texts("li_minzheng")
    assert "新发现 1 条" in push and "钱新民" in push and "5001**********1234" in push and "138****8000" in push
    assert tick_later(site, timed).warned == 0
    # Out of A类 and back in again: the rule found that record already, so nothing more is pushed.
    add_household(site, NEW_HOUSEHOLD, "B类")
    tick_later(site, timed)
    add_household(site, NEW_HOUSEHOLD, "A类")
    assert tick_later(site, timed).warned == 0
    site.runtime.deliver()
    assert site.pushed_texts("li_minzheng") == [] and len(hits(site)) == 4
    assert len(audit_rows(site, "warning_hits")) == 2


def test_the_scheduler_evaluates_a_rule_again_only_after_warning_minutes(site, tmp_path):
    site.say("li_minzheng", A_CLASS)
    site.pushed_texts("li_minzheng")
    add_household(site, NEW_HOUSEHOLD, "A类")
    site.runtime.deliver()
    assert site.pushed_texts("li_minzheng") == [] and len(hits(site)) == 3  # a write is not checked as it is made
    timed = work(site)
    site.clock.advance(minutes=9)
    assert timed.tick().warned == 0
    site.clock.advance(minutes=1)
    assert timed.tick().warned == 1
    path = tmp_path / "config.toml"
    path.write_text("[scheduler]\nwarning_minutes = 30\n", encoding="utf-8")
    assert load_config(path).scheduler.warning_minutes == 30
    path.write_text("[scheduler]\nwarning_minutes = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="warning_minutes"):
        load_config(path)


def test_a_long_list_is_cut_with_the_count_and_so_is_its_audit_entry(site):
    site.say("li_minzheng", "/预警 低保对象台账 保障类别=C类")
    [push] = site.pushed_texts("li_minzheng")
    assert "新发现 2 条" in push and push.count("\n· ") == 2 and "等" not in push
    add_households(site, [f"50011819900101{number:03d}X" for number in range(60)], "C类")
    assert tick_later(site).warned == 60
    site.runtime.deliver()
    [push] = site.pushed_texts("li_minzheng")
    assert push.count("\n· ") == 10 and "……等 60 条，全部请在看板查看。" in push
    # The audit entry names the first 50 records and says how many there were, however many a run finds.
    entry = audit_rows(site, "warning_hits")[-1]
    assert len(entry.new["records"]) == 50 and entry.new["record_count"] == 60
    assert entry.new["records"] == sorted(entry.new["records"]) and len(hits(site)) == 62


def test_a_mistaken_condition_gets_the_same_chinese_answer_as_query(site):
    assert site.say("li_minzheng", "/预警 低保对象台账 收入=100").startswith("不能按“收入”查询。")
    assert "写成 字段=值" in site.say("li_minzheng", "/预警 低保对象台账 A类")
    no_such_choice = site.say("li_minzheng", "/预警 低保对象台账 保障类别=D类")
    assert no_such_choice == "保障类别没有“D类”这一项，可选：A类、B类、C类。"
    assert "请在台账名后写上条件" in site.say("li_minzheng", "/预警 低保对象台账")
    assert "您是不是要找：低保对象台账" in site.say("li_minzheng", "/预警 低保对象台帐 保障类别=A类")
    assert "需要发布员权限" in site.say("zhang_dehua", A_CLASS)
    assert hits(site) == [] and audit_rows(site, "warning_rule_add") == []


def test_the_land_transfer_example_and_an_admin_without_a_department(site):
    reply = site.say("he_zhiming", "/预警 土地流转台账 面积（亩）>500 流转方式=出租")
    assert reply.startswith("已设预警#1：土地流转台账 面积（亩）>500 流转方式=出租。现在没有符合的记录")
    assert site.pushed_texts("he_zhiming") == []
    assert site.say("admin", A_CLASS) == "您还没有所属部门，不能设预警。请联系管理员。"


def test_an_old_text_value_in_a_numeric_field_matches_no_comparison_and_breaks_nothing(site):
    # 杨国强's and 周玉梅's records kept text from when 家庭人口 and 家庭月人均收入 were text fields.
    overwrite_stored(site, "500118197512037210", household_size="五口")
    overwrite_stored(site, "500118196706157486", monthly_income="待核实")
    listed = site.say("li_minzheng", "/查询 低保对象台账 家庭人口>2")
    assert "共 5 条" in listed and "周玉梅 3 待核实" in listed  # 6 with 杨国强's 5; 周玉梅's text shown as stored
    assert "共 7 条" in site.say("li_minzheng", "/查询 低保对象台账 家庭人口<100")  # not read as 0
    assert "共 5 条" in site.say("li_minzheng", "/查询 低保对象台账 家庭月人均收入<500")
    assert "现有 5 条记录符合" in site.say("li_minzheng", "/预警 低保对象台账 家庭人口>2")
    assert "现有 5 条记录符合" in site.say("li_minzheng", "/预警 低保对象台账 家庭月人均收入<500")
    [first, second] = site.pushed_texts("li_minzheng")
    assert "杨国强" not in first and "周玉梅" not in second
    add_household(site, NEW_HOUSEHOLD, "B类", household_size=6, monthly_income=Decimal("300"))
    report = tick_later(site)
    assert report.failed == 0 and report.warned == 2
    site.runtime.deliver()
    assert all("钱新民" in push for push in site.pushed_texts("li_minzheng"))
    page = signed_in(site, "li_minzheng").get("/dashboard/warnings")
    assert page.status_code == 200 and "周玉梅 3 待核实" in page.get_data(as_text=True)  # as stored, found by 家庭人口


def test_a_department_cannot_watch_a_ledger_it_neither_owns_nor_was_granted(site):
    refused = site.say("sun_lixin", A_CLASS)
    assert refused == "低保对象台账归区民政局所有，区司法局没有查看权限。如需使用，请联系区民政局或管理员开通共享。"
    assert site.pushed_texts("sun_lixin") == [] and hits(site) == []
    # Shared (masked), it may watch the ledger, but not test a masked field other than for emptiness.
    site.say("admin", "/台账权限 低保对象台账 共享 区司法局")
    site.pushed_texts("sun_lixin")  # the notice of the share
    assert "已设预警" not in site.say("sun_lixin", "/预警 低保对象台账 联系电话 包含 1315")
    assert "现有 3 条记录符合" in site.say("sun_lixin", A_CLASS)
    [push] = site.pushed_texts("sun_lixin")
    assert "新发现 3 条" in push and "5001**********8318" in push


def add_office(site, at_unit: str | None) -> None:
    """朱沱镇民政办 with its issuer 何文, placed at the unit (None: the top of the tree, the whole district)."""
    with transaction(site.runtime.factory) as session:
        place = OrgUnit.parent_id.is_(None) if at_unit is None else OrgUnit.name == at_unit
        office = Department(name="朱沱镇民政办", org_unit_id=session.scalar(select(OrgUnit.id).where(place)))
        session.add(office)
        session.flush()
        session.add(Person(account="he_wen", name="何文", department_id=office.id,
                           roles=[PersonRole(role=Role.ISSUER)]))  # fmt: skip


def test_a_rule_sees_only_the_departments_units(site):
    add_office(site, "朱沱镇")
    site.say("admin", "/台账权限 低保对象台账 共享 朱沱镇民政办")
    site.pushed_texts("he_wen")  # the notice of the share
    assert "现有 2 条记录符合" in site.say("he_wen", A_CLASS)  # 萱花社区's is not the town's
    [push] = site.pushed_texts("he_wen")
    assert "新发现 2 条" in push and "萱花社区" not in push
    assert "不在本部门的数据范围内" in site.say("he_wen", "/预警 低保对象台账 保障类别=A类 单位=红旗社区")
    add_household(site, NEW_HOUSEHOLD, "A类", unit="红旗社区")
    assert tick_later(site).warned == 0  # outside 朱沱镇
    site.runtime.deliver()
    assert site.pushed_texts("he_wen") == []


def test_the_page_lists_only_records_in_the_viewers_scope_as_it_is_now(site):
    add_office(site, None)  # a district-wide office at first
    site.say("admin", "/台账权限 低保对象台账 共享 朱沱镇民政办")
    assert "现有 3 条记录符合" in site.say("he_wen", A_CLASS)
    client = signed_in(site, "he_wen")
    page = client.get("/dashboard/warnings").get_data(as_text=True)
    assert "杨国强" in page and "萱花社区" in page and "张德明" in page and "松林村" in page
    with transaction(site.runtime.factory) as session:  # the office is narrowed to 朱沱镇, which 萱花社区 is not in
        town = session.scalar(select(OrgUnit).where(OrgUnit.name == "朱沱镇"))
        session.scalar(select(Department).where(Department.name == "朱沱镇民政办")).org_unit_id = town.id
    page = client.get("/dashboard/warnings").get_data(as_text=True)
    assert "杨国强" not in page and "萱花社区" not in page and "5001**********7210" not in page
    assert "张德明" in page and "赵桂芳" in page and "汉东村" in page
    assert "已发现 2 条" in page and "已发现 2 条" in site.say("he_wen", "/预警")  # counted as listed
    with transaction(site.runtime.factory) as session:  # 张德明's record moves out of the town, as /迁移 would move it
        outside = session.scalar(select(OrgUnit.id).where(OrgUnit.name == "萱花社区"))
        ledger_id = get_ledger(session, "dibao_households").id
        moved = select(LedgerRecord).where(LedgerRecord.ledger_id == ledger_id, LedgerRecord.key == ZHANG_DEMING)
        session.scalar(moved).org_unit_id = outside
    page = client.get("/dashboard/warnings").get_data(as_text=True)
    assert "张德明" not in page and "赵桂芳" in page and "已发现 1 条" in page
    admin = signed_in(site, "admin").get("/dashboard/warnings").get_data(as_text=True)
    assert "杨国强" in admin and "萱花社区" in admin  # the admin sees every record
    site.say("admin", "/台账权限 低保对象台账 取消共享 朱沱镇民政办")
    page = client.get("/dashboard/warnings").get_data(as_text=True)
    assert "#1 低保对象台账" in page and "赵桂芳" not in page and "已发现 0 条" in page


def test_removing_a_rule_stops_it_and_is_audited_and_others_cannot(site):
    site.say("li_minzheng", A_CLASS)
    assert site.say("sun_lixin", "/预警 删除 1") == "没有找到预警“1”。发送 /预警 查看本部门预警的编号。"
    assert "#1" not in site.say("sun_lixin", "/预警")
    assert site.say("li_minzheng", "/预警 删除 1").startswith("已删除预警#1，不再推送。")
    [removed] = audit_rows(site, "warning_rule_remove")
    assert removed.actor_id is not None and removed.old["conditions"] == "保障类别=A类"
    add_household(site, NEW_HOUSEHOLD, "A类")
    assert tick_later(site).warned == 0
    assert "还没有预警" in site.say("li_minzheng", "/预警")


def test_admin_lists_every_departments_rules(site):
    site.say("li_minzheng", A_CLASS)
    assert "· #1（区民政局） 低保对象台账 保障类别=A类：已发现 3 条" in site.say("admin", "/预警")


def test_a_rule_the_ledger_outgrew_is_reported_once_and_skipped(site):
    site.say("li_minzheng", "/预警 低保对象台账 家庭月人均收入<400")
    site.pushed_texts("li_minzheng")
    with transaction(site.runtime.factory) as session:
        ledger = get_ledger(session, "dibao_households")
        fields = [field for field in ledger.fields if field["name"] != "monthly_income"]
        define_ledger(session, ledger.code, ledger.title, ledger.key_field, fields, site.runtime.engine.now(),
                      owner=ledger.owner, confirm_loss=True)  # fmt: skip
    timed = work(site)
    assert tick_later(site, timed).failed == 0
    tick_later(site, timed)
    site.runtime.deliver()
    [told] = site.pushed_texts("li_minzheng")
    assert told.startswith("预警#1（低保对象台账 家庭月人均收入<400）已无法执行：不能按“家庭月人均收入”查询。")
    assert "【无法执行：不能按“家庭月人均收入”查询。" in site.say("li_minzheng", "/预警")
    page = signed_in(site, "li_minzheng").get("/dashboard/warnings").get_data(as_text=True)
    assert "已发现 3 条" in page and "王建华" not in page  # no records of a rule that no longer reads


# Two evaluations at once


def stored_rule(chat: Dialogue) -> int:
    """The id of an A类 rule stored as /预警 would store it, without evaluating it yet."""
    with transaction(chat.runtime.factory) as session:
        ledger = get_ledger(session, "dibao_households")
        rule = WarningRule(ledger_id=ledger.id, department_id=ledger.owner_department_id, name="保障类别=A类",
                           conditions="保障类别=A类", created_at=chat.runtime.engine.now())  # fmt: skip
        session.add(rule)
        session.flush()
        return rule.id


def test_two_claims_racing_take_each_record_once(site):
    rule_id = stored_rule(site)  # claimed directly: no evaluation's lock on the rule, only the unique constraint
    factory, server = site.runtime.factory, site.runtime.factory.kw["bind"].dialect.name != "sqlite"
    with factory() as session:
        everything = select(LedgerRecord.id).where(LedgerRecord.ledger_id == get_ledger(session, "dibao_households").id)
        ids = list(session.scalars(everything.order_by(LedgerRecord.id)))
    now = site.runtime.engine.now()
    results, errors = [], []

    def second() -> None:
        try:
            with transaction(factory) as session:
                results.append(claim(session, rule_id, everything, now))
        except BaseException as error:  # noqa: BLE001 - the test reports it
            errors.append(error)

    with transaction(factory) as session:
        results.append(claim(session, rule_id, everything, now))
        if server:  # the second claims while the first holds the same hits uncommitted: it waits, then gets none
            thread = threading.Thread(target=second)
            thread.start()
            thread.join(timeout=1)
            assert thread.is_alive()
    if server:
        thread.join()
    else:  # SQLite has one writer: the second runs after the first, as it would behind the write lock
        second()
    assert errors == [] and results == [ids, []] and len(hits(site)) == 8


def test_two_evaluations_racing_push_each_record_once(site):
    rule_id = stored_rule(site)
    engine = site.runtime.engine
    server = site.runtime.factory.kw["bind"].dialect.name != "sqlite"
    waiting, results, errors = threading.Event(), [], []

    def second() -> None:
        try:
            with transaction(site.runtime.factory) as session:
                connection = session.connection()
                event.listen(connection, "before_cursor_execute", lambda *args: signal(args[2]))
                results.append(warning_rules.evaluate(engine.context(session), rule_id))
        except BaseException as error:  # noqa: BLE001 - the test reports it
            errors.append(error)

    def signal(statement: str) -> None:
        if statement.startswith(("UPDATE warning_rules", "INSERT INTO warning_hits")):
            waiting.set()

    with transaction(site.runtime.factory) as session:
        results.append(warning_rules.evaluate(engine.context(session), rule_id))
        if server:  # the second starts while the first holds its hits uncommitted: it waits, then finds none new
            thread = threading.Thread(target=second)
            thread.start()
            assert waiting.wait(5)
    if server:
        thread.join()
    else:  # SQLite has one writer: the second runs after the first, as it would behind the write lock
        second()
    assert errors == [] and sorted(results) == [0, 3]
    site.runtime.deliver()
    [push] = site.pushed_texts("li_minzheng")
    assert "新发现 3 条" in push and len(hits(site)) == 3
    assert len(audit_rows(site, "warning_hits")) == 1


# recent_hits, for /分析


def test_recent_hits_name_the_rule_ledger_unit_and_time(site, clock):
    site.say("li_minzheng", A_CLASS)
    since = site.runtime.engine.now().replace(tzinfo=None) - timedelta(minutes=1)
    with site.runtime.factory() as session:
        found = recent_hits(session, 1, since)
        assert sorted(hit.unit for hit in found) == ["松林村", "汉东村", "萱花社区"]
        assert {(hit.rule_name, hit.ledger_title) for hit in found} == {("保障类别=A类", "低保对象台账")}
        assert recent_hits(session, 2, since) == [] and len(recent_hits(session, None, since)) == 3
        assert recent_hits(session, None, since + timedelta(minutes=2)) == []


# On the dashboard


def define_on_page(client, ledger: str, conditions: str) -> str:
    """Submit the page's form with the page's CSRF token; the page it leads back to."""
    token = CSRF.search(client.get("/dashboard/warnings").get_data(as_text=True)).group(1)
    form = {"csrf": token, "ledger": ledger, "conditions": conditions}
    posted = client.post("/dashboard/warnings", data=form)
    assert posted.status_code == 303
    return client.get("/dashboard/warnings").get_data(as_text=True)


def test_a_rule_defined_on_the_page_is_listed_with_its_records_masked_and_pushed(site):
    client = signed_in(site, "li_minzheng")
    page = define_on_page(client, "低保对象台账", "保障类别=A类")
    assert "已设预警#1：低保对象台账 保障类别=A类。现有 3 条记录符合" in page
    assert "#1 低保对象台账 保障类别=A类" in page and "已发现 3 条" in page
    assert "张德明" in page and "5001**********8318" in page and "131****1935" in page
    assert "500118196003138318" not in page and "13159081935" not in page
    site.runtime.deliver()
    assert "新发现 3 条" in site.pushed_texts("li_minzheng")[0]
    assert [row.new["conditions"] for row in audit_rows(site, "warning_rule_add")] == ["保障类别=A类"]


def test_the_page_gives_the_same_chinese_errors_as_chat(site):
    client = signed_in(site, "li_minzheng")
    assert "不能按“收入”查询。" in define_on_page(client, "低保对象台账", "收入=100")
    assert "请在台账名后写上条件" in define_on_page(client, "低保对象台账", "")
    refused = define_on_page(signed_in(site, "sun_lixin"), "低保对象台账", "保障类别=A类")
    assert "区司法局没有查看权限" in refused
    assert hits(site) == [] and audit_rows(site, "warning_rule_add") == []


def test_the_page_as_every_role_and_as_nobody(site):
    site.say("li_minzheng", A_CLASS)
    nobody = create_app(site.runtime).test_client().get("/dashboard/warnings")
    assert nobody.status_code == 401 and "请在聊天里发送 /看板" in nobody.get_data(as_text=True)
    owner = signed_in(site, "li_minzheng").get("/dashboard/warnings").get_data(as_text=True)
    assert "#1 低保对象台账" in owner and "张德明" in owner and 'name="conditions"' in owner
    other = signed_in(site, "sun_lixin").get("/dashboard/warnings").get_data(as_text=True)
    assert "#1 低保对象台账" not in other and "张德明" not in other and "还没有预警" in other
    admin = signed_in(site, "admin").get("/dashboard/warnings").get_data(as_text=True)
    assert "#1 低保对象台账 保障类别=A类（区民政局）" in admin and "5001**********8318" in admin
    assert "500118196003138318" not in admin
    for account in ("zhang_dehua", "zhou_jianguo"):  # a filler and a reviewer
        page = signed_in(site, account).get("/dashboard/warnings")
        text = page.get_data(as_text=True)
        assert page.status_code == 200 and "预警只给发布员和管理员使用" in text and "张德明" not in text


def test_removing_on_the_page_needs_the_rule_to_be_ones_own_and_the_csrf_token(site):
    site.say("li_minzheng", A_CLASS)
    other = signed_in(site, "sun_lixin")
    token = CSRF.search(other.get("/dashboard/warnings").get_data(as_text=True)).group(1)
    assert other.post("/dashboard/warnings/1/delete", data={"csrf": token}).status_code == 404
    assert other.post("/dashboard/warnings/99/delete", data={"csrf": token}).status_code == 404
    owner = signed_in(site, "li_minzheng")
    assert owner.post("/dashboard/warnings/1/delete", data={}).status_code == 400
    assert (
        owner.post("/dashboard/warnings", data={"ledger": "低保对象台账", "conditions": "保障类别=B类"}).status_code
        == 400
    )
    assert audit_rows(site, "warning_rule_remove") == [] and len(audit_rows(site, "warning_rule_add")) == 1
    token = CSRF.search(owner.get("/dashboard/warnings").get_data(as_text=True)).group(1)
    assert owner.post("/dashboard/warnings/1/delete", data={"csrf": token}).status_code == 303
    assert "已删除预警#1" in owner.get("/dashboard/warnings").get_data(as_text=True)
    assert len(audit_rows(site, "warning_rule_remove")) == 1
    nobody = create_app(site.runtime).test_client().post("/dashboard/warnings/1/delete", data={"csrf": token})
    assert nobody.status_code == 401


def test_the_task_list_links_to_the_warnings_page(site):
    assert 'href="/dashboard/warnings"' in signed_in(site, "li_minzheng").get("/dashboard/").get_data(as_text=True)
