"""What the bot says about review (审核上报): requests to reviewers, decisions, returns, states and sign-off."""

from __future__ import annotations

from collections.abc import Sequence

STATE_NOT_STARTED = "未开始"
STATE_IN_PROGRESS = "填写中"
STATE_REVIEWING = "待审核"
STATE_ACCEPTING = "待验收"
STATE_RETURNED = "已退回"
STATE_APPROVED = "已通过"
STATE_SUBMITTED = "已提交"  # a task without review: 提交 is the end

APPROVE_WORDS = frozenset({"通过", "同意", "审核通过", "批准"})
APPROVE_ALL_WORDS = frozenset({"全部通过", "都通过", "全部同意"})
RETURN_WORD = "退回"
CONFIRM_WORDS = frozenset({"确认", "确定", "是", "确认通过"})
NEXT_WORDS = frozenset({"下一份", "下一个", "跳过", "稍后"})
STOP_WORDS = frozenset({"取消", "结束审核", "退出", "不审了"})

APPROVE_BUTTON = "通过"
RETURN_BUTTON = "退回"

DEPARTMENT_REVIEWS = "本部门"


def policy_line(policy: str, department: str, fallback_units: Sequence[str]) -> str:
    """How a task issued now will be reviewed, and the units whose town has no reviewer."""
    if policy == "none":
        return "不审核：提交即计入。"
    line = "审核：村（社区）报送由所属镇街审核员审核，镇街报送由本部门审核"
    if policy == "town+department":
        line += "；镇街审核通过后，再由本部门验收"
    line += "。"
    if fallback_units:
        shown = "、".join(fallback_units[:5]) + (f"等{len(fallback_units)}个单位" if len(fallback_units) > 5 else "")
        line += f"\n{shown}的上级镇街没有审核员，改由{department}审核。"
    return line


def reviewer_name(unit: str | None, department: str) -> str:
    """Who a step waits on: 朱沱镇, or the department's name."""
    return unit if unit is not None else department


def request_header(
    kind: str, unit: str, filler: str, task: str, round_number: int, changed: int, by_town: str | None
) -> str:
    """【待审核】 the first line of a review request."""
    line = f"【{kind}】{unit} {filler} 提交了{task}"
    if by_town is not None:
        line += f"，{by_town}已审核通过"
    if round_number > 1:
        line += f"（第{round_number}轮" + (f"，标★的{changed}题是这次改过的）" if changed else "，答案未改）")
    return line + "："


def answer_line(
    number: int | None, label: str, shown: str, marks: Sequence[str], starred: bool, flagged: bool = False
) -> str:
    """3. 在保低保户数：30户（上期 12户，+150%）⚠ (the flag last, where the eye ends the line)."""
    prefix = f"{number}. " if number is not None else "· "
    star = "★" if starred else ""
    notes = f"（{'；'.join(marks)}）" if marks else ""
    return f"{prefix}{star}{label}：{shown}{notes}{LARGE_FLAG if flagged else ''}"


def previous_mark(shown: str, change: str | None) -> str:
    """上期 12户，+150%."""
    return f"上期 {shown}" + (f"，{change}" if change else "")


def ledger_mark(shown: str) -> str:
    """台账 138****0000."""
    return f"台账 {shown}"


def was_mark(shown: str) -> str:
    """原为 2户 (the answer before a return)."""
    return f"原为 {shown}"


LARGE_FLAG = "⚠"
EMPTY_ANSWER = "（未填）"


def roster_line(label: str, kept: int, added: int, removed: int, changed: int) -> str:
    """花名册：5 行（新增 1，改 2，移出 1）."""
    parts = [f"新增{added}", f"改{changed}", f"移出{removed}"]
    return f"· {label}：{kept} 行（{'，'.join(parts)}）"


REQUEST_FOOTER = "回复“通过”；或“退回 原因”；只退回几题写“退回 第3题 第5题 原因”。"
REQUEST_FOOTER_MANY = "回复“通过”或“退回 …”处理这一份；“下一份”先看别的，“全部通过”通过列表里全部。"


def approved_reply(unit: str, task: str, next_stage: str | None, left: int) -> str:
    """To the reviewer after 通过."""
    line = f"已通过：{unit} {task}。"
    if next_stage is not None:
        line += f"已转{next_stage}验收。"
    if left:
        line += f"您还有 {left} 份待审核，发 /审核 继续。"
    return line


def returned_reply(unit: str, task: str, questions: Sequence[int]) -> str:
    """To the reviewer after 退回."""
    which = "第" + "、".join(str(n) for n in questions) + "题" if questions else "整份"
    return f"已退回：{unit} {task}（{which}），已通知填报人重填。"


def approved_notice(task: str, by: str, unit_or_department: str, final: bool) -> str:
    """To the filler: approved (finally, or by the town and now with the department)."""
    if final:
        return f"{task}已由{unit_or_department} {by}审核通过，已计入台账和汇总。"
    return f"{task}已由{unit_or_department} {by}审核通过，正等{final and '' or '部门'}验收。"


RESTART_RETURNED = "回复“开始”重新填写，填好后发“提交”。"


