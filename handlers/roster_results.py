"""What a finished roster leaves behind: its rows stored with the submission, its burden figures, its ledger records."""

from __future__ import annotations

from collections.abc import Sequence

from handlers.context import Context
from handlers.forms.answers import from_json
from handlers.forms.fields import Field
from handlers.ledger_links import links_of
from handlers.prefill import storable
from handlers.roster import ADDED, CHANGED, KEPT, PENDING, REMOVED, key_link
from handlers.texts import prefill as pt
from ledger_store.ledgers import write_values
from ledger_store.models import Conversation, RosterRow


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
    """Store every row still on a linked roster in its ledger record; a removed row leaves its record alone."""
    unit_id = conversation.assignment.org_unit_id
    task = conversation.assignment.task
    source = pt.write_back_source(task.id, task.title)
    for repeat, data in (conversation.rosters or {}).items():
        key = key_link(ctx, fields, repeat)
        if key is None:
            continue
        links = [link for link in links_of(ctx.session, fields) if link.field.repeat == repeat and not link.is_key]
        for row in data["rows"]:
            if row["status"] == REMOVED or key.field.name not in row["values"]:
                continue
            record_key = row["values"][key.field.name]
            typed = {
                link.ledger_field["name"]: from_json(link.field, row["values"][link.field.name])
                for link in links
                if link.field.name in row["values"]
            }
            values = storable(key.ledger, typed)
            # a person already on the ledger keeps their unit; a new one joins this unit
            write_values(ctx.session, key.ledger, record_key, None, values, person_id, source, ctx.now(),
                         unit_if_new=unit_id)  # fmt: skip
