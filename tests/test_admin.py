"""The admin is an admin: every command works for `admin` (陈志刚, 永川区, no department) across all departments."""

from __future__ import annotations

import re

import pytest

from bot.config import SchedulerConfig
from handlers.commands.table import COMMANDS
from scheduler.jobs import TimedWork


@pytest.fixture
def two_departments(chat):
    """区民政局's task #1 to 松林村 and 区残联's task #2 to 石庙村; pushes dropped."""
    assert "任务#1" in chat.say("li_minzheng", "/发布 低保月报 截止 11月30日18点 范围 松林村 不审核")
    assert "任务#2" in chat.say("wang_canlian", "/发布 残疾人两项补贴情况 截止 12月5日 范围 石庙村 不审核")
    for account in ("li_minzheng", "wang_canlian", "zhang_dehua", "chen_guoping", "admin"):
        chat.pushes(account)
    return chat


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command.names[1])
def test_no_command_tells_the_admin_they_have_no_department(two_departments, command):
    reply = two_departments.say("admin", "/" + command.names[0])
    assert reply and "没有所属部门" not in reply and not re.search(r"需要\w+权限", reply)


def test_help_lists_every_command_for_the_admin(chat):
    listing = chat.say("admin", "/帮助")
    assert listing.startswith("陈志刚您好（管理员）。")
    for command in COMMANDS:
        assert "/" + command.names[0] in listing
    assert "管理员代部门发布：在 /发布 后面加“部门 部门名称”，如：/发布 低保月报 截止 明天17:00 部门 区民政局" in (
        listing
    )
    assert "部门 部门名称" not in chat.say("li_minzheng", "/帮助")


def test_the_admin_follows_any_department_s_task(two_departments):
    chat = two_departments
    assert chat.say("admin", "/进度").startswith("《残疾人两项补贴情况》#2：已报 0/1")
    assert chat.say("admin", "/进度 1").startswith("《低保月报》#1：已报 0/1")
    assert chat.say("admin", "/催报 2") == "已提醒1个未报单位：石庙村。"
    [reminder] = chat.pushed_texts("chen_guoping")
    assert "《残疾人两项补贴情况》（任务#2）" in reminder
    assert chat.say("admin", "/汇总 1") == "正在整理《低保月报》的汇总情况（已报 0/1），马上发给您。"
    [digest] = chat.pushes("admin")  # the workbook (whole ID numbers) stays with the task's department
    assert digest.text.startswith("《低保月报》（任务#1）：0/1 已报") and digest.file_name is None
    assert "汇总表（数据不打码）只发给区民政局的发布员。" in digest.text
    assert chat.pushes("li_minzheng") == []  # asked by the admin, sent to the admin
    assert chat.say("li_minzheng", "/汇总 1") == "正在生成《低保月报》汇总表（已报 0/1），马上以文件发给您。"
    digest, workbook = chat.pushes("li_minzheng")
    assert workbook.file_name.startswith("低保月报汇总_任务1_")
    stats = chat.say("admin", "/统计")
    assert stats.startswith("近 30 天发布 2 项任务") and "#1" in stats and "#2" in stats


def test_the_admin_with_nothing_issued_anywhere_is_told_so(chat):
    assert chat.say("admin", "/进度") == "还没有任何部门发布过任务。发送“/模板”查看可发布的模板。"
    assert chat.say("admin", "/统计") == "近 30 天没有部门发布任务。"
    assert chat.say("admin", "/定时").startswith("还没有任何部门定时发布的任务。代部门设定：")
    assert chat.say("admin", "/待办") == "您目前没有待填报的任务。发送“/帮助”查看可以做什么。"


def test_the_admin_lists_and_manages_every_department_s_recurrences(chat, runtime, clock):
    chat.say("li_minzheng", "/发布 低保月报 每月25日 截止 次月3日 范围 松林村")
    chat.say("wang_canlian", "/发布 残疾人两项补贴情况 每周五 截止 下周一 范围 石庙村")
    listing = chat.say("admin", "/定时")
    assert "#2《残疾人两项补贴情况》（区残联）每周五 09:00 发布" in listing
    assert "#1《低保月报》（区民政局）每月25日 09:00 发布" in listing
    assert chat.say("admin", "/定时 暂停 2") == "定时#2《残疾人两项补贴情况》已暂停。"
    assert "已暂停" in chat.say("wang_canlian", "/定时")
    assert "（区残联）" not in chat.say("wang_canlian", "/定时")  # a department sees only its own, unlabelled
    # From the side of the one who must be refused: a department cannot touch another department's recurrence.
    assert chat.say("wang_canlian", "/定时 停止 1") == "没有找到定时#1。发送“/定时”查看所有定时发布。"
    assert "#1《低保月报》" in chat.say("li_minzheng", "/定时") and "进行中" in chat.say("li_minzheng", "/定时")


def test_a_recurrence_the_admin_sets_up_for_a_department_is_the_department_s(chat, runtime, clock):
    reply = chat.say("admin", "/发布 低保月报 每月25日 截止 次月3日 范围 松林村 部门 区民政局 不审核")
    assert reply.startswith("已设定定时发布《低保月报》（定时#1）")
    assert "这是代区民政局设定的定时发布" in reply
    [notice] = chat.pushed_texts("li_minzheng")
    assert notice.startswith("管理员陈志刚代区民政局设定了定时发布《低保月报》（定时#1）：每月25日 09:00 发布")
    assert "#1《低保月报》每月25日" in chat.say("li_minzheng", "/定时")
    assert chat.say("admin", "/发布 低保月报 每月25日 截止 次月3日 范围 松林村") == chat.say(
        "admin", "/发布 低保月报 截止 明天17:00"
    )  # without 部门 the admin is asked which department, for a recurrence too
    clock.advance(days=27, hours=-1)  # 2024-12-25 09:00
    work = TimedWork(runtime, SchedulerConfig(), holder="scheduler")
    work.tick()
    work.drain()
    assert "【区民政局】发布了《低保月报》（任务#1）" in chat.pushed_texts("zhang_dehua")[0]
    assert chat.say("li_minzheng", "/进度").startswith("《低保月报》#1：已报 0/1")
