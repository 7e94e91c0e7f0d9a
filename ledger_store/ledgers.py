"""Ledgers (台账): definitions, records holding the current value of each field, and the history of every value.

A field is kept once per entity and reused: `known_values` prefills a form, `write_values` stores what a
person or a task confirmed, and every change leaves a LedgerChange row and a masked audit entry. Values are
stored JSON-safe (decimals as text, dates as ISO text) and read back typed.

Shared fields: a field naming a standard field (`standard`) in a ledger with an entity kind is one value for
every ledger of that kind holding the same standard field, across records with the same key (the same person).
A write carries the value and its time to those sibling records (only existing ones; their unit stays), with
one LedgerChange row in the record written and one audit entry; `history` of a shared field is the union over
the siblings; `known_values` falls back to a sibling for a value the record lacks. A definition that makes a
field shared later reconciles nothing at once: from then on writes carry it and reads fall back to siblings.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger_store import audit
from ledger_store.ledger_kinds import KIND_BY_CODE, standard_field
from ledger_store.masking import mask_id_number, mask_mobile
from ledger_store.models import Department, Ledger, LedgerChange, LedgerRecord, LedgerVersion
from ledger_store.values.personal import id_number_problem, mobile_problem, normalize_id_number, normalize_mobile

log = logging.getLogger(__name__)

FIELD_TYPES = ("integer", "decimal", "text", "date", "yes_no", "select_one", "select_multiple", "id_number", "mobile")
KEY_TYPES = ("text", "integer", "id_number", "mobile")
SELECT_TYPES = ("select_one", "select_multiple")
# History name of a record moving to another org unit; field names start with a letter, so it cannot clash.
UNIT = "_org_unit"
# History name of a record leaving its unit's roster ({"reason": …}) or coming back to it (None).
LEFT = "_left"
UNIT_HEADER = "单位"  # the import column naming the org unit, so no field may use it as a label
# A ledger keyed by this field keeps one record per org unit (村社区基本情况): the key is the unit's name.
UNIT_KEY = "unit_name"
# Personal numbers: sensitive unless a definition says otherwise, so exports mask them for most departments.
SENSITIVE_TYPES = ("id_number", "mobile")
HIDDEN = "***"  # a sensitive value that is neither an ID number, a mobile nor text, as shown masked
MAX_VALIDITY_DAYS = 36500  # a hundred years: beyond it, say "no limit" (None)
_FIELD_KEYS = {"name", "label", "type", "required", "choices", "validity_days", "sensitive", "standard"}
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")


class KnownValue(NamedTuple):
    """A stored value for prefill: the typed value, when it was last confirmed, and whether it is still fresh."""

    value: Any
    confirmed_at: datetime
    fresh: bool


@dataclass(frozen=True)
class Change:
    """One entry of a record's history, with typed values (None where there was no value)."""

    field: str
    old: Any
    new: Any
    at: datetime
    actor_id: int | None
    source: str


@dataclass(frozen=True)
class Loss:
    """What a definition change would give up: a field holding values in `records` records, dropped or retyped."""

    field: str
    label: str
    change: str  # "dropped" or "retyped"
    records: int

    def to_json(self) -> dict[str, Any]:
        """As kept in LedgerVersion.losses and the audit entry."""
        return {"field": self.field, "label": self.label, "change": self.change, "records": self.records}


class DataLoss(ValueError):
    """A definition change that would lose stored values; it goes through only with `confirm_loss`."""

    def __init__(self, code: str, losses: list[Loss]) -> None:
        super().__init__(f"ledger {code}: the change would lose values of {[loss.field for loss in losses]}")
        self.losses = losses


class KeyTaken(ValueError):
    """A record meant to be new (`write_values(new_only=True)`) whose key another writer holds already."""

    def __init__(self, code: str) -> None:
        super().__init__(f"ledger {code}: the key was taken meanwhile")


class KeyLocked(ValueError):
    """A new key field for a ledger that holds records: its records would be keyed by something else."""

    def __init__(self, code: str, key_field: str, records: int) -> None:
        super().__init__(f"ledger {code}: the key field is {key_field!r} and cannot change while it holds records")
        self.records = records


