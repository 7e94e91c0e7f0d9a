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
CONTACTS_FORBIDDEN = (
    "钉钉不让这个应用读通讯录：请在钉钉开发者后台给应用开通“通讯录部门信息读权限”和“通讯录部门成员读权限”，"
    "并把通讯录权限范围设为全部员工"
)
FILE_URL_REFUSED = "钉钉给出的文件下载地址不是 https（也不在配置的接口地址上），为安全起见没有下载"
FILE_NOT_FETCHED = "从钉钉下载对方发来的文件失败，稍后会重试"

CARD_TEMPLATE = (
    "钉钉找不到 [dingtalk] card_template_id 指定的卡片模板，或模板未发布：请在钉钉开发者后台的卡片平台发布模板并核对"
    "模板 ID；清空 card_template_id 则题目改用文字发送"
)
CARD_NOT_DELIVERED = "钉钉没有把卡片投放到这个人的机器人单聊里，稍后会重试"


def unknown_code(code: str) -> str:
    """A DingTalk error code we have no advice for."""
    return f"钉钉返回错误码 {code}，请按钉钉开放平台的错误码说明处理（详情见机器人日志）"


# DingTalk's refusal once the organisation's monthly allowance is used up (errcode 90020): waiting minutes cannot
# help, so the push is not retried; the month's end, or a larger allowance bought from DingTalk, can.
ALLOWANCE_USED_UP = (
    "本单位本月的钉钉接口调用次数已用完（钉钉错误码 90020），这条消息没有发出。"
    "下月 1 日额度恢复后，或向钉钉购买更多调用量后，回复“/投递 重试 全部”重发"
)


def budget_warning(calls: int, allowance: int) -> str:
    """To the admins, once a month: most of the DingTalk allowance is used."""
    share = calls * 100 // allowance
    return (
        f"提醒：本单位本月钉钉接口已调用 {calls:,} 次，占每月额度 {allowance:,} 次的 {share}%。"
        "额度用完后，钉钉会拒绝机器人的推送，直到下月 1 日。请减少群发、催报，或向钉钉购买更多调用量；"
        "回复“/投递”可随时查看用量。"
    )


def sent_at_suffix(hour_minute: str) -> str:
    """Ends a work notification whose text already went out today: DingTalk drops the same text to a person twice
    a day without a word, so the repeat must differ."""
    return f"（{hour_minute} 发出）"


def upload_failed(code: str) -> str:
    """DingTalk refused a file the bot uploaded to send (summary, export)."""
    return f"文件上传到钉钉失败（错误码 {code}），稍后会重试；一直失败时请核对 [dingtalk] oapi_base_url 和应用权限"
