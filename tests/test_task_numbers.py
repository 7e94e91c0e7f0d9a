"""Every message about a task names its number, so two tasks alike in all else read differently (and reach WeCom)."""

from __future__ import annotations

from bot.config import SchedulerConfig
from scheduler.jobs import TimedWork

ISSUE = "/发布 低保月报 截止 11月30日18点 范围 松林村 不审核"


def twins(chat) -> None:
    """Two 低保月报 to 松林村 due at the same minute: #1, and #2 confirmed as meant."""
    chat.say("li_minzheng", ISSUE)
    chat.say("li_minzheng", ISSUE)
    assert "任务#2" in chat.say("li_minzheng", "确认发布")


def test_a_filler_can_tell_two_alike_tasks_apart_in_every_message(chat, runtime, clock, ledger_without_dibao):
    twins(chat)
    first, second = chat.pushed_texts("zhang_dehua")
    assert first.startswith("【区民政局】发布了《低保月报》（任务#1），请在11月30日（周六）18:00前报送")
    assert second.startswith("【区民政局】发布了《低保月报》（任务#2），请在11月30日（周六）18:00前报送")

    listing = chat.say("zhang_dehua", "/待办")
    assert "1. 《低保月报》（任务#1）11月30日（周六）18:00截止" in listing
    assert "2. 《低保月报》（任务#2）11月30日（周六）18:00截止" in listing
    chat.say("zhang_dehua", "2")
    for answer in ["120", "350", "3", "1", "15000", "是", "13908315526", "跳过"]:
        chat.say("zhang_dehua", answer)
    assert chat.say("zhang_dehua", "提交").startswith("《低保月报》（任务#2）已提交，谢谢！")

    chat.say("li_minzheng", "/催报 1")
    [reminder] = chat.pushed_texts("zhang_dehua")
    assert reminder.startswith("提醒：《低保月报》（任务#1）11月30日（周六）18:00截止")

    work = TimedWork(runtime, SchedulerConfig(), holder="scheduler")
    clock.advance(days=4, hours=-1)  # Monday 2 December 09:00, the first working day after the deadline
    work.tick()
    work.drain()
    [late] = chat.pushed_texts("zhang_dehua")
    assert late.startswith("《低保月报》（任务#1）已于11月30日（周六）18:00截止（已逾期1天）")
    [upward] = chat.pushed_texts("zhou_jianguo")
    assert upward.startswith("《低保月报》（任务#1）已于11月30日（周六）18:00截止")


def test_wecom_delivers_both_notices_of_two_alike_tasks(world):
    world.say("li_minzheng", "/发布 低保月报 截止 后天18点 范围 松林村 不审核")
    [first] = world.texts("zhang_dehua")
    for answer in ["开始", "确认", "350", "3", "1", "15000", "是", "13908315526", "跳过", "提交"]:
        world.say("zhang_dehua", answer)
    # Reported, and sent again on purpose: without its number, the notice would be the first one word for word,
    # and WeCom's duplicate check (enable_duplicate_check) would drop it within half an hour.
    world.say("li_minzheng", "/发布 低保月报 截止 后天18点 范围 松林村 不审核")
    assert "已发布《低保月报》（任务#2）" in world.say("li_minzheng", "确认发布")[0]
    [second] = world.texts("zhang_dehua")
    assert "（任务#1）" in first and "（任务#2）" in second
    assert first.replace("任务#1", "任务#2") == second
