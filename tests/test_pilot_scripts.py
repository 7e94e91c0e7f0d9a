"""Stories a pilot town would try in its first day, replayed through `python -m bot chat --script` as an operator does.

Each script runs in a process of its own under a memory cap, on a fresh SQLite file with the demo organisation.
Whatever a story does, the transcript must show no traceback or apology, no whole ID number or mobile, nothing of
another village's people to a village's filler, and every message after a hostile one must still be answered.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook

from tests.test_simulator import bot_messages

ROOT = Path(__file__).parent.parent
MEMORY_CAP = 1024 * 1024 * 1024  # address space of the whole bot process, bytes
WHOLE_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
WHOLE_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
APOLOGY = "系统刚才出了点问题"
# People of 汉东村 in the demo ledgers: 松林村's filler must never see them.
HANDONG_PEOPLE = ("赵桂英", "周小兵", "王建华", "赵桂芳")
OTHER_VILLAGE = "该身份证号已登记在其他村（社区），不能在本单位修改；如需迁入请联系镇街。"


def capped() -> None:
    """Run in the child before the bot starts: a zip bomb or a runaway list fails the run instead of the machine."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def replay(tmp_path: Path, lines: list[str]) -> str:
    """Replay `账号: 文本` lines on a fresh database; the transcript, after checking what every story must keep."""
    script = tmp_path / "story.txt"
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    environ = {**os.environ, "YBT_DATABASE_URL": f"sqlite:///{tmp_path / 'pilot.sqlite3'}", "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--script", str(script), "--out", str(tmp_path / "files")],
        cwd=ROOT, env=environ, capture_output=True, text=True, encoding="utf-8", timeout=300, preexec_fn=capped,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout and "MemoryError" not in result.stderr
    assert APOLOGY not in result.stdout
    assert not WHOLE_ID.findall(result.stdout), WHOLE_ID.findall(result.stdout)
    assert not WHOLE_MOBILE.findall(result.stdout), WHOLE_MOBILE.findall(result.stdout)
    spoken = sum(1 for line in lines if line.strip() and not line.startswith("#"))
    answered = [header for header, _ in bot_messages(result.stdout) if header.startswith("机器人 → ")]
    assert len(answered) == spoken, "every message gets its reply"
    return result.stdout


def to(transcript: str, who: str) -> list[str]:
    """The replies and pushes one person received, in order."""
    return [body for header, body in bot_messages(transcript) if header.endswith(who) and "文件" not in header]


def test_a_village_filler_cannot_reach_another_villages_people_and_always_finds_a_way_out(tmp_path: Path) -> None:
    transcript = replay(
        tmp_path,
        [
            "wang_canlian: /发布 两项补贴花名册 截止 后天 范围 松林村 不审核",
            "zhang_dehua: 开始",
            "zhang_dehua: 添加",
            "zhang_dehua: 500118196607280825",  # 赵桂英 of 汉东村
            "zhang_dehua: 500118196607280825",
            "zhang_dehua: 帮助",
            "zhang_dehua: 取消",
            "zhang_dehua: 删除 1 迁往外地",
            "zhang_dehua: 全部确认",
            "zhang_dehua: 完成",
            "zhang_dehua: 13908315526",
            "zhang_dehua: 提交",
            "zhang_dehua: 取消",
            "zhang_dehua: 取消",
        ],
    )
    mine = to(transcript, "张德华(zhang_dehua)")
    assert sum(OTHER_VILLAGE in body for body in mine) == 2
    assert not any(name in body for body in mine for name in HANDONG_PEOPLE)
    assert "好的，不添加了" in mine[6] and "刘大贵" in mine[6]  # 取消 left the new row for the roster's first row
    assert "已提交" in mine[11]
    assert all("开始填写" not in body and "继续填写" not in body for body in mine[12:])  # 取消 twice resumes nothing


def test_a_department_reads_only_the_ledgers_it_owns_or_is_granted_and_counts_cannot_recover_numbers(
    tmp_path: Path,
) -> None:
    transcript = replay(
        tmp_path,
        [
            "wang_canlian: /导出 低保对象台账",
            "wang_canlian: /查询 低保对象台账 联系电话 包含 131",
            "admin: /台账权限 低保对象台账 共享 区残联",
            "wang_canlian: /查询 低保对象台账 联系电话 包含 131",
            "wang_canlian: /查询 低保对象台账 身份证号 包含 5001",
            "wang_canlian: /查询 低保对象台账 保障类别=A类",
            "li_minzheng: /查询 低保对象台账 身份证号 包含 500118196003",
            "hu_xiaoyan: /台账权限 低保对象台账 共享 区残联 完整",
        ],
    )
    canlian = to(transcript, "王灿莲(wang_canlian)")
    assert all("归区民政局所有，区残联没有查看权限" in body for body in canlian[:2])
    assert "已共享给本部门" in canlian[2]  # told of the share
    assert "记录共" not in canlian[3] and "记录共" not in canlian[4]  # masked share: no counting on numbers
    assert "记录共" in canlian[5]
    [minzheng] = to(transcript, "李敏正(li_minzheng)")
    assert "记录共 1 条" in minzheng and "张德明" in minzheng
    [filler] = to(transcript, "胡晓燕(hu_xiaoyan)")
    assert "需要管理员权限" in filler


def test_hostile_text_fails_only_itself_and_the_next_message_is_answered(tmp_path: Path) -> None:
    transcript = replay(
        tmp_path,
        [
            "li_minzheng: /发布 低保月报 截止：后天 范围 石庙村 不审核",
            "chen_guoping: 开始",
            "chen_guoping: " + "9" * 400,
            "chen_guoping: 12",
            "chen_guoping: 350",
            "chen_guoping: 3",
            "chen_guoping: 1",
            "chen_guoping: 15000",
            "chen_guoping: 是",
            "chen_guoping: 13908315526",
            'chen_guoping: =HYPERLINK("http://x","点我")\x01\x00' + "长" * 3000,
            'chen_guoping: =HYPERLINK("http://x","点我")\x01\x00备注',
            "chen_guoping: 提交",
            "li_minzheng: /汇总",
            "li_minzheng: /进度 #" + "9" * 400,
            "admin: /投递 重试 " + "9" * 40,
            "li_minzheng: /发布 低保月报 截止 " + "9" * 400,
            "li_minzheng: /进度",
        ],
    )
    chen = to(transcript, "陈国平(chen_guoping)")
    assert "不能超过" in chen[2] and "第1/8题" in chen[2] and "第2/8题" in chen[3]  # 400 digits: asked again
    assert "已提交" in chen[-1]
    minzheng = to(transcript, "李敏正(li_minzheng)")
    assert any("《低保月报》（任务#1）：1/1 已报" in body for body in minzheng) and "全部已报" in minzheng[-1]
    summaries = sorted((tmp_path / "files" / "li_minzheng").glob("低保月报汇总_任务1_*.xlsx"))
    assert len(summaries) == 2  # the one pushed when all had reported, and the one /汇总 asked for
    sheet = load_workbook(summaries[-1])["汇总"]
    header = [cell.value for cell in sheet[1]]
    remark = sheet.cell(2, header.index("备注") + 1)
    assert remark.value == '=HYPERLINK("http://x","点我")备注' and remark.data_type == "s" and remark.quotePrefix
