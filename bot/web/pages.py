"""The dashboard's pages: the department's tasks, one task's progress as the org tree, its downloads and 催报."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for

from bot.web.auth import ERRORS, check_csrf, error_page, runtime, signed_in
from bot.web.downloads import progress_csv
from handlers.commands import task_view
from handlers.core.context import Context
from ledger_store.db import transaction
from ledger_store.models import Person, ReportTask

blueprint = Blueprint("dashboard", __name__, template_folder="templates")
PAGE_ROWS = 200
for code in ERRORS:
    blueprint.register_error_handler(code, error_page)


@contextmanager
def visit(write: bool = False) -> Iterator[tuple[Context, Person | None]]:
    """One request's session (a write transaction only for a form that changes something: a page that only reads
    must not hold SQLite's one write lock while it builds), its handler context, and who is signed in (None: nobody)."""
    bot = runtime()
    with transaction(bot.factory) if write else bot.factory() as db:
        yield bot.engine.context(db), signed_in(db)


def need_login():
    """What someone not signed in gets on every page: the way in is /看板 in chat."""
    return render_template("dashboard/need_login.html"), 401


def task_or_404(ctx: Context, person: Person, task_id: int) -> ReportTask:
    """The task if the person may see it; 404 otherwise, so a task's existence is not given away."""
    task = task_view.visible_task(ctx, person, task_id)
    if task is None:
        abort(404)
    return task


@blueprint.get("/dashboard/")
def tasks():
    """The department's tasks with their units counted by state."""
    with visit() as (ctx, person):
        if person is None:
            return need_login()
        rows, allowed = task_view.task_list(ctx, person), task_view.may_view(person)
        states = task_view.STATES
        return render_template("dashboard/tasks.html", person=person, rows=rows, allowed=allowed, states=states)


@blueprint.get("/dashboard/tasks/<int:task_id>")
def task(task_id: int):
    """One task: its towns with counts; with ?town=, that town's units, PAGE_ROWS a page, with state and wait."""
    with visit() as (ctx, person):
        if person is None:
            return need_login()
        found = task_or_404(ctx, person, task_id)
        towns = task_view.town_counts(ctx, found)
        town_id = request.args.get("town", type=int)
        if town_id is None and len(towns) == 1:
            town_id = towns[0].unit_id
        chosen = next((town for town in towns if town.unit_id == town_id), None)
        pages = max(1, -(-chosen.total // PAGE_ROWS)) if chosen else 1
        page = min(max(request.args.get("page", 1, type=int), 1), pages)
        shown = task_view.unit_page(ctx, found, chosen, (page - 1) * PAGE_ROWS, PAGE_ROWS) if chosen else []
        return render_template(
            "dashboard/task.html",
            task=found,
            towns=towns,
            chosen=chosen,
            rows=shown,
            page=page,
            pages=pages,
            states=task_view.STATES,
            workbook=task_view.may_get_workbook(person, found),
        )


@blueprint.get("/dashboard/tasks/<int:task_id>/progress.csv")
def task_csv(task_id: int):
    """Every unit of the task as CSV for Excel (UTF-8 with BOM, no cell read as a formula)."""
    with visit() as (ctx, person):
        if person is None:
            return need_login()
        found = task_or_404(ctx, person, task_id)
        content = progress_csv(task_view.unit_rows(ctx, found))
        name = f"{found.title}-任务{found.id}-进度.csv"
        return send_file(io.BytesIO(content), mimetype="text/csv", as_attachment=True, download_name=name)


@blueprint.get("/dashboard/tasks/<int:task_id>/summary.xlsx")
def task_summary(task_id: int):
    """The summary workbook built now, as /汇总 would send it (to the task's own department only)."""
    with visit() as (ctx, person):
        if person is None:
            return need_login()
        found = task_or_404(ctx, person, task_id)
        built = task_view.summary_file(ctx, person, found)
        if built is None:
            abort(404)
        name, content = built
        kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return send_file(io.BytesIO(content), mimetype=kind, as_attachment=True, download_name=name)


@blueprint.post("/dashboard/tasks/<int:task_id>/remind")
def task_remind(task_id: int):
    """The 催报 button: the chat's /催报 on this task; the sentence it answers is shown on the task page."""
    with visit(write=True) as (ctx, person):
        if person is None:
            return need_login()
        check_csrf()
        found = task_or_404(ctx, person, task_id)
        flash(task_view.remind(ctx, person, found))
    return redirect(url_for("dashboard.task", task_id=task_id), 303)
