"""The burden month: a town's month of reports, and how much of them the ledgers answer instead of the cadres.

Run from the repository root (a temporary SQLite database; about a minute):

    .venv/bin/python -m bench.burden_month [--villages 8] [--change-rate 0.05] [--seed 1]

One town (朱沱镇) of `--villages` villages, a filler in each, and five departments with an issuer each (区民政局,
区残联, 区司法局, 区农业农村委, 区应急局). Its ledgers hold last month's values, written 25 days before the month
starts: each village's 村社区基本情况, six 低保 recipients, five disabled people (two of whom are also 低保
recipients: their 姓名 and 联系电话 are held once, in the 低保 ledger, as standard fields), three mediation cases,
four land parcels and two fire hazards. During the month reality moves on: each ledger value changed with
probability `--change-rate` (an event's 调解结果 / 整改状态 six times as often).

Twelve reports are issued by chat over four weeks, overlapping in fields as the eleven disabled-person tables
did (see REPORTS). An issuer takes the summary straight from the ledgers when the bot offers it (取数, 直接生成);
otherwise every filler opens the form and answers as a careful cadre would: confirms what the ledger shows when
reality agrees, corrects what changed, answers what no ledger holds. The script counts, per report and in total:
- values a filler would have typed without the ledger (every question, every roster row's every column);
- values asked now: typed by a filler, because no ledger held them fresh or because they changed;
- values confirmed unchanged: shown from the ledger and kept;
- units whose report was generated with nobody asked;
- messages a filler sent for the report (median over the units that were asked).
It prints the figures and the issue's aims beside them; it judges nothing.
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
import statistics
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.district import print_machine
from bot.config import Config, DatabaseConfig, SimulatorConfig
from bot.platforms.simulator import SimulatorPlatform
from bot.runtime import Runtime, build_runtime, open_database
from handlers.core.clock import ManualClock
from handlers.core.messages import Incoming
from handlers.forms.builtin import Template
from handlers.forms.fields import Field, FieldType
from handlers.forms.form_state import is_askable
from handlers.forms.registry import ensure_template, fields_of
from handlers.ledgers.catalog import assign_standard_owners
from ledger_store.db import transaction
from ledger_store.ledgers import get_ledger, write_values
from ledger_store.models import (
    Assignment,
    AssignmentStatus,
    Department,
    Level,
    OrgUnit,
    Person,
    PersonRole,
    ReportTask,
    Role,
    RosterRow,
    Submission,
)
from ledger_store.org import SIMULATOR
from ledger_store.values.personal import id_check_character

START = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Chongqing
LAST_MONTH = START - timedelta(days=25)
DEPARTMENTS = {
    "区民政局": "minzheng",
    "区残联": "canlian",
    "区司法局": "sifa",
    "区农业农村委": "nongye",
    "区应急局": "yingji",
}

# A report the disabled-persons federation keeps asking in some form: the contact sheet, over the same people.
CONTACT_SHEET = Template(
    code="bench_disability_contacts",
    title="困难残疾人联系方式核对",
    fields=(
        Field("id_number", "身份证号", FieldType.ID_NUMBER, save_to="disabled_people.id_number",
              repeat="people", repeat_label="人员名单"),
        Field("name", "姓名", FieldType.TEXT, max_length=20, save_to="disabled_people.name",
              repeat="people", repeat_label="人员名单"),
        Field("mobile", "联系电话", FieldType.MOBILE, save_to="disabled_people.mobile",
              repeat="people", repeat_label="人员名单"),
        Field("address", "现居住地址", FieldType.TEXT, max_length=100, save_to="disabled_people.address",
              repeat="people", repeat_label="人员名单"),
    ),
)  # fmt: skip

# (day of the month, issuing department, form title): twelve reports over four weeks.
REPORTS = (
    (0, "minzheng", "低保月报"),
    (0, "minzheng", "村社区基本情况"),
    (1, "canlian", "两项补贴花名册"),
    (1, "canlian", "残疾人两项补贴情况"),
    (7, "minzheng", "低保对象信息核对"),
    (7, "canlian", "残疾人信息核对"),
    (8, "sifa", "矛盾纠纷排查情况"),
    (14, "nongye", "土地流转情况"),
    (14, "yingji", "消防隐患整改情况"),
    (15, "canlian", "困难残疾人联系方式核对"),
    (21, "minzheng", "村社区基本情况"),
    (22, "canlian", "残疾人信息核对"),
)

# What a filler answers to questions no ledger holds (this month's flows and payments, the filler's own mobile).
ANSWERS = {
    "本月新增低保户": "1",
    "本月退出低保户": "0",
    "本月发放低保金": "1.2万",
    "本月是否完成入户核查": "是",
    "填报人手机号": "13908315526",
    "备注": "跳过",
    "困难残疾人生活补贴人数": "4",
    "重度残疾人护理补贴人数": "2",
    "本期发放金额": "3600",
    "发放日期": "11月5日",
    "发放方式": "1",
    "核查发现的问题": "1",
    "抽查对象身份证号": "110101199003070011",
}
FAST_CHANGING = {"outcome", "status"}  # an open case or hazard moves on far more often than a name or an area


@dataclass
class Figures:
    """What one report cost: values without the ledger, values asked, kept, units generated, messages per filler."""

    title: str
    without_ledger: int = 0
    asked: int = 0
    kept: int = 0
    generated_units: int = 0
    asked_units: int = 0
    messages: list[int] = field(default_factory=list)

    @property
    def from_ledger(self) -> int:
        return self.without_ledger - self.asked


@dataclass
class Town:
    """The villages' fillers, and what changed in reality: per village, per shown identifier, label -> new text."""

    fillers: dict[str, str]  # village -> filler account
    changes: dict[str, dict[str, dict[str, str]]]


