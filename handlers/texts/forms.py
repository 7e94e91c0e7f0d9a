"""Sentences about Excel form templates: what is wrong in a workbook, and the guide sheet of the blank template."""

from __future__ import annotations

UNREADABLE_FILE = "无法读取这个文件。请上传 Excel 的 .xlsx 文件（旧版 .xls 请先另存为 .xlsx）。"
NO_SURVEY_SHEET = "表格里没有 survey 工作表（题目表），请按模板填写。"
NO_QUESTIONS = "没有任何题目。"
MISSING_TYPE = "这一行写了字段名或题目，但没有填类型。"
MISSING_NAME = "缺少字段名（name）。"
MISSING_LABEL = "缺少题目（label）。"
MISSING_CALCULATION = "计算题必须填写计算公式（calculation）。"
MISSING_CODE = "请填写表单编号（form_id），如 dibao_monthly。"
MISSING_LIST_NAME = "缺少选项列表名（list_name）。"
MISSING_CHOICE_NAME = "缺少选项值（name）。"
CHOICE_FILTER = "choice_filter（按前面的答案筛选选项）暂不支持，请去掉筛选条件，或把选项分成几道题。"
NO_ANSWER_TO_SAVE = "说明和确认题没有可以写入台账的答案，请清空台账字段。"

# Why a known XLSForm type is refused; keyed by the groups in handlers.forms.xlsform_types.
UNSUPPORTED_REASONS = {
    "media": "聊天里不能收集图片、音视频、文件、签名或条码",
    "location": "聊天里不能收集定位",
    "time": "只支持日期，不支持时间",
    "metadata": "这是手机表单自动记录的设备信息，聊天里没有",
    "range": "聊天里不能用滑块，请改用整数题并加校验",
    "rank": "聊天里不能排序，请改用多选题",
    "external": "选项必须写在 choices 表里，不能来自外部文件",
    "or_other": "请在选项里加一个“其他”，再加一道文本题让人说明",
    "structure": "本系统只支持分组（group）和重复组（repeat）",
    "hidden": "隐藏题请改用计算题（calculate）",
}

EXPRESSION_REASONS = {
    "too_long": "表达式超过 1000 个字符",
    "too_deep": "括号或函数套得太深",
    "too_large": "表达式太长太复杂",
    "empty": "表达式是空的",
    "unterminated_string": "引号没有配对",
    "unterminated_reference": "“${”缺少右括号“}”",
    "unexpected_end": "表达式不完整",
}
REGEX_REASONS = {
    "pattern_too_long": "正则表达式超过 200 个字符",
    "pattern_invalid": "正则表达式写法有误",
    "pattern_nested": "正则表达式里重复的括号内又有重复或“|”，可能运行极慢",
    "pattern_too_many_repeats": "正则表达式里不定次数的重复（*、+、{n,}）超过 3 处",
}


def at(sheet: str, row: int | None, sentence: str) -> str:
    """A problem with its place, e.g. survey 表第 7 行：…"""
    if not sheet:
        return sentence
    return f"{sheet} 表第 {row} 行：{sentence}" if row is not None else f"{sheet} 表：{sentence}"


def _did_you_mean(suggestion: str | None, otherwise: str = "。") -> str:
    """The "did you mean" tail of a sentence."""
    return f"，是否是“{suggestion}”？" if suggestion else otherwise


def misspelt_sheet(title: str, suggestion: str) -> str:
    """A sheet whose name is close to one the form needs; sheets of other names are not read."""
    return f"工作表“{title}”无法识别，是否是“{suggestion}”？请改正工作表名称（名称不对的工作表不会被读取）。"


def unknown_type(written: str, suggestion: str | None) -> str:
    """A type cell that names no type."""
    return f"类型“{written}”无法识别{_did_you_mean(suggestion, '。支持的类型见模板里的“说明”表。')}"


def unsupported_type(written: str, group: str) -> str:
    """A real XLSForm type a chat form cannot ask."""
    return f"类型“{written}”暂不支持：{UNSUPPORTED_REASONS[group]}。"


def missing_list(written: str) -> str:
    """A select type without the name of its choice list."""
    return f"类型“{written}”后面要写选项列表名，如“select_one 村组”或“单选 村组”。"


