"""Sentences of the ledger commands."""

QUERY_USAGE = "/查询 台账名 [字段=值 …]，如：/查询 低保对象台账 保障类别=A类 单位=松林村"


def usage(titles: list[str]) -> str:
    """/查询 or /导出 without a ledger."""
    return f"请写明台账名。格式：{QUERY_USAGE}\n可用台账：{'、'.join(titles)}"


def unknown_ledger(name: str, close: list[str], titles: list[str]) -> str:
    """A ledger name that does not exist."""
    guess = f"您是不是要找：{'、'.join(close)}？" if close else ""
    return f"没有找到台账“{name}”。{guess}可用台账：{'、'.join(titles)}。"


def bad_condition(word: str) -> str:
    """A condition that is not 字段=值."""
    return f"没看懂条件“{word}”，请写成 字段=值，如 保障类别=A类。"


def unknown_unit(name: str) -> str:
    """单位=X with an unknown X."""
    return f"没有找到单位“{name}”，请检查单位名称。"


def unknown_field(label: str, labels: list[str]) -> str:
    """A condition on a field the ledger does not have (or cannot filter on)."""
    return f"不能按“{label}”查询。可以用的字段：{'、'.join(labels)}、单位。"


def query_count(title: str, conditions: str, count: int) -> str:
    """First line of /查询."""
    where = f"中{conditions}的" if conditions else "中"
    return f"{title}{where}记录共 {count} 条。"


def more_rows(count: int) -> str:
    """After the rows shown."""
    return f"……另有 {count} 条，发送“/导出”可拿到全部。"


def exported(title: str, rows: int) -> str:
    """Confirmation of /导出."""
    return f"正在导出{title}（{rows} 条），马上以文件发给您。"
