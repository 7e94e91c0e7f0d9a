"""What the bot says about sign-off: the 审核签字 sheet, a department's /更正, and `python -m bot verify-digest`."""

from __future__ import annotations

from collections.abc import Sequence

# The 审核签字 sheet of a reviewed task's summary workbook.
SIGNOFF_SHEET = "审核签字"
SIGNOFF_REVIEWERS = "审核人"
SIGNOFF_APPROVED_AT = "通过时间"
SIGNOFF_ROUNDS = "轮次"
SIGNOFF_DIGEST = "摘要（SHA-256）"
SIGNOFF_NOTE = "备注"
DIGEST_VALID = "有效"
DIGEST_SUPERSEDED = "已被更正取代"


def signoff_reviewer(where: str, name: str, correction: bool) -> str:
    """朱沱镇 周建国, or 区民政局 李敏正（更正）."""
    return f"{where} {name}" + ("（更正）" if correction else "")


def signoff_reviewers(names: Sequence[str]) -> str:
    """Every stage's approver of one round: 朱沱镇 周建国；区民政局 李敏正."""
    return "；".join(names)


def correction_note(changes: Sequence[str], reason: str | None) -> str:
    """备注 of a correction's row: 更正 在保低保人数：356人 → 360人；原因：核对户籍."""
    return "更正 " + "；".join(changes) + (f"；原因：{reason}" if reason else "")


def change_line(label: str, old: str, new: str) -> str:
    """在保低保人数：356人 → 360人."""
    return f"{label}：{old} → {new}"


# /更正: a department's correction of an approved submission.
CORRECT_HELP = "/更正 任务号 单位 第N题 新值 [原因]：改正已审核通过的报送，原签字作废并留痕，通知填报人"
CORRECT_USAGE = "格式：/更正 任务号 单位 第N题 新值 [原因]，例如：/更正 12 松林村 第2题 360 核对户籍后更正"
MAX_CORRECTION_REASON = 200


def correction_no_task(number: str) -> str:
    """The task is unknown, or another department's (the same words for both)."""
    return f"没有找到本部门的任务#{number}。发 /进度 可看本部门的任务。"


def correction_not_reviewed(task: str) -> str:
    """A task without review has no sign-off to correct."""
    return f"{task}不审核，提交即计入，没有审核签字可以更正。"


def correction_unknown_unit(task: str, unit: str, close: Sequence[str]) -> str:
    """The unit named is not among the task's units."""
    hint = f"您是不是要找：{'、'.join(close)}？" if close else ""
    return f"{task}没有发给“{unit}”。{hint}"


def correction_not_approved(unit: str, task: str, state: str) -> str:
    """Only an approved submission can be corrected; before that a reviewer returns it."""
    return f"{unit}的{task}还没有审核通过（{state}），不能更正；审核时可以退回让填报人改。"


def correction_unknown_question(word: str, total: int) -> str:
    """The question number is missing or not on the form."""
    return f"没有“{word}”这一题（这张表共 {total} 题），请写成“第N题”，例如：第2题。"


def correction_roster(number: int, label: str) -> str:
    """Rosters cannot be corrected this way."""
    return (
        f"第{number}题是花名册（{label}），暂不支持更正花名册。"
        "名单上的人员请在台账里改（户口迁移用 /迁移），下次报送时填报人核对。"
    )


def correction_key(number: int, label: str) -> str:
    """The question holds a ledger record's key: changing it would point the answers at another record."""
    return f"第{number}题（{label}）是台账记录的编号，改了它其他答案就对应到另一条记录，不能更正。"


def correction_not_asked(number: int, label: str) -> str:
    """The question was not asked in this submission (its display condition was false)."""
    return f"第{number}题（{label}）按显示条件在这份报送里没有问，不能更正。"


def correction_changes_questions(number: int) -> str:
    """The new value would change which questions the form asks."""
    return f"改了第{number}题，表里要问的题目也会变（显示条件），不能直接更正。"


def correction_refused(number: int, reason: str) -> str:
    """The parser or the form's constraint refuses the new value."""
    return f"第{number}题的新值不行：{reason}"


def correction_unchanged(number: int, shown: str) -> str:
    """The new value equals the approved one."""
    return f"第{number}题已经是{shown}，不用更正。"


def correction_reason_too_long(limit: int) -> str:
    """The reason is longer than kept."""
    return f"更正原因请控制在 {limit} 个字以内。"


def correction_taken(unit: str, task: str) -> str:
    """Someone else corrected the same submission at the same moment."""
    return f"{unit}的{task}刚被别人更正过，请发 /汇总 看最新的内容后再决定。"


def correction_source(task_id: int, title: str) -> str:
    """The source of a corrected value in the ledger history."""
    return f"任务#{task_id}《{title}》更正"


def corrected_reply(
    unit: str, task: str, change: str, old_digest: str, new_digest: str, written: Sequence[str], kept: Sequence[str]
) -> str:
    """To the corrector: what changed, the digests, the ledger, and who was told."""
    lines = [f"已更正：{unit} {task}，{change}。"]
    lines.append(f"原签字摘要 {old_digest[:12]}… 已作废，新摘要 {new_digest[:12]}…（汇总表“审核签字”里可见）。")
    if written:
        lines.append(f"台账已同步：{'、'.join(written)}。")
    if kept:
        lines.append(f"台账里的{'、'.join(kept)}已被之后的报送或修改更新，没有改动。")
    lines.append("已通知填报人。发 /汇总 可拿到更正后的汇总表。")
    return "\n".join(lines)


def corrected_notice(task: str, by: str, department: str, change: str, reason: str | None) -> str:
    """To the filler: the department changed an approved answer."""
    line = f"{task}已审核通过的报送被{department} {by}更正：{change}。"
    return line + (f"原因：{reason}" if reason else "")


# python -m bot verify-digest
def digest_task_missing(task_id: int) -> str:
    """verify-digest: no such task."""
    return f"没有任务#{task_id}。"


def digest_unit_missing(task: str, unit: str) -> str:
    """verify-digest: the unit is not among the task's."""
    return f"{task}没有发给“{unit}”。"


def digest_task_unreviewed(task: str) -> str:
    """verify-digest: a task without review has no digests."""
    return f"{task}不审核，没有审核签字。"


def digest_heading(task: str) -> str:
    """verify-digest: the first line."""
    return f"{task}：按数据库里保存的报送重新计算每个单位的摘要（SHA-256），与签字时的摘要比对。"


def digest_check(unit: str, signed: str, recomputed: str) -> str:
    """verify-digest: one approved unit."""
    verdict = "一致" if signed == recomputed else "不一致"
    return f"{unit}\n  签字摘要：{signed}\n  重新计算：{recomputed}\n  {verdict}"


def digest_unsigned(unit: str, state: str) -> str:
    """verify-digest: a unit not approved yet."""
    return f"{unit}\n  还没有审核通过（{state}），没有签字"


def digest_totals(same: int, different: int, unsigned: int) -> str:
    """verify-digest: the last line."""
    line = f"一致 {same} 个，不一致 {different} 个"
    return line + (f"，未审核通过 {unsigned} 个" if unsigned else "") + "。"
