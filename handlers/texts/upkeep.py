"""Sentences of daily ledger upkeep in chat, without a task: /登记, /更新, /我的台账 and /核实."""

from __future__ import annotations

# The source of each change in the record's history.
REGISTER_SOURCE = "登记（聊天）"
UPDATE_SOURCE = "更新（聊天）"
VERIFY_SOURCE = "核实（聊天）"
UPDATE_WORD = "更新"  # at /登记's key question: update the record the unit already holds

REGISTER_HELP = "/登记 台账名：在本单位台账里登记一条新记录（逐项问答）"
UPDATE_HELP = "/更新 台账名 编号或身份证号：修改本单位的一条台账记录"
MY_LEDGERS_HELP = "/我的台账：本单位各台账的记录数和过期项"
VERIFY_HELP = "/核实：逐项核实本单位已过期的台账信息"

FILLERS_ONLY = "登记和维护台账由村（社区）填报员在本单位进行；您的账号没有所属单位的填报员权限。"
LEAVE_WORDS_HINT = "可回复“跳过”（选填项）、“查看”，回复“结束”或“/取消”退出。"
KEEP_HINT = "没变回复“不变”，有变化直接回复新值；回复“结束”退出。"
TODAY_HINT = "今天发生的直接回复“今天”或“跳过”。"
CONFIRM_FOOTER = "无误请回复“确认”保存；要改哪项请回复“修改 序号”，如“修改 2”；回复“结束”放弃。"
SUMMARY_EXPECTS = "请回复“确认”保存，或“修改 序号”改某一项，或“结束”放弃。"
CANNOT_SKIP = "这一项必须填写，不能跳过。"
ABANDONED_BEFORE = "（之前未完成的台账维护已结束。）"
NOT_GIVEN = "（未填）"
LEDGER_GONE = "这本台账已不存在，维护已结束。"
UPKEEP_HELP = (
    "正在维护台账：按提示逐项回复；选填项可回复“跳过”，/更新 和 /核实 中没变回复“不变”；"
    "回复“结束”或“/取消”退出，其他 / 命令照常可用。"
)


def usage(command: str, titles: list[str]) -> str:
    """A command without the ledger's name."""
    example = "/更新 残疾人台账 身份证号" if command == "更新" else f"/{command} 台账名"
    return f"请写明台账名，如：{example}\n可用台账：{'、'.join(titles)}"


def unknown_ledger(name: str, titles: list[str]) -> str:
    """A name that is no ledger's title, code or part of exactly one title."""
    return f"没有找到台账“{name}”。可用台账：{'、'.join(titles)}。"


def ambiguous_ledger(name: str, titles: list[str]) -> str:
    """A part of several titles."""
    return f"“{name}”对应多个台账：{'、'.join(titles)}，请写全名。"


def unit_ledger(title: str) -> str:
    """/登记 of a ledger that keeps one record per unit."""
    return f"{title}每个单位一条，不用登记；要修改本单位的情况请发送“/更新 {title}”。"


def register_started(title: str, total: int, generated: str | None) -> str:
    """The first lines of /登记."""
    key = f"{generated}保存时自动生成。" if generated else ""
    return f"开始登记{title}，共 {total} 项。{key}{LEAVE_WORDS_HINT}"


def question_header(number: int, total: int) -> str:
    """Where the upkeep stands: 第2/5项."""
    return f"第{number}/{total}项"


OPTIONAL = "（选填，没有可回复“跳过”）"


def already_here(title: str, key_label: str, who: str) -> str:
    """/登记 of a key the speaker's unit holds already."""
    return (
        f"该{key_label}已在本单位的{title}中（{who}）。要修改这条记录请回复“更新”；登记别人请直接发另一个{key_label}。"
    )


def summary(title: str, lines: list[str]) -> str:
    """Every answer of a registration before it is saved."""
    return "\n".join([f"请核对要登记到{title}的内容：", *lines, CONFIRM_FOOTER])


