"""Sentences of the chat commands and of the router."""

from __future__ import annotations

from handlers.texts.lists import first_names

UNREGISTERED = "您还未登记，请联系管理员。"
EMPTY_MESSAGE = "没有收到文字内容，请直接回复文字。"
FILES_NOT_YET = "已收到文件。只有填到花名册这一步时，才能发回改好的 Excel 花名册；其他时候请按提示逐题回复文字。"
INTERNAL_ERROR = "抱歉，系统刚才出了点问题，这条消息没有处理成功，已填的内容都还在。请稍后再发一次。"
UNKNOWN_MESSAGE_TYPE = "暂时只能处理文字消息，请直接回复文字。"


def unknown_command(word: str, suggestion: str | None) -> str:
    """A slash word that is no command."""
    hint = f"您是不是要用“{suggestion}”？" if suggestion else ""
    return f"没有“{word}”这个命令。{hint}发送“/帮助”查看可用命令。"


def not_allowed(command: str, role: str) -> str:
    """A command the speaker's role does not allow."""
    return f"抱歉，“{command}”需要{role}权限。如需开通，请联系管理员。"


ROLE_NAMES = {"filler": "填报员", "reviewer": "审核员", "issuer": "发布员", "admin": "管理员"}


def help_text(name: str, roles: list[str], lines: list[str]) -> str:
    """The command list for one person."""
    role_text = "、".join(ROLE_NAMES[r] for r in roles) or "未分配角色"
    return f"{name}您好（{role_text}）。可以使用：\n" + "\n".join(lines)


FILLER_HELP = (
    "收到任务后回复“开始”逐题填写；填写中可回复“上一题”“跳过”“修改 题号”“查看”“取消”“提交”，"
    "说“帮助”可以看当前这一步能回复什么。"
)

ISSUE_USAGE = "/发布 模板名 截止 时间 [范围 单位…]，如：/发布 低保月报 截止 明天17:00 范围 松林村 汉东村"
NO_TEMPLATE = "请写明要发布的模板。格式：" + ISSUE_USAGE
NO_DEADLINE = "请写明截止时间。格式：" + ISSUE_USAGE
NO_DEPARTMENT = "您没有所属部门，不能发布任务。请联系管理员。"


def unknown_template(name: str, close: list[str], available: list[str]) -> str:
    """A template name that does not exist."""
    guess = f"您是不是要找：{'、'.join(close)}？" if close else ""
    return f"没有找到模板“{name}”。{guess}可用模板：{'、'.join(available)}。"


def bad_deadline(text: str) -> str:
    """A deadline that could not be read."""
    return f"没看懂截止时间“{text}”。可以写 2024-11-30 18:00、11月30日18点、明天17:00 或 3个工作日。"


def deadline_too_far(shown: str, days: int) -> str:
    """A deadline further ahead than a task may run."""
    return f"截止时间{shown}太远了，任务最长{days}天，请写{days}天以内的时间；长期的工作可以用定期发布（如 每月25日）。"


def past_deadline(shown: str) -> str:
    """A deadline that has already passed."""
    return f"截止时间{shown}已经过了，请写一个以后的时间。"


def unknown_unit(name: str, close: list[str]) -> str:
    """A unit name that does not exist."""
    guess = f"您是不是要找：{'、'.join(close)}？" if close else "请检查单位名称。"
    return f"没有找到单位“{name}”。{guess}"


def unit_without_filler(name: str) -> str:
    """A target unit nobody fills for."""
    return f"“{name}”还没有登记填报员，无法下发。请联系管理员登记，或换一个单位。"


def outside_reach(name: str, home: str) -> str:
    """A named unit outside the issuing department's town."""
    return f"“{name}”不在{home}范围内，本部门只能向{home}及下辖单位发布任务。"


NO_TARGETS = "范围内没有登记了填报员的单位，任务没有发布。"


LISTED_MISSING = 15  # /进度 lists this many units that have not reported, so that it stays one WeCom message


def some_units(names: list[str], task_id: int) -> str:
    """The first names, with where to find the rest when there are more."""
    shown, left = first_names(names)
    return shown + (f"等（完整名单见“/汇总 {task_id}”）" if left else "")


def issued(title: str, task_id: int, deadline: str, units: list[str]) -> str:
    """Confirmation to the issuer."""
    named = some_units(units, task_id)
    return (
        f"已发布《{title}》（任务#{task_id}），{deadline}截止，已通知{len(units)}个单位：{named}。\n"
        f"发送“/进度 {task_id}”查看进度，“/催报 {task_id}”提醒未报单位，“/汇总 {task_id}”随时生成汇总表。"
    )


def templates_list(lines: list[str]) -> str:
    """The templates a department can issue."""
    return "可用模板：\n" + "\n".join(lines) + "\n发布示例：" + ISSUE_USAGE


def template_line(title: str, count: int) -> str:
    """One template in the list."""
    return f"· {title}（{count}题）"


NO_TASKS_YET = "您的部门还没有发布过任务。发送“/模板”查看可发布的模板。"
NO_TASKS_ANYWHERE = "还没有任何部门发布过任务。发送“/模板”查看可发布的模板。"


def unknown_task(reference: str, recent: list[str]) -> str:
    """A task reference that matches nothing."""
    listing = "最近的任务：" + "；".join(recent) + "。" if recent else ""
    return f"没有找到任务“{reference}”。{listing}"


