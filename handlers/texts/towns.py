"""How a group of units by town (镇街) is labelled on the dashboard, in the progress CSV and in 分镇统计."""

# Every unit with no town or street at or above it: the district itself and the units right below it.
OUTSIDE_TOWNS = "区直及其他"


def town_in(name: str, parent: str | None) -> str:
    """A town whose name another town of the same list shares, told apart by its parent: 新华镇（甲区）."""
    return f"{name}（{parent}）" if parent else name


def town_numbered(name: str, key: int) -> str:
    """A town still not told apart by its parent's name, told apart by its number: 新华镇（编号12）."""
    return f"{name}（编号{key}）"
