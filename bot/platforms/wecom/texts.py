"""Sentences only WeCom shows (its card titles and buttons): they belong to the adapter, like its error reasons."""

from __future__ import annotations

# A card whose question went out as a text message just before it.
CARD_TITLE = "请点选答案"
CARD_SEE_ABOVE = "题目见上一条消息"
MULTIPLE_HINT = "可多选，选好后点“提交”"
SUBMIT = "提交"


def chosen(label: str) -> str:
    """What the buttons of a card turn into once the member has answered with it."""
    return f"已选择：{label}"
