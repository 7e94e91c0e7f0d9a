"""Sheet names and headers of the summary workbook."""

SUMMARY_SHEET = "汇总"
MISSING_SHEET = "未报送"
NUMBER = "序号"
UNIT = "单位"
FILLER = "填报人"
SUBMITTED_AT = "提交时间"
STATUS = "状态"
TOTAL = "合计"
NOT_SUBMITTED = "未报送"
NOT_STARTED = "未开始"
IN_PROGRESS = "填写中"
ROW_STATUS = "核对情况"
ROW_STATUS_NAMES = {"kept": "无变化", "changed": "已修改", "added": "新增", "removed": "删除", "ledger": "取自台账"}


def roster_count(label: str) -> str:
    """The 汇总 column counting a unit's roster rows."""
    return f"{label}（行数）"


def roster_sheet_title(label: str) -> str:
    """The detail sheet of a roster (a sheet title has at most 31 characters)."""
    return f"花名册-{label}"[:31]


def file_tag(task_id: int) -> str:
    """What follows the title in the summary workbook's name: 低保月报汇总_任务12_20241128-100503.xlsx."""
    return f"汇总_任务{task_id}"
