"""Which ledger records match a department's conditions, filtered in SQL on SQLite, PostgreSQL and MariaDB.

Values live in the JSON column `LedgerRecord.values` as `ledgers.to_json` writes them: integers as JSON
numbers, decimals as text, dates as ISO text, several choices as a JSON array. Numbers are cast before they
are compared, so 900 < 1000 holds; ISO dates compare correctly as text. A condition on the key field tests
the key column itself. Records whose entity left its unit are not current and are left out unless asked for.
A stored value that is not a number (an old record's, from when the field held text) matches no comparison of a
numeric field, on every database, instead of failing the query where a cast of it would (PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from operator import ge, gt, le, lt
from typing import Any

from sqlalchemy import BigInteger, Boolean, Numeric, String, case, cast, false, func, literal, not_, or_, select, true
from sqlalchemy.dialects import mysql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from ledger_store.ledgers import field_map, normalize_key, to_json
from ledger_store.models import Ledger, LedgerRecord


class Operator(StrEnum):
    """How a condition compares a field's stored value with the condition's values."""

    EQUAL = "="
    NOT_EQUAL = "!="
    LESS = "<"
    LESS_EQUAL = "<="
    GREATER = ">"
    GREATER_EQUAL = ">="
    CONTAINS = "contains"
    NOT_CONTAINS = "not_contains"
    EMPTY = "empty"
    PRESENT = "present"


ORDERING = (Operator.LESS, Operator.LESS_EQUAL, Operator.GREATER, Operator.GREATER_EQUAL)
_COMPARE = {Operator.LESS: lt, Operator.LESS_EQUAL: le, Operator.GREATER: gt, Operator.GREATER_EQUAL: ge}
_PLAIN = frozenset({Operator.EQUAL, Operator.NOT_EQUAL, Operator.EMPTY, Operator.PRESENT})
_TEXT = _PLAIN | {Operator.CONTAINS, Operator.NOT_CONTAINS}
_ORDERED = _PLAIN | set(ORDERING)
OPERATORS: dict[str, frozenset[Operator]] = {
    "integer": _ORDERED,
    "decimal": _ORDERED,
    "date": _ORDERED,
    "text": _TEXT,
    "id_number": _TEXT,
    "mobile": _TEXT,
    "select_one": _PLAIN,
    "yes_no": _PLAIN,
    "select_multiple": frozenset({Operator.CONTAINS, Operator.NOT_CONTAINS, Operator.EMPTY, Operator.PRESENT}),
}
# MariaDB's bare DECIMAL is DECIMAL(10,0), which would drop every fraction.
_NUMBER = Numeric().with_variant(mysql.DECIMAL(65, 30), "mysql", "mariadb")


@dataclass(frozen=True)
class Condition:
    """One test on a field (by name) with typed values.

    Comparisons take one value; = and contains match any of the values, != and not-contains none of them
    (and also match records where the field is empty); empty and present take none.
    """

    field: str
    operator: Operator
    values: tuple[Any, ...] = ()


def count_matching(
    session: Session,
    ledger: Ledger,
    conditions: Sequence[Condition] = (),
    org_unit_ids: Collection[int] | None = None,
    *,
    include_left: bool = False,
) -> int:
    """How many current records of the units (all when None) meet every condition; ValueError for an impossible one.

    Records whose entity left its unit (`left_at` set) count only with `include_left`.
    """
    query = select(func.count()).select_from(LedgerRecord)
    return session.scalar(_matching(query, ledger, conditions, org_unit_ids, include_left)) or 0


def find_matching(
    session: Session,
    ledger: Ledger,
    conditions: Sequence[Condition] = (),
    org_unit_ids: Collection[int] | None = None,
    limit: int | None = None,
    *,
    include_left: bool = False,
) -> Iterator[LedgerRecord]:
    """The matching current records (left ones too with `include_left`) in key order, streamed for any size."""
    query = _matching(select(LedgerRecord), ledger, conditions, org_unit_ids, include_left).order_by(LedgerRecord.key)
    if limit is not None:
        query = query.limit(limit)
    return iter(session.scalars(query.execution_options(yield_per=1000)))


def matching_ids(
    ledger: Ledger, conditions: Sequence[Condition] = (), org_unit_ids: Collection[int] | None = None
) -> Any:
    """A SELECT of the ids of the matching current records, to combine with other queries (预警's new matches)."""
    return _matching(select(LedgerRecord.id), ledger, conditions, org_unit_ids, False)


def _matching(
    query: Any,
    ledger: Ledger,
    conditions: Sequence[Condition],
    org_unit_ids: Collection[int] | None,
    include_left: bool,
) -> Any:
    """`query` narrowed to the ledger, the units, current records unless `include_left`, and every condition."""
    fields = field_map(ledger)
    query = query.where(LedgerRecord.ledger_id == ledger.id)
    if not include_left:
        query = query.where(LedgerRecord.left_at.is_(None))
    if org_unit_ids is not None:
        query = query.where(LedgerRecord.org_unit_id.in_(sorted(org_unit_ids)))
    for condition in conditions:
        field = fields.get(condition.field)
        if field is None:
            raise ValueError(f"ledger {ledger.code}: cannot filter on {condition.field!r}")
        on_key = field["name"] == ledger.key_field
        query = query.where(_key_clause(ledger, field, condition) if on_key else _clause(field, condition))
    return query


def _clause(field: Mapping[str, Any], condition: Condition) -> ColumnElement[bool]:
    """The SQL test of one condition on one field."""
    kind, operator, values = field["type"], condition.operator, condition.values
    if operator not in OPERATORS[kind]:
        raise ValueError(f"field {field['name']}: {kind} does not take {operator}")
    stored = LedgerRecord.values[field["name"]].as_string()
    if operator in (Operator.EMPTY, Operator.PRESENT):
        if values:
            raise ValueError(f"field {field['name']}: {operator} takes no value")
        # No selected option is stored as [] (one spelling on every database), no value as a missing key.
        empty = or_(stored.is_(None), stored == "[]") if kind == "select_multiple" else stored.is_(None)
        return empty if operator is Operator.EMPTY else not_(empty)
    if not values or (operator in ORDERING and len(values) > 1):
        raise ValueError(f"field {field['name']}: {operator} takes {'one value' if operator in ORDERING else 'values'}")
    if kind == "select_multiple":
        to_json(field, list(values))  # refuses an option the field does not have
        positive = or_(*(_HasOption(LedgerRecord.values, literal(field["name"]), literal(v)) for v in values))
    elif operator in (Operator.CONTAINS, Operator.NOT_CONTAINS):
        positive = or_(*(stored.icontains(_needle(field, value), autoescape=True) for value in values))
    else:
        column, data = _typed_column(field), [_comparable(field, value) for value in values]
        if operator in ORDERING:
            return _COMPARE[operator](column, data[0])
        positive = column == data[0] if len(data) == 1 else column.in_(data)
    if operator in (Operator.NOT_EQUAL, Operator.NOT_CONTAINS):
        return or_(stored.is_(None), not_(positive))
    return positive


def _key_clause(ledger: Ledger, field: Mapping[str, Any], condition: Condition) -> ColumnElement[bool]:
    """The SQL test of a condition on the key, which lives in its own column (`LedgerRecord.key`), never empty."""
    kind, operator, values = field["type"], condition.operator, condition.values
    if operator not in OPERATORS[kind]:
        raise ValueError(f"field {field['name']}: {kind} does not take {operator}")
    if operator in (Operator.EMPTY, Operator.PRESENT):
        if values:
            raise ValueError(f"field {field['name']}: {operator} takes no value")
        return false() if operator is Operator.EMPTY else true()
    if not values or (operator in ORDERING and len(values) > 1):
        raise ValueError(f"field {field['name']}: {operator} takes {'one value' if operator in ORDERING else 'values'}")
    key = LedgerRecord.key
    if operator in (Operator.CONTAINS, Operator.NOT_CONTAINS):
        positive = or_(*(key.icontains(_needle(field, value), autoescape=True) for value in values))
    elif operator in ORDERING:
        return _COMPARE[operator](as_number(key, "integer"), to_json(field, values[0]))
    else:
        # As stored: to_json checks the value, normalize_key spells it the way the key column does.
        keys = [normalize_key(ledger, to_json(field, value)) for value in values]
        positive = key == keys[0] if len(keys) == 1 else key.in_(keys)
    return not_(positive) if operator in (Operator.NOT_EQUAL, Operator.NOT_CONTAINS) else positive


def _typed_column(field: Mapping[str, Any]) -> ColumnElement[Any]:
    """The stored value in a form SQL compares correctly: numbers cast, booleans as booleans, the rest as text."""
    element = LedgerRecord.values[field["name"]]
    if field["type"] in ("integer", "decimal"):
        return as_number(element.as_string(), field["type"])
    if field["type"] == "yes_no":
        return element.as_boolean()
    return element.as_string()


def as_number(text: ColumnElement[Any], kind: str) -> ColumnElement[Any]:
    """Stored text as an `integer` or `decimal` that SQL compares and adds up, or NULL where it is not written as one
    (matching no comparison, left out of sums) instead of an error."""
    return _AsInteger(text) if kind == "integer" else _AsDecimal(text)


def _comparable(field: Mapping[str, Any], value: Any) -> Any:
    """A condition value checked against the field like a stored one, in the type `_typed_column` compares."""
    stored = to_json(field, value)
    return Decimal(stored) if field["type"] == "decimal" else stored


def _needle(field: Mapping[str, Any], value: Any) -> str:
    """The text looked for by contains (an ID number's x upper-cased, as stored)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"field {field['name']}: contains needs text, not {value!r}")
    return value.strip().upper() if field["type"] == "id_number" else value.strip()


class _AsInteger(FunctionElement[Any]):
    """(text): the text cast to an integer when it is one (at most 18 digits, so BIGINT holds it), else NULL."""

    type = BigInteger()
    name = "as_integer"
    inherit_cache = True
    pattern = "^-?[0-9]{1,18}$"


class _AsDecimal(FunctionElement[Any]):
    """(text): the text cast to a decimal when it is one (at most 35 digits before the point, as DECIMAL(65,30) holds),
    else NULL."""

    type = _NUMBER
    name = "as_decimal"
    inherit_cache = True
    pattern = "^-?[0-9]{1,35}([.][0-9]+)?$"


@compiles(_AsInteger)
@compiles(_AsDecimal)
def _as_number_sqlite(element: _AsInteger | _AsDecimal, compiler: Any, **kw: Any) -> str:
    # SQLite casts any text without an error ('abc' is 0), and has no REGEXP of its own. Compared with its cast, the
    # text takes the cast's numeric affinity: it equals the cast only when it converts whole (so not 'abc' or '12abc',
    # and for an integer not '12.5'). Cheaper than GLOB tests of every character.
    [text] = element.clauses
    number = cast(text, element.type)
    return compiler.process(case((text == number, number)), **kw)


@compiles(_AsInteger, "postgresql")
@compiles(_AsDecimal, "postgresql")
@compiles(_AsInteger, "mysql")
@compiles(_AsDecimal, "mysql")
@compiles(_AsInteger, "mariadb")
@compiles(_AsDecimal, "mariadb")
def _as_number_server(element: _AsInteger | _AsDecimal, compiler: Any, **kw: Any) -> str:
    # PostgreSQL fails the whole query on a cast of 'abc'; MariaDB reads it as 0 with a warning, so that 'abc' < 500.
    # Only text written as a number is cast (~ on PostgreSQL, REGEXP on MariaDB).
    [text] = element.clauses
    return compiler.process(case((text.regexp_match(element.pattern), cast(text, element.type))), **kw)


class _HasOption(FunctionElement[bool]):
    """(values, field, option): the JSON array under `field` holds `option`; each database says so its own way."""

    type = Boolean()
    name = "has_option"
    inherit_cache = True


@compiles(_HasOption)
def _has_option_sqlite(element: _HasOption, compiler: Any, **kw: Any) -> str:
    values, name, option = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"EXISTS (SELECT 1 FROM json_each({values}, '$.' || json_quote({name})) WHERE json_each.value = {option})"


@compiles(_HasOption, "postgresql")
def _has_option_postgresql(element: _HasOption, compiler: Any, **kw: Any) -> str:
    values, name, option = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(CAST(({values} -> CAST({name} AS TEXT)) AS JSONB) @> jsonb_build_array(CAST({option} AS TEXT)))"


@compiles(_HasOption, "mysql")
@compiles(_HasOption, "mariadb")
def _has_option_mysql(element: _HasOption, compiler: Any, **kw: Any) -> str:
    # Not JSON_CONTAINS: MariaDB compares strings undecoded, so the stored "\u91cd" would not match 重.
    # JSON_SEARCH decodes them but takes a LIKE pattern, so the option's wildcards are escaped with "!".
    values, name, option = element.clauses
    values, option, name = (compiler.process(clause, **kw) for clause in (values, option, name))  # in SQL order

    def quoted(text: str) -> str:
        return compiler.render_literal_value(text, String())  # doubles % for the driver's paramstyle

    pattern = option
    for special in ("!", "%", "_"):
        pattern = f"REPLACE({pattern}, {quoted(special)}, {quoted('!' + special)})"
    path = f"CONCAT({quoted('$.')}, JSON_QUOTE({name}))"
    return f"(JSON_SEARCH({values}, 'one', {pattern}, {quoted('!')}, {path}) IS NOT NULL)"
