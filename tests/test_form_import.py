"""A department brings its own form as an Excel workbook, in chat or on the command line."""

from __future__ import annotations

import io

from openpyxl import Workbook
from sqlalchemy import func, select

from cli.bot_command import main
from handlers.core.messages import Incoming
from handlers.forms.xlsform import read_form
from ledger_store.models import Form, OutboxMessage, StoredFile
from ledger_store.org import SIMULATOR

SURVEY = [
    ["类型", "字段名", "题目", "提示", "必填"],
    ["整数", "households", "监测户数", "单位：户", "是"],
    ["单选 risk", "risk", "主要风险", "", "是"],
    ["文本", "remark", "备注", "", "否"],
]
CHOICES = [["选项列表", "name", "label"], ["risk", "ill", "因病"], ["risk", "edu", "因学"]]
SETTINGS = [["form_title", "form_id"], ["防返贫监测月报", "fanpin_monthly"]]


def workbook(survey=SURVEY, choices=CHOICES, settings=SETTINGS) -> bytes:
    """An xlsx with the three XLSForm sheets, from the tables above."""
    book = Workbook()
    book.active.title = "survey"
    for title, rows in (("survey", survey), ("choices", choices), ("settings", settings)):
        sheet = book[title] if title in book.sheetnames else book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def send_file(runtime, account: str, name: str, content: bytes) -> str:
    incoming = Incoming(SIMULATOR, account, "", message_id=f"file-{name}", file_name=name, file_bytes=content)
    return "\n".join(reply.text for reply in runtime.engine.receive(incoming))


def test_an_issuer_sends_a_workbook_and_can_issue_it_at_once(chat, runtime):
    reply = send_file(runtime, "li_minzheng", "防返贫监测.xlsx", workbook())
    assert reply.startswith("已导入表单《防返贫监测月报》（第1版，共3项）")
    assert "已发布《防返贫监测月报》" in chat.say("li_minzheng", "/发布 防返贫监测月报 截止 11月30日18点 范围 松林村")
    chat.say("zhang_dehua", "开始")
    question = chat.say("zhang_dehua", "12")
    assert "主要风险" in question and "1. 因病" in question and "2. 因学" in question


def test_sending_the_same_workbook_again_keeps_the_version_and_a_change_makes_a_new_one(runtime):
    send_file(runtime, "li_minzheng", "a.xlsx", workbook())
    assert "第1版" in send_file(runtime, "li_minzheng", "b.xlsx", workbook())
    changed = [*SURVEY, ["日期", "visited_on", "走访日期", "", "是"]]
    assert "第2版，共4项" in send_file(runtime, "li_minzheng", "c.xlsx", workbook(survey=changed))


def test_a_broken_workbook_is_answered_row_by_row_and_nothing_is_stored(runtime):
    broken = [SURVEY[0], ["整数", "households", "监测户数", "", "是"], ["integr", "people", "人数", "", "是"]]
    reply = send_file(runtime, "li_minzheng", "broken.xlsx", workbook(survey=broken))
    assert reply.startswith("表单有 1 处问题，没有导入")
    assert "survey 表第 3 行" in reply and "integer" in reply
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Form).where(Form.code == "fanpin_monthly")) == 0


def test_files_from_a_filler_or_not_excel_are_answered_politely(runtime):
    reply = send_file(runtime, "zhang_dehua", "x.xlsx", workbook())
    assert "只有填到花名册这一步时，才能发回改好的 Excel 花名册" in reply
    assert "只能导入 Excel 表单" in send_file(runtime, "li_minzheng", "photo.jpg", b"\xff\xd8\xff")


def test_the_blank_template_is_sent_as_a_file_that_reads_back_as_a_form(chat):
    assert "空白表单模板" in chat.say("li_minzheng", "/空白模板")
    [push] = chat.pushes("li_minzheng")
    assert push.file_name == "一表通表单模板_20241128-100000.xlsx"
    assert read_form(push.file_bytes, file_name=push.file_name).problems == []
    assert "需要发布员权限" in chat.say("zhang_dehua", "/空白模板")
    chat.say("li_minzheng", "/空白模板")
    chat.say("li_minzheng", "/空白模板")  # twice in one second: two files, both sent
    assert [p.file_name for p in chat.pushes("li_minzheng")] == [
        "一表通表单模板_20241128-100000_2.xlsx",
        "一表通表单模板_20241128-100000_3.xlsx",
    ]


def test_import_form_on_the_command_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("YBT_DATABASE_URL", f"sqlite:///{tmp_path / 'forms.sqlite3'}")
    good = tmp_path / "good.xlsx"
    good.write_bytes(workbook())
    assert main(["import-form", str(good)]) == 0
    assert "已导入表单《防返贫监测月报》" in capsys.readouterr().out
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook(settings=[["form_title"], ["坏表"]], survey=[SURVEY[0], ["geopoint", "p", "位置"]]))
    assert main(["import-form", str(bad)]) == 1
    assert "没有导入" in capsys.readouterr().out


def test_notes_and_calculations_are_not_counted_as_questions_anywhere(chat, runtime):
    survey = [
        ["类型", "字段名", "题目", "计算"],
        ["说明", "intro", "请按实际情况填写", ""],
        ["整数", "households", "监测户数", ""],
        ["整数", "people", "监测人数", ""],
        ["计算", "per_household", "户均人数", "${people} div ${households}"],
    ]
    send_file(runtime, "li_minzheng", "f.xlsx", workbook(survey=survey, choices=[["list_name", "name", "label"]]))
    chat.say("li_minzheng", "/发布 防返贫监测月报 截止 11月30日18点 范围 松林村")
    assert "共2题" in chat.pushed_texts("zhang_dehua")[0]
    first = chat.say("zhang_dehua", "开始")
    assert "请按实际情况填写" in first and "第1/2题" in first
    chat.say("zhang_dehua", "3")
    assert "已填1/2题" in chat.say("zhang_dehua", "/待办")
    assert "填到第2/2题" in chat.say("li_minzheng", "/进度")
    review = chat.say("zhang_dehua", "7")
    assert "户均人数" in review


def test_a_workbook_with_a_name_of_hundreds_of_characters_and_a_control_character_is_kept_and_read(runtime):
    # As a platform's callback does: the message (and its file) is stored first, handled after.
    name = "防返贫\x00监测" + "表" * 300 + ".xlsx"
    incoming = Incoming(SIMULATOR, "li_minzheng", "", message_id="long-name", file_name=name, file_bytes=workbook())
    assert runtime.engine.accept(incoming)
    runtime.engine.process_pending()
    with runtime.factory() as session:
        [kept] = session.scalars(select(StoredFile.name)).all()
        [reply] = session.scalars(select(OutboxMessage.text)).all()
    assert len(kept) == 200 and kept.startswith("防返贫监测表表") and kept.endswith("表.xlsx")
    assert reply.startswith("已导入表单《防返贫监测月报》")
