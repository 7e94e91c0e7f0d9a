"""What /发布 says of the ledgers: offer 直接生成 when they answer every unit whole, else say what fillers are spared.

A form the ledgers answer whole for every target unit is not issued at once: the parsed command waits in
ChatFocus.pending (kind "take") and the issuer's next message decides (handlers.commands.take.answer_pending).
A form they answer in part is issued at once; the fillers confirm the fresh values in one go (the prefill) and are
asked the missing and stale ones, and the issuer is told how many that is.
"""

from __future__ import annotations

from typing import Any

from handlers.conversation import machine
from handlers.core.context import Context
from handlers.forms.registry import fields_of
from handlers.ledgers.coverage import Coverage, coverage
from handlers.ledgers.links import links_of
from handlers.texts import take as t
from ledger_store.models import Department, FormVersion, OrgUnit, Person

PENDING_KIND = "take"


def covered_units(
    ctx: Context, version: FormVersion, units: list[OrgUnit], department: Department | None
) -> list[Coverage]:
    """Each unit's coverage of the form for the department; empty when the form is linked to no ledger."""
    fields = fields_of(version)
    if not links_of(ctx.session, fields):
        return []
    return coverage(ctx, fields, units, department)


def offer(
    ctx: Context,
    person: Person,
    department: Department,
    version: FormVersion,
    found: list[Coverage],
    pending: dict[str, Any],
) -> list[str] | None:
    """Ask 直接生成 or 下发 when the ledgers answer every unit whole (keeping the command); None otherwise."""
    if not found or not all(unit.full and unit.questions for unit in found):
        return None
    machine.focus_of(ctx, person).pending = {**pending, "kind": PENDING_KIND}
    return [t.fully_covered(version.form.title, max(len(unit.questions) for unit in found), len(found))]


def spared_note(found: list[Coverage]) -> str | None:
    """The line after 已发布 saying how many questions the ledgers answer; None when they answer none."""
    counts = [len(unit.covered) for unit in found]
    if not counts or not max(counts):
        return None
    return t.partly_covered(max(len(unit.questions) for unit in found), min(counts), max(counts))
