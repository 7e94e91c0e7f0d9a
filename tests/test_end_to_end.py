"""A whole report from issue to summary: three villages answer, the workbook comes back and is read cell by cell."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

from openpyxl import load_workbook

HEADER = [
    "序号",
    "单位",
    "填报人",
    "提交时间",
    "在保低保户数（户）",
    "在保低保人数（人）",
    "本月新增低保户（户）",
    "本月退出低保户（户）",
    "本月发放低保金（元）",
    "本月是否完成入户核查",
    "填报人手机号",
    "备注",
]


def test_three_villages_report_and_the_summary_reaches_the_department(chat, clock):
    issued = chat.say("li_minzheng", "/发布 低保月报 截止 2024-11-30 18:00 范围 松林村 汉东村 石庙村 不审核")
    assert "已通知3个单位：松林村、汉东村、石庙村" in issued
    for account in ("zhang_dehua", "luo_xiuying", "chen_guoping"):
        assert "《低保月报》" in chat.pushed_texts(account)[0]

    # 松林村: confirms the 在保低保户数 the ledger holds, then straight through, with a remark like a formula.
    assert "1. 在保低保户数：2户" in chat.say("zhang_dehua", "开始")
    for answer in ["确认", "350", "3", "1", "15000", "是", "13908315526"]:
        chat.say("zhang_dehua", answer)
    chat.say("zhang_dehua", '=HYPERLINK("http://x","点我")')
    clock.advance(minutes=5)
    assert "已提交" in chat.say("zhang_dehua", "提交")

    # 汉东村: corrects the ledger's value, answers wrongly, goes back and edits before submitting.
    assert "1. 在保低保户数：3户" in chat.say("luo_xiuying", "开始")
    chat.say("luo_xiuying", "修改 1")
    assert "不是数字" in chat.say("luo_xiuying", "八十户左右")
    assert "1. 在保低保户数：80户" in chat.say("luo_xiuying", "八十")
    chat.say("luo_xiuying", "确认")
    chat.say("luo_xiuying", "210")
    chat.say("luo_xiuying", "2")
    assert "第3/8题" in chat.say("luo_xiuying", "上一题")
    chat.say("luo_xiuying", "4")
    chat.say("luo_xiuying", "0")
    assert "不能小于 0" in chat.say("luo_xiuying", "-300")
    chat.say("luo_xiuying", "9800.5")
    assert "请回复“是”或“否”" in chat.say("luo_xiuying", "也许")
    chat.say("luo_xiuying", "否")
    assert "手机号位数不对" in chat.say("luo_xiuying", "1390831552")
    chat.say("luo_xiuying", "139 0831 5527")
    review = chat.say("luo_xiuying", "跳过")
    assert "请核对" in review
    chat.say("luo_xiuying", "修改 1")
    review = chat.say("luo_xiuying", "81")
    assert "1. 在保低保户数：81" in review
    clock.advance(minutes=5)
    chat.say("luo_xiuying", "确认")

    assert chat.pushes("li_minzheng") == []  # not everyone has answered yet

    # 石庙村: the last one; submitting triggers the summary.
    chat.say("chen_guoping", "开始")
    for answer in ["45", "98", "0", "0", "4500", "是", "13650238871", "无"]:
        chat.say("chen_guoping", answer)
    clock.advance(minutes=5)
    chat.say("chen_guoping", "提交")

    pushes = chat.pushes("li_minzheng")
    texts = [p.text for p in pushes if p.text]
    files = [p for p in pushes if p.file_bytes]
    assert texts == ["《低保月报》（任务#1）：3/3 已报，本月新增低保户合计 7 户；台账带出 2 项，实际问了 23 题"]
    assert len(files) == 1
    assert files[0].file_name == "低保月报汇总_任务1_20241128-101500.xlsx"
    assert files[0].file_path is not None and files[0].file_path.read_bytes() == files[0].file_bytes

    workbook = load_workbook(io.BytesIO(files[0].file_bytes))
    assert workbook.sheetnames == ["汇总", "未报送", "填报负担", "分镇统计"]
    burden = [[cell.value for cell in row] for row in workbook["填报负担"].iter_rows()]
    assert burden[0] == ["序号", "单位", "填报人", "问了几题", "台账带出", "确认无变化", "用时（分钟）"]
    assert burden[1] == [1, "永川区/朱沱镇/松林村", "张德华", 7, 1, 1, 5]  # 在保低保户数 came from the ledger
    assert burden[2] == [2, "永川区/朱沱镇/汉东村", "罗秀英", 8, 1, 0, 5]  # offered, but changed
    assert burden[4] == [None, "合计", None, 23, 2, 1, None]
    sheet = workbook["汇总"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == HEADER
    assert rows[1] == [
        1, "永川区/朱沱镇/松林村", "张德华", datetime(2024, 11, 28, 10, 5),
        2, 350, 3, 1, 15000, "是", "13908315526", "=HYPERLINK(\"http://x\",\"点我\")",
    ]  # fmt: skip
    assert rows[2] == [
        2, "永川区/朱沱镇/汉东村", "罗秀英", datetime(2024, 11, 28, 10, 10),
        81, 210, 4, 0, 9800.5, "否", "13908315527", None,
    ]  # fmt: skip
    assert rows[3] == [
        3, "永川区/朱沱镇/石庙村", "陈国平", datetime(2024, 11, 28, 10, 15),
        45, 98, 0, 0, 4500, "是", "13650238871", "无",
    ]  # fmt: skip
    assert rows[4] == [None, "合计", None, None, 128, 658, 7, 1, 29300.5, None, None, None]
    assert len(rows) == 5

    remark = sheet["L2"]
    assert remark.data_type == "s", "a formula typed by a person must stay text"
    assert remark.quotePrefix
    assert isinstance(sheet["E2"].value, int) and sheet["E2"].data_type == "n"
    assert sheet["D2"].is_date
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width >= 20

    missing = [[cell.value for cell in row] for row in workbook["未报送"].iter_rows()]
    assert missing == [["序号", "单位", "填报人", "状态"]]

    # The summary goes out once: later commands do not send it again.
    chat.say("li_minzheng", "/进度")
    assert chat.pushes("li_minzheng") == []


def test_summary_of_a_partly_reported_task_lists_who_is_missing(chat):
    chat.say("wang_canlian", "/发布 残疾人两项补贴情况 截止 12月5日 范围 松林村 汉东村 石庙村 不审核")
    chat.say("zhang_dehua", "开始")
    answers = ["12", "5", "8600.50", "2024-11-20", "社保卡", "1", "110102199101010078", "13908315526"]
    for answer in answers:
        chat.say("zhang_dehua", answer)
    chat.say("zhang_dehua", "提交")
    chat.say("luo_xiuying", "开始")
    chat.say("luo_xiuying", "3")

    assert "已报 1/3" in chat.say("wang_canlian", "/汇总")
    [digest, file] = chat.pushes("wang_canlian")
    assert digest.text == (
        "《残疾人两项补贴情况》（任务#1）：1/3 已报，困难残疾人生活补贴人数合计 12 人；未报：汉东村、石庙村"
    )
    workbook = load_workbook(io.BytesIO(file.file_bytes))
    sheet = workbook["汇总"]
    first = [cell.value for cell in sheet[2]]
    assert first[4:] == [
        12, 5, 8600.5, datetime(2024, 11, 20), "社保卡", "无", "110102199101010078", "13908315526",
    ]  # fmt: skip
    assert sheet["H2"].is_date and sheet["H2"].number_format == "yyyy-mm-dd"
    assert [cell.value for cell in sheet[3]][3] == "未报送"
    assert [cell.value for cell in sheet[5]][:2] == [None, "合计"]
    assert sheet["E5"].value == 12 and sheet["G5"].value == Decimal("8600.5")
    missing = [[cell.value for cell in row] for row in workbook["未报送"].iter_rows(min_row=2)]
    assert missing == [
        [1, "永川区/朱沱镇/汉东村", "罗秀英", "填写中"],
        [2, "永川区/朱沱镇/石庙村", "陈国平", "未开始"],
    ]
    assert date(2024, 11, 20) == sheet["H2"].value.date()
