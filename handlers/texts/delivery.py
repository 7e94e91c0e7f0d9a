"""Sentences about delivery problems, sent to admins."""

PLATFORM_NAMES = {"wecom": "企业微信", "dingtalk": "钉钉", "simulator": "模拟器"}


def invalid_user(who: str, platform: str) -> str:
    """A platform does not know a person we tried to reach."""
    name = PLATFORM_NAMES.get(platform, platform)
    return f"{name}里找不到{who}，发给他的消息没有送达。请在通讯录里核对他的账号，或在组织架构表里更正后重新导入。"
