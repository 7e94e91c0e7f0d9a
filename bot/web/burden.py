"""The dashboard's 填报负担 page: the burden of the person's tasks by month, and one month by town and unit."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from bot.web.auth import ERRORS, error_page
from bot.web.pages import need_login, visit
from handlers.commands import task_view
from handlers.tasks import burden_month

blueprint = Blueprint("dashboard_burden", __name__, template_folder="templates")
for code in ERRORS:
    blueprint.register_error_handler(code, error_page)


@blueprint.get("/dashboard/burden")
def burden():
    """Months of the person's tasks with their burden, before / now, and one month (?month=) by town (?town=)."""
    with visit() as (ctx, person):
        if person is None:
            return need_login()
        scope = task_view.tasks_seen(person)
        if scope is None:
            abort(404)
        months = burden_month.months(ctx, scope)
        month = request.args.get("month") or (months[-1].month if months else None)
        if month is not None and month not in {found.month for found in months}:
            abort(404)  # only a month the person's tasks were issued in (a year 0 or 9999 is not one)
        town_id = request.args.get("town", type=int)
        towns = burden_month.units(ctx, scope, month) if month else []
        town = next((found for found in towns if found.unit_id == town_id), None)
        units = burden_month.units(ctx, scope, month, town.unit_id) if town else []
        return render_template(
            "dashboard/burden.html",
            person=person,
            months=list(reversed(months)),
            compared=burden_month.before_now(months),
            month=month,
            towns=towns,
            town=town,
            units=units,
        )
