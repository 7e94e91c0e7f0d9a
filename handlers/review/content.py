"""A submission's canonical content and its SHA-256 digest: what an approval signs.

The content is built from the stored submission alone, so anyone holding the database, or the JSON kept with
each review step, can compute it again. It is one JSON object:

    {"task": 12, "unit": "永川区/朱沱镇/松林村",
     "answers": {"households": 2, "amount": "15000.5", "home_visits_done": true, ...},
     "rosters": {"members": [{"status": "kept", "values": {...}}, ...]}}

`answers` holds every answered field by its name (unanswered ones are left out): whole-number questions as JSON
integers; decimals and calculated numbers as strings, rounded to the 4 places the database keeps (half away from
zero) and written without exponent or trailing zeros ("15000", "0.5"); dates as "2024-11-30"; yes/no as true or
false; a multiple choice as the list of its option values; everything else as the text stored. `rosters` holds
each roster's rows in their order, each with its status and its values as stored. The bytes are

    json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")

and the digest is the hexadecimal SHA-256 of those bytes. `python -m bot verify-digest` does it for a task.
"""

from __future__ import annotations

import hashlib
import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from handlers.forms.answers import to_json
from handlers.forms.registry import fields_of
from handlers.tasks.submissions import answer_value
from ledger_store.models import Assignment, Submission
from ledger_store.org import unit_path

# Answers.number_value is NUMERIC(20, 4): a number is signed as the database gives it back, so the content computed
# at 提交 (from the values in memory) and any later recomputation (from the stored rows) agree.
STORED_PLACES = Decimal("0.0001")


def canonical(assignment: Assignment, submission: Submission) -> dict[str, Any]:
    """The content an approval signs: task, unit, answers (as stored) and roster rows, in a fixed shape."""
    fields = {field.name: field for field in fields_of(assignment.task.form_version)}
    answers = {
        row.field_name: to_json(fields[row.field_name], as_stored(answer_value(fields[row.field_name], row)))
        for row in submission.answers
        if row.field_name in fields and answer_value(fields[row.field_name], row) is not None
    }
    rosters: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(submission.roster_rows, key=lambda r: (r.repeat, r.position)):
        rosters.setdefault(row.repeat, []).append({"status": row.status, "values": dict(row.values)})
    return {"task": assignment.task_id, "unit": unit_path(assignment.org_unit), "answers": answers, "rosters": rosters}


def as_stored(value: object) -> object:
    """A decimal as the answers table keeps it (4 places), without exponent or trailing zeros; others unchanged."""
    if not isinstance(value, Decimal):
        return value
    kept = value.quantize(STORED_PLACES, rounding=ROUND_HALF_UP)
    return Decimal(int(kept)) if kept == kept.to_integral_value() else kept.normalize()


def canonical_bytes(content: dict[str, Any]) -> bytes:
    """The bytes the digest is taken of."""
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def digest(content: dict[str, Any]) -> str:
    """The hexadecimal SHA-256 of the canonical content."""
    return hashlib.sha256(canonical_bytes(content)).hexdigest()


def changed_fields(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    """Field names whose answer differs between two contents (a roster counts under its repeat name)."""
    if before is None:
        return []
    old, new = before.get("answers", {}), after.get("answers", {})
    names = [name for name in sorted({*old, *new}) if old.get(name) != new.get(name)]
    old_rosters, new_rosters = before.get("rosters", {}), after.get("rosters", {})
    names += [
        repeat for repeat in sorted({*old_rosters, *new_rosters}) if old_rosters.get(repeat) != new_rosters.get(repeat)
    ]
    return names
