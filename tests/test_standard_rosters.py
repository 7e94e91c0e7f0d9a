"""The built-in rosters over the standard ledgers: every question is a ledger field, so a unit whose records are
fresh only confirms, and the department may take the report from the ledgers instead (取数)."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers.forms.builtin import DIBAO_ROSTER, DISABILITY_INFO, FIRE_HAZARDS, LAND_TRANSFERS, MEDIATION_REVIEW
from handlers.forms.fields import Field
from handlers.ledgers.links import form_problems, links_of

ROSTERS = (DISABILITY_INFO, DIBAO_ROSTER, MEDIATION_REVIEW, LAND_TRANSFERS, FIRE_HAZARDS)


@pytest.mark.parametrize("template", ROSTERS, ids=lambda template: template.code)
def test_every_question_of_a_standard_roster_is_a_field_of_a_shipped_ledger(runtime, template):
    fields = [Field.from_dict(field.to_dict()) for field in template.fields]
    with runtime.factory() as session:
        assert form_problems(session, fields) == {}
        assert {link.field.name for link in links_of(session, fields)} == {field.name for field in fields}


def test_the_mediation_review_is_generated_from_the_ledger_or_confirmed_row_by_row(chat):
    # 区司法局 owns 矛盾调解台账; the demo holds one fresh case of 松林村 (bot/demo/ledgers/04-mediation_cases.xlsx)
    asked = chat.say("sun_lixin", "/发布 矛盾纠纷排查情况 截止 11月30日18点 范围 松林村 不审核")
    assert "5 项中 5 项台账已有且在有效期内" in asked and "回复“直接生成”" in asked
    assert "已发布《矛盾纠纷排查情况》" in chat.say("sun_lixin", "下发")
    row = chat.say("zhang_dehua", "开始")
    assert "【纠纷清单】第1/1行（从台账带出" in row and "案件编号：TJ-" in row
    assert "共 1 行（无变化 1 行）" in chat.say("zhang_dehua", "全部确认")
    assert "无误请回复“提交”" in chat.say("zhang_dehua", "完成")
    assert "已提交" in chat.say("zhang_dehua", "提交")


def test_another_department_cannot_issue_the_mediation_review(chat):
    refused = chat.say("li_minzheng", "/发布 矛盾纠纷排查情况 截止 11月30日18点 范围 松林村 不审核")
    assert "矛盾调解台账" in refused and "已发布" not in refused and "直接生成" not in refused


def test_the_readmes_living_ledger_walkthrough_does_what_its_comments_say(chat):
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("看“台账是活的”", 1)[1].split("```", 2)[1]
    lines = [line.split("#")[0].strip() for line in block.splitlines() if line.startswith("@")]
    replies = {}
    for line in lines:
        account, text = line[1:].split(" ", 1)
        reply = chat.say(account, text)
        assert "出了点问题" not in reply and "没有找到" not in reply, (line, reply)
        replies[text] = reply
        if text.startswith("/登记"):  # the walkthrough leaves the questions to the reader: answer them here
            for answer in ("今天", "张三、李四", "邻里纠纷", "跳过", "调解中"):
                chat.say(account, answer)
            assert "案件编号：TJ-" in chat.say(account, "确认")
    assert all(f"· {title}" in replies["/我的台账"] for title in ("矛盾调解台账", "土地流转台账", "低保对象台账"))
    assert "7 项中 7 项台账已有且在有效期内" in replies["/发布 土地流转情况 截止 明天17:00 范围 朱沱镇下辖"]
    assert replies["直接生成"].startswith("已直接生成《土地流转情况》")
    assert replies["/取数 矛盾纠纷排查情况 范围 松林村 汉东村"].startswith("已直接生成《矛盾纠纷排查情况》")
    assert "【民生服务】" in replies["/台账"] and "空白台账定义表" in replies["/空白台账"]
