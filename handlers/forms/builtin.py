"""The built-in report templates a department can issue without bringing its own form."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from handlers.forms.fields import Choice, Field, FieldType


@dataclass(frozen=True)
class Template:
    """A named form: its code, title, questions and the field the one-line digest totals."""

    code: str
    title: str
    fields: tuple[Field, ...]
    headline_field: str | None = None


# 在保低保户数 and 在保低保人数 are kept in 村社区基本情况台账: a unit the ledger knows confirms them, and the
# answers go back to it. The month's flows (新增, 退出, 发放) and the filler's own mobile belong to no ledger.
DIBAO_MONTHLY = Template(
    code="dibao_monthly",
    title="低保月报",
    headline_field="new_households",
    fields=(
        Field(
            "households",
            "在保低保户数",
            FieldType.INTEGER,
            unit="户",
            minimum=Decimal(0),
            maximum=Decimal(100000),
            hint="截至本月末仍在保的户数",
            save_to="unit_profile.dibao_households",
        ),
        Field(
            "persons",
            "在保低保人数",
            FieldType.INTEGER,
            unit="人",
            minimum=Decimal(0),
            maximum=Decimal(300000),
            save_to="unit_profile.dibao_persons",
        ),
        Field(
            "new_households",
            "本月新增低保户",
            FieldType.INTEGER,
            unit="户",
            minimum=Decimal(0),
            maximum=Decimal(10000),
        ),
        Field(
            "exited_households",
            "本月退出低保户",
            FieldType.INTEGER,
            unit="户",
            minimum=Decimal(0),
            maximum=Decimal(10000),
        ),
        Field(
            "amount",
            "本月发放低保金",
            FieldType.DECIMAL,
            unit="元",
            minimum=Decimal(0),
            maximum=Decimal(100000000),
            hint="可写“1.5万”",
        ),
        Field("home_visits_done", "本月是否完成入户核查", FieldType.YES_NO),
        Field("contact_mobile", "填报人手机号", FieldType.MOBILE),
        Field("remarks", "备注", FieldType.TEXT, required=False, max_length=200),
    ),
)

# Counts and payments of one period: no standard ledger holds them (the spot-checked person is picked anew each
# time, so their ID number is not a link either).
DISABILITY_SUBSIDIES = Template(
    code="disability_subsidies",
    title="残疾人两项补贴情况",
    headline_field="hardship_recipients",
    fields=(
        Field(
            "hardship_recipients",
            "困难残疾人生活补贴人数",
            FieldType.INTEGER,
            unit="人",
            minimum=Decimal(0),
            maximum=Decimal(10000),
        ),
        Field(
            "care_recipients",
            "重度残疾人护理补贴人数",
            FieldType.INTEGER,
            unit="人",
            minimum=Decimal(0),
            maximum=Decimal(10000),
        ),
        Field(
            "amount",
            "本期发放金额",
            FieldType.DECIMAL,
            unit="元",
            minimum=Decimal(0),
            maximum=Decimal(100000000),
        ),
        Field("paid_on", "发放日期", FieldType.DATE),
        Field(
            "payment_channel",
            "发放方式",
            FieldType.SELECT_ONE,
            choices=(
                Choice("social_card", "社保卡"),
                Choice("bank_card", "银行卡"),
                Choice("cash", "现金"),
            ),
        ),
        Field(
            "issues_found",
            "核查发现的问题",
            FieldType.SELECT_MULTIPLE,
            hint="可多选",
            choices=(
                Choice("none", "无"),
                Choice("deceased", "对象已死亡"),
                Choice("moved", "户籍迁出"),
                Choice("duplicate", "重复享受"),
                Choice("other", "其他"),
            ),
        ),
        Field("spot_check_id", "抽查对象身份证号", FieldType.ID_NUMBER, hint="本期随机抽查的一名对象"),
        Field("contact_mobile", "填报人手机号", FieldType.MOBILE),
    ),
)

# Every answer but the remark is kept in 村社区基本情况台账, so a unit the ledger knows only confirms.
VILLAGE_BASICS = Template(
    code="village_basics",
    title="村社区基本情况",
    headline_field="population",
    fields=(
        Field("households", "户籍户数", FieldType.INTEGER, unit="户", minimum=Decimal(0), maximum=Decimal(100000),
              save_to="unit_profile.households"),
        Field("population", "户籍人口", FieldType.INTEGER, unit="人", minimum=Decimal(0), maximum=Decimal(300000),
              save_to="unit_profile.population"),
        Field("dibao_households", "在保低保户数", FieldType.INTEGER, unit="户", minimum=Decimal(0),
              maximum=Decimal(100000), save_to="unit_profile.dibao_households"),
        Field("secretary", "书记姓名", FieldType.TEXT, max_length=20, save_to="unit_profile.secretary"),
        Field("office_phone", "书记手机号", FieldType.MOBILE, save_to="unit_profile.office_phone"),
        Field("remarks", "备注", FieldType.TEXT, required=False, max_length=200),
    ),
)  # fmt: skip

GRADES = tuple(Choice(grade, grade) for grade in ("一级", "二级", "三级", "四级"))
SUBSIDIES = tuple(Choice(name, name) for name in ("困难残疾人生活补贴", "重度残疾人护理补贴"))
_MEMBER = {"repeat": "members", "repeat_label": "残疾人名单"}

# A roster (花名册): every person of the unit in 残疾人台账 is offered as a row to confirm, change or remove.
DISABILITY_ROSTER = Template(
    code="disability_roster",
    title="两项补贴花名册",
    fields=(
        Field("member_id", "身份证号", FieldType.ID_NUMBER, save_to="disabled_people.id_number", **_MEMBER),
        Field("member_name", "姓名", FieldType.TEXT, max_length=20, save_to="disabled_people.name", **_MEMBER),
        Field("grade", "残疾等级", FieldType.SELECT_ONE, choices=GRADES,
              save_to="disabled_people.disability_grade", **_MEMBER),
        Field("subsidies", "享受补贴", FieldType.SELECT_MULTIPLE, choices=SUBSIDIES,
              save_to="disabled_people.subsidies", **_MEMBER),
        Field("contact_mobile", "填报人手机号", FieldType.MOBILE),
    ),
)  # fmt: skip

BUILTIN_TEMPLATES: tuple[Template, ...] = (DIBAO_MONTHLY, DISABILITY_SUBSIDIES, VILLAGE_BASICS, DISABILITY_ROSTER)
