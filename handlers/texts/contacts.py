"""Sentences of a contacts sync from a chat platform (企业微信, 钉钉 ...): the report for the admin who ran it."""

from __future__ import annotations

NAMES_SHOWN = 20


def sync_summary(
    platform: str, units_added: list[str], people_added: list[str], people_changed: list[str], skipped: list[str]
) -> str:
    """The report of a platform's contacts sync, for the admin who ran it."""
    if not (units_added or people_added or people_changed or skipped):
        return f"{platform}通讯录同步完成：没有变化。"
    lines = [
        f"{platform}通讯录同步完成：",
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


def skipped_disabled(name: str, platform: str) -> str:
    """A member the platform lists as disabled or gone, not added."""
    return f"{name}（{platform}账号已停用）"


def skipped_conflict(name: str, account: str, platform: str) -> str:
    """A member whose account is already tied to another account of the platform here."""
    return f"{name}（账号 {account} 已绑定其他{platform}账号，请人工核对）"
