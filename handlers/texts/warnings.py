"""Sentences of 预警: defining, listing and removing a department's rules on a ledger, and the pushes they send."""

from __future__ import annotations

WARNING_HELP = "/预警 [台账 条件 …]：设预警，符合条件的记录推送给本部门；/预警 查看，/预警 删除 编号"
EXAMPLE = "/预警 土地流转台账 面积（亩）>500 流转方式=出租"
USAGE = f"设预警：/预警 台账名 条件 …，如 {EXAMPLE}；查看本部门的预警：/预警；删除：/预警 删除 编号。"
DELETE_WORDS = ("删除", "取消")
LIST_WORDS = ("查看", "列表")  # /预警 查看 lists the rules, as /预警 alone does
NO_DEPARTMENT = "您还没有所属部门，不能设预警。请联系管理员。"
NO_RULES = "本部门还没有预警。" + USAGE
NO_RULES_AT_ALL = "还没有任何部门设预警。"
SHOWN_IN_PUSH = 10  # records listed in one push; the rest are counted ("等 N 条")


def usage(titles: list[str]) -> str:
    """/预警 asked to define a rule without a ledger; `titles` are the ledgers the department may read."""
    readable = f"可用台账：{'、'.join(titles)}" if titles else "本部门还没有可查看的台账，请联系管理员开通"
    return f"{USAGE}\n{readable}"


def need_condition(title: str) -> str:
    """/预警 台账 without any condition: a rule on every record would push the whole ledger."""
    return f"请在台账名后写上条件，如 /预警 {title} 字段=值。{USAGE}"


def defined(rule_id: int, title: str, conditions: str, count: int) -> str:
    """The reply to a new rule: how many records match now, and that they are pushed once each."""
    now = f"现有 {count} 条记录符合，已推送给本部门发布员" if count else "现在没有符合的记录"
    return f"已设预警#{rule_id}：{title} {conditions}。{now}；以后新符合的记录也会推送，每条记录只推送一次。"


def rule_line(rule_id: int, title: str, conditions: str, hits: int, department: str | None, problem: str | None) -> str:
    """One rule in /预警's list (with its department for an admin, and why it cannot run if it cannot)."""
    owner = f"（{department}）" if department else ""
    broken = f"【无法执行：{problem}】" if problem else ""
    return f"· #{rule_id}{owner} {title} {conditions}：已发现 {hits} 条{broken}"


def rules(lines: list[str]) -> str:
    """/预警 without arguments."""
    return "预警（符合条件的记录每条只推送一次）：\n" + "\n".join(lines) + "\n删除：/预警 删除 编号"


def unknown_rule(word: str) -> str:
    """/预警 删除 with a number that is no rule the speaker may remove."""
    return f"没有找到预警“{word}”。发送 /预警 查看本部门预警的编号。"


def removed(rule_id: int) -> str:
    """A rule removed."""
    return f"已删除预警#{rule_id}，不再推送。"


def pushed(rule_id: int, title: str, conditions: str, rows: list[str], total: int) -> str:
    """The push of one rule's new matches in one run: a few records, masked, and how many in all."""
    more = f"\n……等 {total} 条，全部请在看板查看。" if total > len(rows) else ""
    listed = "\n".join(f"· {row}" for row in rows)
    return f"预警#{rule_id}（{title} {conditions}）新发现 {total} 条符合的记录：\n{listed}{more}"


def broken(rule_id: int, title: str, conditions: str, problem: str) -> str:
    """A rule that no longer reads (the ledger's fields changed, or its share was withdrawn), told once."""
    return f"预警#{rule_id}（{title} {conditions}）已无法执行：{problem}\n请删除后按台账现在的字段重新设置。"
