"""What DingTalk's cards show people, in Chinese."""

from __future__ import annotations

# A card's title when the question is too long for the card: the question goes before it as text.
CARD_TITLE = "请选择（也可以直接回复序号）"


def chosen(label: str) -> str:
    """What a clicked card shows in place of its buttons."""
    return f"已选择：{label}"