class Chat:
    """Messages through the engine, as people of the town."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.ids = itertools.count(1)

    def say(self, account: str, text: str) -> str:
        replies = self.runtime.engine.receive(Incoming(SIMULATOR, account, text, message_id=f"b{next(self.ids)}"))
        self.runtime.deliver()
        return "\n".join(reply.text for reply in replies)


def id_number(serial: int) -> str:
    """A valid resident ID number of 永川区, born in the 1960s–80s."""
    born = date(1960, 1, 1) + timedelta(days=serial * 997 % 9000)
    first = f"500118{born:%Y%m%d}{serial % 1000:03d}"
    return first + id_check_character(first)


def build_town(runtime: Runtime, villages: int) -> dict[str, str]:
    """永川区 > 朱沱镇 > 第N村, a filler per village and the five departments' issuers; village -> filler."""
    with transaction(runtime.factory) as session:
        district = OrgUnit(name="永川区", level=Level.DISTRICT)
        town = OrgUnit(name="朱沱镇", level=Level.TOWN, parent=district)
        session.add_all([district, town])
        session.flush()
        for name, account in DEPARTMENTS.items():
            department = Department(name=name, org_unit_id=district.id)
            session.add(department)
            session.flush()
            issuer = Person(account=account, name=f"{name}发布员", department_id=department.id)
            issuer.roles = [PersonRole(role=Role.ISSUER)]
            session.add(issuer)
        fillers = {}
        for number in range(1, villages + 1):
            village = OrgUnit(name=f"第{number}村", level=Level.VILLAGE, kind="村", parent=town)
            filler = Person(account=f"filler{number}", name=f"填报员{number}", org_unit=village)
            filler.roles = [PersonRole(role=Role.FILLER)]
            session.add_all([village, filler])
            fillers[village.name] = filler.account
        session.flush()
        assign_standard_owners(session, runtime.engine.now())
        ensure_template(session, CONTACT_SHEET, runtime.engine.now())
    return fillers


