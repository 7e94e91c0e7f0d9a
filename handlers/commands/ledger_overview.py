"""/台账: the ledgers a person can read, by board, each with its owner, its records in the person's scope and how
many of their values are past their validity (stale: to be checked again).

Who sees what: an admin every ledger, over the whole district; an issuer the ledgers her department owns or was
granted, over her department's scope (as /查询); a reviewer or filler the ledgers holding records of her unit and
the units below it, counted there. Records that left their unit are not counted.
"""

from __future__ import annotations

from sqlalchemy import select

from handlers.commands.scope import Scope, data_scope
from handlers.core.context import Context
from handlers.ledgers.access import department_access
from handlers.ledgers.freshness import scope_counts
from handlers.texts import ledger_define as t
from ledger_store.ledger_kinds import BOARDS
from ledger_store.models import Ledger, Person, Role
from ledger_store.org import subtree_ids

OTHER_BOARD = "其他"


def overview(ctx: Context, person: Person, args: str) -> list[str]:
    """/台账: the readable ledgers by board, with counts in the asker's scope."""
    ledgers = list(ctx.session.scalars(select(Ledger).order_by(Ledger.id)))
    if person.has_role(Role.ADMIN):
        scope: Scope | str = Scope(None)
        readable = ledgers
    elif person.has_role(Role.ISSUER):
        scope = data_scope(ctx, person)
        readable = [ledger for ledger in ledgers if department_access(ctx.session, person.department, ledger)]
    elif person.org_unit_id is not None:
        scope = Scope(subtree_ids(ctx.session, person.org_unit_id), person.org_unit.name)
        readable = ledgers
    else:
        scope, readable = Scope(set()), []
    if isinstance(scope, str):
        return [scope]
    by_board: dict[str, list[str]] = {}
    now = ctx.now()
    for ledger in readable:
        records, stale = scope_counts(ctx.session, ledger, scope.unit_ids, now)
        if not records and not (person.has_role(Role.ADMIN) or person.has_role(Role.ISSUER)):
            continue  # a filler or reviewer sees the ledgers that hold her units' records
        owner = ledger.owner.name if ledger.owner is not None else None
        by_board.setdefault(ledger.board or OTHER_BOARD, []).append(
            t.overview_line(ledger.title, owner, records, stale)
        )
    if not by_board:
        return [t.NO_LEDGERS]
    lines = []
    for board in (*BOARDS, OTHER_BOARD):
        if board in by_board:
            lines += [t.board_heading(board), *by_board[board]]
    return [t.overview(lines, scope.unit)]
