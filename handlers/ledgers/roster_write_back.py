"""What a finished roster leaves behind: its rows stored with the submission, its burden figures, its ledger records.

The rows live in `Conversation.rosters[repeat]["rows"]` (see handlers.conversation.roster), each with a status.

Rows still on the list are written to their records; a row the ledger offered and the filler removed marks its
record as left the unit (with her reason), so the next period's roster does not offer it again; a record that
had left and is added back returns. Only records of the filler's own unit are touched (handlers.ledgers.record_scope).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from handlers.core.context import Context
from handlers.forms.answers import from_json
from handlers.forms.fields import Field
from handlers.ledgers import record_scope
from handlers.ledgers.links import links_of, roster_key_link
from handlers.ledgers.prefill import storable
from handlers.ledgers.record_scope import Standing
from handlers.texts import prefill as pt
from ledger_store.ledgers import find_records, mark_left, normalize_key, rejoin, write_values
from ledger_store.models import Conversation, RosterRow

log = logging.getLogger(__name__)

# What the filler did to a row: not looked at yet, confirmed, changed, added, taken off the list.
PENDING, KEPT, CHANGED, ADDED, REMOVED = "pending", "kept", "changed", "added", "removed"


def submitted_rows(conversation: Conversation) -> list[RosterRow]:
    """Every row of every roster as it is submitted, removed rows included (the detail sheet shows them)."""
    rows = []
    for repeat, data in (conversation.rosters or {}).items():
        for position, row in enumerate(data["rows"], start=1):
            status = KEPT if row["status"] == PENDING else row["status"]
            rows.append(RosterRow(repeat=repeat, position=position, status=status, values=dict(row["values"])))
    return rows


def burden(conversation: Conversation) -> tuple[int, int, int]:
    """(asked, prefilled, confirmed) for the rosters, a row counting as one item."""
    asked = prefilled = confirmed = 0
    for data in (conversation.rosters or {}).values():
        for row in data["rows"]:
            prefilled += row["origin"] is not None
            confirmed += row["status"] in (KEPT, PENDING)
            asked += row["status"] in (CHANGED, ADDED)
    return asked, prefilled, confirmed


def write_back(ctx: Context, person_id: int, conversation: Conversation, fields: Sequence[Field]) -> None:
    """Store every row still on a linked roster in its ledger record; a removed row marks its record as left."""
    unit_id = conversation.assignment.org_unit_id
    units = record_scope.units_of(ctx, conversation.assignment)
    task = conversation.assignment.task
    source = pt.write_back_source(task.id, task.title)
    for repeat, data in (conversation.rosters or {}).items():
        key = roster_key_link(ctx.session, fields, repeat)
        if key is None:
            continue
        ledger, name = key.ledger, key.field.name
        links = [link for link in links_of(ctx.session, fields) if link.field.repeat == repeat and not link.is_key]
        # a removed row names the record the ledger offered (its key may have been edited before); one added and
        # removed again says nothing of the ledger
        named = [(row, row["origin"] if row["status"] == REMOVED else row["values"]) for row in data["rows"]]
        rows = [(row, values[name]) for row, values in named if values is not None and name in values]
        # locked and written in key order, so two submissions writing the same records take turns, never deadlock
        rows.sort(key=lambda item: normalize_key(ledger, item[1]))
        records = find_records(ctx.session, ledger, [record_key for _, record_key in rows], for_update=True)
        for row, record_key in rows:
            record = records.get(normalize_key(ledger, record_key))
            standing = record_scope.standing_of(record, units)
            if standing in record_scope.REFUSED:
                # submit takes such rows off first; this keeps any other way from writing into another unit's record
                log.warning("task %s: a %s record outside unit %s was not written", task.id, ledger.code, unit_id)
            elif row["status"] == REMOVED:
                if record is not None:
                    mark_left(ctx.session, ledger, record, row.get("reason"), person_id, source, ctx.now())
            else:
                typed = {
                    link.ledger_field["name"]: from_json(link.field, row["values"][link.field.name])
                    for link in links
                    if link.field.name in row["values"]
                }
                # a record of the unit (or a unit below it) stays where it is; a new one joins this unit
                write_values(ctx.session, ledger, record_key, None, storable(ledger, typed), person_id, source,
                             ctx.now(), unit_if_new=unit_id, units=units)  # fmt: skip
                if record is not None and standing == Standing.LEFT:
                    rejoin(ctx.session, ledger, record, person_id, source, ctx.now())
