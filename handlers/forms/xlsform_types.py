"""The type column of an XLSForm survey: which types a chat form can ask, and why the others are refused."""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass

from handlers.forms.fields import FieldType
from handlers.texts import forms as t

BEGIN_GROUP, END_GROUP, BEGIN_REPEAT, END_REPEAT, QUESTION = (
    "begin_group",
    "end_group",
    "begin_repeat",
    "end_repeat",
    "question",
)
SELECT_TYPES = frozenset({FieldType.SELECT_ONE, FieldType.SELECT_MULTIPLE})

# Keys are compared after NFKC, collapsing spaces and casefolding.
_SIMPLE = {
    **dict.fromkeys(("integer", "int", "整数"), FieldType.INTEGER),
    **dict.fromkeys(("decimal", "小数", "数字"), FieldType.DECIMAL),
    **dict.fromkeys(("text", "string", "文本", "文字"), FieldType.TEXT),
    **dict.fromkeys(("date", "日期"), FieldType.DATE),
    **dict.fromkeys(("note", "说明"), FieldType.NOTE),
    **dict.fromkeys(("acknowledge", "trigger", "确认"), FieldType.ACKNOWLEDGE),
    **dict.fromkeys(("calculate", "计算"), FieldType.CALCULATE),
    **dict.fromkeys(("id_number", "身份证号", "身份证"), FieldType.ID_NUMBER),
    # pyxform's "phone number" is digits only; here every phone question is a mainland mobile, masked when shown.
    **dict.fromkeys(("mobile", "phone", "phone number", "手机号", "手机"), FieldType.MOBILE),
    **dict.fromkeys(("yes_no", "是否"), FieldType.YES_NO),
}
# pyxform's aliases (pyxform/aliases.py: control) included: a "looped group" or "lgroup" is a repeat.
_STRUCTURE = {
    **dict.fromkeys(("begin group", "begin_group", "分组开始", "开始分组"), BEGIN_GROUP),
    **dict.fromkeys(("end group", "end_group", "分组结束", "结束分组"), END_GROUP),
    **dict.fromkeys(
        ("begin repeat", "begin_repeat", "begin looped group", "begin lgroup", "重复开始", "开始重复"), BEGIN_REPEAT
    ),
    **dict.fromkeys(("end repeat", "end_repeat", "end looped group", "end lgroup", "重复结束", "结束重复"), END_REPEAT),
}
# A loop is written with its list: "begin loop over animals" (pyxform); "end loop" stands alone.
_LOOP_PREFIXES = ("begin loop", "begin_loop")
# Longest first, so "select one from" wins over "select one".
_SELECTS = (
    ("select all that apply from", FieldType.SELECT_MULTIPLE),
    ("select all that apply", FieldType.SELECT_MULTIPLE),
    ("select one from", FieldType.SELECT_ONE),
    ("select_multiple", FieldType.SELECT_MULTIPLE),
    ("select multiple", FieldType.SELECT_MULTIPLE),
    ("select_one", FieldType.SELECT_ONE),
    ("select one", FieldType.SELECT_ONE),
    ("select1", FieldType.SELECT_ONE),
    ("单选", FieldType.SELECT_ONE),
    ("多选", FieldType.SELECT_MULTIPLE),
)
_UNSUPPORTED = {
    **dict.fromkeys(("image", "photo", "audio", "video", "file", "barcode", "background-audio"), "media"),
    **dict.fromkeys(("geopoint", "geotrace", "geoshape", "start-geopoint"), "location"),
    **dict.fromkeys(("time", "datetime"), "time"),
    **dict.fromkeys(
        ("start", "end", "today", "deviceid", "imei", "subscriberid", "simserial", "phonenumber", "username"),
        "metadata",
    ),
    **dict.fromkeys(("email", "audit"), "metadata"),
    "range": "range",
    "hidden": "hidden",
    **dict.fromkeys(("csv-external", "xml-external"), "external"),
    **dict.fromkeys(("begin loop", "end loop", "begin_loop", "end_loop"), "structure"),
}
_UNSUPPORTED_SELECTS = (
    ("select_one_from_file", "external"),
    ("select_multiple_from_file", "external"),
    ("select one from file", "external"),
    ("select multiple from file", "external"),
    ("select_one_external", "external"),
    ("rank", "rank"),
)
_OR_OTHER = frozenset({"or_other", "or other", "or specify other"})


@dataclass(frozen=True)
class QuestionType:
    """What a type cell means: a question of a field type (with its choice list) or a group/repeat boundary."""

    kind: str
    field_type: FieldType | None = None
    list_name: str = ""


@dataclass(frozen=True)
class TypeRefused:
    """A type cell this system cannot use, with the Chinese sentence saying why."""

    sentence: str


def read_type(written: str) -> QuestionType | TypeRefused:
    """The meaning of a type cell, or why it is refused (with a suggestion for a typo)."""
    text = " ".join(unicodedata.normalize("NFKC", written).split())
    key = text.casefold()
    if key in _STRUCTURE:
        return QuestionType(_STRUCTURE[key])
    if key in _SIMPLE:
        return QuestionType(QUESTION, _SIMPLE[key])
    if key in _UNSUPPORTED:
        return TypeRefused(t.unsupported_type(written, _UNSUPPORTED[key]))
    if key.startswith(_LOOP_PREFIXES):
        return TypeRefused(t.unsupported_type(written, "structure"))
    for prefix, group in _UNSUPPORTED_SELECTS:
        if key == prefix or key.startswith(prefix + " "):
            return TypeRefused(t.unsupported_type(written, group))
    for prefix, field_type in _SELECTS:
        if key == prefix:
            return TypeRefused(t.missing_list(written))
        if key.startswith(prefix + " ") or (not prefix.isascii() and key.startswith(prefix)):
            words = text[len(prefix) :].split()
            if len(words) > 1 and " ".join(words[1:]).casefold() in _OR_OTHER:
                return TypeRefused(t.unsupported_type(written, "or_other"))
            if len(words) == 1:
                return QuestionType(QUESTION, field_type, words[0])
    return TypeRefused(t.unknown_type(written, _suggestion(text)))


def _suggestion(text: str) -> str | None:
    """The supported type closest to a misspelt one, e.g. integer for integr, select_one LIST for selct_one LIST."""
    key = text.casefold()
    close = difflib.get_close_matches(key, [*_SIMPLE, *_STRUCTURE], n=1, cutoff=0.6)
    if close:
        return close[0]
    words = text.split()
    if len(words) == 2:
        close = difflib.get_close_matches(words[0].casefold(), ["select_one", "select_multiple"], n=1, cutoff=0.6)
        if close:
            return f"{close[0]} {words[1]}"
    return None
