"""Coverage (取数): which questions of a form the ledgers already answer, within their validity, for one unit.

A question is covered for a unit when it is linked to a ledger (save_to) and the ledger holds a fresh value:
- outside a roster, linked to a unit ledger (村社区基本情况台账): the unit's own record;
- in a roster whose key question is linked to a ledger (残疾人台账.身份证号): the unit's records on that roster
  (its own and those of the units below it, as the roster offers them). A column is covered when every record
  holds it fresh and in a form the question takes; the key column when the unit has at least one record. A unit
  with no record is asked: an empty roster cannot tell "nobody" from "not recorded yet".
A question linked to no ledger (填报人手机号), or to a record the form names by an answer (one person's ID number),
is never covered. A question the covered answers make irrelevant (skip logic) is not counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from handlers.core.context import Context
from handlers.forms.answers import limits_problem, to_json
from handlers.forms.fields import Field
from handlers.forms.form_state import is_askable, refresh
from handlers.ledgers.access import whole_ledger_ids
from handlers.ledgers.links import Link, links_of, to_form_value
from ledger_store.ledgers import known_values, records_in_units, records_known
from ledger_store.models import Department, OrgUnit
from ledger_store.org import subtree_ids

MAX_ROSTER_ROWS = 1000  # as many records as a roster takes from a ledger


@dataclass(frozen=True)
class Taken:
    """One answer the ledgers hold: as stored in a submission, the ledger it came from, when it was confirmed."""

    stored: Any
    ledger_code: str
    as_of: datetime


@dataclass(frozen=True)
class RosterTaken:
    """A whole roster the ledgers hold: every row's answers as stored, the ledger, its oldest confirmation."""

    rows: list[dict[str, Any]]
    ledger_code: str
    as_of: datetime


@dataclass(frozen=True)
class Coverage:
    """What the ledgers know of one unit's answers to a form."""

    unit: OrgUnit
    questions: tuple[str, ...]  # the questions counted, by field name
    covered: frozenset[str]
    answers: dict[str, Taken]  # the covered questions outside rosters
    rosters: dict[str, RosterTaken]  # the rosters covered whole

    @property
    def full(self) -> bool:
        """Do the ledgers answer every question?"""
        return len(self.covered) == len(self.questions)


def unit_coverage(ctx: Context, fields: Sequence[Field], unit: OrgUnit, reach: frozenset[int]) -> Coverage:
    """The questions of `fields` the ledgers answer fresh for `unit`, and those answers; a shared field is taken
    from another ledger only among those in `reach` (the ledgers the department holds whole)."""
    links = links_of(ctx.session, fields)
    answers = _unit_answers(ctx, [link for link in links if link.key_source is None and not link.field.repeat], unit)
    state = refresh(fields, {name: taken.stored for name, taken in answers.items()}, [], ctx.local_now().date())
    linked = {link.field.name for link in links}
    # an optional question no ledger holds (备注) is left blank rather than asked: it does not stand in the way
    questions = tuple(
        f.name for f in fields if is_askable(f) and f.name not in state.irrelevant and (f.required or f.name in linked)
    )
    covered = set(answers) & set(questions)
    rosters = {}
    for repeat in dict.fromkeys(f.repeat for f in fields if f.repeat and f.name in questions):
        columns = [f.name for f in fields if f.repeat == repeat and f.name in questions]
        found, known = _roster(ctx, links, repeat, columns, unit, reach)
        covered |= known
        if found is not None and known >= set(columns):
            rosters[repeat] = found
    return Coverage(unit, questions, frozenset(covered), answers, rosters)


def coverage(
    ctx: Context, fields: Sequence[Field], units: Sequence[OrgUnit], department: Department | None
) -> list[Coverage]:
    """Each unit's coverage for the department asking, in the order given."""
    reach = whole_ledger_ids(ctx.session, department)
    return [unit_coverage(ctx, fields, unit, reach) for unit in units]


def _takes(link: Link, value: Any) -> Any:
    """The answer a ledger value gives the linked question, as stored; None when the question cannot take it."""
    answer = to_form_value(link, value)
    if answer is None or limits_problem(link.field, answer) is not None:
        return None
    return to_json(link.field, answer)


def _unit_answers(ctx: Context, links: list[Link], unit: OrgUnit) -> dict[str, Taken]:
    """Question name -> the fresh value of the unit's own record in a unit ledger, for the askable questions."""
    taken: dict[str, Taken] = {}
    known_by_ledger: dict[int, dict[str, Any]] = {}
    for link in links:
        if not is_askable(link.field):
            continue
        if link.ledger.id not in known_by_ledger:
            known_by_ledger[link.ledger.id] = known_values(ctx.session, link.ledger, unit.name, ctx.now())
        found = known_by_ledger[link.ledger.id].get(link.ledger_field["name"])
        stored = None if found is None or not found.fresh else _takes(link, found.value)
        if stored is not None:
            taken[link.field.name] = Taken(stored, link.ledger.code, found.confirmed_at)
    return taken


def _roster(
    ctx: Context, links: list[Link], repeat: str, columns: list[str], unit: OrgUnit, reach: frozenset[int]
) -> tuple[RosterTaken | None, set[str]]:
    """The unit's roster rows from its ledger records, if every column is known; and the columns known fresh."""
    key = next((link for link in links if link.field.repeat == repeat and link.is_key), None)
    if key is None or key.field.name not in columns:
        return None, set()
    units = subtree_ids(ctx.session, unit.id)
    records = records_in_units(ctx.session, key.ledger, units, MAX_ROSTER_ROWS)
    if not records:
        return None, set()
    own = {link.field.name: link for link in links if link.field.repeat == repeat and link.key_source == key.field.name}
    rows = [{key.field.name: to_json(key.field, record.key)} for record in records]
    known = {key.field.name}
    times = [record.created_at for record in records]
    # as the roster offers them: a shared field another ledger holds for the person counts (from these units only)
    known_by_key = records_known(ctx.session, key.ledger, records, ctx.now(), units, reach)
    stored_values = [known_by_key[record.key] for record in records]
    for name in columns:
        link = own.get(name)
        if link is None or link.is_key:
            continue
        values, confirmed = [], []
        for known_values_of_record in stored_values:
            found = known_values_of_record.get(link.ledger_field["name"])
            stored = None if found is None or not found.fresh else _takes(link, found.value)
            if stored is None:
                break
            values.append(stored)
            confirmed.append(found.confirmed_at)
        else:
            known.add(name)
            times += confirmed
            for row, stored in zip(rows, values, strict=True):
                row[name] = stored
    whole = known >= set(columns)
    return (RosterTaken(rows, key.ledger.code, min(times)) if whole else None), known
