"""Data sinking (数据下沉): another system's rows reach a ledger on a timetable, and its department hears of it.

Source databases are real PostgreSQL and MariaDB servers (YBT_TEST_SOURCE_POSTGRES_URL, YBT_TEST_SOURCE_MARIADB_URL,
the local servers' `test` databases by default): each test makes a table of its own there and drops it after.
Outside CI a server that is not running skips its tests; in CI (CI=true) it fails them.
"""

from __future__ import annotations

import io
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from bot.config import Config, ConfigError, SchedulerConfig, load_config
from cli.bot_command import main
from handlers.ledgers.sources import RunStatus, Source, run_source
from ledger_store.ledgers import get_ledger, get_record, history
from ledger_store.models import SourceRun
from scheduler.jobs import TimedWork
from scheduler.process import background

TZ = ZoneInfo("Asia/Shanghai")
SOURCE_URLS = {
    "postgresql": ("YBT_TEST_SOURCE_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    "mariadb": ("YBT_TEST_SOURCE_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4"),
}
KNOWN = "500118196003138318"  # 张德明 of 松林村 in the demo ledger: 1 person, 612.8 a month, A类
NEW = "110102199101010078"
# Rows of the 民政 system: one new, one changed, one as the ledger has it, one in no unit of ours, one bad ID number.
SOURCE_ROWS = [
    {"id_number": NEW, "xm": "张三", "household_size": 3, "monthly_income": Decimal("560.50"), "单位": "汉东村"},
    {"id_number": KNOWN, "xm": "张德明", "household_size": 2, "monthly_income": Decimal("612.80"), "单位": "松林村"},
    {"id_number": "500118197701172729", "xm": "李秀兰", "household_size": 1, "monthly_income": Decimal("530"),
     "单位": "松林村"},
    {"id_number": "44011320141005001X", "xm": "王五", "household_size": 1, "monthly_income": None, "单位": "不存在村"},
    {"id_number": "110102199101010079", "xm": "赵六", "household_size": 2, "monthly_income": None, "单位": "汉东村"},
]  # fmt: skip
REPORT = "数据下沉《民政低保系统》→低保对象台账：新增 1 条，更新 1 条，1 条无变化，2 行未收（见附件错误表）。"
CSV = "身份证号,姓名,家庭人口,单位\n110102199101010078,张三,3,汉东村\n500118196003138318,张德明,4,松林村\n"


def source_engine(kind: str) -> sa.Engine:
    """The source server of this kind, as the repo's rule goes: skipped when missing outside CI, failed in CI."""
    variable, default = SOURCE_URLS[kind]
    url = os.environ.get(variable) or default
    engine = sa.create_engine(url)
    try:
        with engine.connect():
            pass
    except OperationalError as error:
        engine.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"{variable}={url} is not reachable in CI: {error}")
        pytest.skip(f"source database server not reachable: {error}")
    return engine


@pytest.fixture(params=["postgresql", "mariadb"])
def source_table(request) -> Iterator[tuple[str, str]]:
    """A table of the 民政 system's rows on a real server: (its URL, its name)."""
    engine = source_engine(request.param)
    name = f"dibao_src_{uuid.uuid4().hex[:10]}"
    table = sa.Table(
        name,
        sa.MetaData(),
        sa.Column("id_number", sa.String(18)),
        sa.Column("xm", sa.String(20)),
        sa.Column("household_size", sa.Integer),
        sa.Column("monthly_income", sa.Numeric(10, 2)),
        sa.Column("单位", sa.String(50)),
    )
    table.create(engine)
    with engine.begin() as connection:
        connection.execute(table.insert(), SOURCE_ROWS)
    yield engine.url.render_as_string(hide_password=False), name
    table.drop(engine)
    engine.dispose()


def query_source(url: str, table: str, query: str | None = None) -> Source:
    return Source(
        name="民政低保系统",
        ledger="dibao_households",
        schedule="每天 02:00",
        url=url,
        query=query or f"SELECT id_number, xm, household_size, monthly_income, 单位 FROM {table}",
        columns={"xm": "name"},
    )


def sink(runtime, source: Source, holder: str = "test"):
    """Run the source now and deliver what it queued."""
    result = run_source(runtime.factory, source, runtime.engine.clock, TZ, holder)
    runtime.deliver()
    return result


