"""A submission's canonical content and its SHA-256 digest: what an approval signs.

The content is built from the stored submission alone (task number, the unit's path, every answer as stored,
every roster row), so anyone holding the database, or the JSON kept with each review step, can compute it again:

    json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")

and the digest is the hexadecimal SHA-256 of those bytes. `python -m bot verify-digest` does it for a task.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from handlers.forms.answers import to_json
from handlers.forms.registry import fields_of
from handlers.tasks.submissions import answer_value
from ledger_store.models import Assignment, Submission
from ledger_store.org import unit_path


def canonical(assignment: Assignment, submission: Submission) -> dict[str, Any]:
    """The content an approval signs: task, unit, answers (as stored) and roster rows, in a fixed shape."""
    fields = {field.name: field for field in fields_of(assignment.task.form_version)}
    answers = {
        row.field_name: to_json(fields[row.field_name], answer_value(fields[row.field_name], row))
        for row in submission.answers
        if row.field_name in fields and answer_value(fields[row.field_name], row) is not None
    }
    rosters: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(submission.roster_rows, key=lambda r: (r.repeat, r.position)):
        rosters.setdefault(row.repeat, []).append({"status": row.status, "values": dict(row.values)})
    return {"task": assignment.task_id, "unit": unit_path(assignment.org_unit), "answers": answers, "rosters": rosters}


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
