"""Sentences of rosters (花名册): rows to check, the list, editing a row, the workbook sent back."""

from __future__ import annotations

LISTED_ROWS = 20  # rows listed in one chat message; the workbook has them all
EMPTY = "（未填）"
STATUS_NAMES = {"pending": "待核对", "kept": "无变化", "changed": "已修改", "added": "新增", "removed": "删除"}
ROW_FOOTER = (
    "无变化回复“确认”，要改回复“修改”，已不在名单回复“删除”（可写原因，如“删除 迁往外地”）；全部无变化回复“全部确认”。"
)
LIST_FOOTER = (
    "核对无误请回复“完成”继续；“添加”加一行；“修改 行号”“删除 行号”改某一行；"
    "回复“表格”获取 Excel 花名册，改好后发回也可以。"
)
ROSTER_HELP = (
    "在花名册里可以回复：确认、全部确认、修改 [行号]、删除 [行号] [原因]、添加、表格、完成；"
    "也可以直接发回改好的 Excel 花名册。"
)


def row_status(status: str, reason: str | None) -> str:
    """A row's status in the list; a removed row with its reason (删除：迁往外地)."""
    return f"{STATUS_NAMES[status]}：{reason}" if reason and status == "removed" else STATUS_NAMES[status]


def row_header(label: str, number: int, total: int, pending: int) -> str:
    """Heads one row to check."""
    return f"【{label}】第{number}/{total}行（从台账带出，还有{pending}行待核对）："


def empty_roster(label: str) -> str:
    """A roster with no rows yet."""
    return f"【{label}】名单里还没有人。回复“添加”加一行，也可以发来 Excel 花名册；本期没有要报的回复“完成”。"


def list_header(label: str, count: int, counts: dict[str, int]) -> str:
    """Heads the list of rows."""
    return f"【{label}】共 {count} 行（{changes(counts)}）："


def changes(counts: dict[str, int]) -> str:
    """无变化 3 行、已修改 1 行 … (only the kinds that occur)."""
    parts = [f"{STATUS_NAMES[status]} {count} 行" for status, count in counts.items() if count]
    return "、".join(parts) or "无"


def more_rows(count: int) -> str:
    """After the listed rows."""
    return f"……另有 {count} 行，回复“表格”可查看全部。"


def bad_row_number(total: int) -> str:
    """修改/删除 with a row number outside the roster."""
    return f"请写明第几行，如“修改 2”“删除 3”（1 到 {total}）。" if total else "名单里还没有行，回复“添加”加一行。"


REMOVE_HOW = "删除哪一行、为什么，请用空格隔开，如“删除 3 迁往外地”；删除正在核对的这一行回复“删除 原因”。"


def rows_left(pending: int) -> str:
    """完成 while rows are still to check."""
    return f"还有 {pending} 行没有核对，请逐行回复“确认”，或回复“全部确认”。"


def edit_header(label: str, row: int, position: int, total: int) -> str:
    """Heads one field of the row being edited."""
    return f"【{label}】第{row}行 · 第{position}/{total}项"


def duplicate_row(number: int) -> str:
    """A key already on another row."""
    return f"名单第 {number} 行已经是这个人了，请核对；要改那一行，请先回复“取消”，再回复“修改 {number}”。"


def edit_footer(adding: bool) -> str:
    """Under each field of a row being filled in: the way out."""
    if adding:
        return "不添加这一行了请回复“取消”。"
    return "改到这里就好请回复“完成”，不改这一行了请回复“取消”。"


ADD_CANCELLED = "好的，不添加了，名单没有变化。"


def edit_cancelled(number: int) -> str:
    """取消 while a row is changed: the row is as it was."""
    return f"好的，第{number}行不改了，还是原来的内容。"


def row_added(number: int) -> str:
    """完成 on a new row with its required fields filled in."""
    return f"已添加第{number}行。"


def row_not_added(labels: list[str]) -> str:
    """完成 on a new row without some required fields."""
    named = "".join(f"“{label}”" for label in labels)
    return f"新的一行还没有填{named}，没有加入名单。要加这个人请重新回复“添加”。"


def row_saved(number: int) -> str:
    """完成 while a row is changed: what was changed is kept."""
    return f"第{number}行的修改已保存。"


def row_unchanged(number: int) -> str:
    """Leaving a row without changing anything."""
    return f"第{number}行没有改动。"


def replaced(counts: dict[str, int]) -> str:
    """After an edited workbook was read."""
    return f"已按表格更新花名册：{changes(counts)}。"


def review_line(count: int, counts: dict[str, int]) -> str:
    """The roster in the review before submitting."""
    return f"{count} 行（{changes(counts)}）"


# After the roster's name in its workbook's file name: 残疾人名单花名册_20241128-100503.xlsx.
WORKBOOK_TAG = "花名册"


WORKBOOK_SENT = "花名册已作为 Excel 文件发给您：改好后直接发回即可，空行会被忽略，删掉的行即从名单中删除。"
UNREADABLE = "这个文件打不开，请确认是 Excel（.xlsx）文件后再发一次。"


def missing_columns(labels: list[str]) -> str:
    """A workbook without some of the roster's columns."""
    return f"表格第 1 行缺少这些列：{'、'.join(labels)}。请用机器人发的花名册表格修改后再发回。"


def workbook_refused(count: int, listed: list[str], more: int) -> str:
    """A workbook with bad cells: nothing was changed."""
    tail = f"\n……另有 {more} 处" if more else ""
    return f"花名册有 {count} 处需要修改，名单没有变动：\n" + "\n".join(listed) + tail + "\n改好后再发一次即可。"


def cell_problem(row: int, label: str, reason: str) -> str:
    """One bad cell of a workbook."""
    return f"第 {row} 行“{label}”：{reason}"


def duplicate_in_file(row: int, first: int) -> str:
    """The same key on two rows of a workbook."""
    return f"第 {row} 行：与第 {first} 行是同一个人。"


REQUIRED_CELL = "必填，不能为空"


def too_many_rows(limit: int) -> str:
    """A workbook longer than a roster may be."""
    return f"表格超过 {limit} 行，一份花名册放不下。请分单位报送，或联系发布部门。"