def registered(title: str, key_label: str, key: str) -> str:
    """The reply to a saved registration, with the key (generated or typed, masked)."""
    return f"已登记到{title}，{key_label}：{key}。以后修改请发送“/更新 {title} {key}”。"


def registered_person(title: str, key_label: str) -> str:
    """The reply to a saved registration of a person (the ID number is not repeated)."""
    return f"已登记到{title}。以后修改请发送“/更新 {title} {key_label}”。"


def taken_meanwhile(key_label: str) -> str:
    """The key was registered by someone else while the form was being filled."""
    return f"这期间该{key_label}已被登记，本次没有保存。"


def left(title: str) -> str:
    """The upkeep ended by 结束 / 取消."""
    return f"已退出{title}的维护，之后的消息按平常处理。"


def not_in_reach(title: str, key_label: str) -> str:
    """No such record, or one outside the speaker's units (the same sentence, so it reveals nothing)."""
    return f"本单位的{title}里没有这个{key_label}的记录。请核对后再发，或用 /登记 {title} 新登记。"


def bad_key(key_label: str, reason: str) -> str:
    """A key that cannot be a record key (an ID number with a wrong check digit)."""
    return f"{key_label}不对（{reason}），请核对后再发。"


def update_started(title: str, who: str, total: int) -> str:
    """The first line of /更新."""
    return f"开始修改{title}中 {who} 的记录，共 {total} 项，逐项显示当前值。{KEEP_HINT}"


def current_value(shown: str | None, confirmed: str | None) -> str:
    """The current value of a field under the question of /更新."""
    if shown is None:
        return "当前：" + NOT_GIVEN
    return f"当前：{shown}（{confirmed} 核实）" if confirmed else f"当前：{shown}"


def updated(title: str, who: str, labels: list[str]) -> str:
    """The end of /更新."""
    if not labels:
        return f"{title}中 {who} 的记录已看完，没有改动。"
    return f"{title}中 {who} 的记录已更新：{'、'.join(labels)}。"


def moved_away(title: str) -> str:
    """The record left the speaker's units while she was updating or verifying it."""
    return f"这条记录已不在本单位的{title}中，没有修改。"


def my_ledgers(unit: str, lines: list[str]) -> str:
    """/我的台账."""
    if not lines:
        return f"{unit}还没有台账记录。可以用 /登记 台账名 登记。"
    footer = "登记新记录：/登记 台账名；修改：/更新 台账名 编号；核实过期项：/核实"
    return "\n".join([f"{unit}的台账：", *lines, footer])


def ledger_line(title: str, count: int, counter: str, stale: int) -> str:
    """One ledger in /我的台账: 残疾人台账 3 人，2 项过期."""
    line = f"· {title} {count} {counter}"
    return line + (f"，{stale} 项过期" if stale else "，都在有效期内")


def event_line(title: str) -> str:
    """An event ledger the unit has no records in yet."""
    return f"· {title} 暂无记录，可用 /登记 {title} 登记"


def stale_question(who: str, label: str, shown: str, confirmed: str, left_count: int) -> str:
    """/核实: one stale value."""
    more = f"还有 {left_count} 项待核实" if left_count else "这是最后一项"
    return (
        f"{who} 的 {label} {shown}，{confirmed} 核实，已过期：没变回复“不变”，有变化直接回复新值"
        f"（{more}；回复“跳过”看下一项，“结束”退出）。"
    )


NOTHING_STALE = "本单位台账没有过期的信息，不用核实。"


def verify_done(renewed: int, changed: int, skipped: int) -> str:
    """The end of /核实 when nothing is left."""
    rest = f"，跳过 {skipped} 项" if skipped else ""
    return f"核实完毕：{renewed} 项没变已续期，{changed} 项已更新{rest}。"


def verify_stopped(renewed: int, changed: int) -> str:
    """/核实 ended by 结束 before everything was done."""
    return f"已退出核实：{renewed} 项续期，{changed} 项已更新。之后可随时发送 /核实 接着做。"


RENEWED = "已续期。"
CHANGED = "已更新。"
