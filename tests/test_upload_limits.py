"""Files people upload are checked before they are opened: zip bombs, huge sheets, giant cells, stray NULs.

A file over 20 MB sent on WeCom is not even downloaded past the cap: the emulator makes such files up as it
serves them, so a test can send gigabytes that nobody holds.

The bombs are built here, streamed through zlib (a sheet of zeros compresses about 1000:1), so nothing big is
committed; a "declared" bomb is a small workbook whose archive directory claims gigabytes, as a real one would.
Memory is checked with tracemalloc's peak, never with time.
"""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from bot.platforms.base import MAX_FILE_BYTES
from bot.platforms.emulator_server import GeneratedFile
from cli.bot_command import main
from ledger_store.ledger_import import import_ledger
from ledger_store.ledgers import define_ledger, get_ledger, get_record
from ledger_store.models import InboundMessage, InboundStatus, OrgUnit, Person
from ledger_store.org_import import import_org
from ledger_store.org_sheet import MAX_ROWS
from ledger_store.xlsx_archive import Limits, UnsafeWorkbook, check_workbook

MB = 1 << 20
SHEET = "xl/worksheets/sheet1.xml"
SHEET_START = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_END = b"</sheetData></worksheet>"


def small_workbook(rows: list[list[str]], title: str = "survey") -> bytes:
    """An ordinary .xlsx with these rows on its first sheet."""
    book = Workbook()
    book.active.title = title
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def with_member(data: bytes, name: str, chunks: Iterable[bytes]) -> bytes:
    """The workbook with member `name` replaced (or added) by `chunks`, compressed as they are streamed."""
    out = io.BytesIO()
    packed = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9)
    with zipfile.ZipFile(io.BytesIO(data)) as source, packed as target:
        for member in source.infolist():
            if member.filename != name:
                target.writestr(member, source.read(member.filename))
        with target.open(name, "w") as stream:
            for chunk in chunks:
                stream.write(chunk)
    return out.getvalue()


def with_sheet(data: bytes, chunks: Iterable[bytes]) -> bytes:
    """The workbook with its first sheet's XML replaced by `chunks`."""
    return with_member(data, SHEET, chunks)


STRINGS = "xl/sharedStrings.xml"
NO_STRINGS = (
    b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
)


def with_strings(data: bytes) -> bytes:
    """The workbook with a shared strings part, as Excel writes one (openpyxl writes its text inline)."""
    return with_member(data, STRINGS, [NO_STRINGS])


def bomb(megabytes: int, header: list[str] | None = None) -> bytes:
    """A real zip bomb: one cell of `megabytes` MB of zeros (after a header row), about 1 KB per MB packed."""

    def chunks() -> Iterator[bytes]:
        yield SHEET_START
        if header:
            cells = "".join(
                f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{title}</t></is></c>' for i, title in enumerate(header)
            )
            yield f'<row r="1">{cells}</row>'.encode()
        yield b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
        zeros = b"0" * MB
        for _ in range(megabytes):
            yield zeros
        yield b"</t></is></c></row>" + SHEET_END

    return with_sheet(small_workbook([header or ["x"]]), chunks())


def declaring(data: bytes, name: str, size: int) -> bytes:
    """The archive with `name` declaring `size` unpacked bytes in its directory and local header (data unchanged)."""
    patched = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        member = archive.getinfo(name)
    struct.pack_into("<L", patched, member.header_offset + 22, size)
    end = patched.rfind(b"PK\x05\x06")
    at = struct.unpack_from("<L", patched, end + 16)[0]
    while patched[at : at + 4] == b"PK\x01\x02":
        name_length, extra_length, comment_length = struct.unpack_from("<3H", patched, at + 28)
        if patched[at + 46 : at + 46 + name_length].decode() == name:
            struct.pack_into("<L", patched, at + 24, size)
        at += 46 + name_length + extra_length + comment_length
    return bytes(patched)


def peak_memory(action: Callable[[], object]) -> tuple[object, int]:
    """What `action` returned and the peak of memory Python allocated while it ran."""
    tracemalloc.start()
    try:
        result = action()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --- in chat -----------------------------------------------------------------------------------------------------


