"""Sentences about ledgers defined in Excel (台账定义表): the outcome, data-losing changes, /空白台账 and /台账."""

from __future__ import annotations

CONFIRM_WORD = "确认修改"
DROP_WORD = "放弃修改"
BLANK_HELP = "/空白台账：要一份 Excel 台账定义表，填好发回即可定义或修改本部门的台账"
OVERVIEW_HELP = "/台账：按板块列出您能看的台账，各有多少条、多少项已过期"
BLANK_SENT = "空白台账定义表马上以文件发给您：按“说明”表填好 台账、字段 两张表（数据 表可选）后直接发回来即可。"
BLANK_LABEL = "台账定义表"
NOT_ALLOWED = "只有部门的发布员或管理员可以定义台账。"
NO_DEPARTMENT = "您还没有所属部门，不能定义台账。请联系管理员在组织架构里设定。"
NOTHING_PENDING = "没有等您确认的台账修改。"
DROPPED = "已放弃这次台账修改，台账保持原样。"
STALE_PENDING = "这本台账在您确认前已被修改过，这次修改没有执行。请重新发送台账定义表。"
BUSY = "您正在登记或更新台账，请先完成或取消，再发送台账定义表。"
NO_LEDGERS = "目前没有您能查看的台账。"
CHANGE_NAMES = {"dropped": "删除字段", "retyped": "更改类型"}


def refused(count: int, listed: list[str], more: int) -> str:
    """A definition workbook with problems: nothing was stored."""
    tail = f"\n……另有 {more} 处问题未列出。" if more else ""
    return f"台账定义表有 {count} 处问题，没有保存。请修改后重新发送：\n" + "\n".join(listed) + tail


def defined(title: str, version: int, fields: int, rows: int, changed: bool) -> str:
    """A workbook became (a new version of) a ledger."""
    head = (
        f"已保存台账《{title}》（第{version}版，共{fields}个字段）"
        if changed
        else f"台账《{title}》的定义没有变化（第{version}版）"
    )
    return head + (f"，写入数据 {rows} 条。" if rows else "。") + "发送“/台账”可查看全部台账。"


def losses(title: str, lines: list[str], in_chat: bool) -> str:
    """A change that would lose stored values, listed; how to confirm it."""
    how = (
        f"确认要改，请回复“{CONFIRM_WORD}”；不改请回复“{DROP_WORD}”。"
        if in_chat
        else "确认要改，请加 --confirm-loss 重新运行。"
    )
    return f"这次修改会清空台账《{title}》里已有的数据，还没有保存：\n" + "\n".join(lines) + "\n" + how


def loss_line(number: int, change: str, label: str, records: int) -> str:
    """One loss: a field dropped or retyped, and how many records hold a value in it."""
    return f"{number}. {CHANGE_NAMES[change]}“{label}”：{records} 条记录的这一项将被清空"


def key_locked(title: str, key_label: str, records: int) -> str:
    """A new key for a ledger that holds records."""
    return (
        f"台账《{title}》已有 {records} 条记录，不能更换主键（现在是“{key_label}”）。"
        "如确需按新主键管理，请另定义一本台账。"
    )


def not_own_department(title: str, owner: str, department: str) -> str:
    """An issuer's workbook naming another department as owner."""
    return f"您只能定义归属本部门（{department}）的台账；《{title}》的归属部门写的是“{owner}”。"


def owned_elsewhere(title: str, owner: str | None) -> str:
    """An issuer redefining a ledger another department owns (or none yet)."""
    if owner is None:
        return f"台账《{title}》还没有归属部门，只有管理员能修改它的定义。"
    return f"台账《{title}》归{owner}，只有{owner}或管理员能修改它的定义。"


def row_elsewhere(number: int) -> str:
    """An initial row whose record or unit lies outside the sender's reach."""
    return f"数据 表第 {number} 行：这条记录或单位不在您部门的范围内，不能在这里写入"


def board_heading(board: str) -> str:
    """A board in /台账."""
    return f"【{board}】"


def overview_line(title: str, owner: str | None, records: int, stale: int) -> str:
    """One ledger in /台账: owner, records in the asker's scope, values past their validity."""
    owned = owner or "未定归属"
    tail = f"，{stale} 项过期" if stale else ""
    return f"· {title}（{owned}）：{records} 条{tail}"


def overview(lines: list[str], scope: str | None) -> str:
    """/台账: the ledgers by board."""
    where = f"（{scope}范围内）" if scope else ""
    return f"台账一览{where}：\n" + "\n".join(lines) + "\n“过期”指超过有效期、需要重新核实的数据项。"


GUIDE_TITLE = "台账定义表填写说明"
GUIDE_HEADER = ("表/项目", "怎么填")
GUIDE_ROWS = (
    ("台账 表", "两列：项目、内容。每个项目一行，项目名不要改。"),
    ("台账名称", "如 低保对象台账。"),
    ("台账代码", "英文字母开头，只用字母、数字和下划线，如 dibao_households；定义后不要再改。"),
    ("板块", "党的建设、经济发展、民生服务、平安法治 之一。"),
    ("对象类型", "一条记录说的是什么：人员、户、房屋、地块、事件、组织、本单位。"),
    ("主键", "区分每条记录的字段，写字段名称或代码。人员用身份证号；本单位用代码为 unit_name 的单位名称。"),
    ("归属部门", "管这本台账的部门全称。发布员只能写本部门。"),
    ("共享部门", "可以查看的其他部门，用顿号分开；敏感字段默认打码，部门名后加“（完整）”则不打码。"),
    ("说明", "可选，一句话说明这本台账记什么。"),
    ("字段 表", "一行一个字段：字段名称、字段代码、类型、选项、必填、有效期（天）、敏感、标准字段。"),
    ("类型", "整数、小数、文本、日期、是否、单选、多选、身份证号、手机号。"),
    ("选项", "单选、多选才填，用顿号分开，如 A类、B类、C类。"),
    ("有效期（天）", "数据多少天后需要重新核实，如 365；不限期就空着。"),
    ("敏感", "是：其他部门看到的是打码后的值。身份证号、手机号默认是。"),
    ("标准字段", "可选：这个字段是某类对象的通用信息（如人员的 姓名、联系电话），多本台账共用同一个值。"),
    ("数据 表", "可选：第一行写字段名称，另加一列“单位”写所属村社区；每行一条初始数据。"),
    ("修改", "改好后再次发送即保存为新版本。删除有数据的字段或改类型会清空这些数据，机器人会先列出来请您确认。"),
)
