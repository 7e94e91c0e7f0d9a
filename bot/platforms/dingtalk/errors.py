"""What DingTalk's failures mean for an admin, in Chinese, and what to do about them (shown by /投递).

DingTalk's error codes are DingTalk's business: they are read here, in the adapter, and leave it only as a sentence.
"""

from __future__ import annotations

CREDENTIALS = (
    "钉钉不接受配置里的 app_key 或 app_secret，请核对 [dingtalk] app_key、app_secret 或环境变量 YBT_DINGTALK_APP_SECRET"
)
TOKEN = "钉钉拒绝了机器人的 access token，下次重试时会重新获取"
THROTTLED = "调用太频繁，被钉钉限流，稍后会重试"
FLOW_CONTROLLED = "钉钉对这个人限流（flowControlledStaffIdList），这条消息没有送达，稍后会重试"
BUSY = "钉钉系统繁忙，稍后会重试"
NETWORK = "连不上钉钉（网络不通或超时）"
FILES_NOT_BUILT = "钉钉暂时不能发送文件（这一功能尚未实现），请改用企业微信或模拟器取文件"
DOWNLOAD_NOT_BUILT = "钉钉暂时不能接收文件（这一功能尚未实现）"
CONTACTS_FORBIDDEN = (
    "钉钉不让这个应用读通讯录：请在钉钉开发者后台给应用开通“通讯录部门信息读权限”和“通讯录部门成员读权限”，"
    "并把通讯录权限范围设为全部员工"
)

CARD_TEMPLATE = (
    "钉钉找不到 [dingtalk] card_template_id 指定的卡片模板，或模板未发布：请在钉钉开发者后台的卡片平台发布模板并核对"
    "模板 ID；清空 card_template_id 则题目改用文字发送"
)
CARD_NOT_DELIVERED = "钉钉没有把卡片投放到这个人的机器人单聊里，稍后会重试"


def unknown_code(code: str) -> str:
    """A DingTalk error code we have no advice for."""
    return f"钉钉返回错误码 {code}，请按钉钉开放平台的错误码说明处理（详情见机器人日志）"