def fill_ledgers(runtime: Runtime, fillers: dict[str, str]) -> dict[str, list[tuple]]:
    """Last month's ledgers; per village the records written: (ledger code, key, identifier shown, values)."""
    written: dict[str, list[tuple]] = {}
    serial = itertools.count(1)
    with transaction(runtime.factory) as session:
        ledgers = {code: get_ledger(session, code) for code in
                   ("unit_profile", "dibao_households", "disabled_people", "mediation_cases", "land_transfers",
                    "fire_hazards")}  # fmt: skip
        missing = [code for code, ledger in ledgers.items() if ledger is None]
        if missing:
            raise SystemExit(f"the standard ledgers {missing} are not defined")
        units = {unit.name: unit.id for unit in session.scalars(select(OrgUnit))}
        for number, village in enumerate(fillers, start=1):
            rows: list[tuple] = []
            put = _Writer(session, ledgers, units[village], rows)

            households = 300 + number * 17
            put("unit_profile", village, village, {
                "households": households, "population": households * 3 - number, "dibao_households": 6,
                "dibao_persons": 14, "secretary": f"书记{number}", "office_phone": f"139{number:08d}",
            })  # fmt: skip
            people = []
            for index in range(6):
                person = id_number(next(serial))
                name = f"低保{number}号{index}"
                put("dibao_households", person, name, {
                    "name": name, "household_size": 1 + index % 4, "monthly_income": Decimal(380 + 20 * index),
                    "mobile": f"137{number:04d}{index:04d}", "category": "ABC"[index % 3] + "类",
                })  # fmt: skip
                people.append((person, name))
            for index in range(5):
                both = index < 2  # also a 低保 recipient: name and mobile are held there
                person, name = people[index] if both else (id_number(next(serial)), f"残疾{number}号{index}")
                values: dict[str, Any] = {
                    "disability_kind": ["肢体", "视力", "听力", "智力", "精神"][index],
                    "disability_grade": ["一级", "二级", "三级", "四级"][index % 4],
                    "subsidies": ["困难残疾人生活补贴"] if index % 2 else ["重度残疾人护理补贴"],
                    "address": f"{village}{index + 1}组",
                }
                if not both:
                    values |= {"name": name, "mobile": f"136{number:04d}{index:04d}"}
                put("disabled_people", person, name, values)
            for index in range(3):
                case = f"TJ-{number:02d}-{index:03d}"
                put("mediation_cases", case, case, {
                    "registered_on": LAST_MONTH.date() - timedelta(days=index), "parties": f"村民{index}甲、乙",
                    "dispute_kind": ["邻里纠纷", "婚姻家庭", "土地承包"][index], "outcome": "调解中",
                })  # fmt: skip
            for index in range(4):
                parcel = f"5001180{number:02d}{index:03d}"
                put("land_transfers", parcel, parcel, {
                    "contractor_name": f"承包户{number}-{index}", "area_mu": Decimal(3 + index),
                    "location": f"{village}{index + 1}组", "transferee": "朱沱镇绿源合作社", "transfer_mode": "出租",
                    "annual_rent": Decimal(600), "ends_on": date(2030, 12, 31),
                })  # fmt: skip
            for index in range(2):
                hazard = f"XH-{number:02d}-{index:03d}"
                put("fire_hazards", hazard, hazard, {
                    "found_on": LAST_MONTH.date(), "place": f"{village}{index + 1}组仓库", "hazard_kind": "电气线路",
                    "status": "整改中", "responsible": f"户主{index}",
                })  # fmt: skip
            written[village] = rows
    return written


@dataclass
class _Writer:
    """Writes last month's records of one village, and remembers them."""

    session: Session
    ledgers: dict[str, Any]
    unit: int
    rows: list[tuple]

    def __call__(self, code: str, key: Any, shown: str, values: dict[str, Any]) -> None:
        write_values(self.session, self.ledgers[code], key, self.unit, values, None, "上月台账", LAST_MONTH)
        self.rows.append((code, key, shown, values))


def reality(runtime: Runtime, written: dict[str, list[tuple]], rate: float, rng: random.Random) -> dict:
    """What changed this month: village -> identifier shown -> field label -> the new value as a filler types it."""
    changes: dict[str, dict[str, dict[str, str]]] = {}
    with runtime.factory() as session:
        fields = {code: {f["name"]: f for f in get_ledger(session, code).fields} for code in
                  {row[0] for rows in written.values() for row in rows}}  # fmt: skip
    for village, rows in written.items():
        for code, _key, shown, values in rows:
            for name, value in values.items():
                chance = rate * 6 if name in FAST_CHANGING else rate
                if name == "name" or rng.random() >= chance:
                    continue  # people keep their names within a month
                definition = fields[code][name]
                changes.setdefault(village, {}).setdefault(shown, {})[definition["label"]] = changed(definition, value)
    return changes


def changed(definition: dict[str, Any], value: Any) -> str:
    """A different value of the field, as a filler would type it."""
    kind = definition["type"]
    if kind in ("integer", "decimal"):
        return str(value + 1)
    if kind == "mobile":
        return "158" + str(value)[3:]
    if kind == "select_one":
        labels = [choice["label"] for choice in definition["choices"]]
        return labels[(labels.index(value) + 1) % len(labels)]
    if kind == "select_multiple":
        return "1 2"
    if kind == "date":
        return "2031年6月30日"
    return f"{value}（新）"