def test_a_zip_bomb_sent_in_chat_is_refused_politely_and_the_next_message_works(chat):
    data = bomb(30)
    assert len(data) < 100_000  # 30 MB of cell text in a file of a few dozen KB
    reply, peak = peak_memory(lambda: chat.send_file("li_minzheng", "低保月报.xlsx", data))
    assert "这个文件解压后超过 20 MB，可能不是正常的表格，请检查后重新发送。" in reply and "没有导入" in reply
    assert peak < 15 * MB  # openpyxl would hold the 30 MB cell at least twice
    assert "低保月报" in chat.say("li_minzheng", "/模板")


def test_a_bomb_that_declares_gigabytes_is_refused_without_reading_it(chat):
    data = declaring(small_workbook([["type", "name", "label"]]), SHEET, 3_000_000_000)
    assert "解压后超过 20 MB" in chat.send_file("li_minzheng", "表单.xlsx", data)


def test_an_archive_whose_directory_lies_small_cannot_unpack_more_than_it_declares(chat):
    honest = bomb(30)
    with zipfile.ZipFile(io.BytesIO(honest)) as archive:
        assert archive.getinfo(SHEET).file_size > 30 * MB
    lying = declaring(honest, SHEET, 1000)
    reply, peak = peak_memory(lambda: chat.send_file("li_minzheng", "表单.xlsx", lying))
    assert "无法读取这个文件" in reply
    assert peak < 15 * MB


def test_an_archive_of_thousands_of_members_is_refused(chat):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number in range(6000):
            archive.writestr(f"part{number}.xml", b"")
    assert "部件超过 5000 个" in chat.send_file("li_minzheng", "表单.xlsx", buffer.getvalue())


def test_a_bomb_sent_back_as_a_roster_leaves_the_roster_as_it_was(chat):
    chat.say("wang_canlian", "/发布 两项补贴花名册 截止 11月30日18点 范围 松林村")
    chat.say("zhang_dehua", "开始")
    reply = chat.send_file("zhang_dehua", "残疾人名单花名册.xlsx", bomb(30, ["身份证号", "姓名"]))
    assert reply.startswith("这个文件解压后超过 20 MB")
    assert "第2/3行" in chat.say("zhang_dehua", "确认")


# --- a file over the cap, sent on WeCom -------------------------------------------------------------------------

TOO_LARGE = "文件超过 20 MB，无法接收。请把表格拆小（或删去多余的工作表、图片）后重新发送。"


def test_a_file_over_20_mb_sent_on_wecom_is_answered_at_once_and_not_kept(world):
    world.emulator.member_sends_file("li_minzheng", GeneratedFile(MAX_FILE_BYTES + 1), "全区低保名单.xlsx")
    world.settle()
    assert world.texts("li_minzheng") == [TOO_LARGE]
    with world.runtime.factory() as session:
        [row] = session.scalars(select(InboundMessage))
        assert (row.status, row.attempts, row.file_id) == (InboundStatus.DONE, 0, None)
    assert sum(path.endswith("/media/get") for _, path in world.emulator.calls) == 1  # not tried again
    assert "低保月报" in world.say("li_minzheng", "/模板")[0]


def test_a_download_of_gigabytes_without_a_length_stops_at_the_cap_in_little_memory(world):
    world.say("zhang_dehua", "帮助")  # the access token is fetched now, so only the download is measured
    world.emulator.member_sends_file("zhang_dehua", GeneratedFile(3 << 30, declared=False), "台账.xlsx")
    _, peak = peak_memory(world.settle)
    assert world.texts("zhang_dehua") == [TOO_LARGE]
    # The 20 MB read before the cap was passed, and the rest of the 3 GB left unread; the emulator's werkzeug
    # server, in this process too, may add the 10 MB buffer it drains a dropped connection with.
    assert peak < 35 * MB


# --- on the command line -----------------------------------------------------------------------------------------


@pytest.fixture
def cli_database(tmp_path, monkeypatch) -> Path:
    """A fresh SQLite database for `python -m bot` commands run in this process."""
    path = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("YBT_DATABASE_URL", f"sqlite:///{path}")
    return path


def test_import_form_refuses_a_bomb(tmp_path, capsys, cli_database):
    source = tmp_path / "表单.xlsx"
    source.write_bytes(bomb(30))
    assert main(["import-form", str(source)]) == 1
    assert "这个文件解压后超过 20 MB" in capsys.readouterr().out


