"""Form field definitions: what a question is, independent of how it is asked or stored."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ledger_store.values.choices import Choice, choices_of

__all__ = ["NUMERIC_TYPES", "Choice", "Field", "FieldType"]


class FieldType(StrEnum):
    """The answer types the conversational form can ask for."""

    INTEGER = "integer"
    DECIMAL = "decimal"
    TEXT = "text"
    DATE = "date"
    SELECT_ONE = "select_one"
    SELECT_MULTIPLE = "select_multiple"
    YES_NO = "yes_no"
    ID_NUMBER = "id_number"
    MOBILE = "mobile"
    NOTE = "note"  # shown, never answered
    ACKNOWLEDGE = "acknowledge"  # answered by confirming, e.g. 已阅
    CALCULATE = "calculate"  # computed from `calculation`, never asked


NUMERIC_TYPES = frozenset({FieldType.INTEGER, FieldType.DECIMAL})


@dataclass(frozen=True)
class Field:
    """One question of a form."""

    name: str
    label: str
    type: FieldType
    required: bool = True
    hint: str = ""
    unit: str = ""
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    min_length: int | None = None
    max_length: int | None = None
    choices: tuple[Choice, ...] = field(default_factory=tuple)
    # From Excel (XLSForm) templates. Expressions are stored as their text; see handlers.forms.expressions.
    relevant: str = ""  # ask only when this is true
    constraint: str = ""  # `.` is the answer; refuse it when this is false
    constraint_message: str = ""
    required_message: str = ""
    default: str = ""  # a literal answer, or an expression when it refers to ${...} or calls a function
    calculation: str = ""
    read_only: bool = False
    group: str = ""  # labels of the enclosing groups, outermost first, joined by " / "
    repeat: str = ""  # name of the enclosing repeat (a roster), if any
    repeat_label: str = ""  # what the roster is called (残疾人名单)
    save_to: str = ""  # the ledger (台账) field this answer updates

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (decimals as strings) for storing a form version."""
        data = asdict(self)
        data["type"] = self.type.value
        for key in ("minimum", "maximum"):
            if data[key] is not None:
                data[key] = str(data[key])
        data["choices"] = [{"value": c.value, "label": c.label} for c in self.choices]
        # Left out at their defaults, so stored versions of older forms compare equal and are not re-versioned.
        for key, default in _OPTIONAL_DEFAULTS.items():
            if data[key] == default:
                del data[key]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Field:
        """Inverse of `to_dict`."""
        return cls(
            name=data["name"],
            label=data["label"],
            type=FieldType(data["type"]),
            required=data.get("required", True),
            hint=data.get("hint", ""),
            unit=data.get("unit", ""),
            minimum=Decimal(data["minimum"]) if data.get("minimum") is not None else None,
            maximum=Decimal(data["maximum"]) if data.get("maximum") is not None else None,
            min_length=data.get("min_length"),
            max_length=data.get("max_length"),
            choices=choices_of(data.get("choices", ())),
            **{key: data.get(key, default) for key, default in _OPTIONAL_DEFAULTS.items()},
        )


_OPTIONAL_DEFAULTS: dict[str, Any] = {
    "relevant": "",
    "constraint": "",
    "constraint_message": "",
    "required_message": "",
    "default": "",
    "calculation": "",
    "read_only": False,
    "group": "",
    "repeat": "",
    "repeat_label": "",
    "save_to": "",
}
