"""Names of the files the bot makes: safe on every file system, short, stamped, never a stored file's name."""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook

from ledger_store.db import transaction
from ledger_store.file_names import (
    MAX_LABEL_BYTES,
    MAX_LABEL_CHARS,
    content_digest,
    safe_label,
    stamped_name,
    store_named,
    unique_name,
)

WHEN = datetime(2024, 11, 28, 10, 5, 3)


def test_a_label_loses_what_file_systems_refuse_and_keeps_the_rest():
    assert safe_label('朱沱镇/松林村: "低保" <月报>?*|\\') == "朱沱镇_松林村_ _低保_ _月报_____"
    assert safe_label("低保\n月报\t\x00\x1f11月") == "低保 月报 11月"
    assert safe_label(" ..低保月报.. ") == "低保月报"
    assert safe_label("//") == "__" and safe_label(" . ") == "file" and safe_label("\x00", "表") == "表"


def test_a_label_is_cut_to_sixty_characters_and_a_bounded_number_of_bytes():
    assert safe_label("村" * 200) == "村" * MAX_LABEL_CHARS
    rare = safe_label("𠀀" * 200)  # four bytes each in UTF-8
    assert len(rare.encode()) <= MAX_LABEL_BYTES and rare == "𠀀" * (MAX_LABEL_BYTES // 4)
    name = stamped_name("/" + "村" * 300, WHEN, "花名册")
    assert name == "_" + "村" * 59 + "花名册_20241128-100503.xlsx" and len(name.encode()) < 255


def test_a_name_taken_by_a_stored_file_gets_the_next_number(db):
    with transaction(db) as session:
        first = store_named(session, "低保_100%.xlsx", b"1", WHEN)
        second = store_named(session, "低保_100%.xlsx", b"2", WHEN)
        third = store_named(session, "低保_100%.xlsx", b"3", WHEN)
        assert [first.name, second.name, third.name] == ["低保_100%.xlsx", "低保_100%_2.xlsx", "低保_100%_3.xlsx"]
        # % and _ are only characters: a stem they would match as wildcards does not count
        assert unique_name(session, "低保x100%.xlsx") == "低保x100%.xlsx"
        assert unique_name(session, "README") == "README"


def workbook(value: str) -> bytes:
    book = Workbook()
    book.active.append([value])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_one_workbook_saved_twice_has_one_digest_and_another_does_not(monkeypatch):
    first = workbook("刘大贵")
    later = datetime(2030, 1, 1)
    monkeypatch.setattr("time.time", lambda: later.timestamp())  # openpyxl and zipfile stamp the save time
    again = workbook("刘大贵")
    assert again != first and content_digest(again) == content_digest(first)
    assert content_digest(workbook("陈小芳")) != content_digest(first)
    assert content_digest(b"not a zip") != content_digest(b"not a zip either")
