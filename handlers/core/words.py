"""How typed words are read: characters nothing can hold are dropped at the edge, text is kept as typed,
and a folded copy (full-width to ASCII, spaces collapsed) is what commands, control words and numbers are
recognised in. The control words of a conversation live here, for every stage that checks them."""

from __future__ import annotations

import re
import unicodedata

from ledger_store.characters import without_unstorable

_LINE_BREAKS = re.compile(r"\r\n?")
_SPACING_CONTROLS = re.compile(r"[\t\v\f]")

CANCEL = frozenset({"取消", "暂停", "退出", "稍后再填"})
BACK = frozenset({"上一题", "上一个", "上一步", "返回"})
SKIP = frozenset({"跳过", "略过", "不填"})
VIEW = frozenset({"查看", "查看答案", "看看"})
HELP = frozenset({"帮助", "help", "?", "？"})
CONTINUE = frozenset({"继续", "继续填写", "接着填"})
RESUME = CONTINUE | {"开始", "开始填写"}
SUBMIT_WORD = "提交"
SUBMIT = frozenset({SUBMIT_WORD, "确认", "确定", "确认提交", "提交报送"})
EDIT = re.compile(r"^(?:修改|改)\s*第?\s*(?P<number>.+?)\s*[题个]?$")


def storable(text: str) -> str:
    """The text without the characters no column or cell can hold; line breaks as \\n, tabs as spaces."""
    return without_unstorable(_SPACING_CONTROLS.sub(" ", _LINE_BREAKS.sub("\n", text)))


def fold(text: str) -> str:
    """The text as words are recognised in it: full-width to ASCII (／ -> /, ２ -> 2), trimmed, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).split())
