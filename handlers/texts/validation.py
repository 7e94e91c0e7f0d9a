"""Every sentence the answer validators show people: expected formats and reasons an answer was refused."""

from __future__ import annotations

from collections.abc import Sequence

from ledger_store.values.problems import Problem

# What is wrong with an ID number or mobile, inside a sentence: 身份证号不对（校验位不对）.
NUMBER_PROBLEMS = {
    Problem.WRONG_LENGTH: "位数不对",
    Problem.BAD_CHARACTER: "含有非法字符",
    Problem.BAD_BIRTH_DATE: "出生日期不对",
    Problem.BAD_CHECK_DIGIT: "校验位不对",
    Problem.STORED_AS_NUMBER: "被 Excel 存成了数字，后几位已丢失",
    Problem.BAD_MOBILE_PREFIX: "号段不对",
}

YES = "是"
NO = "否"
CONFIRM = "确认"  # the one button of an acknowledge question
ACKNOWLEDGED = "已确认"

EXPECT_INTEGER = "请填写整数"
EXPECT_DECIMAL = "请填写数字，可带小数"
EXPECT_TEXT = "请填写文字"
EXPECT_DATE = "请填写日期，如 2024-11-30"
EXPECT_SELECT_ONE = "请回复选项序号或名称"
EXPECT_SELECT_MULTIPLE = "请回复选项序号或名称，可多选，用空格或顿号分隔"
EXPECT_YES_NO = "请回复“是”或“否”"
EXPECT_ACKNOWLEDGE = "请回复“确认”继续"
EXPECT_ID_NUMBER = "请填写18位身份证号"
EXPECT_MOBILE = "请填写11位手机号"


def number_range(minimum: str | None, maximum: str | None) -> str:
    """The allowed range after "请填写整数", e.g. （0～10000）; empty without limits."""
    if minimum is not None and maximum is not None:
        return f"（{minimum}～{maximum}）"
    if minimum is not None:
        return f"（不小于{minimum}）"
    if maximum is not None:
        return f"（不超过{maximum}）"
    return ""


def unit_suffix(unit: str) -> str:
    """Names the unit of a number question, e.g. ，单位：户."""
    return f"，单位：{unit}" if unit else ""


def text_length(min_length: int | None, max_length: int | None) -> str:
    """The allowed length after "请填写文字", e.g. ，不超过200字."""
    parts = []
    if min_length:
        parts.append(f"至少{min_length}字")
    if max_length:
        parts.append(f"不超过{max_length}字")
    return "".join(f"，{part}" for part in parts)


def empty_answer(expected: str) -> str:
    """Nothing was typed."""
    return f"还没有填写内容，{expected}。"


def not_a_number(echo: str, integer: bool) -> str:
    """Text that is no number at all."""
    if integer:
        return f"“{echo}”不是数字，请填写整数，如 12。"
    return f"“{echo}”不是数字，请填写数字，如 12 或 12.5。"


def not_an_integer(number: str) -> str:
    """A fraction where a whole number is needed."""
    return f"{number} 不是整数，请填写整数，如 12。"


BEYOND_STORABLE = "这个数太大了，最多填 15 位整数，请检查后重新填写。"


def too_large(limit: str) -> str:
    """Above the maximum."""
    return f"不能超过 {limit}，请重新填写。"


def too_small(limit: str) -> str:
    """Below the minimum."""
    return f"不能小于 {limit}，请重新填写。"


def text_too_short(min_length: int, actual: int) -> str:
    """Fewer characters than required."""
    return f"内容太短，至少要 {min_length} 个字（现在 {actual} 个字），请补充后重新填写。"


def text_too_long(max_length: int, actual: int) -> str:
    """More characters than allowed."""
    return f"内容太长，不能超过 {max_length} 个字（现在 {actual} 个字），请精简后重新填写。"


def not_a_date(echo: str) -> str:
    """Text that is not a real calendar day."""
    return f"“{echo}”不是有效的日期，请按 2024-11-30 或 11月30日 这样填写。"


def options(labels: Sequence[str]) -> str:
    """The numbered options, closing a refused choice answer."""
    listed = "、".join(f"{number} {label}" for number, label in enumerate(labels, start=1))
    return f"可选：{listed}。请回复序号或名称。"


def no_such_option_number(number: int, labels: Sequence[str]) -> str:
    """An option number beyond the list."""
    return f"没有第 {number} 项。{options(labels)}"


def unknown_option(echo: str, labels: Sequence[str]) -> str:
    """A word that matches no option."""
    return f"“{echo}”不在选项中。{options(labels)}"


def ambiguous_option(echo: str, matches: Sequence[str]) -> str:
    """A word that matches several options."""
    return f"“{echo}”对应多个选项（{'、'.join(matches)}），请回复序号或完整名称。"


def only_one_option(labels: Sequence[str]) -> str:
    """Several options where only one may be chosen."""
    return f"这一题只能选一项。{options(labels)}"


def not_yes_no(echo: str) -> str:
    """An answer to a yes/no question that is neither."""
    return f"“{echo}”无法识别，请回复“是”或“否”。"


def not_acknowledged(echo: str) -> str:
    """A reply to an acknowledge question that is no confirmation."""
    return f"“{echo}”无法识别，看完后请回复“确认”继续。"


def constraint_failed() -> str:
    """An answer the form's own rule (its constraint) refuses, when the form gives no message of its own."""
    return "这个答案不符合本表的填写要求，请核对后重新填写。"


def id_number_refused(problem: Problem, length: int) -> str:
    """Why an ID number was refused, without repeating the number."""
    if problem == Problem.WRONG_LENGTH:
        return f"身份证号位数不对（应为 18 位，现在是 {length} 位），请核对后重新填写。"
    if problem == Problem.BAD_CHARACTER:
        return "身份证号含有非法字符（只能是数字，最后一位可以是 X），请核对后重新填写。"
    if problem == Problem.BAD_BIRTH_DATE:
        return "身份证号中的出生日期不对，请核对后重新填写。"
    if problem == Problem.STORED_AS_NUMBER:
        return "身份证号被 Excel 存成了数字，后几位已经丢失。请把这一列设为“文本”格式，重新填写完整的 18 位号码。"
    return f"身份证号{NUMBER_PROBLEMS[problem]}，请核对后重新填写。"


def mobile_refused(problem: Problem, length: int) -> str:
    """Why a mobile number was refused, without repeating the number."""
    if problem == Problem.WRONG_LENGTH:
        return f"手机号位数不对（应为 11 位，现在是 {length} 位），请核对后重新填写。"
    if problem == Problem.BAD_CHARACTER:
        return "手机号只能填数字，请核对后重新填写。"
    return "这不是有效的手机号（应以 13～19 开头），请核对后重新填写。"
