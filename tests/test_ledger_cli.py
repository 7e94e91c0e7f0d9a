"""`python -m bot import-ledger`: the standard ledgers exist, a file streams in, and a re-run changes nothing."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from bot.progress import ProgressBar
from cli.bot_command import main

CSV = """身份证号,姓名,家庭人口,家庭月人均收入,联系电话,保障类别,单位
110102199101010078,张三,3,560.5,13908315526,A类,松林村
44011320141005001X,李四,2,480,13650238871,B类,汉东村
36042619910102009X,王五,1,300,13896475102,C类,石庙村
"""


def test_a_ledger_file_is_imported_by_title_and_bad_rows_land_in_an_error_workbook(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("YBT_DATABASE_URL", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    assert main(["import-org", "bot/demo/org.csv"]) == 0
    source = tmp_path / "低保.csv"
    source.write_text(CSV, encoding="utf-8")

    assert main(["import-ledger", "低保对象台账", str(source)]) == 1  # one row has a bad check digit
    printed = capsys.readouterr().out
    assert "新增 2" in printed and "有误 1 行" in printed
    errors = load_workbook(tmp_path / "低保_错误.xlsx", read_only=True)
    rows = [[cell for cell in row] for row in errors.active.iter_rows(values_only=True)]
    assert any("校验" in str(cell) for row in rows[1:] for cell in row)

    assert main(["import-ledger", "dibao_households", str(source)]) == 1
    assert "新增 0" in capsys.readouterr().out


def test_the_error_workbook_of_a_file_with_a_very_long_name_gets_a_short_name(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("YBT_DATABASE_URL", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    assert main(["import-org", "bot/demo/org.csv"]) == 0
    source = tmp_path / ("d" * 250 + ".csv")  # 254 bytes: with _错误.xlsx added it would be a name too long to save
    source.write_text(CSV, encoding="utf-8")
    assert main(["import-ledger", "低保对象台账", str(source)]) == 1
    assert "有误 1 行" in capsys.readouterr().out
    assert (tmp_path / ("d" * 60 + "_错误.xlsx")).is_file()


def test_an_unknown_ledger_or_file_is_a_plain_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("YBT_DATABASE_URL", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    assert main(["import-ledger", "低保对象台账", str(tmp_path / "none.csv")]) == 2
    source = tmp_path / "x.csv"
    source.write_text(CSV, encoding="utf-8")
    assert main(["import-ledger", "不存在的台账", str(source)]) == 1
    assert "没有编号为“不存在的台账”的台账" in capsys.readouterr().out


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_redrawn_in_place_on_a_terminal_and_silent_elsewhere():
    ticks = iter([0.0, 2.0, 4.0])
    screen = Terminal()
    bar = ProgressBar(screen, clock=lambda: next(ticks))
    bar.update(1000)
    bar.update(4000)
    bar.close()
    assert screen.getvalue() == "\r已读取 1,000 行（500 行/秒）\r已读取 4,000 行（1,000 行/秒）\n"
    quiet = io.StringIO()
    ProgressBar(quiet).update(10)
    assert quiet.getvalue() == ""