def test_import_org_refuses_bombs_and_writes_nothing(tmp_path, capsys, cli_database):
    header = ["单位", "上级单位", "层级"]
    cases = {
        "ratio.xlsx": (bomb(30, header), "解压后是原来的 100 倍以上，可能不是正常的表格"),
        "declared.xlsx": (declaring(small_workbook([header]), SHEET, 2_000_000_000), "解压后超过 100 MB"),
        "strings.xlsx": (
            declaring(with_strings(small_workbook([header])), STRINGS, 30 * MB),
            "里的文字解压后超过 20 MB",
        ),
    }
    for name, (data, expected) in cases.items():
        source = tmp_path / name
        source.write_bytes(data)
        assert main(["import-org", str(source)]) == 1
        assert expected in capsys.readouterr().out, name
    assert main(["import-org", "bot/demo/org.csv"]) == 0  # the database was left empty and usable


def test_import_ledger_refuses_bombs_before_writing(tmp_path, capsys, cli_database):
    assert main(["import-org", "bot/demo/org.csv"]) == 0
    capsys.readouterr()
    header = ["身份证号", "姓名"]
    cases = {
        "ratio.xlsx": (bomb(30, header), "解压后是原来的 100 倍以上"),
        "declared.xlsx": (declaring(small_workbook([header]), SHEET, 3_000_000_000), "解压后超过 1024 MB"),
        "strings.xlsx": (
            declaring(with_strings(small_workbook([header])), STRINGS, 100 * MB),
            "另存为“CSV UTF-8（逗号分隔）”后再导入",
        ),
        "rows.xlsx": (
            with_sheet(small_workbook([header]), empty_rows(500_001, dimension=True)),
            "的工作表超过 500000 行，请删去多余的行，或在 Excel 中另存为“CSV UTF-8（逗号分隔）”后再导入",
        ),
    }
    for name, (data, expected) in cases.items():
        source = tmp_path / name
        source.write_bytes(data)
        assert main(["import-ledger", "低保对象台账", str(source)]) == 1
        printed = capsys.readouterr().out
        assert "导入失败，未写入任何数据" in printed and expected in printed, name


# --- import-org is streamed and capped ---------------------------------------------------------------------------


def test_a_million_row_organisation_csv_is_refused_after_the_cap_in_little_memory(db, tmp_path):
    source = tmp_path / "全市.csv"
    with source.open("w", encoding="utf-8") as file:
        file.write("单位,上级单位,层级\n永川区,,区\n")
        file.writelines(f"村{number},永川区,镇\n" for number in range(1_048_575))
    with db.begin() as session:
        report, peak = peak_memory(lambda: import_org(session, source))
    assert report.errors == [
        f"文件的数据超过 {MAX_ROWS} 行，不能一次导入，未写入任何数据。"
        "请分成几个文件（上级单位所在的文件先导入）分别导入。"
    ]
    assert peak < 40 * MB  # reading stops at the cap; the whole file would take gigabytes
    with db() as session:
        assert session.scalar(select(func.count()).select_from(OrgUnit)) == 0


def test_an_organisation_xlsx_past_the_cap_is_refused_too(db, tmp_path):
    def rows() -> Iterator[bytes]:
        yield SHEET_START
        yield b'<row r="1"><c r="A1" t="inlineStr"><is><t>\xe5\x8d\x95\xe4\xbd\x8d</t></is></c>'  # 单位
        yield b'<c r="B1" t="inlineStr"><is><t>\xe5\xb1\x82\xe7\xba\xa7</t></is></c></row>'  # 层级
        for number in range(2, MAX_ROWS + 3):
            yield f'<row r="{number}"><c r="A{number}" t="inlineStr"><is><t>村{number}</t></is></c></row>'.encode()
        yield SHEET_END

    source = tmp_path / "大.xlsx"
    source.write_bytes(with_sheet(small_workbook([["x"]]), rows()))
    with db.begin() as session:
        assert f"超过 {MAX_ROWS} 行" in import_org(session, source).errors[0]


