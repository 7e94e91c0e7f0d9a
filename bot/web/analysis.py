"""The analysis page (分析): high-frequency matters of event ledgers and flagged jumps, read-only, within scope."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from bot.web.auth import ERRORS, error_page
from bot.web.pages import need_login, visit
from handlers.commands import analysis
from handlers.commands.table import may_use
from handlers.texts import analysis as analysis_texts
from ledger_store.models import Person

blueprint = Blueprint("dashboard_analysis", __name__, template_folder="templates")
for code in ERRORS:
    blueprint.register_error_handler(code, error_page)


@blueprint.get("/dashboard/analysis")
def page():
    """Every readable event ledger; with ?ledger=<code> one ledger, with ?board= one board's event ledgers."""
    ledger_code, board = request.args.get("ledger") or None, request.args.get("board") or None
    # Records written since the scheduler's last run are counted now, in a short write transaction (the page itself
    # only reads, so as not to hold SQLite's one write lock while it builds).
    with visit(write=True) as (ctx, person):
        refused = _refused(person, ledger_code or board)
        if refused is not None:
            return refused
        analysis.refresh_rollups(ctx, person, ledger_code=ledger_code, board=board)
    with visit() as (ctx, person):
        refused = _refused(person, ledger_code or board)
        if refused is not None:
            return refused
        found = analysis.analyse(ctx, person, ledger_code=ledger_code, board=board, refresh=False)
        if found is None:
            abort(404)
        if isinstance(found, str):
            return render_template("dashboard/analysis.html", person=person, allowed=True, found=None, note=found)
        return render_template(
            "dashboard/analysis.html",
            person=person,
            allowed=True,
            found=found,
            rule=analysis_texts.RULE,
            number=analysis_texts.number,
        )


def _refused(person: Person | None, named: str | None):
    """The page for someone who may not see the analysis (nobody signed in, a filler, a reviewer), else None."""
    if person is None:
        return need_login()
    if not may_use(person, "分析"):
        if named:
            abort(404)
        return render_template("dashboard/analysis.html", person=person, allowed=False, found=None)
    return None
