"""Sentences about delivery: problems reported to admins, and the /投递 view of the outbox."""

from __future__ import annotations

PLATFORM_NAMES = {"wecom": "企业微信", "dingtalk": "钉钉", "simulator": "模拟器"}


def platform_title(platform: str) -> str:
    """The platform as people call it; a platform not named here yet goes by its code name."""
    return PLATFORM_NAMES.get(platform, platform)


DELIVERY_HELP = "/投递 [重试 [全部|编号]]：推送发送情况，重新发送失败的消息"
USAGE = (
    "用法：“/投递”查看推送发送情况；“/投递 重试”重新发送最近 24 小时内发送失败的消息；"
    "“/投递 重试 全部”重新发送全部；“/投递 重试 12”只重新发送编号 12 这一条。"
)
RETRY_HINT = "回复“/投递 重试”重发最近 24 小时内失败的消息，“/投递 重试 全部”重发全部，“/投递 重试 编号”只重发一条。"
NOTHING_TO_RETRY = "没有发送失败的消息，不需要重试。"

UNKNOWN_ERROR = "机器人发送时出错，详情见机器人日志"


def invalid_user(who: str, platform: str) -> str:
    """A platform does not know a person we tried to reach."""
    name = platform_title(platform)
    return f"{name}里找不到{who}，发给他的消息没有送达。请在通讯录里核对他的账号，或在组织架构表里更正后重新导入。"


def unknown_user(platform: str) -> str:
    """Why a push died: the platform's directory has no such account."""
    return f"{platform_title(platform)}通讯录里没有这个账号（可能已离职，或账号写错了）"


def no_platform_id(platform: str) -> str:
    """Why a push died: the person has no account on the platform."""
    name = platform_title(platform)
    return f"此人没有登记{name}账号，请在组织架构表的“{name}账号”一列补上后重新导入"


def platform_not_configured(platform: str) -> str:
    """Why a push died: the bot is not set up for that platform."""
    return f"机器人没有配置{platform_title(platform)}"


def overview(pending: int, retrying: int, next_retry: str | None, dead: int) -> str:
    """The first line of /投递: how many pushes wait, wait for a retry, and were given up."""
    retry = ""
    if retrying:
        retry = f"，失败后等待重试 {retrying} 条" + (f"（最早 {next_retry} 重试）" if next_retry else "")
    failed = f"发送失败 {dead} 条" if dead else "没有发送失败的消息"
    return f"推送情况：待发送 {pending} 条{retry}，{failed}。"


def api_usage(platform: str, calls: int, allowance: int, free_calls: int) -> str:
    """A line of /投递: a platform's metered API calls this month against its monthly allowance (0: none)."""
    name = platform_title(platform)
    if allowance:
        used = f"本月{name}接口调用 {calls:,} / {allowance:,} 次（{calls * 100 // allowance}%）"
    else:
        used = f"本月{name}接口调用 {calls:,} 次（未设每月额度）"
    return used + (f"，另有会话内回复 {free_calls:,} 次不计入。" if free_calls else "。")


def dead_header(shown: int, total: int) -> str:
    """Above the list of dead messages."""
    return f"最近 {shown} 条发送失败的消息（共 {total} 条）：" if total > shown else "发送失败的消息："


def to_unregistered(platform: str, masked_user_id: str) -> str:
    """A recipient known only by a platform account."""
    return f"未登记的{platform_title(platform)}账号 {masked_user_id}"


def text_preview(text: str) -> str:
    """The start of a pushed text."""
    return f"“{text}”"


def file_preview(name: str) -> str:
    """A pushed file."""
    return f"文件“{name}”"


def dead_line(number: int, when: str, recipient: str, preview: str, attempts: int, reason: str) -> str:
    """One dead message in /投递."""
    return f"#{number} {when} 发给{recipient}：{preview}，试了 {attempts} 次。原因：{reason}。"


def retried(count: int, older: int) -> str:
    """After /投递 重试: how many go out again, and how many older ones were left alone."""
    sent = f"已把 {count} 条发送失败的消息放回发送队列，马上重发。" if count else "最近 24 小时内没有发送失败的消息。"
    if older:
        sent += f"另有 {older} 条是 24 小时以前的，没有重发；要一起重发请回复“/投递 重试 全部”。"
    return sent


def retried_all(count: int) -> str:
    """After /投递 重试 全部."""
    return f"已把全部 {count} 条发送失败的消息放回发送队列，马上重发。"


def retried_listed(numbers: list[int]) -> str:
    """After /投递 重试 N …: the messages named go out again."""
    return f"已把 {'、'.join(f'#{n}' for n in numbers)} 放回发送队列，马上重发。"


def not_dead(numbers: list[int | str]) -> str:
    """/投递 重试 N for numbers that are no dead message."""
    listed = "、".join(f"#{n}" for n in numbers)
    return f"{listed} 不是发送失败的消息（可能已经发出，或编号不对）。回复“/投递”查看发送失败的消息和编号。"
