"""Sentences of record scope: another unit's record refused to a filler, and the /迁移 transfer between units."""

from __future__ import annotations

MAX_REASON = 100  # characters of a reason for leaving or for a transfer


def elsewhere(key_label: str) -> str:
    """A key of a record another unit holds: says nothing but that fact."""
    return f"该{key_label}已登记在其他村（社区），不能在本单位修改；如需迁入请联系镇街。"


def unplaced(key_label: str) -> str:
    """A key of a record that no unit holds yet."""
    return f"该{key_label}已在台账中登记，但还没有归属单位，不能在本单位修改；请联系镇街确定归属。"


def rows_moved_away(numbers: list[int]) -> str:
    """Rows taken off a roster because their records now belong to another unit (row numbers before the change)."""
    rows = "、".join(str(number) for number in numbers)
    return f"名单第 {rows} 行的人已登记在其他村（社区），已从名单中去掉；如需迁入请联系镇街。"


def reason_too_long(limit: int) -> str:
    """A reason longer than a record keeps."""
    return f"原因请写在 {limit} 字以内。"


TRANSFER_HELP = "/迁移 台账 身份证号 到 单位 [原因]：把一条台账记录迁到另一个村（社区）"
TRANSFER_USAGE = "格式：/迁移 台账 身份证号 到 单位 [原因]，如：/迁移 低保对象台账 身份证号 到 松林村 户口迁入"
UNIT_LEDGER = "这本台账按单位记录，每个村（社区）一条，不能迁移。"


def usage(titles: list[str]) -> str:
    """/迁移 without enough words."""
    return f"请写明台账、身份证号和迁入单位。{TRANSFER_USAGE}\n可用台账：{'、'.join(titles)}"


def unknown_ledger(name: str, close: list[str], titles: list[str]) -> str:
    """A ledger name that does not exist."""
    guess = f"您是不是要找：{'、'.join(close)}？" if close else ""
    return f"没有找到台账“{name}”。{guess}可用台账：{'、'.join(titles)}。"


def bad_key(key_label: str, reason: str) -> str:
    """A key that cannot be a record key of the ledger (an ID number with a wrong check digit)."""
    return f"{key_label}不对（{reason}），请核对后再发。{TRANSFER_USAGE}"


def not_in_reach(title: str, key_label: str, masked: str) -> str:
    """No such record, or one outside the person's reach (the same sentence, so it reveals nothing)."""
    return f"在您可管理的范围内，{title}里没有{key_label}为 {masked} 的记录。"


def target_out_of_reach(unit: str) -> str:
    """A target unit outside the person's reach."""
    return f"“{unit}”不在您可管理的范围内，不能迁入。"


def not_owner(title: str, owner: str | None) -> str:
    """An issuer of a department that does not own the ledger."""
    who = f"{owner}的发布员" if owner else "管理员"
    return f"{title}的记录只能由{who}或所在镇街的审核员迁移。"


NO_REACH = "您还没有所属单位或部门，不能迁移台账记录。请联系管理员。"


def already_there(masked: str, unit: str) -> str:
    """A transfer to the unit the record is in."""
    return f"{masked} 的记录已经在{unit}，不用迁移。"


def transferred(title: str, who: str, masked: str, source: str, target: str, reason: str | None, told: int) -> str:
    """The reply to a transfer done."""
    because = f"，原因：{reason}" if reason else ""
    notice = f"已通知{target}的填报员。" if told else f"{target}还没有填报员，未发通知。"
    return f"已把{title}中 {who}（{masked}）从{source}迁到{target}{because}。{notice}"


def transferred_in(title: str, who: str, masked: str, target: str, by: str, reason: str | None) -> str:
    """The push to the new unit's filler."""
    because = f"（原因：{reason}）" if reason else ""
    return f"{by}已把{title}中 {who}（{masked}）迁入{target}{because}。之后的花名册会列出这条记录。"


def transfer_source(source: str, target: str) -> str:
    """The source of the unit change in the record's history."""
    return f"迁移：{source}→{target}"


NO_UNIT = "未归属单位"
