"""Form field definitions: what a question is, independent of how it is asked or stored."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any


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


NUMERIC_TYPES = frozenset({FieldType.INTEGER, FieldType.DECIMAL})


@dataclass(frozen=True)
class Choice:
    """One option of a choice question: a stable value and the label people see."""

    value: str
    label: str


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

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (decimals as strings) for storing a form version."""
        data = asdict(self)
        data["type"] = self.type.value
        for key in ("minimum", "maximum"):
            if data[key] is not None:
                data[key] = str(data[key])
        data["choices"] = [{"value": c.value, "label": c.label} for c in self.choices]
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
            choices=tuple(Choice(c["value"], c["label"]) for c in data.get("choices", ())),
        )