def workbook_rows(content: bytes) -> list[list[object]]:
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_a_source_database_sinks_its_rows_and_the_owning_department_gets_the_report(runtime, chat, source_table):
    url, table = source_table
    result = sink(runtime, query_source(url, table))

    assert (result.status, result.added, result.changed, result.unchanged, result.refused) == ("ok", 1, 1, 1, 2)
    [text, workbook] = chat.pushes("li_minzheng")
    assert text.text == REPORT
    rows = workbook_rows(workbook.file_bytes)
    assert rows[0] == ["行号", "id_number", "name", "household_size", "monthly_income", "单位", "错误原因"]
    reasons = {row[1]: row[-1] for row in rows[1:]}
    assert "单位“不存在村”不存在" in reasons["44011320141005001X"]
    assert "校验位不对" in reasons["110102199101010079"]
    assert chat.pushes("wang_canlian") == []  # 区残联 does not own the ledger and hears nothing
    with runtime.factory() as session:
        ledger = get_ledger(session, "dibao_households")
        assert get_record(session, ledger, NEW).values["name"] == "张三"
        [change] = history(session, ledger, KNOWN)
        assert (change.field, change.old, change.new, change.source) == (
            "household_size",
            1,
            2,
            "数据下沉：民政低保系统",
        )
        run = session.scalars(sa.select(SourceRun)).one()
        assert (run.status, run.added, run.changed, run.unchanged, run.refused) == ("ok", 1, 1, 1, 2)
        assert run.error_file_id is not None and run.finished_at is not None


def test_a_second_run_of_the_same_rows_changes_nothing(runtime, chat, source_table):
    url, table = source_table
    sink(runtime, query_source(url, table))
    chat.pushes("li_minzheng")
    again = sink(runtime, query_source(url, table))
    assert (again.added, again.changed, again.unchanged, again.refused) == (0, 0, 3, 2)


def test_the_other_systems_database_is_only_read(runtime, chat, source_table):
    url, table = source_table
    insert = (
        f"INSERT INTO {table} (id_number, xm, 单位) VALUES ('{NEW}', '钱七', '汉东村') RETURNING id_number, xm, 单位"
    )
    sink(runtime, query_source(url, table, query=insert))  # refused by PostgreSQL's cursor, rolled back by MariaDB
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        assert connection.scalar(sa.text(f"SELECT COUNT(*) FROM {table}")) == len(SOURCE_ROWS)
    engine.dispose()


def test_an_unreachable_source_is_a_failed_run_reported_without_its_password(runtime, chat):
    source = query_source("postgresql+psycopg://sink:s3cret@127.0.0.1:1/dibao", "t")
    result = sink(runtime, source)

    assert result.status == RunStatus.FAILED
    [text] = chat.pushed_texts("li_minzheng")
    assert text.startswith("数据下沉《民政低保系统》→低保对象台账 没有完成：连不上数据源的数据库（")
    assert "127.0.0.1:1/dibao" in text and "s3cret" not in text
    with runtime.factory() as session:
        assert session.scalars(sa.select(SourceRun.status)).all() == ["failed"]


def test_a_query_the_source_refuses_is_a_failed_run_naming_the_query(runtime, chat, source_table):
    url, table = source_table
    result = sink(runtime, query_source(url, table, query=f"SELECT no_such_column FROM {table}"))
    assert result.status == RunStatus.FAILED
    [text] = chat.pushed_texts("li_minzheng")
    assert "执行查询时出错" in text and "query" in text


