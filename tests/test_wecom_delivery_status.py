"""/投递 over the whole WeCom path: what WeCom refused, in plain Chinese, and sent again once it is fixed."""

from __future__ import annotations

from sqlalchemy import select

from ledger_store.models import OutboxMessage, OutboxStatus


def test_an_untrusted_ip_is_explained_and_the_messages_go_out_once_retried(world):
    world.emulator.fail_next("message/send", 60020, times=2)  # the push to the village and the issuer's answer
    assert world.say("li_minzheng", "/发布 低保月报 截止 后天18点 范围 松林村") == []
    assert world.texts("zhang_dehua") == []

    [shown] = world.say("admin", "/投递")
    lines = shown.splitlines()

    assert lines[0] == "推送情况：待发送 0 条，发送失败 2 条。"
    reason = "原因：服务器 IP 不在企业微信可信 IP 列表，请在企业微信管理后台该应用的“企业可信IP”里加上本机的出口 IP。"
    assert "发给李敏正：“已发布《低保月报》（任务#1）" in lines[2] and lines[2].endswith("试了 1 次。" + reason)
    assert "发给张德华：“【区民政局】发布了《低保月报》（任务#1），" in lines[3] and "…”" in lines[3]
    assert lines[3].endswith(reason)

    assert world.say("admin", "/投递 重试") == ["已把 2 条发送失败的消息放回发送队列，马上重发。"]
    [push] = world.texts("zhang_dehua")
    assert push.startswith("【区民政局】发布了《低保月报》")
    assert world.texts("li_minzheng")[0].startswith("已发布《低保月报》（任务#1）")
    assert world.say("admin", "/投递")[0].endswith("没有发送失败的消息。")


def test_a_member_who_left_wecom_is_shown_masked_with_the_reason(world):
    world.emulator.add_member("stranger_01", "陌生人")
    world.write("stranger_01", "你好")
    world.emulator.members["stranger_01"]["status"] = 5  # left the company before the answer went out
    world.settle()

    [notice, shown] = world.say("admin", "/投递")

    line = shown.splitlines()[2]
    assert line.endswith(
        "发给未登记的企业微信账号 st*******01：“您还未登记，请联系管理员。”，试了 1 次。"
        "原因：企业微信通讯录里没有这个账号（可能已离职，或账号写错了）。"
    )
    assert "stranger_01" not in shown
    assert notice.startswith("企业微信里找不到stranger_01")  # the admin was told at once, as before


def test_a_wecom_code_without_advice_is_named_by_its_number_and_its_message_never_echoed(world):
    world.emulator.fail_next("message/send", 48002, times=2)  # a code the bot has no advice for: retried
    assert world.say("li_minzheng", "/进度") == []
    with world.runtime.factory.begin() as session:  # as if four tries had failed and the fifth were due
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING))
        row.attempts, row.next_attempt_at = 4, row.created_at
    world.settle()
    shown = "\n".join(world.say("admin", "/投递"))
    assert "试了 5 次。原因：企业微信返回错误码 48002，请按企业微信的错误码说明处理（详情见机器人日志）。" in shown
    assert "errcode" not in shown and "injected" not in shown
