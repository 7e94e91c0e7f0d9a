"""Sentences about files people send in chat that are refused before they are opened."""

from __future__ import annotations

MB = 1 << 20


def file_too_large(limit: int) -> str:
    """A file bigger than the bot takes in at all: it was not received."""
    return f"文件超过 {limit // MB} MB，无法接收。请把表格拆小（或删去多余的工作表、图片）后重新发送。"


def unsafe_workbook(reason: str, limit: int) -> str:
    """A workbook whose archive would unpack beyond what a form or roster needs (a zip bomb, or far too big)."""
    if reason == "members":
        return f"这个文件里的部件超过 {limit} 个，可能不是正常的表格，请检查后重新发送。"
    if reason == "ratio":
        return f"这个文件解压后是原来的 {limit} 倍以上，可能不是正常的表格，请检查后重新发送。"
    if reason == "rows":
        return f"这个文件里的表格超过 {limit} 行，请删去多余的行后重新发送。"
    if reason == "elements":
        return "这个文件的内容结构异常（单元格或其他元素过多），可能不是正常的表格，请检查后重新发送。"
    if reason == "shared_strings":
        return f"这个文件里的文字解压后超过 {limit // MB} MB，请删去多余的内容后重新发送。"
    return f"这个文件解压后超过 {limit // MB} MB，可能不是正常的表格，请检查后重新发送。"


def cell_too_long(limit: int) -> str:
    """A cell longer than Excel itself allows."""
    return f"单元格超过 {limit} 个字（Excel 一个单元格的上限）"
