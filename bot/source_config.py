"""The [[sources]] entries of the configuration (数据下沉), checked into Sources with bilingual complaints."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from handlers.ledgers.sources import Source
from handlers.tasks.source_timetable import parse_timetable

# What an entry may hold; a source is a query (url + query) or a folder of exports (folder).
SOURCE_OPTIONS = {"name": str, "ledger": str, "schedule": str, "url": str, "query": str, "folder": str, "columns": dict}
MAX_SOURCE_NAME = 40  # the lease "source:<name>" fits its 50-character column
SCHEDULES = ("每天 02:00", "每周一 03:00", "每月1日 02:00", "每个工作日 06:00")


class SourceConfigError(ValueError):
    """A [[sources]] entry we cannot use; the message says which and why, in Chinese, then in English."""


def sources_from(entries: object, resolve: Callable[[str | None, Path], Path]) -> tuple[Source, ...]:
    """The [[sources]] entries as Sources (a relative folder through `resolve`); SourceConfigError otherwise."""
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise SourceConfigError("数据源要写成 [[sources]] 表。 / sources must be [[sources]] tables.")
    sources: list[Source] = []
    for number, entry in enumerate(entries, start=1):
        source = _source(number, entry, resolve)
        if any(other.name == source.name for other in sources):
            raise _error(number, source.name, "name 与前面的数据源重名", "name is used by an earlier source")
        sources.append(source)
    return tuple(sources)


def _source(number: int, entry: dict, resolve: Callable[[str | None, Path], Path]) -> Source:
    """One entry, checked option by option."""
    name = entry.get("name")
    label = name.strip() if isinstance(name, str) else ""
    for key, value in entry.items():
        expected = SOURCE_OPTIONS.get(key)
        if expected is None:
            known = ", ".join(SOURCE_OPTIONS)
            raise _error(number, label, f"不认识的选项 {key}（可用：{known}）", f"unknown option {key} ({known})")
        if not isinstance(value, expected) or (expected is dict and not all(map(_is_text, value.values()))):
            kind = '一组 源列名 = "字段编号"' if expected is dict else "带引号的文字"
            english = 'a table of source column = "field code"' if expected is dict else "a quoted string"
            raise _error(number, label, f"{key} 应是{kind}", f"{key} must be {english}")
    for key in ("name", "ledger", "schedule"):
        if not entry.get(key, "").strip():
            raise _error(number, label, f"缺少 {key}", f"{key} is missing")
    if len(label) > MAX_SOURCE_NAME:
        raise _error(number, label, f"name 最多 {MAX_SOURCE_NAME} 个字", f"name is over {MAX_SOURCE_NAME} characters")
    if parse_timetable(entry["schedule"]) is None:
        chinese = f"schedule“{entry['schedule']}”看不懂，请写成{'、'.join(SCHEDULES)}这样"
        raise _error(number, label, chinese, f"schedule {entry['schedule']!r} is not understood; write {SCHEDULES}")
    by_query, by_folder = "url" in entry or "query" in entry, "folder" in entry
    if by_query == by_folder or (by_query and not ("url" in entry and "query" in entry)):
        raise _error(
            number, label, "要么写 url 和 query（从数据库取），要么只写 folder（读导出文件的文件夹）",
            "give either url and query (a database) or folder (a folder of exported files), not both",
        )  # fmt: skip
    return Source(
        name=label,
        ledger=entry["ledger"].strip(),
        schedule=entry["schedule"],
        url=entry.get("url"),
        query=entry.get("query"),
        folder=resolve(entry["folder"], Path()) if by_folder else None,
        columns={column.strip(): field.strip() for column, field in entry.get("columns", {}).items()},
    )


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _error(number: int, name: str, chinese: str, english: str) -> SourceConfigError:
    """A bad entry, named by its position and its name."""
    which = f"第 {number} 个（{name}）" if name else f"第 {number} 个"
    english_which = f"#{number} ({name})" if name else f"#{number}"
    return SourceConfigError(f"[[sources]] {which}：{chinese}。 / [[sources]] {english_which}: {english}.")
