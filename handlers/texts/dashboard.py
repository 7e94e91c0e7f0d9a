"""Sentences of /看板, the department dashboard's login link."""

from __future__ import annotations

DASHBOARD_HELP = "/看板：在浏览器里看本部门任务的进度（发一次性登录链接）"
NOT_SET_UP = "看板还没有开通：管理员尚未配置看板网址。"


def login_link(url: str, minutes: int) -> str:
    """The one-time link, how long it works, and that it is personal."""
    return f"请在{minutes}分钟内打开下面的链接进入看板（只能用一次，请勿转发）：\n{url}"