def task_label(task_id: int, title: str) -> str:
    """#3 低保月报."""
    return f"#{task_id} {title}"


def progress_header(
    title: str, task_id: int, done: int, total: int, deadline: str, left: str, reviewed: bool = False
) -> str:
    """First line of /进度; with review a unit counts once it is approved."""
    word = "已通过" if reviewed else "已报"
    return f"《{title}》#{task_id}：{word} {done}/{total}，{deadline}截止（{left}）。"


def state_counts(counts: list[tuple[str, int]]) -> str:
    """The second line of /进度 for a reviewed task: 未开始 1，填写中 0，待审核 1，已退回 0，已通过 1。"""
    return "，".join(f"{state} {count}" for state, count in counts) + "。"


WAITING_HEADER = "等审核（等得最久的在前）："
ALL_APPROVED = "全部已通过。"


def progress_waiting_line(path: str, filler: str, reviewer: str, accepting: bool, waited: str) -> str:
    """One unit waiting on a reviewer: who reviews it and for how long it has waited."""
    step = "验收" if accepting else "审核"
    return f"· {path} {filler}：等{reviewer}{step}，已等{waited}"


def more_waiting(count: int, task_id: int) -> str:
    """After the units waiting on a reviewer, when not all are listed."""
    return f"……另有{count}个单位等审核，完整名单见“/汇总 {task_id}”的“未报送”表。"


def progress_missing_line(path: str, filler: str, state: str) -> str:
    """One unit that has not submitted."""
    return f"· {path} {filler}（{state}）"


ALL_SUBMITTED = "全部已报。"
MISSING_HEADER = "未报："
STATE_NOT_STARTED = "未开始"
STATE_ALL_ANSWERED = "已填完，还没提交"


def state_in_progress(position: int, total: int) -> str:
    """A filler somewhere in the form."""
    return f"填到第{position}/{total}题"


def more_missing(count: int, task_id: int) -> str:
    """The last line of /进度 when not every unit that has not reported is listed."""
    return f"……另有{count}个单位未报，完整名单见“/汇总 {task_id}”的“未报送”表。"


def reminded(count: int, names: list[str], task_id: int) -> str:
    """Confirmation of /催报."""
    return f"已提醒{count}个未报单位：{some_units(names, task_id)}。"


NOTHING_TO_REMIND = "全部已报，不需要催报。"
JUST_REMINDED = "这一分钟内已经提醒过了，请稍后再催。"


def summary_queued(title: str, done: int, total: int) -> str:
    """Confirmation of /汇总."""
    return f"正在生成《{title}》汇总表（已报 {done}/{total}），马上以文件发给您。"


def digest_queued(title: str, done: int, total: int) -> str:
    """Confirmation of /汇总 to someone outside the task's department: the digest only."""
    return f"正在整理《{title}》的汇总情况（已报 {done}/{total}），马上发给您。"


NO_OPEN_TASKS = "您目前没有待填报的任务。发送“/帮助”查看可以做什么。"


def todo_line(number: int, task: str, deadline: str, left: str, answered: int, total: int) -> str:
    """One open task of a filler (named as texts.reporting.task_name names it)."""
    state = f"，已填{answered}/{total}题" if answered else ""
    return f"{number}. {task}{deadline}截止（{left}{state}）"


def todo_list(lines: list[str], choosing: bool) -> str:
    """A filler's open tasks."""
    how = "回复序号选择要填写的任务。" if choosing else "回复“开始”填写。"
    return "您的待办：\n" + "\n".join(lines) + "\n" + how


BEING_FILLED = "（正在填）"


def todo_returned_line(number: int, task: str, deadline: str, left: str, reason: str | None) -> str:
    """An open task a reviewer returned: it waits on the filler again, and why."""
    why = f"：{reason}" if reason else ""
    return f"{number}. {task}已退回{why}，请改正后重新提交；{deadline}截止（{left}）"


def todo_list_in_form(lines: list[str], choosing: bool) -> str:
    """A filler's open tasks, asked for in the middle of a form (the resume hint follows)."""
    how = "\n回复序号可以换填那一项，正在填的这份答案都保存着。" if choosing else ""
    return "您的待办：\n" + "\n".join(lines) + how


def choose_again(count: int) -> str:
    """An answer to 'which task' that is not one of the numbers."""
    return f"请回复 1 到 {count} 之间的序号，选择要填写的任务；回复“取消”可以先不填。"


CHOICE_CANCELLED = "好的，先不填。需要时回复“开始”或“/待办”。"
CHOOSING_HELP = "现在可以回复序号选择要填写的任务，或回复“取消”先不填。"
NO_OTHER_OPEN_TASKS = "您目前没有其他待填报的任务。"


def parked_hint(title: str) -> str:
    """A message with no form open while one is left half-filled: how to go on with it."""
    return f"《{title}》已暂停，已填的答案都保存着。回复“继续”接着填，或发送“/待办”查看全部任务。"


def nothing_to_cancel(parked: str | None) -> str:
    """取消 with no form open (a second 取消, say): nothing is resumed."""
    if parked is None:
        return "现在没有正在填写的表，不用取消。发送“/待办”可以查看要填的任务。"
    return "现在没有正在填写的表，不用再取消。" + parked_hint(parked)
