"""Sentences of the ledger commands."""

from __future__ import annotations

QUERY_USAGE = "/查询 台账名 [条件 …]，如：/查询 低保对象台账 保障类别=A类 家庭月人均收入<600 单位=松林村"
QUERY_HELP = "/查询 台账 [条件 …]：符合条件的记录数和示例"
EXPORT_HELP = "/导出 台账 [条件 …]：导出成 Excel 发给您"
NO_DEPARTMENT = "您还没有所属部门，不能查询台账。请联系管理员。"
UNIT_EQUAL_ONLY = "单位请写成 单位=松林村，几个单位用顿号隔开：单位=松林村、汉东村。"
EMPTY = "空"  # 字段=空
PRESENT = "非空"  # 字段=非空
# What a field holds, for "“保障类别”是单选项，不能用“>”".
KIND_NAMES = {
    "integer": "整数",
    "decimal": "数字",
    "date": "日期",
    "text": "文字",
    "id_number": "身份证号",
    "mobile": "手机号",
    "select_one": "单选项",
    "select_multiple": "多选项",
    "yes_no": "是/否",
}


def usage(titles: list[str]) -> str:
    """/查询 or /导出 without a ledger; `titles` are the ledgers the asker may read."""
    return f"请写明台账名。格式：{QUERY_USAGE}\n{_readable(titles)}"


def unknown_ledger(name: str, close: list[str], titles: list[str]) -> str:
    """A ledger name that does not exist."""
    guess = f"您是不是要找：{'、'.join(close)}？" if close else ""
    return f"没有找到台账“{name}”。{guess}{_readable(titles)}。"


def _readable(titles: list[str]) -> str:
    """The ledgers the asker may read, or that there are none yet."""
    return f"可用台账：{'、'.join(titles)}" if titles else "本部门还没有可查看的台账，请联系管理员开通"


def bad_condition(words: str) -> str:
    """Something that is no condition at all."""
    return f"没看懂条件“{words}”，请写成 字段=值 或 字段>值，如 保障类别=A类、家庭月人均收入<600。"


def unit_out_of_scope(name: str, scope: str) -> str:
    """单位=X for a unit the asker's department does not cover."""
    return f"“{name}”不在本部门的数据范围内，只能查{scope}及下辖单位。"


def department_without_unit(department: str) -> str:
    """An issuer whose department hangs under no org unit."""
    return f"{department}还没有设定所属单位，暂时不能查询台账。请联系管理员。"


def unknown_field(label: str, labels: list[str]) -> str:
    """A condition on a field the ledger does not have (or cannot filter on)."""
    return f"不能按“{label}”查询。可以用的字段：{'、'.join(labels)}、单位。"


def operator_not_allowed(label: str, kind: str, operator: str, examples: list[str]) -> str:
    """An operator the field's type does not take, e.g. > on a choice."""
    return f"“{label}”是{KIND_NAMES[kind]}，不能用“{operator}”。可以这样写：{'；'.join(examples)}。"


def missing_value(condition: str, example: str) -> str:
    """字段> with nothing after it."""
    return f"条件“{condition}”还缺要比较的值，如 {example}。"


def one_value_only(operator: str, example: str) -> str:
    """A list after a comparison."""
    return f"“{operator}”后面只能写一个值，如 {example}。"


def not_a_number(value: str, label: str, integer: bool, example: str) -> str:
    """A number field compared with something that is not a number (or not a whole one)."""
    kind = "整数" if integer else "数字"
    return f"“{value}”不是{kind}，{label}请写{kind}，如 {example}。"


def number_too_large(value: str, label: str, example: str) -> str:
    """A whole-number field compared with a number far beyond any value it can hold (either sign)."""
    return f"“{value}”超出了{label}可能的范围，请检查后重写，如 {example}。"


def not_a_date(value: str, example: str) -> str:
    """A date field compared with something that is not a date."""
    return f"“{value}”不是日期，请写成 2024-01-01 或 2024年1月1日，如 {example}。"


def unknown_choice(label: str, value: str, labels: list[str]) -> str:
    """A choice field compared with an option it does not have."""
    return f"{label}没有“{value}”这一项，可选：{'、'.join(labels)}。"


def ambiguous_choice(label: str, value: str, matches: list[str]) -> str:
    """A word that is part of several options' labels."""
    return f"{label}里“{value}”对应多个选项（{'、'.join(matches)}），请写完整名称。"


def not_yes_no(label: str) -> str:
    """A yes/no field compared with something else."""
    return f"{label}只能写 是 或 否，如 {label}=是。"


def incomplete_number(value: str, label: str, problem: str) -> str:
    """An ID number or mobile that cannot be matched whole."""
    return f"“{value}”不是完整的{label}（{problem}）。只知道一部分时请写 {label} 包含 {value}。"


def query_count(title: str, conditions: str, count: int, scope: str | None) -> str:
    """First line of /查询; `scope` names the asker's unit when the department sees only part of the district."""
    where = f"（{scope}范围）中" if scope else "中"
    return f"{title}{where}{f'符合“{conditions}”的' if conditions else ''}记录共 {count} 条。"


def more_rows(count: int) -> str:
    """After the rows shown."""
    return f"……另有 {count} 条，发送“/导出”可拿到全部。"


def exported(title: str, rows: int, masked: list[str]) -> str:
    """Confirmation of /导出, saying which fields the file shows masked."""
    note = f"其中{'、'.join(masked)}已打码。" if masked else ""
    return f"正在导出{title}（{rows} 条），马上以文件发给您。{note}"


def sensitive_condition(label: str) -> str:
    """A condition on a sensitive field from someone who sees it masked: counts would give the number away."""
    return (
        f"“{label}”是敏感字段，您看到的是打码后的内容，不能按它筛选（逐位试探可以拼出完整号码）。"
        f"可以写 {label}=空 或 {label}=非空。"
    )
