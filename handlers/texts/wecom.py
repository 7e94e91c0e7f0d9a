"""Sentences only WeCom shows: card titles and buttons, and the report of a contacts sync."""

from __future__ import annotations

# A card whose question went out as a text message just before it.
CARD_TITLE = "请点选答案"
CARD_SEE_ABOVE = "题目见上一条消息"
MULTIPLE_HINT = "可多选，选好后点“提交”"
SUBMIT = "提交"
NAMES_SHOWN = 20


def chosen(label: str) -> str:
    """What the buttons of a card turn into once the member has answered with it."""
    return f"已选择：{label}"


def sync_summary(units_added: list[str], people_added: list[str], people_changed: list[str], skipped: list[str]) -> str:
    """The report of a WeCom contacts sync, for the admin who ran it."""
    if not (units_added or people_added or people_changed or skipped):
        return "企业微信通讯录同步完成：没有变化。"
    lines = [
        "企业微信通讯录同步完成：",
        f"新增单位 {len(units_added)} 个{_names(units_added)}",
        f"新增人员 {len(people_added)} 人{_names(people_added)}",
        f"更新人员 {len(people_changed)} 人{_names(people_changed)}",
    ]
    if skipped:
        lines.append(f"未同步 {len(skipped)} 人{_names(skipped)}")
    return "\n".join(lines)


def _names(names: list[str]) -> str:
    """'：甲、乙……等 N 个' after a count, or nothing when the list is empty."""
    if not names:
        return "。"
    shown = "、".join(names[:NAMES_SHOWN])
    more = f"等（另有 {len(names) - NAMES_SHOWN} 个未列出）" if len(names) > NAMES_SHOWN else ""
    return f"：{shown}{more}。"


def skipped_disabled(name: str) -> str:
    """A member WeCom lists as disabled or gone, not added."""
    return f"{name}（企业微信账号已停用）"


def skipped_conflict(name: str, account: str) -> str:
    """A member whose account is already tied to another WeCom account here."""
    return f"{name}（账号 {account} 已绑定其他企业微信账号，请人工核对）"
