"""Ledgers defined by their owners in Excel: the workbook in chat and on the command line, versions, the loss rule,
/空白台账 and /台账. Workbooks are written here from inline tables and read back as the bot reads them."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from bot.config import Config
from bot.demo.make_ledger_books import BOOKS
from bot.platforms.simulator import SimulatorPlatform
from bot.runtime import build_runtime
from cli.bot_command import main
from handlers.core.messages import Incoming
from handlers.ledgers.catalog import ensure_standard_ledgers, standard_books
from ledger_store.ledger_book import read_ledger_book, write_ledger_book
from ledger_store.ledgers import get_ledger, get_record, history, ledger_versions
from ledger_store.models import AuditEntry, Ledger
from ledger_store.org import SIMULATOR

LEDGER = [
    ("项目", "内容"),
    ("台账名称", "高龄老人台账"),
    ("台账代码", "elderly_people"),
    ("板块", "民生服务"),
    ("对象类型", "人员"),
    ("主键", "身份证号"),
    ("归属部门", "区民政局"),
    ("共享部门", "区残联（完整）"),
    ("说明", "80 岁以上老人"),
]
FIELDS = [
    ("字段名称", "字段代码", "类型", "选项", "必填", "有效期（天）", "敏感", "标准字段"),
    ("身份证号", "id_number", "身份证号", "", "是", "", "是", ""),
    ("姓名", "name", "文本", "", "是", "", "否", "姓名"),
    ("补贴类别", "allowance", "单选", "高龄津贴、护理补贴", "否", "365", "否", ""),
    ("是否独居", "lives_alone", "是否", "", "否", "30", "否", ""),
]
DATA = [
    ("身份证号", "姓名", "补贴类别", "是否独居", "单位"),
    ("500118195803120218", "刘大贵", "高龄津贴", "是", "松林村"),
    ("500118197209050447", "陈小芳", "护理补贴", "否", "汉东村"),
]


def workbook(**sheets: list[tuple[str, ...]]) -> bytes:
    """An .xlsx with these sheets (title -> rows), in order."""
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def elderly(**changes: list[tuple[str, ...]]) -> bytes:
    """The example 高龄老人台账 workbook, with sheets replaced as given."""
    return workbook(**{"台账": LEDGER, "字段": FIELDS, "数据": DATA, **changes})


def standard(code: str, **changes) -> bytes:
    """The shipped definition of a standard ledger as a workbook, changed as given."""
    book = next(book for book in standard_books() if book.code == code)
    return write_ledger_book(replace(book, **changes))


def test_an_issuer_defines_her_departments_ledger_with_its_rows_and_shares(chat, runtime):
    reply = chat.send_file("li_minzheng", "高龄老人台账.xlsx", elderly())
    assert reply.startswith("已保存台账《高龄老人台账》（第1版，共4个字段），写入数据 2 条。")
    assert chat.say("li_minzheng", "/查询 高龄老人台账 补贴类别=高龄津贴").startswith(
        "高龄老人台账中符合“补贴类别=高龄津贴”的记录共 1 条。"
    )
    assert chat.say("wang_canlian", "/查询 高龄老人台账").startswith("高龄老人台账中记录共 2 条")  # shared in full
    with runtime.factory() as session:
        ledger = get_ledger(session, "elderly_people")
        assert (ledger.board, ledger.entity_kind, ledger.owner.name) == ("民生服务", "person", "区民政局")
        [version] = ledger_versions(session, ledger)
        assert version.definition["shares"] == [["区残联", True]]
        assert version.definition["source"] == "高龄老人台账.xlsx" and version.created_by_id is not None
        assert [f.get("standard") for f in version.definition["fields"]] == [None, "name", None, None]
    again = chat.send_file("li_minzheng", "高龄老人台账.xlsx", elderly())
    assert again.startswith("台账《高龄老人台账》的定义没有变化（第1版），写入数据 2 条。")


def test_a_bad_workbook_lists_every_problem_by_sheet_and_row_and_nothing_is_written(chat, runtime):
    wrong = {"板块": "民生", "对象类型": "人口", "主键": "户号", "共享部门": "区民证局"}
    ledger = [(item, wrong.get(item, value)) for item, value in LEDGER]
    fields = [*FIELDS, ("家庭人口", "household_size", "数子", "", "否", "", "否", ""), ("姓名2", "name", "文本")]
    reply = chat.send_file("li_minzheng", "坏台账.xlsx", elderly(台账=ledger, 字段=fields))
    assert "没有保存" in reply
    assert "台账 表第 4 行：板块“民生”不认识，可填：党的建设、经济发展、民生服务、平安法治" in reply
    assert "台账 表第 5 行：对象类型“人口”不认识" in reply
    assert "台账 表第 8 行：共享部门“区民证局”不存在" in reply
    assert "字段 表第 6 行：类型“数子”不认识，可填：整数、小数、文本、日期、是否、单选、多选、身份证号、手机号" in reply
    assert "字段 表第 7 行：“name”与第 3 行重复" in reply
    assert "台账 表第 6 行：主键“户号”不是字段表里的字段" in reply
    with runtime.factory() as session:
        assert get_ledger(session, "elderly_people") is None


def test_a_key_type_the_entity_kind_does_not_allow_and_a_missing_sheet_are_refused(chat):
    as_house = [row if row[0] != "对象类型" else ("对象类型", "房屋") for row in LEDGER]
    assert "台账 表第 6 行：对象类型为“房屋”时，主键的类型只能是：文本" in chat.send_file(
        "li_minzheng", "房屋.xlsx", elderly(台账=as_house)
    )
    reply = chat.send_file("li_minzheng", "只有台账.xlsx", workbook(台账=LEDGER))
    assert "缺少“字段”表" in reply and "/空白台账" in reply
    bad_unit = [*DATA, ("500118196607280825", "王五", "", "", "不存在村")]
    assert "数据 表第 4 行：单位“不存在村”不存在" in chat.send_file("li_minzheng", "x.xlsx", elderly(数据=bad_unit))


def test_dropping_a_field_with_values_waits_for_confirmation_then_is_versioned_and_audited(chat, runtime):
    book = next(book for book in standard_books() if book.code == "dibao_households")
    fewer = tuple(field for field in book.fields if field["name"] != "household_size")
    reply = chat.send_file("li_minzheng", "低保.xlsx", standard("dibao_households", fields=fewer))
    assert "这次修改会清空台账《低保对象台账》里已有的数据，还没有保存" in reply
    assert "1. 删除字段“家庭人口”：8 条记录的这一项将被清空" in reply and "确认修改" in reply
    with runtime.factory() as session:
        assert len(get_ledger(session, "dibao_households").fields) == 6  # nothing changed yet
    assert chat.say("li_minzheng", "确认修改").startswith("已保存台账《低保对象台账》（第2版，共5个字段）")
    with runtime.factory() as session:
        ledger = get_ledger(session, "dibao_households")
        assert [field["name"] for field in ledger.fields] == [
            "id_number",
            "name",
            "monthly_income",
            "mobile",
            "category",
        ]
        latest = ledger_versions(session, ledger)[-1]
        assert latest.losses == [{"field": "household_size", "label": "家庭人口", "change": "dropped", "records": 8}]
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "ledger_define")).all()[-1]
        assert entry.new["losses"] == latest.losses and entry.actor_id is not None
        cleared = history(session, ledger, "500118196003138318", "household_size")
        assert (cleared[-1].old, cleared[-1].new) == (1, None)
    assert chat.say("li_minzheng", "确认修改") == "没有等您确认的台账修改。"


def test_a_waiting_change_survives_a_restart_and_can_be_dropped(chat, runtime, engine, clock, tmp_path):
    retyped = tuple({**f, "type": "text"} if f["name"] == "monthly_income" else f for f in BOOKS[0].fields)
    reply = chat.send_file("li_minzheng", "低保.xlsx", standard("dibao_households", fields=retyped))
    assert "1. 更改类型“家庭月人均收入”：8 条记录的这一项将被清空" in reply
    restarted = build_runtime(Config(), SimulatorPlatform(files_dir=tmp_path), clock=clock, database=engine)
    [dropped] = restarted.engine.receive(Incoming(SIMULATOR, "li_minzheng", "放弃修改", message_id="after-restart"))
    assert dropped.text == "已放弃这次台账修改，台账保持原样。"
    assert chat.say("li_minzheng", "确认修改") == "没有等您确认的台账修改。"
    with runtime.factory() as session:
        assert get_ledger(session, "dibao_households").version == 1


def test_the_key_of_a_ledger_with_records_cannot_change(chat, runtime):
    reply = chat.send_file("li_minzheng", "低保.xlsx", standard("dibao_households", key_field="mobile"))
    assert (
        "台账 表第 6 行：对象类型为“人员”时，主键的类型只能是：身份证号" in reply
    )  # a person ledger is keyed by ID number
    by_location = standard("land_transfers", key_field="location")
    assert chat.send_file("he_zhiming", "土地.xlsx", by_location) == (
        "台账《土地流转台账》已有 3 条记录，不能更换主键（现在是“地块编码”）。如确需按新主键管理，请另定义一本台账。"
    )
    with runtime.factory() as session:
        assert get_ledger(session, "land_transfers").key_field == "parcel_no"


def test_a_filler_and_another_departments_issuer_are_refused(chat, runtime):
    assert chat.send_file("zhang_dehua", "高龄.xlsx", elderly()) == "只有部门的发布员或管理员可以定义台账。"
    assert chat.send_file("wang_canlian", "高龄.xlsx", elderly()) == (
        "您只能定义归属本部门（区残联）的台账；《高龄老人台账》的归属部门写的是“区民政局”。"
    )
    taken = standard("dibao_households", owner="区残联", title="低保对象台账（残联版）")
    assert chat.send_file("wang_canlian", "低保.xlsx", taken) == (
        "台账《低保对象台账》归区民政局，只有区民政局或管理员能修改它的定义。"
    )
    with runtime.factory() as session:
        assert get_ledger(session, "elderly_people") is None
        assert get_ledger(session, "dibao_households").title == "低保对象台账"
    assert chat.send_file("admin", "高龄.xlsx", elderly()).startswith("已保存台账《高龄老人台账》")


def test_a_blank_ledger_workbook_is_sent_and_reads_back_as_the_senders_ledger(chat, runtime):
    assert "空白台账定义表" in chat.say("li_minzheng", "/空白台账")
    [sent] = [m for m in chat.pushes("li_minzheng") if m.file_name]
    assert "说明" in load_workbook(io.BytesIO(sent.file_bytes)).sheetnames
    book = read_ledger_book(sent.file_bytes, ["区民政局"])
    assert (book.title, book.owner, book.key_field) == ("高龄老人台账", "区民政局", "id_number")
    assert chat.send_file("li_minzheng", sent.file_name, sent.file_bytes).startswith("已保存台账《高龄老人台账》")
    assert "需要发布员权限" in chat.say("zhang_dehua", "/空白台账")


def test_define_ledger_on_the_command_line_refuses_a_loss_until_confirmed(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("YBT_DATABASE_URL", f"sqlite:///{tmp_path / 'define.sqlite3'}")
    assert main(["import-org", "bot/demo/org.csv"]) == 0
    path = tmp_path / "高龄.xlsx"
    path.write_bytes(elderly())
    capsys.readouterr()
    assert main(["define-ledger", str(path)]) == 0
    assert "写入数据 2 条" in capsys.readouterr().out
    path.write_bytes(elderly(字段=FIELDS[:3], 数据=[row[:2] + row[-1:] for row in DATA]))
    assert main(["define-ledger", str(path)]) == 1
    assert "加 --confirm-loss 重新运行" in capsys.readouterr().out
    assert main(["define-ledger", str(path), "--confirm-loss"]) == 0
    assert "第2版" in capsys.readouterr().out
    (tmp_path / "x.xlsx").write_bytes(b"not a workbook")
    assert main(["define-ledger", str(tmp_path / "x.xlsx")]) == 1
    assert "无法打开这个文件" in capsys.readouterr().out


def test_the_ledger_list_shows_boards_owners_counts_and_stale_values_in_each_scope(chat, clock):
    admin = chat.say("admin", "/台账").splitlines()
    assert admin[1:4] == ["【党的建设】", "· 村社区基本情况台账（区民政局）：3 条", "【经济发展】"]
    assert "· 低保对象台账（区民政局）：8 条" in admin and "· 消防隐患台账（除险清患）（区应急局）：3 条" in admin
    assert admin.index("【平安法治】") > admin.index("【民生服务】")
    issuer = chat.say("li_minzheng", "/台账")
    assert "低保对象台账" in issuer and "残疾人台账" not in issuer and "土地流转台账" not in issuer
    clock.advance(days=40)  # 家庭月人均收入 is valid 31 days, 在保低保户数 too
    filler = chat.say("zhang_dehua", "/台账")
    assert "· 低保对象台账（区民政局）：2 条，2 项过期" in filler  # 松林村's two households
    assert "· 残疾人台账（区残联）：3 条" in filler and "消防隐患台账（除险清患）（区应急局）：1 条" in filler
    assert "矛盾调解台账（区司法局）：1 条" in filler and "萱花社区" not in filler
    assert "· 村社区基本情况台账（区民政局）：1 条，1 项过期" in filler
    assert "矛盾调解台账" not in chat.say("wu_min", "/台账")  # 萱花社区 has no mediation case


def test_the_shipped_standard_workbooks_match_their_generator_and_the_demo_copies(chat, runtime):
    shipped = {book.code: book for book in standard_books()}
    assert list(shipped) == [book.code for book in BOOKS]
    for book in BOOKS:
        assert shipped[book.code] == replace(book, data_header=(), data_rows=())
    with runtime.factory() as session:
        counts = {ledger.code: ledger.version for ledger in session.scalars(select(Ledger))}
        assert set(counts) == set(shipped)
        assert session.scalar(select(func.count()).select_from(Ledger).where(Ledger.owner_department_id.is_(None))) == 0


def test_start_up_keeps_an_owners_own_definition_of_a_standard_ledger(chat, runtime, clock):
    more = (*BOOKS[0].fields, {**BOOKS[0].fields[-1], "name": "note", "label": "备注", "type": "text", "choices": []})
    assert chat.send_file("li_minzheng", "低保.xlsx", standard("dibao_households", fields=more)).startswith("已保存")
    with runtime.factory.begin() as session:
        ensure_standard_ledgers(session, clock.now())  # what every start does
    with runtime.factory() as session:
        assert [field["label"] for field in get_ledger(session, "dibao_households").fields][-1] == "备注"


def test_a_waiting_change_expires_after_a_day(chat, clock):
    fewer = tuple(field for field in BOOKS[0].fields if field["name"] != "household_size")
    assert "确认修改" in chat.send_file("li_minzheng", "低保.xlsx", standard("dibao_households", fields=fewer))
    clock.advance(days=2)
    assert chat.say("li_minzheng", "确认修改") == "没有等您确认的台账修改。"


def test_a_town_departments_rows_must_lie_in_its_town(chat, runtime, town_office):
    town_ledger = [(item, "朱沱镇民政办" if item == "归属部门" else value) for item, value in LEDGER]
    elsewhere = [*DATA, ("500118196607280825", "赵桂英", "", "", "红旗社区")]
    reply = chat.send_file(town_office, "高龄.xlsx", elderly(台账=town_ledger, 数据=elsewhere))
    assert "数据 表第 4 行：这条记录或单位不在您部门的范围内，不能在这里写入" in reply
    with runtime.factory() as session:
        assert get_ledger(session, "elderly_people") is None
    assert chat.send_file(town_office, "高龄.xlsx", elderly(台账=town_ledger)).startswith("已保存台账《高龄老人台账》")


def test_a_departments_rows_carry_a_shared_name_only_into_ledgers_it_holds_whole(chat, runtime):
    # 区残联 defines its own person ledger whose 姓名 is the standard field, with a row for 张德明 — whom 区民政局's
    # 低保对象台账 (not shared with 区残联) holds in 松林村: that record must not change.
    ledger = [(item, {"归属部门": "区残联", "共享部门": ""}.get(item, value)) for item, value in LEDGER]
    rows = [DATA[0][:2] + DATA[0][4:], ("500118196003138318", "冒名顶替", "松林村")]
    reply = chat.send_file("wang_canlian", "高龄老人台账.xlsx", elderly(台账=ledger, 数据=rows))
    assert "写入数据 1 条" in reply
    with runtime.factory() as session:
        dibao = get_record(session, get_ledger(session, "dibao_households"), "500118196003138318")
        assert dibao.values["name"] == "张德明"
    # an admin's definition reaches every ledger of the kind
    chat.send_file(
        "admin", "高龄老人台账.xlsx", elderly(台账=ledger, 数据=[rows[0], ("500118196003138318", "张德民", "松林村")])
    )
    with runtime.factory() as session:
        assert (
            get_record(session, get_ledger(session, "dibao_households"), "500118196003138318").values["name"]
            == "张德民"
        )


@pytest.mark.parametrize("days", ["99999999999", "0", "²x", "三十"])
def test_a_validity_out_of_range_is_a_problem_of_its_row_not_a_broken_ledger(chat, runtime, days):
    fields = [*FIELDS[:4], ("是否独居", "lives_alone", "是否", "", "否", days, "否", "")]
    reply = chat.send_file("li_minzheng", "高龄老人台账.xlsx", elderly(字段=fields))
    assert "没有保存" in reply and "字段 表第 5 行：有效期（天）" in reply and "1 到 36500 的整数" in reply
    assert "出了点问题" not in chat.say("li_minzheng", "/台账")


def test_a_validity_in_full_width_digits_is_read(chat, runtime):
    fields = [*FIELDS[:4], ("是否独居", "lives_alone", "是否", "", "否", "３０", "否", "")]
    assert chat.send_file("li_minzheng", "高龄老人台账.xlsx", elderly(字段=fields)).startswith(
        "已保存台账《高龄老人台账》"
    )
    with runtime.factory() as session:
        assert get_ledger(session, "elderly_people").fields[3]["validity_days"] == 30