def test_giant_and_null_cells_in_an_organisation_csv(db, tmp_path):
    source = tmp_path / "组织.csv"
    source.write_text(
        "单位,上级单位,层级,姓名,账号\n"
        "永川区,,区,,\n"
        f"朱沱镇,永川区,镇,{'长' * 10 * MB},zhang\n"  # a 10 MB cell, over the csv module's own limit
        f"石庙村,朱沱镇,村,{'长' * 40_000},chen\n"  # over Excel's limit for a cell
        "中山路街道,永川区,街道,\x00刘婷\x00,liu_ting\n",
        encoding="utf-8",
    )
    with db.begin() as session:
        report = import_org(session, source)
    assert report.errors == [
        "第 3 行：有一个单元格超过 32767 个字（Excel 一个单元格的上限），请检查这一行。",
        "第 4 行：第 4 列超过 32767 个字（Excel 一个单元格的上限），请检查这一行。",
    ]
    source.write_text(
        "单位,上级单位,层级,姓名,账号\n永川区,,区,,\n中山路街道,永川区,街道,\x00刘婷\x00,liu_ting\n", encoding="utf-8"
    )
    with db.begin() as session:
        assert import_org(session, source).errors == []
    with db() as session:  # on PostgreSQL a NUL would not even be storable
        assert session.scalar(select(Person.name).where(Person.account == "liu_ting")) == "刘婷"


# --- import-ledger: giant cells are row errors, the rest is imported ----------------------------------------------


def test_giant_cells_and_endless_lines_in_a_ledger_csv_are_row_errors(runtime, tmp_path):
    source = tmp_path / "低保.csv"
    with source.open("w", encoding="utf-8") as file:
        file.write("身份证号,姓名,家庭人口,家庭月人均收入,联系电话,保障类别,单位\n")
        file.write(f"36042619910102009X,{'长' * 10 * MB},3,560.5,13908315526,A类,松林村\n")
        file.write(f"44011320141005001X,{'长' * 40_000},2,480,13650238871,B类,汉东村\n")
        file.write("0" * (30 * MB) + "\n")  # one line without an end in sight
        file.write("110102199101010078,王\x00五,1,300,13896475102,C类,石庙村\n")
    errors = tmp_path / "低保_错误.xlsx"
    now = runtime.engine.now()
    report, peak = peak_memory(
        lambda: import_ledger(runtime.factory, "dibao_households", source, None, now, error_path=errors)
    )
    assert (report.inserted, report.invalid) == (1, 3)
    assert report.errors == [
        "第 2 行：有一个单元格超过 32767 个字（Excel 一个单元格的上限），请检查这一行",
        "第 3 行：第 2 列超过 32767 个字（Excel 一个单元格的上限），请检查这一行",
        "第 4 行：有一个单元格超过 32767 个字（Excel 一个单元格的上限），请检查这一行",
    ]
    assert peak < 30 * MB  # a line is read a megabyte at a time; csv keeps at most its own field limit
    assert errors.exists()
    with runtime.factory() as session:
        stored = get_record(session, get_ledger(session, "dibao_households"), "110102199101010078")
        assert "王五" in stored.values.values()


def test_a_workbook_whose_text_holds_a_control_character_is_unreadable_not_a_crash(chat):
    # XML 1.0 has no way to write \x01 (&#1; is refused by every parser), so such a cell reaches no one:
    # the file is answered as unreadable, for a form and for a roster alike.
    def rows() -> Iterator[bytes]:
        yield SHEET_START + b'<row r="1"><c r="A1" t="inlineStr"><is><t>type&#1;</t></is></c></row>' + SHEET_END

    data = with_sheet(small_workbook([["x"]]), rows())
    assert "无法读取这个文件" in chat.send_file("li_minzheng", "表单.xlsx", data)
    chat.say("wang_canlian", "/发布 两项补贴花名册 截止 11月30日18点 范围 松林村")
    chat.say("zhang_dehua", "开始")
    assert "这个文件打不开" in chat.send_file("zhang_dehua", "花名册.xlsx", data)
    assert "第2/3行" in chat.say("zhang_dehua", "确认")


def test_a_zip64_archive_of_seventy_thousand_members_is_refused_from_its_end_record(chat):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number in range(70_000):  # past 65,535: the count lives in the zip64 end record
            archive.writestr(f"{number}", b"")
    data = buffer.getvalue()
    assert data.rfind(b"PK\x06\x06") > 0
    reply, peak = peak_memory(lambda: chat.send_file("li_minzheng", "表单.xlsx", data))
    assert "部件超过 5000 个" in reply
    assert peak < 5 * MB  # the directory of 70,000 entries was never parsed


