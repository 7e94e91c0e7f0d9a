"""Whose ledger records a filler sees and writes: those of her assignment's unit and the units below it.

A record belongs to the unit in its `org_unit_id`. A key the filler types (a form's key question, a roster row,
a row of the roster workbook) that names a record of any other unit is refused with a sentence that reveals
nothing but that fact, and nothing is shown or written; a record no unit holds yet is refused the same way, so
it cannot become a way to read someone's data. Moving a record between units is /迁移 (handlers.commands.transfer).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from handlers.core.context import Context
from handlers.texts import record_scope as t
from ledger_store.ledgers import field_map, find_records, get_record, normalize_key
from ledger_store.models import Assignment, Ledger, LedgerRecord
from ledger_store.org import subtree_ids


class Standing(StrEnum):
    """Where a record stands for one filler."""

    NEW = "new"  # no record yet: a new one joins the filler's unit
    OWN = "own"  # a record of her unit or of a unit below it
    LEFT = "left"  # one of hers that left the roster; adding it again brings it back
    ELSEWHERE = "elsewhere"  # another unit's: never shown, never written
    UNPLACED = "unplaced"  # no unit holds it yet: nobody's until the town places it


REFUSED = frozenset({Standing.ELSEWHERE, Standing.UNPLACED})


def units_of(ctx: Context, assignment: Assignment) -> frozenset[int]:
    """The units whose records the assignment's filler may see and write."""
    return frozenset(subtree_ids(ctx.session, assignment.org_unit_id))


def standing_of(record: LedgerRecord | None, units: frozenset[int]) -> Standing:
    """Where a record (None: not in the ledger) stands for a filler of `units`."""
    if record is None:
        return Standing.NEW
    if record.org_unit_id is None:
        return Standing.UNPLACED
    if record.org_unit_id not in units:
        return Standing.ELSEWHERE
    return Standing.OWN if record.left_at is None else Standing.LEFT


def key_standing(ctx: Context, ledger: Ledger, key: object, units: frozenset[int]) -> Standing:
    """Where the record with this key stands for a filler of `units`."""
    return standing_of(get_record(ctx.session, ledger, key), units)


def refusal(ledger: Ledger, standing: Standing) -> str | None:
    """The sentence refusing a key of this standing, or None when the filler may use it."""
    label = field_map(ledger)[ledger.key_field]["label"]
    if standing == Standing.ELSEWHERE:
        return t.elsewhere(label)
    if standing == Standing.UNPLACED:
        return t.unplaced(label)
    return None


def refused_keys(ctx: Context, ledger: Ledger, keys: Iterable[object], units: frozenset[int]) -> dict[str, str]:
    """Key as given -> the sentence refusing it, for each key naming a record the filler may not use."""
    keys = list(keys)
    found = find_records(ctx.session, ledger, keys)
    refused = {}
    for key in keys:
        sentence = refusal(ledger, standing_of(found.get(normalize_key(ledger, key)), units))
        if sentence is not None:
            refused[str(key)] = sentence
    return refused