def unknown_list(list_name: str, suggestion: str | None) -> str:
    """A select whose choice list is not on the choices sheet."""
    return f"选项列表“{list_name}”在 choices 表里找不到{_did_you_mean(suggestion)}"


def missing_columns(headers: list[str]) -> str:
    """Required columns missing from a sheet."""
    return f"缺少{'、'.join(f'“{header}”' for header in headers)}列。"


def duplicate_column(header: str, first: str) -> str:
    """Two headers that mean the same column."""
    return f"列“{header}”和“{first}”是同一列，请只保留一个。"


def unknown_column(header: str, suggestion: str) -> str:
    """A header that looks like a misspelt column name."""
    return f"列名“{header}”无法识别，是否是“{suggestion}”？"


def unsupported_column(header: str) -> str:
    """A filled cell in a known XLSForm column this system does not support."""
    return f"“{header}”列暂不支持，请清空这一列。"


def bad_name(name: str) -> str:
    """A name that breaks the naming rule."""
    return f"字段名“{name}”不合规：须以字母或下划线开头，只能包含字母、数字和 - _ . 。"


def bad_save_to(name: str) -> str:
    """A ledger field name that breaks the naming rule."""
    return f"台账字段“{name}”不合规：须以字母或下划线开头，只能包含字母、数字和 - _ . 。"


def duplicate_name(name: str, first_row: int) -> str:
    """A name used twice."""
    return f"字段名“{name}”与第 {first_row} 行重复。"


def bad_yes_no(header: str, value: str) -> str:
    """A required or read_only cell that is neither yes nor no."""
    return f"“{header}”只能填 是/否（yes/no），现在是“{value}”。"


def bad_expression(header: str, text: str, position: int, reason: str) -> str:
    """An expression that does not parse; position is 0-based."""
    shown = text if len(text) <= 60 else text[:60] + "…"
    return f"“{header}”里的表达式“{shown}”第 {position + 1} 个字符处有误：{reason}。"


def expression_reason(code: str, details: tuple[str, ...]) -> str:
    """Why an expression does not parse, from ExpressionError.code and .details."""
    match code, details:
        case "unexpected_character", (character,):
            return f"无法识别的字符“{character}”"
        case "use_instead", (written, replacement):
            return f"请把“{written}”改成“{replacement}”"
        case "bad_reference", (name,):
            return f"“${{{name}}}”里的字段名不合规"
        case "unexpected", (token,):
            return f"这里不该出现“{token}”"
        case "unclosed", (bracket,):
            return f"“{bracket}”没有配对的右括号"
        case "bare_name", (name,):
            return f"引用其他题目请写成 ${{{name}}}"
        case "unknown_function", (function,):
            return f"不认识函数 {function}()"
        case "argument_count", (function, fewest, most, count):
            wanted = f"{fewest} 个" if fewest == most else f"至少 {fewest} 个"
            return f"{function}() 需要{wanted}参数，这里写了 {count} 个"
        case "bad_regex", (reason,):
            return REGEX_REASONS[reason]
    return EXPRESSION_REASONS.get(code, "写法有误")


def unknown_reference(header: str, name: str, suggestion: str | None) -> str:
    """An expression that refers to a question the form does not have."""
    tail = f"，是否是 ${{{suggestion}}}？" if suggestion else "。"
    return f"“{header}”里的 ${{{name}}} 找不到对应的题目{tail}"


def bad_default(value: str, type_name: str) -> str:
    """A default that is no valid answer of its type."""
    return f"默认值“{value}”不是有效的{type_name}答案。"


def unknown_default_choice(value: str, list_name: str) -> str:
    """A default of a select that names no option."""
    return f"默认值“{value}”不是选项列表“{list_name}”里的选项值。"


def choice_name_with_space(name: str) -> str:
    """Option values are separated by spaces in answers, so they cannot contain one."""
    return f"选项值“{name}”不能包含空格。"


def missing_choice_label(name: str) -> str:
    """An option without the text people see."""
    return f"选项“{name}”缺少显示文字（label）。"


