"""The standard ledgers (标准台账) every district starts with: each field kept once, keyed by who it is about.

Each names the department that owns it and those it is shared with (sensitive fields masked) from the start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger_store.ledger_grants import set_owner, share
from ledger_store.ledgers import UNIT_KEY, define_ledger, get_ledger
from ledger_store.models import Department, Ledger


def choice(*labels: str) -> list[dict[str, str]]:
    """Choices whose value is their label."""
    return [{"value": label, "label": label} for label in labels]


# (code, title, key field, fields); validity_days says how long a value counts as current before it is asked again.
STANDARD_LEDGERS: tuple[tuple[str, str, str, list[dict[str, Any]]], ...] = (
    (
        "dibao_households",
        "低保对象台账",
        "id_number",
        [
            {"name": "id_number", "label": "身份证号", "type": "id_number", "required": True},
            {"name": "name", "label": "姓名", "type": "text", "required": True, "standard": "name"},
            {"name": "household_size", "label": "家庭人口", "type": "integer", "validity_days": 365},
            {"name": "monthly_income", "label": "家庭月人均收入", "type": "decimal", "validity_days": 31},
            {"name": "mobile", "label": "联系电话", "type": "mobile", "validity_days": 365, "standard": "mobile"},
            {"name": "category", "label": "保障类别", "type": "select_one", "choices": choice("A类", "B类", "C类")},
        ],
    ),
    (
        "disabled_people",
        "残疾人台账",
        "id_number",
        [
            {"name": "id_number", "label": "身份证号", "type": "id_number", "required": True},
            {"name": "name", "label": "姓名", "type": "text", "required": True, "standard": "name"},
            {"name": "disability_kind", "label": "残疾类别", "type": "select_one",
             "choices": choice("视力", "听力", "言语", "肢体", "智力", "精神", "多重")},
            {"name": "disability_grade", "label": "残疾等级", "type": "select_one",
             "choices": choice("一级", "二级", "三级", "四级")},
            {"name": "subsidies", "label": "享受补贴", "type": "select_multiple",
             "choices": choice("困难残疾人生活补贴", "重度残疾人护理补贴")},
            {"name": "mobile", "label": "联系电话", "type": "mobile", "validity_days": 365, "standard": "mobile"},
        ],
    ),
    (
        "unit_profile",
        "村社区基本情况台账",
        UNIT_KEY,
        [
            {"name": UNIT_KEY, "label": "单位名称", "type": "text", "required": True},
            {"name": "households", "label": "户籍户数", "type": "integer", "validity_days": 365,
             "standard": "households"},
            {"name": "population", "label": "户籍人口", "type": "integer", "validity_days": 365,
             "standard": "population"},
            {"name": "dibao_households", "label": "在保低保户数", "type": "integer", "validity_days": 31},
            {"name": "dibao_persons", "label": "在保低保人数", "type": "integer", "validity_days": 31},
            {"name": "secretary", "label": "书记姓名", "type": "text", "validity_days": 365, "standard": "secretary"},
            {"name": "office_phone", "label": "书记手机号", "type": "mobile", "validity_days": 365,
             "standard": "secretary_mobile"},
        ],
    ),
)  # fmt: skip


# Code -> (board, entity kind): ledgers of one kind keep their standard fields as one value per entity.
PLACES: dict[str, tuple[str, str]] = {
    "dibao_households": ("民生服务", "person"),
    "disabled_people": ("民生服务", "person"),
    "unit_profile": ("党的建设", "unit"),
}


@dataclass(frozen=True)
class Stewardship:
    """The department owning a standard ledger, and those it is shared with (masked) when the owner is first set."""

    owner: str
    shared_with: tuple[str, ...] = ()


# Household and people registers stay with the department that keeps them; a village's basic figures are
# useful to every department, so 区残联 may read them too (the secretary's mobile masked).
STEWARDS: dict[str, Stewardship] = {
    "dibao_households": Stewardship("区民政局"),
    "disabled_people": Stewardship("区残联"),
    "unit_profile": Stewardship("区民政局", shared_with=("区残联",)),
}


def ensure_standard_ledgers(session: Session, now: datetime) -> None:
    """Define (or bring up to date) every standard ledger, and give it its owner if that department exists."""
    for code, title, key_field, fields in STANDARD_LEDGERS:
        board, kind = PLACES[code]
        define_ledger(session, code, title, key_field, fields, now, board=board, entity_kind=kind)
    assign_standard_owners(session, now)


def assign_standard_owners(session: Session, now: datetime) -> None:
    """Give each standard ledger without an owner the catalog's owner and shares, once that department exists.

    Runs at start-up and after an organisation import. A ledger that has an owner is left alone, so what an
    admin set with /台账权限 is never overwritten (and shares an admin removed are not brought back).
    """
    departments = {department.name: department for department in session.scalars(select(Department))}
    for code, steward in STEWARDS.items():
        ledger, owner = get_ledger(session, code), departments.get(steward.owner)
        if ledger is None or owner is None or ledger.owner_department_id is not None:
            continue
        set_owner(session, ledger, owner, None, now)
        for name in steward.shared_with:
            if name in departments:
                share(session, ledger, departments[name], False, None, now)


def find_ledger(session: Session, code_or_title: str) -> Ledger | None:
    """A ledger by its code or its Chinese title."""
    wanted = code_or_title.strip()
    return session.scalar(select(Ledger).where((Ledger.code == wanted) | (Ledger.title == wanted)))
