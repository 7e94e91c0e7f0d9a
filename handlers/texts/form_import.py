"""Sentences about form workbooks a department brings."""


def imported(title: str, version: int, count: int) -> str:
    """A workbook became a form."""
    return (
        f"已导入表单《{title}》（第{version}版，共{count}项）。"
        f"发送“/发布 {title} 截止 时间”即可下发；已下发的任务仍按原来的版本填写。"
    )


def refused(count: int, listed: list[str], more: int) -> str:
    """A workbook with problems: nothing was stored."""
    tail = f"\n……另有 {more} 处问题未列出。" if more else ""
    return f"表单有 {count} 处问题，没有导入。请修改后重新发送：\n" + "\n".join(listed) + tail


NOT_A_WORKBOOK = "只能导入 Excel 表单（.xlsx）。需要空白模板请发送“/空白模板”。"
BLANK_TEMPLATE_SENT = "空白表单模板马上以文件发给您：填好 survey、choices、settings 三张表后直接发回来即可导入。"
BLANK_TEMPLATE_LABEL = "一表通表单模板"