def returned_notice(task: str, by: str, where: str, reason: str, questions: Sequence[str], round_number: int) -> str:
    """To the filler: what was returned, by whom and why, and what to do."""
    lines = [f"{task}被{where} {by}退回（第{round_number}轮）。原因：{reason}"]
    if questions:
        lines.append("需要重填：" + "；".join(questions) + "。其他答案已保留，不会再问。")
    else:
        lines.append("请核对全部答案，需要改的发“修改 题号”。")
    lines.append(RESTART_RETURNED)
    return "\n".join(lines)


def returned_opening(task: str, reason: str, questions: Sequence[str]) -> str:
    """When the filler opens a returned form."""
    which = "：" + "；".join(questions) if questions else "，请核对全部答案"
    return f"{task}已退回，原因：{reason}。需要重填{which}。"


def waiting_review(task: str, reviewer: str) -> str:
    """To a filler who writes while her report waits on its reviewer."""
    return f"{task}已提交，正等{reviewer}审核，审核期间不能修改；通过或退回都会通知您。"


def resubmitted(task: str, reviewer: str) -> str:
    """To the filler after 提交 of a returned form."""
    return f"已重新提交{task}，改动已标出，已送{reviewer}再审。"


def submitted_for_review(task: str, reviewer: str) -> str:
    """To the filler after 提交 when the task is reviewed."""
    return f"已提交{task}，等待{reviewer}审核。审核通过后才计入台账和汇总；如被退回会通知您。"


def already_decided(unit: str, task: str, by: str, decision: str, when: str) -> str:
    """To a reviewer who answered a submission someone else decided first."""
    word = "通过" if decision == "approved" else "退回"
    return f"{unit} {task}已由{by}在{when}{word}，您的处理未生效。"


RETURN_NEEDS_REASON = "请写明退回原因，例如：退回 第3题 户数与台账不符。"


def bad_question_numbers(numbers: Sequence[str], total: int) -> str:
    """Question numbers in a return that the form does not have."""
    return f"没有{'、'.join(numbers)}题（这张表共 {total} 题），请改正后再发，例如：退回 第3题 户数不对。"


ASK_RETURN_REASON = "请回复退回原因；只退回几题就写题号，例如：第3题 第5题 户数与台账不符。"
NOTHING_TO_REVIEW = "目前没有等您审核的报送。"
ONE_OF_SEVERAL = "您有多份待审核，请先发 /审核，逐份处理。"
NOT_YOUR_REVIEW = "这份报送不归您审核（只能审核本镇街以下单位的报送，且不能审核自己提交的）。"
STALE_REVIEW_BUTTON = "这份报送已经处理过了，按钮已失效。发 /审核 看还有哪些待审核。"
OWN_SUBMISSION = "这份是您自己提交的，不能自己审核，已交由其他审核人。"
REVIEW_STOPPED = "好的，先不审了。发 /审核 可继续。"


def review_list(count: int, shown: int) -> str:
    """The head of /审核."""
    more = f"（先列最早的 {shown} 份）" if count > shown else ""
    return f"等您审核的报送共 {count} 份{more}，从最早的开始："


def review_list_line(number: int, unit: str, task: str, waited: str, kind: str) -> str:
    """One line of /审核."""
    return f"{number}. {unit} {task}，{kind}，已等{waited}"


def approve_all_question(count: int) -> str:
    """Before 全部通过."""
    return f"确认一次通过列表里的 {count} 份报送？回复“确认”通过，其他任何回复取消。"


def approved_all(count: int, skipped: int) -> str:
    """After 全部通过."""
    line = f"已通过 {count} 份。"
    if skipped:
        line += f"另有 {skipped} 份已被他人处理或不归您审核，未动。"
    return line


APPROVE_ALL_NEEDS_LIST = "请先发 /审核 列出等您审核的报送，看过再回复“全部通过”。"
APPROVE_ALL_CANCELLED = "好的，没有批量通过。"
REVIEW_DONE = "列表里的报送都处理完了。"

REVIEW_HELP = "/审核：逐份审核等我处理的报送（通过、退回 原因、退回 第3题 原因、全部通过）"


def waited(minutes: int) -> str:
    """How long a submission has waited: 35分钟, 5小时, 2天."""
    if minutes < 60:
        return f"{max(minutes, 1)}分钟"
    if minutes < 48 * 60:
        return f"{minutes // 60}小时"
    return f"{minutes // (24 * 60)}天"


def question_label(number: int, label: str) -> str:
    """第3题 户数."""
    return f"第{number}题 {label}"


def overdue_line(unit: str, filler: str, task: str, accepting: bool, waited: str) -> str:
    """One overdue submission in a reviewer's reminder."""
    kind = STATE_ACCEPTING if accepting else STATE_REVIEWING
    return f"· {unit} {filler} 提交的{task}（{kind}，已等{waited}）"


def review_reminder(hours: int, lines: Sequence[str], others: int) -> str:
    """To a reviewer, once per submission: what has waited on them longer than `hours`, oldest first."""
    shown = list(lines[:REMINDER_LINES])
    if len(lines) > REMINDER_LINES:
        shown.append(f"……共 {len(lines)} 份")
    also = f"另有 {others} 份也在等您处理。" if others else ""
    head = f"提醒：以下 {len(lines)} 份报送等您审核已超过 {hours} 小时："
    return "\n".join([head, *shown, f"{also}发 /审核 逐份处理。"])


REMINDER_LINES = 20  # a reminder lists this many submissions at most, so that it stays one WeCom message