def define_ledger(
    session: Session,
    code: str,
    title: str,
    key_field: str,
    fields: Sequence[Mapping[str, Any]],
    now: datetime,
    *,
    actor_id: int | None = None,
    board: str | None = None,
    entity_kind: str | None = None,
    description: str | None = None,
    owner: Department | None = None,
    shares: Sequence[tuple[Department, bool]] | None = None,
    confirm_loss: bool = False,
    source: str | None = None,
) -> Ledger:
    """Create a ledger or update its definition; each changed definition is a new LedgerVersion and an audit entry.

    `owner` and `shares` (departments, each with whether it sees sensitive fields whole) replace the current ones
    when given; None leaves them as they are. A change that would lose stored values (a field holding values
    dropped or retyped) raises DataLoss unless `confirm_loss`, and then clears those values with history. The key
    field changes only while the ledger has no records (KeyLocked otherwise). `source` (e.g. "standard" or the
    file name) is kept in the version's definition.
    """
    from ledger_store import ledger_grants  # it imports this module for naive_utc

    clean = [_clean_field(field) for field in fields]
    _check_definition(key_field, clean)
    now = naive_utc(now)
    ledger = get_ledger(session, code)
    # A redefinition that names no entity kind keeps the stored one, and its standard fields are checked against it.
    _check_standard(entity_kind if entity_kind is not None or ledger is None else ledger.entity_kind, clean)
    before, losses = None, []
    if ledger is None:
        ledger = Ledger(code=code, title=title, key_field=key_field, fields=[], version=0, created_at=now)
        session.add(ledger)
        session.flush()
    else:
        before = _definition(session, ledger)
        if key_field != ledger.key_field:
            records = _record_count(session, ledger)
            if records:
                raise KeyLocked(code, ledger.key_field, records)
        losses = _losses(session, ledger, clean)
        if losses and not confirm_loss:
            raise DataLoss(code, losses)
        _clear(session, ledger, [loss.field for loss in losses], actor_id, f"define:v{ledger.version + 1}", now)
    ledger.title, ledger.key_field, ledger.fields = title, key_field, clean
    ledger.board = board if board is not None else ledger.board
    ledger.entity_kind = entity_kind if entity_kind is not None else ledger.entity_kind
    ledger.description = description if description is not None else ledger.description
    if owner is not None:
        ledger_grants.set_owner(session, ledger, owner, actor_id, now)
    if shares is not None:
        owner_id = ledger.owner_department_id
        wanted = {department.id: (department, full) for department, full in shares if department.id != owner_id}
        for department, _ in ledger_grants.shares(session, ledger):
            if department.id not in wanted:
                ledger_grants.unshare(session, ledger, department, actor_id, now)
        for department, full in wanted.values():
            ledger_grants.share(session, ledger, department, full, actor_id, now)
    session.flush()
    after = _definition(session, ledger)
    if after != before:
        old = None if before is None else {"version": ledger.version, **before}
        ledger.version += 1
        new = {"version": ledger.version, **after}
        if losses:
            new["losses"] = [loss.to_json() for loss in losses]
        audit.record(session, at=now, actor_id=actor_id, action="ledger_define", entity="ledger",
                     entity_id=ledger.id, old=old, new=new)  # fmt: skip
        _store_version(session, ledger, after, source, actor_id, now, losses)
    elif _version_row(session, ledger) is None:
        _store_version(session, ledger, after, source, actor_id, now, [])  # defined before versions were kept
    return ledger


def ledger_versions(session: Session, ledger: Ledger) -> list[LedgerVersion]:
    """Every stored version of the ledger's definition, oldest first."""
    query = select(LedgerVersion).where(LedgerVersion.ledger_id == ledger.id).order_by(LedgerVersion.version)
    return list(session.scalars(query))


def get_ledger(session: Session, code: str) -> Ledger | None:
    """The ledger with this code, or None."""
    return session.scalar(select(Ledger).where(Ledger.code == code))


def is_unit_ledger(ledger: Ledger) -> bool:
    """Does the ledger keep one record per org unit, keyed by the unit's name?"""
    return ledger.key_field == UNIT_KEY


def field_map(ledger: Ledger) -> dict[str, dict[str, Any]]:
    """The ledger's field definitions by name."""
    return {field["name"]: field for field in ledger.fields}


def normalize_key(ledger: Ledger, key: object) -> str:
    """The record key as stored: full-width to ASCII and trimmed; ID numbers and mobiles as their readers store them."""
    kind = field_map(ledger)[ledger.key_field]["type"]
    if kind == "id_number":
        return normalize_id_number(str(key))
    if kind == "mobile":
        return normalize_mobile(str(key))
    return unicodedata.normalize("NFKC", str(key)).strip()


def get_record(session: Session, ledger: Ledger, key: object, *, for_update: bool = False) -> LedgerRecord | None:
    """The record with this key, or None; `for_update` when it is read to be changed (see `_locked`)."""
    query = select(LedgerRecord).where(
        LedgerRecord.ledger_id == ledger.id, LedgerRecord.key == normalize_key(ledger, key)
    )
    return session.scalar(_locked(query) if for_update else query)