def bare(label: str) -> str:
    """A question's label as shown, without the note that it is optional."""
    return label.split("（选填")[0]


class Filler:
    """A careful cadre working through one form by chat: counts what she sent and what she typed.

    `changes` is what changed in reality for her village (identifier shown -> label -> new value); she corrects
    only what the form asks about, and what she corrected is taken out of it.
    """

    ROW = re.compile(r"【[^】]+】第\d+/\d+行")
    ROW_FIELD = re.compile(r"【[^】]+】第\d+行 · 第\d+/\d+项\n([^\n]+)")
    QUESTION = re.compile(r"》第\d+/\d+题\n([^\n]+)")
    LISTED = re.compile(r"^(\d+)\. ([^\n]+)$", re.M)
    OFFERED = re.compile(r"^(\d+)\. ([^：\n]+)：", re.M)

    def __init__(self, chat: Chat, account: str, village: str, labels: set[str], changes: dict) -> None:
        self.chat, self.account, self.village, self.labels = chat, account, village, labels
        self.changes = changes
        self.sent = self.typed = 0
        self.row: str | None = None  # the identifier of the row being changed

    def relevant(self, shown: str) -> dict[str, str]:
        """The changes of one record this form asks about."""
        return {label: value for label, value in self.changes.get(shown, {}).items() if label in self.labels}

    def correct(self, shown: str, label: str) -> str:
        """Type the new value of a field, and forget it as a change still to make."""
        value = self.changes[shown].pop(label)
        return self.say(value, typed=True)

    def say(self, text: str, typed: bool = False) -> str:
        self.sent += 1
        self.typed += typed
        return self.chat.say(self.account, text)

    def fill(self, title: str) -> None:
        reply = self.say("开始")
        for _ in range(500):
            if "已提交" in reply:
                return
            reply = self.step(title, reply)
        raise SystemExit(f"{self.account} could not finish {title}: {reply}")

    def step(self, title: str, reply: str) -> str:
        field_prompt = self.ROW_FIELD.search(reply)
        if field_prompt and self.row is not None:
            label, left = bare(field_prompt.group(1)), self.relevant(self.row)
            if label in left:
                return self.correct(self.row, label)
            return self.say("跳过" if left else "完成")
        self.row = None
        if self.ROW.search(reply) and "无变化回复“确认”" in reply:
            block = reply[self.ROW.search(reply).start() :]
            shown = next((s for s in self.changes if s in block and self.relevant(s)), None)
            if shown is not None:
                self.row = shown
                return self.say("修改")
            return self.say("全部确认")  # the rows to change are picked from the list by number
        if "回复“完成”继续" in reply:
            for number, line in self.LISTED.findall(reply):
                shown = next((s for s in self.changes if s in line and self.relevant(s)), None)
                if shown is not None:
                    self.row = shown
                    return self.say(f"修改 {number}")
            return self.say("完成")
        if "无变化请回复“确认”" in reply:
            for number, label in self.OFFERED.findall(reply):
                if label in self.relevant(self.village):
                    self.row = None
                    self.say(f"修改 {number}")
                    return self.correct(self.village, label)
            return self.say("确认")
        question = self.QUESTION.search(reply)
        if question:
            label = bare(question.group(1))
            if label in self.relevant(self.village):
                return self.correct(self.village, label)
            if "可能已过期" in reply:
                return self.say("不变")
            if label in ANSWERS:
                return self.say(ANSWERS[label], typed=ANSWERS[label] != "跳过")
        if "无误请回复“提交”" in reply:
            return self.say("提交")
        raise SystemExit(f"{self.account} in {title}: no rule for the reply\n{reply}")


def without_ledger(session: Session, submission: Submission, task: ReportTask) -> int:
    """The values a filler would have typed for this submission without any ledger: every askable question,
    and every column of every roster row she reported."""
    fields = [f for f in fields_of(task.form_version) if is_askable(f)]
    columns: dict[str, int] = {}
    for f in fields:
        if f.repeat:
            columns[f.repeat] = columns.get(f.repeat, 0) + 1
    rows = session.scalars(
        select(RosterRow).where(RosterRow.submission_id == submission.id, RosterRow.status != "removed")
    )
    return sum(1 for f in fields if not f.repeat) + sum(columns[row.repeat] for row in rows)


