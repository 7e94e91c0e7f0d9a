"""Every sentence of the form-filling conversation."""

from __future__ import annotations

CONTROL_WORDS_HINT = "随时可回复“上一题”“跳过”“修改 题号”“查看”“取消”，不知道怎么回复时说“帮助”。"


def started(title: str, total: int, deadline: str) -> str:
    """First message when someone starts a form."""
    return f"开始填写《{title}》，共{total}题，{deadline}前报送。{CONTROL_WORDS_HINT}"


def resumed(title: str, number: int | None) -> str:
    """When someone comes back to a parked form; no number while the ledger's values wait to be confirmed."""
    if number is None:
        return f"继续填写《{title}》，之前的答案都保存着。"
    return f"继续填写《{title}》，从第{number}题接着来，之前的答案都保存着。"


def question_header(title: str, number: int, total: int) -> str:
    """The first line of every question."""
    return f"《{title}》第{number}/{total}题"


def group_heading(group: str) -> str:
    """A line above the first question of a group (section) of the form, e.g. 【父亲】."""
    return f"【{group}】"


def computed_line(label: str, shown: str) -> str:
    """A value the form fills in itself (calculated or read-only), in the review and as it is passed."""
    return f"· {label}：{shown}"


def current_answer(shown: str) -> str:
    """Shown under a question that already has an answer (going back or editing)."""
    return f"当前答案：{shown}（不改请回复“跳过”）"


SUBMIT_BUTTON = "确认提交"
STALE_BUTTON = "这个按钮对应的题目已经答过或换了，请回答当前这一题。"
OPTIONAL = "（选填，没有可回复“跳过”）"
HINT_PREFIX = "提示："


def review_header(title: str) -> str:
    """Heads the list of all answers before submitting."""
    return f"《{title}》请核对您的答案："


NOT_ANSWERED = "（未填）"
REVIEW_FOOTER = "无误请回复“提交”；要改哪题请回复“修改 题号”，如“修改 3”。"
REVIEW_EXPECTS = "请回复“提交”确认报送，或回复“修改 题号”修改某一题。"


def answers_so_far(title: str) -> str:
    """Heads the 查看 listing in the middle of a form."""
    return f"《{title}》目前的答案："


NOTHING_ANSWERED_YET = "还没有填写任何答案。"
AT_FIRST_QUESTION = "已经是第1题了。"


def cannot_skip() -> str:
    """A required question without an answer cannot be skipped."""
    return "这一题是必填的，不能跳过，请填写。"


def edit_out_of_range(total: int) -> str:
    """修改 N with N outside the form."""
    return f"题号要在 1 到 {total} 之间，如“修改 3”。"


def edit_not_asked(number: int) -> str:
    """修改 N for a question the earlier answers make unnecessary."""
    return f"根据前面的回答，第{number}题不用填写。"


EDIT_NEEDS_NUMBER = "请在“修改”后面写题号，如“修改 3”。"


def not_finished(remaining: int) -> str:
    """提交 before all questions are answered."""
    return f"还有{remaining}题没有填完，填完后再提交。"


def parked(title: str) -> str:
    """After 取消: the form is kept, not thrown away."""
    return f"好的，《{title}》先暂停，已填的答案都保存着。回复“继续”或“/待办”可以接着填。"


# The words that work at each stage (keys: handlers.conversation.stages.Stage); 帮助 shows those of the stage one is at.
STAGE_WORDS: dict[str, tuple[str, ...]] = {
    "confirming": (
        "确认：台账带出的值都对，接着填其余的题",
        "修改 N：改第N题",
        "查看：再看一遍带出的值",
        "取消：暂停，下次接着填",
    ),
    "question": (
        "直接回复答案",
        "上一题：回到上一题",
        "跳过：跳过选填题，或保留当前答案",
        "修改 N：修改第N题",
        "查看：查看已填的答案",
        "取消：暂停，下次接着填",
    ),
    "roster_row": (
        "确认：这一行无变化",
        "全部确认：剩下的行都无变化",
        "修改：逐项修改这一行",
        "删除：这个人已不在名单，下期不再列出；可写原因，如“删除 迁往外地”",
        "添加：新增一行",
        "表格：要 Excel 花名册，改好发回",
        "完成：名单核对完，接着填后面的题",
        "上一题：回到上一题",
        "取消：暂停，下次接着填",
    ),
    "roster_list": (
        "完成：名单核对完，接着填后面的题",
        "添加：新增一行",
        "修改 行号、删除 行号：改或删某一行（删除可写原因，如“删除 3 迁往外地”）",
        "表格：要 Excel 花名册，改好发回",
        "上一题：回到上一题",
        "取消：暂停，下次接着填",
    ),
    "roster_edit": (
        "直接回复这一项",
        "跳过：保留原值（选填项可以不填）",
        "上一题：回到这一行的上一项，在第一项时退出这一行",
        "完成：这一行先填到这里（新加的行要填完必填项才加入名单）",
        "取消：不改这一行了（新加的行不加入名单）",
    ),
    "review": (
        "提交：确认报送",
        "修改 N：修改第N题",
        "上一题：回到最后一题",
        "查看：再看一遍答案",
        "取消：暂停，下次接着填",
    ),
}


def stage_help(title: str, stage: str) -> str:
    """帮助 inside a form: the words that work where the form stands."""
    words = "\n".join("· " + line for line in STAGE_WORDS[stage])
    return (
        f"您正在填写《{title}》，现在可以回复：\n{words}\n"
        "也可以随时发命令，如“/待办”查看或换填其他任务，发完会回到这里。"
    )


def switched_from(title: str) -> str:
    """Before the task a number picked from /待办 in the middle of another form."""
    return f"《{title}》先放一放，已填的答案都保存着，发送“/待办”可以换回来。"


def resume_hint(title: str, number: int | None, total: int) -> str:
    """Appended after a command typed in the middle of a form; no number at the ledger's values to confirm."""
    if number is None:
        return f"——\n《{title}》还在核对从台账带出的信息，回复“确认”即可继续。"
    if number > total:
        return f"——\n《{title}》已填完，回复“提交”确认报送，或“修改 题号”修改。"
    return f"——\n《{title}》还在第{number}/{total}题，直接回复答案即可继续。"


def task_closed(title: str, task_id: int, deadline: str, contact: str) -> str:
    """A task whose deadline passed and that takes no late answers."""
    return f"《{title}》（任务#{task_id}）已于{deadline}截止，不再接收报送。如需补报，请联系{contact}。"
