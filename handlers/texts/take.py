"""Sentences of 取数: what the ledgers already hold for a form, generating a report from them, /取数."""

from __future__ import annotations

from handlers.texts.lists import SHOWN_NAMES, first_names

GENERATE = "直接生成"
SEND_DOWN = "下发"
TAKE_USAGE = "/取数 模板 [范围 单位…]：台账已有的直接生成汇总表，不必下发，如：/取数 残疾人两项补贴情况 范围 朱沱镇下辖"
NO_TEMPLATE = "请写明模板，如：/取数 残疾人两项补贴情况 范围 松林村"
SOURCE_SHEET = "来源"
SOURCE_HEADER = ["序号", "单位", "题目", "台账", "截至"]
NOTE_AUTHOR = "一表通"
CHANGED_SINCE = "台账已有变化，不能再全部直接生成；请重新 /发布。"


def counted(total: int, fewest: int, most: int) -> str:
    """8 项中 5 项, or 8 项中 3～5 项 when the units differ."""
    known = str(fewest) if fewest == most else f"{fewest}～{most}"
    return f"{total} 项中 {known} 项"


def fully_covered(title: str, total: int, units: int) -> str:
    """Asked before issuing a form the ledgers answer whole for every unit."""
    scope = "" if units == 1 else f"（{units} 个单位都是）"
    return (
        f"《{title}》{counted(total, total, total)}台账已有且在有效期内{scope}：可直接生成汇总表，不必打扰基层"
        f"（回复“{GENERATE}”），或仍然下发让基层确认（回复“{SEND_DOWN}”）。"
    )


def partly_covered(total: int, fewest: int, most: int) -> str:
    """After issuing a form the ledgers answer in part: what the fillers are spared and what they are asked."""
    if fewest == total:
        return f"{counted(total, total, total)}台账已有且在有效期内，基层核对一次即可。"
    rest = str(total - most) if fewest == most else f"{total - most}～{total - fewest}"
    return f"{counted(total, fewest, most)}台账已有且在有效期内，基层核对一次即可；其余 {rest} 项只问缺的/过期的。"


def generated(title: str, task_id: int, units: list[str], total: int, on_demand: bool) -> str:
    """Told to the issuer once a report was generated from the ledgers."""
    sent = "汇总表马上发给您" if on_demand else "汇总表马上发给本部门发布员"
    shown, more = first_names(units)
    named = shown + (f"等 {len(units)} 个单位" if more else "")
    return (
        f"已直接生成《{title}》（任务#{task_id}）：{named}的 {total} 项全部取自台账，没有通知基层；{sent}。"
        f"每个取自台账的格子都注明了台账和截至日期（批注，另见“{SOURCE_SHEET}”表）。"
    )


def left_out(units: list[tuple[str, list[str]]]) -> str:
    """The units /取数 could not generate, each with the questions the ledgers lack for it."""
    lines = [
        f"{unit}：缺{'、'.join(labels[:4])}{'等' if len(labels) > 4 else ''} {len(labels)} 项"
        for unit, labels in units[:SHOWN_NAMES]
    ]
    if len(units) > SHOWN_NAMES:
        lines.append(f"另有 {len(units) - SHOWN_NAMES} 个单位")
    return "以下单位台账不全，没有生成，可用 /发布 下发收集：\n" + "\n".join(lines)


def nothing_covered(title: str) -> str:
    """/取数 for a form no unit's ledgers answer whole."""
    return f"《{title}》没有哪个单位的台账能答全，不能直接生成。"


def generated_units(count: int) -> str:
    """A line of /进度 for a task some of whose units were generated from the ledgers."""
    return f"其中 {count} 个单位由台账直接生成，没有问基层。"


def source_note(ledger: str, as_of: str) -> str:
    """The comment on a cell taken from a ledger."""
    return f"取自{ledger}，截至 {as_of}"
