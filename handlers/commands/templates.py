"""/模板 and /空白模板: the forms a department can issue, and the blank workbook to write its own."""

from __future__ import annotations

from handlers.core.context import Context
from handlers.forms.registry import all_forms, latest_version
from handlers.forms.xlsform import blank_template
from handlers.tasks.progress import question_total
from handlers.texts import commands as t
from handlers.texts import form_import as ft
from ledger_store.file_names import stamped_name, store_named
from ledger_store.models import Person
from ledger_store.outbox import enqueue


def templates(ctx: Context, person: Person, args: str) -> list[str]:
    """/模板: the forms a department can issue."""
    lines = []
    for form in all_forms(ctx.session):
        version = latest_version(ctx.session, form)
        lines.append(t.template_line(form.title, question_total(version) if version else 0))
    return [t.templates_list(lines)]


def blank_form(ctx: Context, person: Person, args: str) -> list[str]:
    """/空白模板: send the blank form workbook to fill in and send back."""
    name = stamped_name(ft.BLANK_TEMPLATE_LABEL, ctx.local_now())
    stored = store_named(ctx.session, name, blank_template(), ctx.now())
    # Keyed by the file: every request is a file of its own and is sent.
    enqueue(ctx.session, person_id=person.id, dedupe_key=f"blank-form:{stored.id}", now=ctx.now(), file=stored)
    return [ft.BLANK_TEMPLATE_SENT]