def find_records(
    session: Session, ledger: Ledger, keys: Iterable[object], *, for_update: bool = False
) -> dict[str, LedgerRecord]:
    """Stored key -> record, for those of `keys` the ledger holds (a query per 500 keys, not per key).

    `for_update` locks them in key order, so two writers of overlapping sets of records cannot deadlock.
    """
    wanted = sorted({normalize_key(ledger, key) for key in keys})
    found: dict[str, LedgerRecord] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        query = select(LedgerRecord).where(LedgerRecord.ledger_id == ledger.id, LedgerRecord.key.in_(chunk))
        query = _locked(query.order_by(LedgerRecord.key)) if for_update else query
        found.update((record.key, record) for record in session.scalars(query))
    return found


def _locked(query: Select[tuple[LedgerRecord]]) -> Select[tuple[LedgerRecord]]:
    """The query reading records to change them: a row lock held to the end of the transaction, so another
    worker's write of the same record waits and this one's values are not lost; the values read afresh, since
    an object loaded earlier in the session (prefill, a key check) may be older than the lock."""
    return query.with_for_update().execution_options(populate_existing=True)


def records_in_units(
    session: Session, ledger: Ledger, org_unit_ids: Collection[int], limit: int = 1000
) -> list[LedgerRecord]:
    """Up to `limit` records of these org units still on their rosters (not left), oldest first."""
    query = (
        select(LedgerRecord)
        .where(
            LedgerRecord.ledger_id == ledger.id,
            LedgerRecord.org_unit_id.in_(sorted(org_unit_ids)),
            LedgerRecord.left_at.is_(None),
        )
        .order_by(LedgerRecord.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def known_values(
    session: Session, ledger: Ledger, key: object, now: datetime, units: Collection[int] | None = None
) -> dict[str, KnownValue]:
    """Every stored value of the entity for prefill; fresh while younger than the field's validity_days.

    With `units` (the org units the caller may see), a shared field the record lacks (or the whole record, when
    there is none) is taken from a sibling record in those units, the most recently confirmed one.
    """
    stored_key = normalize_key(ledger, key)
    record = get_record(session, ledger, stored_key)
    values = dict(record.values) if record else {}
    times = dict(record.value_times) if record else {}
    if units is not None:
        _fill_from_siblings(session, ledger, stored_key, units, values, times)
    return _typed_values(ledger, values, times, now)


def _typed_values(
    ledger: Ledger, values: Mapping[str, Any], times: Mapping[str, str], now: datetime
) -> dict[str, KnownValue]:
    """Values as stored, typed, with when each was confirmed and whether it is still fresh."""
    now = naive_utc(now)
    known = {}
    for field in ledger.fields:
        name, days = field["name"], field["validity_days"]
        if name in values:
            confirmed = datetime.fromisoformat(times[name])
            fresh = days is None or now - confirmed <= timedelta(days=days)
            known[name] = KnownValue(from_json(field, values[name]), confirmed, fresh)
    return known


def write_values(
    session: Session,
    ledger: Ledger,
    key: object,
    org_unit_id: int | None,
    values: Mapping[str, Any],
    actor_id: int | None,
    source: str,
    now: datetime,
    unit_if_new: int | None = None,
    units: Collection[int] | None = None,
    history_of_new: bool = True,
    sibling_ledgers: Collection[int] | None = None,
    new_only: bool = False,
) -> list[str]:
    """Store typed values of one entity (None clears one); returns the changed fields, `UNIT` if it moved.

    `org_unit_id` moves the record there; `unit_if_new` only places a record created now (a known one stays).
    A value equal to the stored one is only re-confirmed (its time refreshed). Each change leaves a
    LedgerChange row, and the write one audit entry with sensitive values masked. Shared values go on to the
    entity's sibling records, only to those in `units` when given (a filler writes into her units alone) and in
    `sibling_ledgers` when given (a department writes only into ledgers it owns or holds in full).

    The record is read locked, so writers of the same record take turns and each sees the other's values. One
    created meanwhile by another writer is written into instead, unless it is outside `units` (then nothing is
    written); with `new_only` a record already there raises KeyTaken.
    """
    fields = field_map(ledger)
    unknown = sorted(set(values) - set(fields) | ({ledger.key_field} & set(values)))
    if unknown:
        raise ValueError(f"ledger {ledger.code}: {unknown} are not value fields (the key field is the record key)")
    wanted = {name: None if value is None else to_json(fields[name], value) for name, value in values.items()}
    now = naive_utc(now)
    record = get_record(session, ledger, key, for_update=True)
    created = raced = record is None
    if record is None:
        try:
            record = _create_record(session, ledger, key, unit_if_new if org_unit_id is None else org_unit_id, now)
        except IntegrityError:  # another writer created it meanwhile: write into theirs, waiting for its lock
            record, created = get_record(session, ledger, key, for_update=True), False
    if record is None or (new_only and not created):
        raise KeyTaken(ledger.code)
    if raced and not created and units is not None and record.org_unit_id not in units:
        # another unit's writer created it meanwhile (the caller's check found no record): it is not this one's
        log.warning("ledger %s: a record another unit created meanwhile was not written", ledger.code)
        return []
    stored, times, changes = dict(record.values), dict(record.value_times), []
    for name, new in wanted.items():
        old = stored.pop(name, None)
        times.pop(name, None)
        if new is not None:
            stored[name], times[name] = new, now.isoformat()
        if old != new:
            changes.append((name, old, new))
    if org_unit_id is not None and org_unit_id != record.org_unit_id:
        changes.append((UNIT, record.org_unit_id, org_unit_id))
        record.org_unit_id = org_unit_id
    record.values, record.value_times, record.updated_at = stored, times, now
    # a record loaded with initial rows (history_of_new=False) is said by its created_at, as an import's new ones are
    session.add_all(
        LedgerChange(record_id=record.id, field_name=name, old=old, new=new, at=now, actor_id=actor_id, source=source)
        for name, old, new in changes
        if history_of_new or not created
    )
    shared_to = share_values(session, ledger, {record.key: wanted}, now, units=units, ledgers=sibling_ledgers)
    if changes:
        before = None if created else {name: _audited(fields.get(name), old) for name, old, _ in changes}
        after = {"_source": source} | {name: _audited(fields.get(name), new) for name, _, new in changes}
        after |= {"_shared_to": shared_to} if shared_to else {}
        audit.record(session, at=now, actor_id=actor_id, action="ledger_write", entity="ledger_record",
                     entity_id=record.id, old=before, new=after)  # fmt: skip
    return [name for name, _, _ in changes]


def _create_record(
    session: Session, ledger: Ledger, key: object, org_unit_id: int | None, now: datetime
) -> LedgerRecord:
    """A new empty record; IntegrityError, with only its savepoint undone, when another writer created it meanwhile.

    A missing key is not locked first (two gap locks on one missing key deadlock on MariaDB): two first writers
    race on the unique key instead, and the loser's insert waits for the winner's transaction to end.
    """
    record = LedgerRecord(ledger_id=ledger.id, key=normalize_key(ledger, key), org_unit_id=org_unit_id,
                          values={}, value_times={}, created_at=now, updated_at=now)  # fmt: skip
    with session.begin_nested():
        session.add(record)
    return record


def mark_left(
    session: Session,
    ledger: Ledger,
    record: LedgerRecord,
    reason: str | None,
    actor_id: int | None,
    source: str,
    now: datetime,
) -> bool:
    """Take a record off its unit's roster (moved away, no longer eligible); False when it had left already.

    The record and its values stay; rosters stop offering it. Leaves a LedgerChange row and an audit entry
    with the key masked; the caller masks the reason (free text) before it is stored.
    """
    if record.left_at is not None:
        return False
    now = naive_utc(now)
    record.left_at, record.left_reason, record.updated_at = now, reason, now
    _log_presence(session, ledger, record, None, {"reason": reason}, actor_id, source, now, "ledger_left")
    return True


def rejoin(
    session: Session, ledger: Ledger, record: LedgerRecord, actor_id: int | None, source: str, now: datetime
) -> bool:
    """Put a record that had left back on its unit's roster; False when it had not left."""
    if record.left_at is None:
        return False
    now = naive_utc(now)
    before = {"reason": record.left_reason}
    record.left_at, record.left_reason, record.updated_at = None, None, now
    _log_presence(session, ledger, record, before, None, actor_id, source, now, "ledger_rejoin")
    return True


def history(session: Session, ledger: Ledger, key: object, field: str | None = None) -> list[Change]:
    """Every change of the record's values (or of one field), oldest first.

    The history of a shared field is that of the entity's standard field in every sibling record, under `field`.
    """
    stored_key = normalize_key(ledger, key)
    query = (
        select(LedgerChange)
        .join(LedgerRecord, LedgerRecord.id == LedgerChange.record_id)
        .where(LedgerRecord.ledger_id == ledger.id, LedgerRecord.key == stored_key)
    )
    standard = shared_names(ledger).get(field or "")
    if field is not None:
        query = query.where(LedgerChange.field_name == field)
    if standard is not None:
        held = [
            and_(LedgerChange.record_id == sibling.id, LedgerChange.field_name == name)
            for other, sibling in _sibling_records(session, ledger, [stored_key]).get(stored_key, [])
            for name, their_standard in shared_names(other).items()
            if their_standard == standard
        ]
        if held:
            own = and_(LedgerRecord.ledger_id == ledger.id, LedgerRecord.key == stored_key,
                       LedgerChange.field_name == field)  # fmt: skip
            query = select(LedgerChange).join(LedgerRecord, LedgerRecord.id == LedgerChange.record_id)
            query = query.where(or_(own, *held))
    fields, changes = field_map(ledger), []
    for row in session.scalars(query.order_by(LedgerChange.at, LedgerChange.id)):
        name = field if standard is not None else row.field_name
        definition = fields.get(name)
        old, new = _typed(definition, row.old), _typed(definition, row.new)
        changes.append(Change(name, old, new, row.at, row.actor_id, row.source))
    return changes


def shared_names(ledger: Ledger) -> dict[str, str]:
    """Field name -> the standard field it holds, for the fields the ledger shares (none without an entity kind)."""
    if ledger.entity_kind is None:
        return {}
    return {field["name"]: field["standard"] for field in ledger.fields if field.get("standard")}


def share_values(
    session: Session,
    ledger: Ledger,
    written: Mapping[str, Mapping[str, Any]],
    now: datetime,
    *,
    units: Collection[int] | None = None,
    ledgers: Collection[int] | None = None,
    reconfirm: bool = True,
) -> list[str]:
    """Carry shared values just written (stored key -> field name -> value as stored, None for cleared) with their
    time to the entity's sibling records; returns the codes of the ledgers whose records took one.

    Only existing records, only those in `units` when given; no history row (the record written has it).
    `reconfirm` refreshes the time of an equal value too (a person confirmed it; a file does not).
    """
    names = shared_names(ledger)
    by_standard = {
        key: {names[name]: value for name, value in values.items() if name in names} for key, values in written.items()
    }
    by_standard = {key: values for key, values in by_standard.items() if values}
    if not by_standard:
        return []
    now, touched = naive_utc(now), set()
    siblings_of = _sibling_records(session, ledger, by_standard, units, ledgers, for_update=True)
    for key, siblings in siblings_of.items():
        for other, record in siblings:
            values, times = dict(record.values), dict(record.value_times)
            for name, standard in shared_names(other).items():
                if standard not in by_standard[key]:
                    continue
                value = by_standard[key][standard]
                if value is not None and not _fits(field_map(other)[name], value):
                    log.warning("ledger %s: a shared %s does not fit field %s, not carried", other.code, standard, name)
                elif value is None:
                    values.pop(name, None)
                    times.pop(name, None)
                elif values.get(name) != value or reconfirm:
                    values[name], times[name] = value, now.isoformat()
            if values != record.values or times != record.value_times:
                record.values, record.value_times, record.updated_at = values, times, now
                touched.add(other.code)
    return sorted(touched)


def _sibling_records(
    session: Session,
    ledger: Ledger,
    keys: Iterable[str],
    units: Collection[int] | None = None,
    ledgers: Collection[int] | None = None,
    *,
    for_update: bool = False,
) -> dict[str, list[tuple[Ledger, LedgerRecord]]]:
    """Stored key -> the records other ledgers of the same entity kind, sharing a standard field with this one,
    hold for that entity (in `units` when given), with their ledger: one query for the records (locked in id
    order with `for_update`)."""
    standards = set(shared_names(ledger).values())
    query = select(Ledger).where(Ledger.entity_kind == ledger.entity_kind, Ledger.id != ledger.id)
    if ledgers is not None:  # the ledgers the caller may reach (a department's own and fully shared ones)
        query = query.where(Ledger.id.in_(sorted(ledgers)))
    others = [other for other in session.scalars(query) if standards & set(shared_names(other).values())]
    keys = list(keys)
    if not others or not keys:
        return {}
    wanted = {(other.id, normalize_key(other, key)): key for other in others for key in keys}
    records = select(LedgerRecord).where(
        LedgerRecord.ledger_id.in_([other.id for other in others]),
        LedgerRecord.key.in_(sorted({stored for _, stored in wanted})),
    )
    if units is not None:
        records = records.where(LedgerRecord.org_unit_id.in_(sorted(units)))
    by_id = {other.id: other for other in others}
    found: dict[str, list[tuple[Ledger, LedgerRecord]]] = {}
    records = records.order_by(LedgerRecord.id)
    for record in session.scalars(_locked(records) if for_update else records):
        key = wanted.get((record.ledger_id, record.key))
        if key is not None:
            found.setdefault(key, []).append((by_id[record.ledger_id], record))
    return found


def values_with_shared(
    session: Session, ledger: Ledger, records: Sequence[LedgerRecord], units: Collection[int]
) -> dict[str, dict[str, Any]]:
    """Stored key -> each record's values as stored, with the shared fields it lacks taken from sibling records in
    `units` (one query for them all): what a roster offers of a person another ledger knows better."""
    return {key: values for key, (values, _) in _with_shared(session, ledger, records, units).items()}


def records_known(
    session: Session,
    ledger: Ledger,
    records: Sequence[LedgerRecord],
    now: datetime,
    units: Collection[int],
    ledgers: Collection[int] | None = None,
) -> dict[str, dict[str, KnownValue]]:
    """Stored key -> `known_values` of each record, the shared fields it lacks taken from siblings in `units` (and
    in `ledgers`, when given: those the caller may read whole)."""
    found = _with_shared(session, ledger, records, units, ledgers)
    return {key: _typed_values(ledger, values, times, now) for key, (values, times) in found.items()}


def _with_shared(
    session: Session,
    ledger: Ledger,
    records: Sequence[LedgerRecord],
    units: Collection[int],
    ledgers: Collection[int] | None = None,
) -> dict[str, tuple[dict[str, Any], dict[str, str]]]:
    """Stored key -> (values, times) of each record, with the shared fields it lacks from siblings in `units`."""
    found = {record.key: (dict(record.values), dict(record.value_times)) for record in records}
    names = shared_names(ledger)
    lacking = [record.key for record in records if any(name not in record.values for name in names)]
    if lacking:
        for key, siblings in _sibling_records(session, ledger, lacking, units, ledgers).items():
            _take_from(ledger, siblings, *found[key])
    return found


def _fill_from_siblings(
    session: Session, ledger: Ledger, key: str, units: Collection[int], values: dict[str, Any], times: dict[str, str]
) -> None:
    """Add to `values` and `times` the shared fields they lack, from the most recently confirmed sibling record."""
    if any(name not in values for name in shared_names(ledger)):
        _take_from(ledger, _sibling_records(session, ledger, [key], units).get(key, []), values, times)


def _take_from(
    ledger: Ledger, siblings: Sequence[tuple[Ledger, LedgerRecord]], values: dict[str, Any], times: dict[str, str]
) -> None:
    """Add the shared fields `values` lacks from `siblings`, the most recently confirmed value of each."""
    lacking = {standard: name for name, standard in shared_names(ledger).items() if name not in values}
    definitions = field_map(ledger)
    for other, sibling in siblings:
        for their_name, standard in shared_names(other).items():
            name, data = lacking.get(standard), sibling.values.get(their_name)
            if name is None or data is None or not _fits(definitions[name], data):
                continue
            at = sibling.value_times[their_name]
            if name not in times or datetime.fromisoformat(at) > datetime.fromisoformat(times[name]):
                values[name], times[name] = data, at


def _fits(field: Mapping[str, Any], data: Any) -> bool:
    """Does a value as stored by a sibling fit this field (a select field's choices may differ)?"""
    try:
        return to_json(field, from_json(field, data)) == data
    except (ValueError, TypeError):
        return False


def to_json(field: Mapping[str, Any], value: Any) -> Any:
    """A typed value as stored; ValueError when it does not fit the field's type or choices."""
    kind, choices = field["type"], [choice["value"] for choice in field["choices"]]
    if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
        return value
    number = isinstance(value, int | Decimal) and not isinstance(value, bool)
    if kind == "decimal" and number and Decimal(value).is_finite():
        return decimal_text(Decimal(value))
    if kind == "date" and isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if kind == "yes_no" and isinstance(value, bool):
        return value
    if kind == "select_one" and value in choices:
        return value
    if kind == "select_multiple" and isinstance(value, list | tuple | set | frozenset) and set(value) <= set(choices):
        return [choice for choice in choices if choice in value]
    if kind == "text" and isinstance(value, str) and value.strip():
        return value.strip()
    if kind == "id_number" and isinstance(value, str) and id_number_problem(value) is None:
        return normalize_id_number(value)
    if kind == "mobile" and isinstance(value, str) and mobile_problem(value) is None:
        return normalize_mobile(value)
    raise ValueError(f"field {field['name']}: {value!r} is not a valid {kind}")


def from_json(field: Mapping[str, Any], data: Any) -> Any:
    """Inverse of `to_json`."""
    if field["type"] == "decimal":
        return Decimal(data)
    if field["type"] == "date":
        return date.fromisoformat(data)
    return data


def decimal_text(number: Decimal) -> str:
    """A decimal as stored: plain notation without trailing zeros, so equal numbers compare equal."""
    text = format(number.normalize(), "f")
    return "0" if text == "-0" else text


def is_sensitive(field: Mapping[str, Any]) -> bool:
    """Is the field shown whole only to the owner and departments granted the ledger in full?

    Definitions stored before fields had a sensitivity read as the default: ID numbers and mobiles are.
    """
    return bool(field.get("sensitive", field["type"] in SENSITIVE_TYPES))


def masked_value(field: Mapping[str, Any], data: Any) -> Any:
    """A stored value of a sensitive field as others see it: 1101**********0078, 138****1234, 张**, ***."""
    if data is None or not is_sensitive(field):
        return data
    if field["type"] == "id_number":
        return mask_id_number(str(data))
    if field["type"] == "mobile":
        return mask_mobile(str(data))
    if field["type"] == "text":
        return str(data)[:1] + "*" * max(len(str(data)) - 1, 2)
    return HIDDEN


def naive_utc(moment: datetime) -> datetime:
    """A moment as the database keeps it: naive UTC (an aware time is converted)."""
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def _clean_field(raw: Mapping[str, Any]) -> dict[str, Any]:
    """One field definition with every key present; ValueError for anything malformed."""
    name, kind, days = raw.get("name"), raw.get("type"), raw.get("validity_days")
    sensitive = raw.get("sensitive", kind in SENSITIVE_TYPES)
    if set(raw) - _FIELD_KEYS or not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"field {raw!r}: needs a name (a letter, then letters, digits, _ . -) and only {_FIELD_KEYS}")
    if kind not in FIELD_TYPES:
        raise ValueError(f"field {name}: type {kind!r} is not one of {FIELD_TYPES}")
    choices = [{"value": str(c["value"]), "label": str(c.get("label") or c["value"])} for c in raw.get("choices") or ()]
    if (kind in SELECT_TYPES) != bool(choices) or len({c["value"] for c in choices}) != len(choices):
        raise ValueError(f"field {name}: select types need distinct choices, other types none")
    if days is not None and (not isinstance(days, int) or isinstance(days, bool) or not 0 < days <= MAX_VALIDITY_DAYS):
        raise ValueError(f"field {name}: validity_days must be 1 to {MAX_VALIDITY_DAYS} days, or None")
    if not isinstance(sensitive, bool):
        raise ValueError(f"field {name}: sensitive must be true or false")
    label = str(raw.get("label") or name).strip()
    clean = {
        "name": name,
        "label": label,
        "type": kind,
        "required": bool(raw.get("required", False)),
        "choices": choices,
        "validity_days": days,
        "sensitive": sensitive,
    }
    standard = raw.get("standard")
    if standard is not None:  # only when set, so definitions stored before standard fields compare equal
        if not isinstance(standard, str) or not _NAME.fullmatch(standard):
            raise ValueError(f"field {name}: standard must name a standard field of the ledger's entity kind")
        clean["standard"] = standard
    return clean


def _check_definition(key_field: str, fields: list[dict[str, Any]]) -> None:
    """Names unique, each header (label or name) naming one field, and a key field of a key type."""
    headers: dict[str, str] = {}
    for field in fields:
        for header in {field["name"], field["label"]}:
            if headers.setdefault(header, field["name"]) != field["name"] or header == UNIT_HEADER:
                raise ValueError(f"field {field['name']}: the name or label {header!r} is taken")
    key = next((field for field in fields if field["name"] == key_field), None)
    if key is None or key["type"] not in KEY_TYPES:
        raise ValueError(f"key field {key_field!r} must be one of the fields, of type {KEY_TYPES}")


def _check_standard(entity_kind: str | None, fields: list[dict[str, Any]]) -> None:
    """A field naming a standard field names one of its entity kind's, of the same type, at most once."""
    if entity_kind is not None and entity_kind not in KIND_BY_CODE:
        raise ValueError(f"entity kind {entity_kind!r} is not one of {sorted(KIND_BY_CODE)}")
    seen: set[str] = set()
    for field in fields:
        name = field.get("standard")
        if name is None:
            continue
        standard = standard_field(entity_kind, name)
        if standard is None or standard.name != name or standard.type != field["type"] or name in seen:
            raise ValueError(f"field {field['name']}: {name!r} is not a standard field of kind {entity_kind!r} "
                             f"of type {field['type']} (or is named twice)")  # fmt: skip
        seen.add(name)


def _definition(session: Session, ledger: Ledger) -> dict[str, Any]:
    """The ledger's definition as a version keeps it: title, key, board, kind, description, owner, shares, fields."""
    from ledger_store.ledger_grants import shares  # it imports this module for naive_utc

    return {
        "code": ledger.code,
        "title": ledger.title,
        "key_field": ledger.key_field,
        "board": ledger.board,
        "entity_kind": ledger.entity_kind,
        "description": ledger.description,
        "owner": ledger.owner.name if ledger.owner is not None else None,
        "shares": [[department.name, full] for department, full in shares(session, ledger)],
        "fields": [dict(field) for field in ledger.fields],
    }


def _store_version(
    session: Session,
    ledger: Ledger,
    definition: dict[str, Any],
    source: str | None,
    actor_id: int | None,
    now: datetime,
    losses: list[Loss],
) -> None:
    """Keep the ledger's current version, with where it came from and what it gave up."""
    session.add(
        LedgerVersion(
            ledger_id=ledger.id,
            version=ledger.version,
            definition={**definition, "source": source},
            created_at=now,
            created_by_id=actor_id,
            losses=[loss.to_json() for loss in losses] or None,
        )
    )


def _version_row(session: Session, ledger: Ledger) -> LedgerVersion | None:
    """The stored row of the ledger's current version, if there is one."""
    query = select(LedgerVersion).where(LedgerVersion.ledger_id == ledger.id, LedgerVersion.version == ledger.version)
    return session.scalar(query)


def _record_count(session: Session, ledger: Ledger) -> int:
    """How many records the ledger holds (those that left their roster too)."""
    return session.scalar(select(func.count()).select_from(LedgerRecord).where(LedgerRecord.ledger_id == ledger.id))


def _record_values(session: Session, ledger: Ledger) -> Iterable[LedgerRecord]:
    """The ledger's records, read 500 at a time by id, so a large ledger does not fill memory."""
    last = 0
    while True:
        query = (
            select(LedgerRecord)
            .where(LedgerRecord.ledger_id == ledger.id, LedgerRecord.id > last)
            .order_by(LedgerRecord.id)
            .limit(500)
        )
        chunk = list(session.scalars(query))
        yield from chunk
        if len(chunk) < 500:
            return
        last = chunk[-1].id


def _losses(session: Session, ledger: Ledger, fields: list[dict[str, Any]]) -> list[Loss]:
    """The fields of the stored definition the new one drops or retypes that hold values in some record."""
    new_types = {field["name"]: field["type"] for field in fields}
    changed = {
        field["name"]: (field["label"], "dropped" if field["name"] not in new_types else "retyped")
        for field in ledger.fields
        if new_types.get(field["name"]) != field["type"]
    }
    if not changed:
        return []
    held = dict.fromkeys(changed, 0)
    for record in _record_values(session, ledger):
        for name in changed.keys() & record.values.keys():
            held[name] += 1
    return [Loss(name, label, change, held[name]) for name, (label, change) in changed.items() if held[name]]


def _clear(
    session: Session, ledger: Ledger, names: list[str], actor_id: int | None, source: str, now: datetime
) -> None:
    """Remove the values of these fields from every record, each removal kept in the record's history."""
    if not names:
        return
    for record in _record_values(session, ledger):
        lost = [name for name in names if name in record.values]
        if not lost:
            continue
        session.add_all(
            LedgerChange(record_id=record.id, field_name=name, old=record.values[name], new=None, at=now,
                         actor_id=actor_id, source=source)
            for name in lost
        )  # fmt: skip
        record.values = {name: value for name, value in record.values.items() if name not in lost}
        record.value_times = {name: value for name, value in record.value_times.items() if name not in lost}
        record.updated_at = now


def _log_presence(
    session: Session,
    ledger: Ledger,
    record: LedgerRecord,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    actor_id: int | None,
    source: str,
    now: datetime,
    action: str,
) -> None:
    """The history row and the audit entry of a record leaving its roster or coming back."""
    session.add(LedgerChange(record_id=record.id, field_name=LEFT, old=old, new=new, at=now, actor_id=actor_id,
                             source=source))  # fmt: skip
    key = _audited(field_map(ledger)[ledger.key_field], record.key)
    audit.record(session, at=now, actor_id=actor_id, action=action, entity="ledger_record", entity_id=record.id,
                 old=old, new={"_source": source, "ledger": ledger.code, "key": key, **(new or {})})  # fmt: skip


def _audited(field: Mapping[str, Any] | None, data: Any) -> Any:
    """A value for the audit log: sensitive fields masked (the entry itself masks any other personal number)."""
    return data if field is None else masked_value(field, data)


def _typed(field: Mapping[str, Any] | None, data: Any) -> Any:
    """A stored value read back typed; the unit pseudo-field and removed fields come back as stored."""
    return data if data is None or field is None else from_json(field, data)
