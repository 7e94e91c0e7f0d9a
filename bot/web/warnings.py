"""The dashboard's 预警 page: the department's rules with the records each found (masked), a form to define one as
/预警 does in chat, and a button to remove one. An admin sees every department's rules."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from bot.web.auth import ERRORS, check_csrf, error_page
from bot.web.pages import need_login, visit
from handlers.commands import warning_rules
from handlers.commands.ledgers import readable_titles
from handlers.core.masking import mask_sensitive
from ledger_store.models import Ledger

blueprint = Blueprint("dashboard_warnings", __name__, template_folder="templates")
HITS_SHOWN = 50  # latest records listed per rule; the count above the list says how many in all
for code in ERRORS:
    blueprint.register_error_handler(code, error_page)


@blueprint.get("/dashboard/warnings")
def warnings():
    """The rules the person sees, each with its latest hits, and the form to define one."""
    with visit() as (ctx, person):
        if person is None:
            return need_login()
        allowed = warning_rules.may_manage(person)
        rules = [
            {"view": view, "conditions": mask_sensitive(view.rule.conditions),
             # A rule that no longer reads (a share withdrawn, a field dropped) shows its count, not its records.
             "hits": [] if view.problem else warning_rules.hit_rows(ctx, person, view.rule, HITS_SHOWN)}
            for view in (warning_rules.rules_seen_by(ctx, person) if allowed else [])
        ]  # fmt: skip
        ledgers = list(ctx.session.scalars(select(Ledger).order_by(Ledger.id)))
        titles = readable_titles(ctx, person, ledgers) if allowed and person.department_id is not None else []
        return render_template("dashboard/warnings.html", person=person, allowed=allowed, rules=rules, titles=titles)


@blueprint.post("/dashboard/warnings")
def define():
    """The form: the chat's /预警 台账 条件 …; its answer (the rule set, or what is wrong) is shown on the page."""
    with visit(write=True) as (ctx, person):
        if person is None:
            return need_login()
        check_csrf()
        if not warning_rules.may_manage(person):
            abort(404)
        typed = f"{request.form.get('ledger', '')} {request.form.get('conditions', '')}"
        _, reply = warning_rules.define(ctx, person, typed)
        flash(mask_sensitive(reply))
    return redirect(url_for("dashboard_warnings.warnings"), 303)


@blueprint.post("/dashboard/warnings/<int:rule_id>/delete")
def delete(rule_id: int):
    """Remove a rule the person sees (audited); any other answers 404, so its existence is not given away."""
    with visit(write=True) as (ctx, person):
        if person is None:
            return need_login()
        check_csrf()
        if warning_rules.visible_rule(ctx, person, rule_id) is None:
            abort(404)
        flash(warning_rules.remove(ctx, person, str(rule_id)))
    return redirect(url_for("dashboard_warnings.warnings"), 303)
