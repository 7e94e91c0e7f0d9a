"""Sentences about who may read a ledger: refusals, and the admin's /台账权限 command with its notices."""

from __future__ import annotations

COMMAND_HELP = "/台账权限 [台账 归属|共享|取消共享 部门]：台账归哪个部门、共享给谁、哪些字段打码"
USAGE = (
    "用法：“/台账权限”查看每本台账的归属和共享；“/台账权限 台账名”查看一本；"
    "“/台账权限 台账名 归属 部门”设定归属部门；“/台账权限 台账名 共享 部门”共享（敏感字段打码），"
    "末尾加“完整”则不打码；“/台账权限 台账名 取消共享 部门”取消共享。"
)
OWNER = "归属"
SHARE = "共享"
UNSHARE = "取消共享"
FULL = "完整"
NO_DEPARTMENTS = "还没有任何部门。请先导入组织架构（python -m bot import-org 文件）。"


def not_shared(title: str, owner: str, department: str | None) -> str:
    """/查询 or /导出 of a ledger the speaker's department neither owns nor was granted."""
    who = department or "您"
    return f"{title}归{owner}所有，{who}没有查看权限。如需使用，请联系{owner}或管理员开通共享。"


def no_owner(title: str) -> str:
    """/查询 or /导出 of a ledger no department owns yet."""
    return f"{title}还没有归属部门，暂时只有管理员能查看。请联系管理员设定归属部门。"


def ledger_line(title: str, owner: str | None, shares: list[tuple[str, bool]], sensitive: list[str]) -> str:
    """One ledger in /台账权限: owner, shares, sensitive fields."""
    owned = f"归{owner}" if owner else "还没有归属部门（只有管理员能查看）"
    listed = "、".join(f"{name}（{'完整' if full else '打码'}）" for name, full in shares)
    shared = f"共享给 {listed}" if shares else "未共享"
    marked = "敏感字段 " + "、".join(sensitive) if sensitive else "没有敏感字段"
    return f"· {title}：{owned}；{shared}；{marked}"


def overview(lines: list[str]) -> str:
    """/台账权限 without arguments, or with a ledger name."""
    return "台账的归属和共享（敏感字段只有归属部门和“完整”共享的部门能看到全部）：\n" + "\n".join(lines) + "\n" + USAGE


def unknown_department(name: str, close: list[str], names: list[str]) -> str:
    """A department name that does not exist."""
    guess = f"您是不是要找：{'、'.join(close)}？" if close else ""
    return f"没有找到部门“{name}”。{guess}现有部门：{'、'.join(names)}。"


def owner_set(title: str, owner: str, before: str | None) -> str:
    """The ledger now belongs to another department."""
    after = f"{before}不再能查看，如仍需使用，请把台账共享给它。" if before else ""
    return f"{title}已改归{owner}：{owner}可以查询、导出全部字段。{after}"


def already_owner(title: str, owner: str) -> str:
    """归属 to the department that already owns the ledger."""
    return f"{title}本来就归{owner}，没有变化。"


def shared(title: str, department: str, full: bool, sensitive: list[str]) -> str:
    """The ledger is now shared with a department."""
    if full or not sensitive:
        return f"已把{title}共享给{department}：可以查询、导出全部字段。"
    return f"已把{title}共享给{department}：可以查询、导出，{'、'.join(sensitive)}打码。"


def already_shared(title: str, department: str, full: bool) -> str:
    """共享 exactly as it already is."""
    return f"{title}已经共享给{department}（{'完整' if full else '打码'}），没有变化。"


def share_with_owner(title: str, department: str) -> str:
    """共享 to the department that owns the ledger."""
    return f"{department}是{title}的归属部门，本来就能查看全部字段，不用共享。"


def unshared(title: str, department: str) -> str:
    """The ledger is no longer shared with a department."""
    return f"已取消{title}对{department}的共享，{department}不能再查询、导出。"


def not_shared_yet(title: str, department: str) -> str:
    """取消共享 of a share that does not exist."""
    return f"{title}没有共享给{department}，不用取消。"


def notice_owner(title: str) -> str:
    """Pushed to the new owner's issuers."""
    return f"管理员已把{title}交给本部门管理：可以用“/查询 {title}”“/导出 {title}”查看全部字段。"


def notice_lost(title: str, owner: str) -> str:
    """Pushed to the former owner's issuers."""
    return f"管理员已把{title}改归{owner}管理，本部门不能再查询、导出；如需使用，请联系{owner}或管理员。"


def notice_shared(title: str, owner: str | None, full: bool, sensitive: list[str]) -> str:
    """Pushed to the issuers of a department a ledger was shared with."""
    whose = f"{owner}的{title}" if owner else title
    masked = "" if full or not sensitive else f"（{'、'.join(sensitive)}打码）"
    return f"{whose}已共享给本部门：可以用“/查询 {title}”“/导出 {title}”查看{masked}。"


def notice_unshared(title: str) -> str:
    """Pushed to the issuers of a department a ledger is no longer shared with."""
    return f"{title}已不再共享给本部门，不能再查询、导出；如需使用，请联系管理员。"