def test_two_runs_of_one_source_at_once_run_it_once_and_skip_the_other(runtime, chat):
    engine = source_engine("postgresql")
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    row = "'110102199101010078' AS 身份证号, '张三' AS 姓名, '汉东村' AS 单位"
    slow = f"WITH pause AS (SELECT pg_sleep(2)) SELECT {row} FROM pause"  # the first run is still reading
    source = replace(query_source(url, ""), query=slow)
    start = threading.Barrier(2)
    results = {}

    def run(holder: str) -> None:
        start.wait()
        results[holder] = sink(runtime, source, holder)

    threads = [threading.Thread(target=run, args=(holder,)) for holder in ("scheduler-a", "scheduler-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(result.status for result in results.values()) == ["ok", "skipped"]
    [skipped] = [result for result in results.values() if result.status == "skipped"]
    assert skipped.message == "上一次取数还没有结束，这一次不再重复运行。"
    assert len(chat.pushed_texts("li_minzheng")) == 1  # only the run that ran reports


def test_a_folder_source_reads_the_newest_export_once(runtime, chat, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    source = Source(name="民政导出", ledger="dibao_households", schedule="每天 02:00", folder=folder)
    (folder / "dibao-1128.csv").write_text(CSV, encoding="gb18030")

    first = sink(runtime, source)
    assert (first.status, first.added, first.changed) == ("ok", 1, 1)
    assert chat.pushed_texts("li_minzheng") == ["数据下沉《民政导出》→低保对象台账：新增 1 条，更新 1 条，0 条无变化。"]

    again = sink(runtime, source)
    assert again.status == RunStatus.SKIPPED
    assert again.message == "文件夹里没有新的导出文件（最新的“dibao-1128.csv”已经取过），本次不取数。"
    assert chat.pushed_texts("li_minzheng") == []

    workbook = openpyxl.Workbook()
    workbook.active.append(["身份证号", "姓名", "家庭人口", "单位"])
    workbook.active.append([KNOWN, "张德明", 5, "松林村"])
    newer = folder / "dibao-1129.xlsx"
    workbook.save(newer)
    os.utime(newer, (datetime.now().timestamp() + 60,) * 2)
    third = sink(runtime, source)
    assert (third.status, third.changed) == ("ok", 1)
    with runtime.factory() as session:
        runs = session.scalars(sa.select(SourceRun).order_by(SourceRun.id)).all()
        assert [(run.status, run.input_name) for run in runs] == [
            ("ok", "dibao-1128.csv"), ("skipped", None), ("ok", "dibao-1129.xlsx")
        ]  # fmt: skip
        ledger = get_ledger(session, "dibao_households")
        assert get_record(session, ledger, KNOWN).values["household_size"] == 5


def test_a_folder_source_maps_its_own_column_names(runtime, chat, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "export.csv").write_text("SFZH,XM,所在村\n110102199101010078,张三,汉东村\n", encoding="utf-8")
    columns = {"SFZH": "id_number", "XM": "name", "所在村": "单位"}
    source = Source(name="民政导出", ledger="dibao_households", schedule="每天 02:00", folder=folder, columns=columns)
    assert sink(runtime, source).added == 1
    with runtime.factory() as session:
        record = get_record(session, get_ledger(session, "dibao_households"), NEW)
        assert record.org_unit_id is not None and record.values["name"] == "张三"


def test_a_missing_folder_is_a_failed_run_and_an_empty_one_a_skipped_run(runtime, chat, tmp_path):
    source = Source(name="民政导出", ledger="dibao_households", schedule="每天 02:00", folder=tmp_path / "none")
    result = sink(runtime, source)
    assert result.status == RunStatus.FAILED
    [text] = chat.pushed_texts("li_minzheng")
    assert text == f"数据下沉《民政导出》→低保对象台账 没有完成：找不到文件夹“{tmp_path / 'none'}”，" + (
        "请检查配置的 folder，或确认对方系统的导出是否放到了这里。"
    )
    (tmp_path / "none").mkdir()
    assert sink(runtime, source).status == RunStatus.SKIPPED
    assert chat.pushed_texts("li_minzheng") == []


def test_an_unreadable_export_is_a_failed_run_reported_to_the_department(runtime, chat, tmp_path):
    (tmp_path / "dibao.xlsx").write_bytes(b"not a workbook")
    source = Source(name="民政导出", ledger="dibao_households", schedule="每天 02:00", folder=tmp_path)
    assert sink(runtime, source).status == RunStatus.FAILED
    [text] = chat.pushed_texts("li_minzheng")
    assert "没有完成：无法打开文件“dibao.xlsx”" in text


def at(clock, day: int, hour: int, minute: int = 0) -> None:
    clock.set(datetime(2024, 11, day, hour, minute, tzinfo=TZ).astimezone(UTC))


def test_the_scheduler_runs_each_source_on_its_timetable(runtime, chat, clock, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "dibao-1128.csv").write_text(CSV, encoding="utf-8")
    nightly = Source(name="民政导出", ledger="dibao_households", schedule="每天 02:00", folder=folder)
    broken = query_source("postgresql+psycopg://sink@127.0.0.1:1/dibao", "t")
    broken = replace(broken, name="断开的系统", schedule="每周一 03:00")
    runtime.config = replace(runtime.config, sources=(nightly, broken))
    work = TimedWork(runtime, SchedulerConfig(), holder="scheduler-a")

    first = work.sink_due_sources()  # never run: both run at the first look, the broken one as a failed run
    assert [(result.status, result.added) for result in first] == [("ok", 1), ("failed", 0)]
    assert work.sink_due_sources() == []
    at(clock, 29, 1, 59)
    assert work.sink_due_sources() == []
    at(clock, 29, 2, 0)
    [skipped] = work.sink_due_sources()  # no new export dropped yet
    assert skipped.status == RunStatus.SKIPPED
    (folder / "dibao-1129.csv").write_text(CSV.replace(",4,", ",6,"), encoding="utf-8")
    at(clock, 30, 2, 5)  # the scheduler was down at 02:00: the missed run comes once, when it is back
    [caught_up] = work.sink_due_sources()
    assert (caught_up.status, caught_up.changed) == ("ok", 1)
    assert work.sink_due_sources() == []
    clock.set(datetime(2024, 12, 2, 3, 0, tzinfo=TZ).astimezone(UTC))  # Monday: the weekly one is due as well
    assert sorted(result.status for result in work.sink_due_sources()) == ["failed", "skipped"]


CONFIG = """
[[sources]]
name = "民政低保系统"
ledger = "dibao_households"
schedule = "每天 02:00"
url = "postgresql+psycopg://reader@10.0.0.9:5432/dibao"
query = "SELECT sfzh, xm, household_size, 村 FROM dibao_view"
columns = { sfzh = "id_number", xm = "name", "村" = "单位" }

[[sources]]
name = "残联导出"
ledger = "disabled_people"
schedule = "每周一 03:00"
folder = "/srv/exports/canlian"
"""


def test_the_example_configurations_sources_load_once_uncommented(tmp_path):
    example = (Path(__file__).parent.parent / "config.example.toml").read_text(encoding="utf-8")
    start = example.index("# [[sources]]")
    path = tmp_path / "config.toml"
    path.write_text(example[:start] + example[start:].replace("# ", ""), encoding="utf-8")
    names = [(source.name, source.ledger, source.schedule) for source in load_config(path, environ={}).sources]
    assert names == [
        ("民政低保系统", "dibao_households", "每天 02:00"),
        ("残联导出", "disabled_people", "每周一 03:00"),
    ]


def test_the_scheduler_looks_at_the_sources_on_a_job_of_its_own_only_when_there_are_some(runtime, tmp_path):
    work = TimedWork(runtime, SchedulerConfig(), holder="scheduler-a")
    assert background(work, SchedulerConfig()).get_job("sink_sources") is None
    source = Source(name="民政导出", ledger="dibao_households", schedule="每天 02:00", folder=tmp_path)
    runtime.config = replace(runtime.config, sources=(source,))
    assert background(work, SchedulerConfig()).get_job("sink_sources") is not None


def test_sources_are_read_from_the_configuration(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    database, folder = load_config(path, environ={}).sources
    assert database.url == "postgresql+psycopg://reader@10.0.0.9:5432/dibao" and database.folder is None
    assert database.columns == {"sfzh": "id_number", "xm": "name", "村": "单位"}
    assert folder.folder == Path("/srv/exports/canlian") and folder.url is None
    assert Config().sources == ()


@pytest.mark.parametrize(
    ("change", "chinese", "english"),
    [
        (('schedule = "每周一 03:00"', 'schedule = "每晚两点"'), "schedule“每晚两点”看不懂", "is not understood"),
        (
            ('folder = "/srv/exports/canlian"', 'folder = "/srv/x"\nurl = "sqlite://"'),
            "要么写 url 和 query",
            "not both",
        ),
        (('ledger = "disabled_people"\n', ""), "缺少 ledger", "ledger is missing"),
        (('name = "残联导出"', 'name = "民政低保系统"'), "name 与前面的数据源重名", "used by an earlier source"),
        (('folder = "/srv', 'foldr = "/srv'), "不认识的选项 foldr", "unknown option foldr"),
        (('folder = "/srv', 'columns = { "村" = 3 }\nfolder = "/srv'), "columns 应是一组", "columns must be a table"),
    ],
)
def test_a_bad_source_entry_stops_start_up_naming_it_in_chinese_and_english(tmp_path, change, chinese, english):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.replace(*change), encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path, environ={})
    message = str(raised.value)
    assert "[[sources]] 第 2 个" in message and chinese in message
    assert "[[sources]] #2" in message and english in message


def test_a_bad_schedule_is_explained_by_every_command_at_start_up(tmp_path, capsys):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.replace('"每周一 03:00"', '"每晚两点"'), encoding="utf-8")
    assert main(["sink", "残联导出", "--config", str(path)]) == 2
    assert (
        "[[sources]] 第 2 个（残联导出）：schedule“每晚两点”看不懂，"
        "请写成每天 02:00、每周一 03:00、每月1日 02:00、每个工作日 06:00这样。" in capsys.readouterr().err
    )


def test_sink_on_the_command_line_runs_one_source_now(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("YBT_DATABASE_URL", f"sqlite:///{tmp_path / 'sink.sqlite3'}")
    assert main(["import-org", "bot/demo/org.csv"]) == 0
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "dibao.csv").write_text(CSV, encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[[sources]]\nname = "民政导出"\nledger = "dibao_households"\nschedule = "每天 02:00"\nfolder = "{folder}"\n',
        encoding="utf-8",
    )
    capsys.readouterr()

    assert main(["sink", "民政导出", "--config", str(config)]) == 0
    assert capsys.readouterr().out.strip() == "数据下沉《民政导出》→低保对象台账：新增 2 条，更新 0 条，0 条无变化。"
    assert main(["sink", "民政导出", "--config", str(config)]) == 1
    assert "已经取过" in capsys.readouterr().out
    assert main(["sink", "别的系统", "--config", str(config)]) == 2
    assert "已配置的数据源：民政导出" in capsys.readouterr().err
