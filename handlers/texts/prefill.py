"""Sentences about ledger links: prefilled values, write-back, form links that cannot work, burden figures."""

from __future__ import annotations

LINK_FORMAT = "台账字段写成“台账.字段”，如“村社区基本情况台账.户籍人口”或“unit_profile.population”"
LINK_UNIT_KEY = "单位名称由机器人按填报单位自动对应，不用填写，请去掉这一格的台账字段。"


def link_unknown_ledger(text: str, titles: list[str]) -> str:
    """A save_to naming no ledger."""
    return f"台账字段“{text}”找不到对应的台账。{LINK_FORMAT}。现有台账：{'、'.join(titles)}。"


def link_unknown_field(ledger: str, wanted: str, labels: list[str]) -> str:
    """A save_to naming a field the ledger does not have."""
    return f"{ledger}没有“{wanted}”这个字段。可用字段：{'、'.join(labels)}。"


def link_wrong_type(ledger: str, label: str) -> str:
    """A question whose answers cannot be stored in the linked ledger field."""
    return f"这一题的类型和{ledger}的“{label}”不一致，答案存不进去，请改成相同的类型。"


def link_choices_differ(ledger: str, label: str) -> str:
    """A choice question with options the ledger field does not have."""
    return f"这一题有{ledger}“{label}”没有的选项，请让选项名称（name）与台账一致。"


def link_needs_key(ledger: str, key_label: str, in_roster: bool) -> str:
    """A link to a ledger whose record the form cannot identify."""
    where = "同一个重复组（花名册）里" if in_roster else "表单里"
    return f"{ledger}按{key_label}区分每条记录，{where}还要有一题的台账字段是“{ledger}.{key_label}”，才知道填的是谁。"


def prefilled_header(title: str, count: int) -> str:
    """Heads the values a form took from the ledger."""
    return f"《{title}》以下 {count} 项已从台账带出："


def prefilled_footer(remaining: int) -> str:
    """How to confirm the values taken from the ledger, and what comes after."""
    then = f"确认后再填其余 {remaining} 题。" if remaining else "确认后即提交报送。"
    return f"无变化请回复“确认”；有变化请回复“修改 题号”，如“修改 2”。{then}"


CONFIRM_PREFILL_FIRST = "请先核对上面从台账带出的信息。"


def filled_from_key(labels: list[str]) -> str:
    """After a record key was answered, the values the ledger had for that record."""
    return f"已从台账带出：{'、'.join(labels)}（核对时可修改）。"


def stale_suggestion(shown: str) -> str:
    """Under a question whose ledger value is out of date."""
    return f"台账中的值：{shown}，可能已过期。没有变化请回复“不变”，有变化请直接回复新的值。"


def previous_suggestion(shown: str) -> str:
    """Under a question of a recurring report: what the unit answered last period."""
    return f"上期填的是：{shown}。没有变化请回复“不变”，有变化请直接回复新的值。"


def write_back_source(task_id: int, title: str) -> str:
    """The source of ledger values written back from a submission, in the ledger history."""
    return f"任务#{task_id}《{title}》"
