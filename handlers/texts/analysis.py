"""Sentences of /分析 and the analysis page: high-frequency matters, values that jump, and the rule behind them."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from ledger_store.analysis import Anomaly, MatterReport

ANALYSIS_HELP = "/分析 [台账|板块]：高发事项、数值异动（也可在看板里看）"
NOTHING = "您可查看的台账里还没有事件类台账（如矛盾调解、消防隐患），暂无可分析的内容。"
NO_ANOMALY = "异动：没有发现明显异动。"
RULE = (
    "异动规则：拿每个单位本期的数，和它自己此前各期（至少3期）比。"
    "稳健z值 = 0.6745×(本期−历史中位数)÷MAD（MAD为各期与中位数之差的中位数），|z|>3.5 即标为异动；"
    "MAD为0时改用平均绝对偏差；分母（MAD÷0.6745）至少取√中位数（计数本身的随机起伏），免得小数字的正常起伏被标出；"
    "历史各期完全相同时，本期变动超过一半（且至少1）即标记。"
    "台账按月统计（记录数及数值字段合计），定期报表按期统计。"
)
SHORT_RULE = "（规则：与本单位此前至少3期比，稳健z=0.6745×(本期−中位数)÷MAD，|z|>3.5 标为异动，详见看板的分析页）"
TREND_MARK = {"上升": "↑", "下降": "↓", "持平": "→"}


def unknown_target(word: str, titles: list[str], boards: list[str]) -> str:
    """/分析 followed by neither a readable ledger nor a board."""
    offer = "、".join([*titles, *boards]) or "（暂无）"
    return f"没有找到可分析的台账或板块“{word}”。可选：{offer}"


def heading(scope: str | None, target: str | None) -> str:
    """The digest's first line: what it covers and within which units."""
    where = f"（{scope}范围）" if scope else ""
    return f"{target or '全部事件台账'}分析{where}："


def number(value: Decimal | float | int) -> str:
    """A figure without trailing zeros."""
    if isinstance(value, float):
        return f"{value:.1f}".removesuffix(".0")
    text = format(Decimal(value).normalize(), "f")
    return "0" if text == "-0" else text


def ledger_line(report: MatterReport, shown: int = 3) -> str:
    """One ledger: its total, its top matters with this month's count and trend, and where most come from."""
    if report.total == 0:
        return f"《{report.ledger.title}》暂无记录。"
    matters = "、".join(
        f"{m.label}{m.count}件（本月{m.this_month}{TREND_MARK[m.trend]}）" for m in report.matters[:shown]
    )
    line = f"《{report.ledger.title}》共{report.total}件"
    if report.category and matters:
        line += f"，高发{report.category}：{matters}"
    places = report.villages or report.towns
    if places:
        line += "；最多的单位：" + "、".join(f"{c.label}{c.count}件" for c in places[:shown])
    return line + "。"


def anomaly_line(anomaly: Anomaly) -> str:
    """One flagged unit: what jumped, to what, against which median, by how much."""
    how = "历史各期相同" if anomaly.z is None else f"z={anomaly.z:.1f}"
    if anomaly.ratio is not None:
        how += f"，为上期的{anomaly.ratio:.1f}倍"
    return (
        f"{anomaly.unit}《{anomaly.source}》{anomaly.measure} {anomaly.period}为{number(anomaly.value)}，"
        f"历史中位数{number(anomaly.median)}（{how}）"
    )


def anomalies_block(anomalies: list[Anomaly], shown: int = 5) -> str:
    """The flagged units, the biggest jumps first, and the rule in one line."""
    if not anomalies:
        return NO_ANOMALY
    lines = [f"异动（{len(anomalies)}处）：", *(f"· {anomaly_line(a)}" for a in anomalies[:shown])]
    if len(anomalies) > shown:
        lines.append(f"……另有{len(anomalies) - shown}处，见看板。")
    lines.append(SHORT_RULE)
    return "\n".join(lines)


def warnings_heading(days: int) -> str:
    """The line before the 预警 rules' recent records in /分析."""
    return f"预警（近{days}天新发现）："


def warning_line(rule_id: int, ledger_title: str, rule_name: str, units: Counter[str], shown: int = 3) -> str:
    """One rule's records found lately: how many, and the units with the most of them."""
    top = "、".join(f"{unit or '未分单位'} {count}" for unit, count in units.most_common(shown))
    more = "等" if len(units) > shown else ""
    return f"#{rule_id} {ledger_title} {rule_name}：{sum(units.values())} 条（{top}{more}）"
