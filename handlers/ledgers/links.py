"""Form fields linked to ledger fields (台账字段, save_to): which ledger field, and whose record it is.

A link is written `台账.字段` by code or by Chinese title and label (`unit_profile.population`,
`村社区基本情况台账.户籍人口`) and stored as `code.name`. Whose record a linked answer belongs to:
- a unit ledger (keyed by the unit's name): the record of the unit the task was assigned to;
- any other ledger: the record named by the form's answer to the ledger's key field (身份证号 …), so the form
  must link a question to that key, in the same roster when the field is in one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.forms.fields import Field, FieldType
from handlers.texts import prefill as t
from ledger_store.ledgers import field_map, is_unit_ledger
from ledger_store.models import Ledger

log = logging.getLogger(__name__)

# Form type -> the ledger types its answers may be stored in (and prefilled from).
COMPATIBLE = {
    FieldType.INTEGER: ("integer", "decimal"),
    FieldType.DECIMAL: ("decimal",),
    FieldType.TEXT: ("text",),
    FieldType.DATE: ("date",),
    FieldType.YES_NO: ("yes_no",),
    FieldType.SELECT_ONE: ("select_one",),
    FieldType.SELECT_MULTIPLE: ("select_multiple",),
    FieldType.ID_NUMBER: ("id_number",),
    FieldType.MOBILE: ("mobile",),
}


@dataclass(frozen=True)
class Link:
    """One form field stored in one ledger field; `key_source` names the form field holding the record key."""

    field: Field
    ledger: Ledger
    ledger_field: dict[str, Any]
    key_source: str | None  # None: the record of the assignment's unit (a unit ledger)

    @property
    def is_key(self) -> bool:
        """Does this field hold the record key itself (the 身份证号 of a roster row)?"""
        return self.ledger_field["name"] == self.ledger.key_field


def resolve(ledgers: Sequence[Ledger], text: str) -> tuple[Ledger, dict[str, Any]] | str:
    """The ledger and field a save_to cell names, or the sentence saying what is wrong with it."""
    for ledger in ledgers:
        for prefix in (ledger.code, ledger.title):
            if text.startswith(prefix + "."):
                wanted = text[len(prefix) + 1 :]
                found = next((f for f in ledger.fields if wanted in (f["name"], f["label"])), None)
                if found is None:
                    return t.link_unknown_field(ledger.title, wanted, [f["label"] for f in ledger.fields])
                return ledger, found
    return t.link_unknown_ledger(text, [ledger.title for ledger in ledgers])


def all_ledgers(session: Session) -> list[Ledger]:
    """Every ledger, oldest first."""
    return list(session.scalars(select(Ledger).order_by(Ledger.id)))


def form_problems(session: Session, fields: Sequence[Field]) -> dict[str, str]:
    """Field name -> what is wrong with its save_to: unknown ledger or field, a type mismatch, no record key."""
    ledgers = all_ledgers(session)
    problems: dict[str, str] = {}
    resolved: dict[str, tuple[Ledger, dict[str, Any]]] = {}
    for field in fields:
        if not field.save_to:
            continue
        found = resolve(ledgers, field.save_to)
        if isinstance(found, str):
            problems[field.name] = found
            continue
        ledger, target = found
        if target["type"] not in COMPATIBLE.get(field.type, ()):
            problems[field.name] = t.link_wrong_type(ledger.title, target["label"])
        elif field.type in (FieldType.SELECT_ONE, FieldType.SELECT_MULTIPLE) and not _choices_fit(field, target):
            problems[field.name] = t.link_choices_differ(ledger.title, target["label"])
        elif is_unit_ledger(ledger) and target["name"] == ledger.key_field:
            problems[field.name] = t.LINK_UNIT_KEY
        else:
            resolved[field.name] = found
    for field in fields:
        if field.name in resolved:
            ledger, _ = resolved[field.name]
            if not is_unit_ledger(ledger) and _key_source(field, ledger, fields, resolved) is None:
                key_label = field_map(ledger)[ledger.key_field]["label"]
                problems[field.name] = t.link_needs_key(ledger.title, key_label, bool(field.repeat))
    return problems


def canonical(session: Session, fields: Sequence[Field]) -> list[Field]:
    """The fields with every save_to written `code.name`, so a renamed ledger title breaks no stored form."""
    ledgers = all_ledgers(session)
    result = []
    for field in fields:
        found = resolve(ledgers, field.save_to) if field.save_to else None
        if found is None or isinstance(found, str):
            result.append(field)
        else:
            result.append(replace(field, save_to=f"{found[0].code}.{found[1]['name']}"))
    return result


def links_of(session: Session, fields: Sequence[Field]) -> list[Link]:
    """The links of a stored form version; one that no longer resolves is logged and left out."""
    ledgers = all_ledgers(session)
    resolved: dict[str, tuple[Ledger, dict[str, Any]]] = {}
    for field in fields:
        if field.save_to:
            found = resolve(ledgers, field.save_to)
            if isinstance(found, str):
                log.warning("form field %s: save_to %s no longer resolves", field.name, field.save_to)
            else:
                resolved[field.name] = found
    links = []
    for field in fields:
        if field.name not in resolved:
            continue
        ledger, target = resolved[field.name]
        source = None if is_unit_ledger(ledger) else _key_source(field, ledger, fields, resolved)
        if is_unit_ledger(ledger) or source is not None:
            links.append(Link(field, ledger, target, source))
    return links


def to_form_value(link: Link, value: Any) -> Any:
    """A ledger value as an answer to the linked form field, or None when the form cannot take it."""
    field = link.field
    if field.type == FieldType.INTEGER:
        if isinstance(value, Decimal) and value != value.to_integral_value():
            return None
        return int(value)
    if field.type in (FieldType.SELECT_ONE, FieldType.SELECT_MULTIPLE):
        values = {choice.value for choice in field.choices}
        chosen = value if isinstance(value, list) else [value]
        if not set(chosen) <= values:
            return None
    return value


def _key_source(
    field: Field, ledger: Ledger, fields: Sequence[Field], resolved: dict[str, tuple[Ledger, dict[str, Any]]]
) -> str | None:
    """The field in the same roster (or outside any) whose answer is the record key of `ledger`."""
    for other in fields:
        found = resolved.get(other.name)
        if found and found[0].id == ledger.id and found[1]["name"] == ledger.key_field and other.repeat == field.repeat:
            return other.name
    return None


def _choices_fit(field: Field, target: dict[str, Any]) -> bool:
    """Every option of the form is an option of the ledger field (by value)."""
    return {choice.value for choice in field.choices} <= {choice["value"] for choice in target["choices"]}


def roster_key_link(session: Session, fields: Sequence[Field], repeat: str) -> Link | None:
    """A roster's link to a ledger key (its 身份证号 question), if it has one."""
    return next((link for link in links_of(session, fields) if link.field.repeat == repeat and link.is_key), None)
