"""Signing in to the dashboard with a one-time link, who is signed in, and the CSRF token every form carries."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException

from bot.runtime import Runtime
from ledger_store.db import transaction
from ledger_store.login_links import redeem_link
from ledger_store.models import Person

blueprint = Blueprint("dashboard_auth", __name__, template_folder="templates")


def runtime() -> Runtime:
    """The running bot the app was built around."""
    return current_app.extensions["runtime"]


@blueprint.get("/dashboard/login")
def confirm():
    """The link from chat: a page with one button, so a link preview fetching the URL does not use it up."""
    token = request.args.get("t", "")
    if not token:
        return render_template("dashboard/link_spent.html"), 410
    return render_template("dashboard/login.html", token=token)


@blueprint.post("/dashboard/login")
def sign_in():
    """Use the link once: a fresh, unused one opens a session; any other gets the page saying what to do."""
    bot = runtime()
    with transaction(bot.factory) as db:
        person_id = redeem_link(db, request.form.get("t", ""), bot.engine.now())
    if person_id is None:
        return render_template("dashboard/link_spent.html"), 410
    session.clear()
    session.permanent = True
    session.update(person=person_id, since=bot.engine.now().isoformat(), csrf=secrets.token_urlsafe(32))
    return redirect(url_for("dashboard.tasks"), 303)


@blueprint.post("/dashboard/logout")
def sign_out():
    """End the session (a form with the CSRF token, like every POST)."""
    check_csrf()
    session.clear()
    return render_template("dashboard/signed_out.html")


def signed_in(db) -> Person | None:
    """The person whose session this is, while the session is young enough and the person still active."""
    person_id, since = session.get("person"), session.get("since")
    if person_id is None or since is None:
        return None
    bot = runtime()
    hours = bot.config.web.session_hours
    if bot.engine.now() >= datetime.fromisoformat(since) + timedelta(hours=hours):
        session.clear()
        return None
    person = db.get(Person, person_id)
    return person if person is not None and person.active else None


def csrf_token() -> str:
    """The session's CSRF token, for the hidden field of every form."""
    return session.get("csrf", "")


def check_csrf() -> None:
    """Refuse (400) a POST whose form token is missing or not the session's own."""
    expected, given = session.get("csrf", ""), request.form.get("csrf", "")
    if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
        abort(400)


ERRORS = {
    400: ("请求已失效", "页面可能已过期，请返回任务列表刷新后再试。"),
    404: ("没有找到", "没有这个任务，或者您无权查看。"),
}


def error_page(error: HTTPException):
    """The dashboard's own short Chinese page for a refused form (400) or a task not found (404)."""
    heading, advice = ERRORS[error.code]
    return render_template("dashboard/error.html", heading=heading, advice=advice), error.code


for code in ERRORS:
    blueprint.register_error_handler(code, error_page)


@blueprint.app_context_processor
def form_helpers() -> dict:
    """Templates may call csrf_token() in every form."""
    return {"csrf_token": csrf_token}
