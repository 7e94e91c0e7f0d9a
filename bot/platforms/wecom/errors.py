"""What WeCom's error codes mean for an admin, in Chinese, and what to do about them (shown by /投递).

WeCom's codes are WeCom's business: they are read here, in the adapter, and leave it only as a sentence.
"""

from __future__ import annotations

REASONS = {
    60020: "服务器 IP 不在企业微信可信 IP 列表，请在企业微信管理后台该应用的“企业可信IP”里加上本机的出口 IP",
    40056: "企业微信不接受配置里的 agent_id，请核对 [wecom] agent_id",
    41011: "配置里没有填 agent_id，请在 [wecom] agent_id 填上应用的 AgentId",
    40013: "企业微信不接受配置里的企业ID，请核对 [wecom] corp_id",
    40001: "应用的 Secret 不对，请核对 [wecom] secret 或环境变量 YBT_WECOM_SECRET",
    45009: "调用太频繁，被企业微信限流",
    45033: "同时调用太多，被企业微信限流",
    -1: "企业微信系统繁忙",
    40007: "企业微信里的文件已过期，重试时会重新上传",
}
NETWORK = "连不上企业微信（网络不通或超时）"


def unknown_code(code: int) -> str:
    """A WeCom error code we have no advice for."""
    return f"企业微信返回错误码 {code}，请按企业微信的错误码说明处理（详情见机器人日志）"
