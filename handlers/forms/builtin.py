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
# time, so their ID number is not a link either). What the ledger does hold about each disabled person is
# confirmed through DISABILITY_INFO instead.
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


def _labels(*labels: str) -> tuple[Choice, ...]:
    """Choices whose value is their label, as the standard ledgers' choices are."""
    return tuple(Choice(label, label) for label in labels)


# The rosters below re-express the reports the standard ledgers replace: every question is a ledger field,
# so a unit whose records are fresh only confirms, and a department may take the summary from the ledgers
# (取数) without asking anyone. The filler's own mobile is not asked: it is not about the records.
_PERSON = {"repeat": "people", "repeat_label": "人员名单"}

# The eleven disabled-person tables of the story, merged: one row per person of 残疾人台账.
DISABILITY_INFO = Template(
    code="disability_info",
    title="残疾人信息核对",
    fields=(
        Field("id_number", "身份证号", FieldType.ID_NUMBER, save_to="disabled_people.id_number", **_PERSON),
        Field("name", "姓名", FieldType.TEXT, max_length=20, save_to="disabled_people.name", **_PERSON),
        Field("kind", "残疾类别", FieldType.SELECT_ONE, save_to="disabled_people.disability_kind",
              choices=_labels("视力", "听力", "言语", "肢体", "智力", "精神", "多重"), **_PERSON),
        Field("grade", "残疾等级", FieldType.SELECT_ONE, choices=GRADES,
              save_to="disabled_people.disability_grade", **_PERSON),
        Field("subsidies", "享受补贴", FieldType.SELECT_MULTIPLE, choices=SUBSIDIES, required=False,
              save_to="disabled_people.subsidies", **_PERSON),
        Field("mobile", "联系电话", FieldType.MOBILE, save_to="disabled_people.mobile", **_PERSON),
        Field("address", "现居住地址", FieldType.TEXT, max_length=100, save_to="disabled_people.address", **_PERSON),
    ),
)  # fmt: skip

DIBAO_ROSTER = Template(
    code="dibao_roster",
    title="低保对象信息核对",
    fields=(
        Field("id_number", "身份证号", FieldType.ID_NUMBER, save_to="dibao_households.id_number", **_PERSON),
        Field("name", "姓名", FieldType.TEXT, max_length=20, save_to="dibao_households.name", **_PERSON),
        Field("household_size", "家庭人口", FieldType.INTEGER, unit="人", minimum=Decimal(1), maximum=Decimal(30),
              save_to="dibao_households.household_size", **_PERSON),
        Field("monthly_income", "家庭月人均收入", FieldType.DECIMAL, unit="元", minimum=Decimal(0),
              maximum=Decimal(100000), save_to="dibao_households.monthly_income", **_PERSON),
        Field("mobile", "联系电话", FieldType.MOBILE, save_to="dibao_households.mobile", **_PERSON),
        Field("category", "保障类别", FieldType.SELECT_ONE, choices=_labels("A类", "B类", "C类"),
              save_to="dibao_households.category", **_PERSON),
    ),
)  # fmt: skip

_CASE = {"repeat": "cases", "repeat_label": "纠纷清单"}

MEDIATION_REVIEW = Template(
    code="mediation_review",
    title="矛盾纠纷排查情况",
    fields=(
        Field("case_no", "案件编号", FieldType.TEXT, max_length=40, save_to="mediation_cases.case_no", **_CASE),
        Field("registered_on", "登记日期", FieldType.DATE, save_to="mediation_cases.registered_on", **_CASE),
        Field("parties", "当事人", FieldType.TEXT, max_length=100, save_to="mediation_cases.parties", **_CASE),
        Field("dispute_kind", "纠纷类型", FieldType.SELECT_ONE, save_to="mediation_cases.dispute_kind",
              choices=_labels("婚姻家庭", "邻里纠纷", "土地承包", "劳动争议", "其他"), **_CASE),
        Field("outcome", "调解结果", FieldType.SELECT_ONE, save_to="mediation_cases.outcome",
              choices=_labels("调解中", "调解成功", "调解未成功"), **_CASE),
    ),
)  # fmt: skip

_PARCEL = {"repeat": "parcels", "repeat_label": "流转地块"}

LAND_TRANSFERS = Template(
    code="land_transfers",
    title="土地流转情况",
    fields=(
        Field("parcel_no", "地块编码", FieldType.TEXT, max_length=40, save_to="land_transfers.parcel_no", **_PARCEL),
        Field("contractor", "承包方", FieldType.TEXT, max_length=40, save_to="land_transfers.contractor_name",
              **_PARCEL),
        Field("area_mu", "面积（亩）", FieldType.DECIMAL, unit="亩", minimum=Decimal(0), maximum=Decimal(100000),
              save_to="land_transfers.area_mu", **_PARCEL),
        Field("transferee", "流入方", FieldType.TEXT, max_length=60, save_to="land_transfers.transferee", **_PARCEL),
        Field("mode", "流转方式", FieldType.SELECT_ONE, save_to="land_transfers.transfer_mode",
              choices=_labels("出租", "转包", "入股", "其他"), **_PARCEL),
        Field("annual_rent", "年租金（元/亩）", FieldType.DECIMAL, unit="元", minimum=Decimal(0),
              maximum=Decimal(100000), save_to="land_transfers.annual_rent", **_PARCEL),
        Field("ends_on", "流转到期日", FieldType.DATE, save_to="land_transfers.ends_on", **_PARCEL),
    ),
)  # fmt: skip

_HAZARD = {"repeat": "hazards", "repeat_label": "隐患清单"}

FIRE_HAZARDS = Template(
    code="fire_hazards",
    title="消防隐患整改情况",
    fields=(
        Field("hazard_no", "隐患编号", FieldType.TEXT, max_length=40, save_to="fire_hazards.hazard_no", **_HAZARD),
        Field("place", "隐患地点", FieldType.TEXT, max_length=100, save_to="fire_hazards.place", **_HAZARD),
        Field("hazard_kind", "隐患类型", FieldType.SELECT_ONE, save_to="fire_hazards.hazard_kind",
              choices=_labels("电气线路", "燃气", "堵塞通道", "易燃物堆放", "其他"), **_HAZARD),
        Field("status", "整改状态", FieldType.SELECT_ONE, save_to="fire_hazards.status",
              choices=_labels("未整改", "整改中", "已整改"), **_HAZARD),
        Field("responsible", "责任人", FieldType.TEXT, max_length=20, required=False,
              save_to="fire_hazards.responsible", **_HAZARD),
    ),
)  # fmt: skip

BUILTIN_TEMPLATES: tuple[Template, ...] = (
    DIBAO_MONTHLY,
    DISABILITY_SUBSIDIES,
    VILLAGE_BASICS,
    DISABILITY_ROSTER,
    DISABILITY_INFO,
    DIBAO_ROSTER,
    MEDIATION_REVIEW,
    LAND_TRANSFERS,
    FIRE_HAZARDS,
)