def duplicate_choice(list_name: str, name: str, first_row: int) -> str:
    """An option value used twice in one list."""
    return f"选项列表“{list_name}”里的选项值“{name}”与第 {first_row} 行重复。"


def end_without_begin(written: str) -> str:
    """An end group/repeat with nothing open."""
    return f"“{written}”前面没有对应的开始行。"


def mismatched_end(written: str, begin_written: str, begin_row: int) -> str:
    """An end group closing a repeat, or the other way round."""
    return f"“{written}”与第 {begin_row} 行的“{begin_written}”不配对。"


def never_closed(written: str) -> str:
    """A begin group/repeat without its end."""
    return f"“{written}”没有对应的结束行。"


def nested_repeat(outer_row: int) -> str:
    """A repeat inside a repeat."""
    return f"重复组里不能再套重复组（第 {outer_row} 行已开始一个重复组）。"


def bad_code(code: str) -> str:
    """A form_id that cannot be a form code."""
    return f"表单编号“{code}”不能含空格，且不能超过 64 个字符。"


def too_many_rows(limit: int) -> str:
    """A sheet longer than the reader reads."""
    return f"表格超过 {limit} 行，请删去多余的行。"


def title_too_long(length: int) -> str:
    """A form_title longer than the database allows."""
    return f"表单名称有 {length} 个字，不能超过 100 个字。"


TYPE_NAMES = {
    "integer": "整数",
    "decimal": "小数",
    "date": "日期",
    "yes_no": "是否",
}

# The 说明 sheet of the blank template: column, what it is for, an example.
GUIDE_TITLE = "一表通 Excel 表单模板说明"
GUIDE_HEADER = ("列名", "说明", "例子")
GUIDE_ROWS = (
    ("survey 表：类型", "题型，见下面的题型列表。", "整数"),
    ("survey 表：字段名", "每道题的英文编号，唯一；字母或下划线开头，只含字母、数字、-、_、.。", "households"),
    ("survey 表：题目", "在聊天里问的话。", "本村低保户数"),
    ("survey 表：提示", "题目下方的补充说明，可不填。", "截至本月末"),
    ("survey 表：必填", "填“是”则不能跳过；不填即选填。", "是"),
    ("survey 表：单位", "数字题的单位，回复时可带单位。", "户"),
    ("survey 表：校验", "答案要满足的条件，用“.”代表本题答案。", ". >= 0 and . <= 10000"),
    ("survey 表：校验提示", "答案不满足校验时说的话。", "户数应在 0 到 10000 之间"),
    ("survey 表：显示条件", "满足条件才问这道题，用 ${字段名} 引用前面的答案。", "${has_poor} = 'yes'"),
    ("survey 表：默认值", "预先填好的答案。", "0"),
    ("survey 表：计算", "计算题的公式。", "${persons} div ${households}"),
    (
        "survey 表：台账字段",
        "写成“台账.字段”：台账里已有的值会预先带出，只需确认；提交后答案写回台账。可不填。",
        "村社区基本情况台账.户籍人口",
    ),
    ("choices 表：选项列表", "单选、多选题类型后面写的列表名。", "村组"),
    ("choices 表：选项值", "存入数据的值，同一列表内唯一，不含空格。", "group1"),
    ("choices 表：选项文字", "聊天里显示的选项。", "一组"),
    ("settings 表：表单名称", "任务和汇总里显示的名称。", "低保月报"),
    ("settings 表：表单编号", "表单的英文编号，唯一。", "dibao_monthly"),
    ("settings 表：版本", "版本号，改了表单就改一下。", "2024-11"),
    ("题型", "整数、小数、文本、日期、是否、身份证号、手机号、单选 列表名、多选 列表名。", "单选 村组"),
    ("题型", "说明（只显示不作答）、确认（回复“确认”即可）、计算（不问，按公式算）。", "说明"),
    ("题型", "分组开始 / 分组结束：把几道题归为一组；重复开始 / 重复结束：同样的题按人或户重复填。", "分组开始"),
    ("函数", "today()、selected()、count-selected()、string-length()、regex()、if()、concat()、coalesce() 等。", ""),
    ("不支持", "图片、定位、时间、条码、文件、滑块、排序、choice_filter 等，导入时会指出所在行。", ""),
)
