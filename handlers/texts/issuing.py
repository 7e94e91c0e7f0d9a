"""Sentences of /发布 beyond the basics: acting for a department, and tasks that look like one already issued."""

from __future__ import annotations

from handlers.texts.lists import first_names

ON_BEHALF_EXAMPLE = "/发布 低保月报 截止 明天17:00 部门 区民政局"
NO_DEPARTMENTS = "还没有登记任何部门，无法发布任务。请先用组织架构导入登记部门和发布员。"
NOT_ISSUED = "好的，没有发布。"
ADMIN_HELP = f"管理员代部门发布：在 /发布 后面加“部门 部门名称”，如：{ON_BEHALF_EXAMPLE}"


def name_the_department(departments: list[str]) -> str:
    """An admin of no department issued without naming the department it is for."""
    return f"管理员请写明代哪个部门发布，如：{ON_BEHALF_EXAMPLE}。可选部门：{'、'.join(departments)}。"


def unknown_department(name: str, close: list[str], departments: list[str]) -> str:
    """部门 … naming no department."""
    guess = f"您是不是要找：{'、'.join(close)}？" if close else ""
    return f"没有找到部门“{name}”。{guess}可选部门：{'、'.join(departments)}。"


def only_admins_act_for(department: str, own: str | None) -> str:
    """An issuer naming another department than their own."""
    mine = f"您只能以本部门（{own}）的名义发布。" if own else "如需开通，请联系管理员。"
    return f"只有管理员可以代其他部门（{department}）发布任务，{mine}"


def on_behalf_note(department: str) -> str:
    """Added to an admin's confirmation of a task issued for a department."""
    return f"这是代{department}发布的任务：汇总表发给{department}的发布员，您收到汇总情况。"


def on_behalf_recurrence_note(department: str) -> str:
    """Added to an admin's confirmation of a recurring report set up for a department."""
    return f"这是代{department}设定的定时发布：每期的汇总表发给{department}的发布员，您收到汇总情况。"


def on_behalf_notice(admin: str, department: str, task: str, task_id: int, deadline: str, count: int) -> str:
    """Pushed to the department's issuers when an admin issued a task for them."""
    return (
        f"管理员{admin}代{department}发布了{task}，{deadline}截止，发给{count}个单位。"
        f"发送“/进度 {task_id}”查看进度；报齐或截止时汇总表会发给您。"
    )


def on_behalf_recurrence_notice(admin: str, department: str, title: str, number: int, rule: str, due: str) -> str:
    """Pushed to the department's issuers when an admin set up a recurring report for them."""
    return (
        f"管理员{admin}代{department}设定了定时发布《{title}》（定时#{number}）：{rule} 发布，每期{due}截止。"
        "发送“/定时”查看。"
    )


def lookalike_line(task: str, deadline: str, units: list[str], done: int, total: int) -> str:
    """One existing task a new /发布 looks like."""
    shown, left = first_names(units)
    where = shown + (f"等{len(units)}个单位" if left else "")
    return f"· {task}{deadline}截止，发给{where}，已报 {done}/{total}"


def more_lookalikes(count: int) -> str:
    """After the lookalikes shown, when there are more."""
    return f"· ……另有{count}个相似的任务，发送“/进度 任务号”查看"


def lookalike(department: str, lines: list[str]) -> str:
    """The question asked instead of issuing a task that looks like one already issued."""
    return (
        f"{department}已有相似的任务（同一模板、截止时间相差不到一天、发给相同的单位）：\n"
        + "\n".join(lines)
        + "\n确实要再发布一次，请回复“确认发布”；回复其他内容则不发布。"
    )


def form_beyond_ledgers(form: str, department: str, ledgers: list[tuple[str, str | None]]) -> str:
    """A department issuing a form whose questions read and write ledgers it neither owns nor holds in full."""
    parts = [f"{title}（{owner or '暂无归属部门'}）" for title, owner in ledgers]
    first, which = ledgers[0][0], "这本台账" if len(ledgers) == 1 else "这些台账"
    return (
        f"“{form}”的部分题目从{'、'.join(parts)}预填并写回，{department}没有{which}的完整共享，不能发布这张表。"
        f"如需发布，请联系台账归属部门或管理员开通完整共享（/台账权限 {first} 共享 {department} 完整）。"
    )


def form_id_builtin(code: str, title: str) -> str:
    """A workbook whose form_id is a built-in template's (or one only admins change)."""
    return (
        f"表单编号 {code} 已被系统模板“{title}”使用，不能用上传的表格修改。"
        "请在 settings 工作表里把 form_id 改成一个新的编号后重新发送。"
    )


def form_id_taken(code: str, title: str, owner: str) -> str:
    """A workbook whose form_id is a form another department brought in."""
    return (
        f"表单编号 {code} 已被{owner}的“{title}”使用，只有{owner}可以修改它。"
        "请在 settings 工作表里把 form_id 改成一个新的编号后重新发送。"
    )


def period_not_issued(form: str, period: str, refusal: str) -> str:
    """To a department's issuers: a period of its recurring report was not issued because of a ledger right."""
    return f"周期任务“{form}”（{period}）本期没有发布：{refusal}"
