"""Workbooks the tests send as a person would: an XLSForm form with Chinese headers."""

from __future__ import annotations

import io

from openpyxl import Workbook


def survey_workbook(rows: list[list[str]], title: str = "人口核对", code: str = "population_check") -> bytes:
    """An XLSForm workbook with Chinese headers: 类型, 字段名, 题目, 必填, 台账字段; settings: title and form_id."""
    book = Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(["类型", "字段名", "题目", "必填", "台账字段"])
    for row in rows:
        survey.append(row)
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id"])
    settings.append([title, code])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