def test_a_ledger_xlsx_damaged_half_way_says_what_was_written(db, tmp_path):
    with db.begin() as session:
        fields = [{"name": "code", "label": "编号", "type": "text", "required": True}]
        define_ledger(session, "plots", "地块台账", "code", fields, datetime(2024, 11, 28))

    def rows() -> Iterator[bytes]:
        # Excel writes the dimension first; openpyxl then leaves the rows to be read one by one
        yield SHEET_START.replace(b"<sheetData>", b'<dimension ref="A1:A2502"/><sheetData>')
        yield b'<row r="1"><c r="A1" t="inlineStr"><is><t>\xe7\xbc\x96\xe5\x8f\xb7</t></is></c></row>'
        for number in range(2, 2502):
            yield f'<row r="{number}"><c r="A{number}" t="inlineStr"><is><t>D{number}</t></is></c></row>'.encode()
        yield b'<row r="2502"><c r="A2502" t="inlineStr"><is><t>D</is></row>'  # mismatched tags: the file breaks here

    source = tmp_path / "地块.xlsx"
    source.write_bytes(with_sheet(small_workbook([["x"]]), rows()))
    report = import_ledger(db, "plots", source, None, datetime(2024, 11, 28), batch_size=1000)
    assert report.inserted == 2000  # two batches were committed before the damage was met
    assert report.summary() == (
        "导入中途停止：文件“地块.xlsx”从第 2502 行起已损坏，无法读取。已写入的部分保留（新增 2000 条，更新 0 条）；"
        "改正文件后重新导入整个文件即可，已导入的行不会重复。"
    )


# --- what openpyxl would be made to keep -------------------------------------------------------------------------


def empty_rows(count: int, dimension: bool = False) -> Iterator[bytes]:
    """A sheet of `count` empty rows, each with its own number (so it does not compress like a bomb)."""
    start = SHEET_START.replace(b"<sheetData>", b'<dimension ref="A1"/><sheetData>') if dimension else SHEET_START
    yield start
    for first in range(1, count + 1, 10_000):
        yield b"".join(b'<row r="%d"/>' % number for number in range(first, min(first + 10_000, count + 1)))
    yield SHEET_END


def test_a_million_empty_rows_in_a_small_form_file_are_refused_before_openpyxl_keeps_them(chat):
    data = with_sheet(small_workbook([["x"]]), empty_rows(1_100_000))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.getinfo(SHEET)
        assert sheet.file_size < 20 * MB and sheet.file_size < 100 * sheet.compress_size  # passes the size checks
    reply, peak = peak_memory(lambda: chat.send_file("li_minzheng", "表单.xlsx", data))
    assert "这个文件里的表格超过 20000 行，请删去多余的行后重新发送。" in reply
    assert peak < 15 * MB  # openpyxl keeps about 80 bytes of every row it has read: 90 MB here


def test_an_organisation_xlsx_of_a_million_rows_is_refused_from_its_size_in_rows(db, tmp_path):
    source = tmp_path / "全市.xlsx"
    source.write_bytes(with_sheet(small_workbook([["x"]]), empty_rows(1_048_576, dimension=True)))
    with db.begin() as session:
        report, peak = peak_memory(lambda: import_org(session, source))
    assert report.errors == [
        "文件“全市.xlsx”的工作表超过 100000 行，请删去多余的行，或在 Excel 中另存为“CSV UTF-8（逗号分隔）”后再导入。"
    ]
    assert peak < 15 * MB


def test_elements_in_one_row_and_outside_rows_are_counted(tmp_path):
    limits = Limits(unpacked_bytes=20 * MB, shared_strings_bytes=MB, columns=10, row_elements=100, loose_elements=1000)
    wide = with_sheet(small_workbook([["x"]]), [SHEET_START, b"<x:row r='1'>", b"<c/>" * 150, b"</x:row>", SHEET_END])
    with pytest.raises(UnsafeWorkbook) as refused:
        check_workbook(wide, limits)
    assert (refused.value.reason, refused.value.limit) == ("elements", 100)
    rows = [SHEET_START, *(b"<row r='%d'><c/><c/></row>" % n for n in range(1, 400)), SHEET_END]
    check_workbook(with_sheet(small_workbook([["x"]]), rows), limits)  # 400 rows of 3 elements each pass
    loose = with_sheet(small_workbook([["x"]]), [SHEET_START, b"<mergeCell/>" * 1500, SHEET_END])
    with pytest.raises(UnsafeWorkbook) as refused:
        check_workbook(loose, limits)
    assert (refused.value.reason, refused.value.limit) == ("elements", 1000)
