"""The chart sheet of the summary workbook (分镇统计): its headers and chart titles."""

SHEET = "分镇统计"
TOWN = "镇街"
UNITS = "目标单位"
SUBMITTED = "已报送"
MISSING = "未报送"
PROGRESS_TITLE = "各镇街报送进度"
UNITS_AXIS = "单位数"


def total_header(label: str, unit: str | None) -> str:
    """The column of a numeric question's total per town: 本月新增低保户（户）."""
    return f"{label}（{unit}）" if unit else label


def total_title(label: str) -> str:
    """The title of a numeric question's chart: 各镇街本月新增低保户合计."""
    return f"各镇街{label}合计"
