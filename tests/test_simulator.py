"""The chat simulator as an operator uses it: `python -m bot chat --script`, the terminal loop, import-org."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from pathlib import Path
from textwrap import dedent
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from bot.chat import ChatSimulator, run_interactive
from cli.bot_command import command_line
from ledger_store.db import make_engine, make_session_factory
from ledger_store.models import OrgUnit, Person

HEADER = re.compile(r"^  \[(?P<header>.+)\]$")


def run_bot(database: Path, *args: str) -> Result:
    """`python -m bot ARGS` in this process, on its own SQLite file, never the one under var/."""
    return CliRunner(env={"YBT_DATABASE_URL": f"sqlite:///{database}"}).invoke(command_line, list(args))


def bot_messages(transcript: str) -> list[tuple[str, str]]:
    """Every `[header]` block of a transcript with its indented body, e.g. ("机器人 推送 → 张德华(...)", "...")."""
    messages: list[tuple[str, list[str]]] = []
    for line in transcript.splitlines():
        if found := HEADER.match(line):
            messages.append((found["header"], []))
        elif line.startswith("    ") and messages:
            messages[-1][1].append(line[4:])
    return [(header, "\n".join(body)) for header, body in messages]


def spoken(transcript: str) -> list[str]:
    """The lines people said, as the transcript echoes them: '张德华(zhang_dehua) > 开始'."""
    return [line for line in transcript.splitlines() if " > " in line and not line.startswith(" ")]


def write_script(path: Path, text: str) -> Path:
    path.write_text(dedent(text).lstrip(), encoding="utf-8")
    return path


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """A fresh SQLite file for one command-line run."""
    return tmp_path / "x.sqlite3"


def test_a_script_issues_a_task_and_a_filler_answers_it_to_the_summary(database: Path, tmp_path: Path) -> None:
    due = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=4)).date()
    script = write_script(
        tmp_path / "dibao.txt",
        f"""
        # 区民政局发布，松林村张德华填报
        li_minzheng: /发布 低保月报 截止 {due.year}年{due.month}月{due.day}日 范围 松林村 不审核

        zhang_dehua: 开始
        # 台账里已有松林村的在保低保户数，确认后接着填
        zhang_dehua: 确认
        zhang_dehua: 很多
        zhang_dehua：350
        zhang_dehua: 3
        zhang_dehua: 1
        zhang_dehua: 15000
        zhang_dehua: 是
        zhang_dehua: 13908315526
        zhang_dehua: 跳过
        zhang_dehua: 提交
        """,
    )
    out = tmp_path / "files"

    result = run_bot(database, "chat", "--script", str(script), "--out", str(out))

    assert result.exit_code == 0, result.stderr
    messages = bot_messages(result.stdout)
    [task] = [body for header, body in messages if header == "机器人 推送 → 张德华(zhang_dehua)"]
    assert "【区民政局】发布了《低保月报》" in task and f"{due.month}月{due.day}日" in task
    replies = [body for header, body in messages if header == "机器人 → 张德华(zhang_dehua)"]
    assert "在保低保户数：2户" in replies[0] and "已从台账带出" in replies[0]
    assert "“很多”不是数字" in replies[2] and "第2/8题" in replies[2]
    assert "已提交" in replies[-1]
    [progress] = [body for header, body in messages if header == "机器人 推送 → 李敏正(li_minzheng)"]
    assert "《低保月报》（任务#1）：1/1 已报" in progress
    [file_note] = [body for header, body in messages if header == "机器人 文件 → 李敏正(li_minzheng)"]
    [saved] = (out / "li_minzheng").glob("低保月报汇总*.xlsx")
    assert str(saved) in file_note
    sheet = openpyxl.load_workbook(saved)["汇总"]
    header = [cell.value for cell in sheet[1]]
    village = [cell.value for cell in sheet[2]]
    assert village[header.index("单位")] == "永川区/朱沱镇/松林村"
    assert village[header.index("在保低保户数（户）")] == 2
    assert database.exists()


def test_a_malformed_script_line_is_reported_by_number_and_fails_the_run(database: Path, tmp_path: Path) -> None:
    script = write_script(
        tmp_path / "broken.txt",
        """
        # 第一行是注释

        zhang_dehua: 你好
        张德华说：你好
        luo_xiuying: 你好
        """,
    )

    result = run_bot(database, "chat", "--script", str(script), "--out", str(tmp_path / "files"))

    assert result.exit_code != 0
    assert "第 4 行格式不对" in result.stdout and "张德华说：你好" in result.stdout
    assert spoken(result.stdout) == ["张德华(zhang_dehua) > 你好", "罗秀英(luo_xiuying) > 你好"]
    assert "注释" not in result.stdout


def test_a_missing_script_file_is_a_plain_error_not_a_traceback(database: Path, tmp_path: Path) -> None:
    result = run_bot(database, "chat", "--script", str(tmp_path / "nope.txt"))

    assert result.exit_code == 2
    assert "无法读取脚本文件" in result.stderr and "Traceback" not in result.stderr


@pytest.fixture
def terminal(runtime) -> ChatSimulator:
    """The chat simulator on the demo organisation, printing into a string."""
    return ChatSimulator(runtime, runtime.platform, io.StringIO())


class Keyboard(io.StringIO):
    """Typed lines that also show on the screen after the prompt, as a terminal echoes them."""

    def __init__(self, typed: str, screen: io.StringIO) -> None:
        super().__init__(dedent(typed).lstrip())
        self.screen = screen

    def readline(self, size: int | None = -1) -> str:
        line = super().readline(size)
        self.screen.write(line)
        return line


def type_in(simulator: ChatSimulator, typed: str, account: str | None = None) -> str:
    """Run the terminal loop on the typed lines; the screen afterwards."""
    run_interactive(simulator, account=account, stdin=Keyboard(typed, simulator.out))
    return simulator.out.getvalue()


def test_at_account_speaks_as_that_person_and_stays_with_them(terminal: ChatSimulator) -> None:
    screen = type_in(
        terminal,
        """
        @li_minzheng /发布 低保月报 截止 11月30日18点 范围 松林村
        /进度
        @zhang_dehua
        开始
        :退出
        @luo_xiuying 这一行不会被读到
        """,
    )

    assert spoken(screen) == [
        "李敏正(li_minzheng) > /发布 低保月报 截止 11月30日18点 范围 松林村",
        "李敏正(li_minzheng) > /进度",
        "张德华(zhang_dehua) > 开始",
    ]
    assert "已切换到 张德华(zhang_dehua)" in screen
    assert "张德华(zhang_dehua)> 开始\n" in screen
    messages = dict(bot_messages(screen))
    assert "【区民政局】发布了《低保月报》" in messages["机器人 推送 → 张德华(zhang_dehua)"]
    assert "以下 1 项已从台账带出" in messages["机器人 → 张德华(zhang_dehua)"]
    assert "罗秀英" not in screen


def test_people_lists_every_account_with_unit_and_role(terminal: ChatSimulator) -> None:
    screen = type_in(terminal, ":人员\n:退出\n")

    listing = {line.split()[0]: line.split()[1:] for line in screen.splitlines() if re.match("  [a-z]", line)}
    assert listing["zhang_dehua"] == ["张德华", "松林村", "填报员"]
    assert listing["li_minzheng"] == ["李敏正", "区民政局", "发布员"]
    assert listing["admin"] == ["陈志刚", "永川区", "管理员"]
    assert len(listing) == 16


def test_end_of_input_ends_the_loop(terminal: ChatSimulator) -> None:
    screen = type_in(terminal, "你好\n", account="zhang_dehua")

    assert spoken(screen) == ["张德华(zhang_dehua) > 你好"]
    assert "没有待填报的任务" in dict(bot_messages(screen))["机器人 → 张德华(zhang_dehua)"]
    assert screen.endswith("张德华(zhang_dehua)> \n")


def test_speaking_before_choosing_an_account_asks_for_one(terminal: ChatSimulator) -> None:
    screen = type_in(terminal, "开始\n")

    assert "请先用“@账号”选择要扮演的人" in screen
    assert spoken(screen) == []


ZHUTUO = """
单位,上级单位,层级,姓名,账号,角色,手机号
永川区,,区,,,,
朱沱镇,永川区,镇,胡晓燕,hu_xiaoyan,填报员,13908315526
松林村,朱沱镇,村,张德华,zhang_dehua,填报员,15823617730
"""

BROKEN = """
单位,上级单位,层级,姓名,账号,角色,手机号
永川区,,区,,,,
朱沱镇,永川区,镇,胡晓燕,hu_xiaoyan,填报员,13908315526
石庙村,朱沱镇,村,陈国平,chen_guoping,填表员,13650238871
汉东村,朱沱镇,乡镇,罗秀英,luo_xiuying,填报员,1872305996
"""


def write_csv(path: Path, table: str) -> Path:
    """The table as a CSV file, the way Excel saves one (UTF-8 with a BOM)."""
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        csv.writer(file).writerows(csv.reader(io.StringIO(table.strip())))
    return path


def counts(database: Path) -> tuple[int, int]:
    """(org units, people) stored in the file."""
    factory = make_session_factory(make_engine(f"sqlite:///{database}"))
    with factory() as session:
        return (
            session.scalar(select(func.count()).select_from(OrgUnit)),
            session.scalar(select(func.count()).select_from(Person)),
        )


def test_import_org_reports_what_it_added(database: Path, tmp_path: Path) -> None:
    result = run_bot(database, "import-org", str(write_csv(tmp_path / "zhutuo.csv", ZHUTUO)))

    assert result.exit_code == 0, result.stderr
    assert "导入完成：新增单位 3 个" in result.stdout and "新增人员 2 人" in result.stdout
    assert counts(database) == (3, 2)


def test_import_org_with_errors_lists_them_by_row_and_writes_nothing(database: Path, tmp_path: Path) -> None:
    run_bot(database, "import-org", str(write_csv(tmp_path / "zhutuo.csv", ZHUTUO)))

    result = run_bot(database, "import-org", str(write_csv(tmp_path / "broken.csv", BROKEN)))

    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "导入失败，未写入任何数据，请修改以下问题后重新导入：",
        "第 4 行：角色“填表员”无法识别，是否是“填报员”？",
        "第 5 行：层级“乡镇”无法识别，请填写 区、镇、乡、街道、村、社区、网格 或 部门。",
        "第 5 行：手机号“1872305996”不正确，请填写 11 位手机号码（如 13812345678），没有可留空。",
    ]
    assert counts(database) == (3, 2)


def test_switching_to_an_unknown_account_is_refused(terminal: ChatSimulator) -> None:
    screen = type_in(terminal, "@zhang_dehua\n@nobody 你好\n你好\n")
    assert "没有账号“nobody”" in screen
    assert spoken(screen) == ["张德华(zhang_dehua) > 你好"]
