"""Sentences of data sinking (数据下沉): what a department is told after each run of one of its sources."""

from __future__ import annotations

HISTORY_SOURCE = "数据下沉：{name}"  # the source of every ledger value a run changed, as the history shows it
ALREADY_RUNNING = "上一次取数还没有结束，这一次不再重复运行。"
NO_NEW_FILE = "文件夹里没有新的导出文件（最新的“{file}”已经取过），本次不取数。"
NO_FILE = "文件夹“{folder}”里还没有 .xlsx 或 .csv 文件，本次不取数。"
NO_FOLDER = "找不到文件夹“{folder}”，请检查配置的 folder，或确认对方系统的导出是否放到了这里。"
UNREACHABLE = "连不上数据源的数据库（{where}），请检查地址、账号和网络，或请对方系统的管理员确认数据库在运行。"
QUERY_FAILED = "数据源的数据库执行查询时出错（{where}），请检查配置里的 query 是否写对、账号有没有查询权限。"
INTERNAL = "取数时机器人内部出错，已记入日志，请联系管理员。"
ERROR_BOOK = "未收的行"  # in the error workbook's file name


def run_report(source: str, ledger: str, added: int, changed: int, unchanged: int, refused: int) -> str:
    """A run that went through: 数据下沉《民政低保系统》→低保对象台账：新增 3 条，更新 5 条，12 条无变化，…"""
    text = f"数据下沉《{source}》→{ledger}：新增 {added} 条，更新 {changed} 条，{unchanged} 条无变化"
    return text + (f"，{refused} 行未收（见附件错误表）。" if refused else "。")


def failed_report(source: str, ledger: str, problem: str, added: int, changed: int, refused: int) -> str:
    """A run that failed, with what it had written before it stopped (kept; the next run goes on from there)."""
    text = f"数据下沉《{source}》→{ledger} 没有完成：{problem}"
    if added or changed:
        text += f"\n停下之前已写入的保留：新增 {added} 条，更新 {changed} 条；下次取数会接着补齐，不会重复。"
    if refused:
        text += f"\n另有 {refused} 行未收，见附件错误表。"
    return text


def ignored_columns(columns: list[str]) -> str:
    """Columns of the source that name no field of the ledger."""
    return f"以下列不属于这本台账，已忽略：{'、'.join(columns)}。"