def run_report(runtime: Runtime, chat: Chat, town: Town, day: int, issuer: str, title: str) -> Figures:
    """Issue one report to every village and work it through; what it cost."""
    figures = Figures(title)
    runtime.engine.clock.set(START + timedelta(days=day))
    deadline = (START + timedelta(days=day + 4)).astimezone(runtime.engine.tz)
    reply = chat.say(issuer, f"/发布 {title} 截止 {deadline.month}月{deadline.day}日18点 范围 朱沱镇下辖 不审核")
    if "直接生成" in reply:
        reply = chat.say(issuer, "直接生成")
    elif "回复“下发”" in reply:
        reply = chat.say(issuer, "下发")
    with runtime.factory() as session:
        task = session.scalars(select(ReportTask).order_by(ReportTask.id.desc())).first()
        if task is None or task.title != title:
            raise SystemExit(f"{title} was not issued: {reply}")
        waiting = [a.org_unit.name for a in task.assignments if a.status != AssignmentStatus.SUBMITTED]
        labels = {f.label for f in fields_of(task.form_version)}
        task_id = task.id
    for village in waiting:
        filler = Filler(chat, town.fillers[village], village, labels, town.changes.setdefault(village, {}))
        filler.fill(title)
        figures.asked_units += 1
        figures.messages.append(filler.sent)
        figures.asked += filler.typed
    with runtime.factory() as session:
        submissions = session.scalars(
            select(Submission).join(Assignment).where(Assignment.task_id == task_id)
        ).all()  # fmt: skip
        figures.generated_units = sum(1 for s in submissions if s.generated)
        figures.kept = sum(s.confirmed_count or 0 for s in submissions if not s.generated)
        task = session.get(ReportTask, task_id)
        figures.without_ledger = sum(without_ledger(session, s, task) for s in submissions)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--villages", type=int, default=8, help="villages of the town, a filler each (default 8)")
    parser.add_argument("--change-rate", type=float, default=0.05, help="chance a value changed (default 0.05)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    scratch = Path(tempfile.mkdtemp(prefix="burden-month-"))
    config = Config(database=DatabaseConfig(url=f"sqlite:///{scratch / 'month.sqlite3'}"),
                    simulator=SimulatorConfig(files_dir=scratch / "f"))  # fmt: skip
    runtime = build_runtime(config, SimulatorPlatform(files_dir=scratch / "f"), clock=ManualClock(START),
                            database=open_database(config))  # fmt: skip
    fillers = build_town(runtime, args.villages)
    written = fill_ledgers(runtime, fillers)
    town = Town(fillers, reality(runtime, written, args.change_rate, rng))
    chat = Chat(runtime)
    print_machine(f"SQLite, {args.villages} villages, change rate {args.change_rate:.0%}, seed {args.seed}")
    print()
    print(f"{'report':<16} {'without':>8} {'asked':>6} {'kept':>5} {'ledger':>7} {'generated':>9} {'msgs':>5}")
    month = []
    for day, issuer, title in REPORTS:
        figures = run_report(runtime, chat, town, day, issuer, title)
        month.append(figures)
        share = figures.from_ledger / figures.without_ledger if figures.without_ledger else 0
        median = statistics.median(figures.messages) if figures.messages else 0
        print(f"{title:<16} {figures.without_ledger:>8} {figures.asked:>6} {figures.kept:>5} {share:>7.0%} "
              f"{figures.generated_units:>9} {median:>5}")  # fmt: skip
    total = sum(f.without_ledger for f in month)
    asked = sum(f.asked for f in month)
    messages = [m for f in month for m in f.messages]
    print()
    print(
        f"month: {total} values without the ledger, {asked} asked now, "
        f"{sum(f.kept for f in month)} confirmed unchanged (items), "
        f"{sum(f.generated_units for f in month)} reports generated with nobody asked"
    )
    every = messages + [0] * sum(f.generated_units for f in month)  # a generated report costs a filler nothing
    uncorrected = sum(len(fields) for village in town.changes.values() for fields in village.values())
    print(f"       {(total - asked) / total:.0%} of the asked-for values came from the ledger (aim ≥ 70 %)")
    print(
        f"       messages a filler sent per report: median {statistics.median(every) if every else 0} over every "
        f"village and report (aim ≤ 5), {statistics.median(messages) if messages else 0} over those asked"
    )
    print(
        f"       {uncorrected} of the month's real changes were in no report that asked about them (still in the "
        f"ledger as last confirmed: within their validity, or generated from it)"
    )


if __name__ == "__main__":
    main()
