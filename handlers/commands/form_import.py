"""Bringing a department's own form in: an Excel workbook read, checked and stored as a new form version."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import select

from handlers.core.context import Context
from handlers.forms.registry import ensure_template
from handlers.forms.xlsform import read_form
from handlers.ledgers.links import canonical, form_problems
from handlers.tasks.issue_rights import change_refusal, issue_refusal
from handlers.tasks.progress import question_total
from handlers.texts import form_import as t
from ledger_store import audit
from ledger_store.models import Form, FormVersion, Person

# A reply listing more problems than this is cut, with a count of the rest.
MAX_LISTED = 30


@dataclass(frozen=True)
class FormImport:
    """What came of one workbook: the stored version, or the problems that stopped it."""

    version: FormVersion | None
    problems: tuple[str, ...]

    def message(self) -> str:
        """A Chinese sentence for the person who sent the workbook."""
        if self.version is None:
            listed = [f"{n}. {p}" for n, p in enumerate(self.problems[:MAX_LISTED], start=1)]
            more = len(self.problems) - MAX_LISTED
            return t.refused(len(self.problems), listed, more if more > 0 else 0)
        version = self.version
        return t.imported(version.form.title, version.version, question_total(version))


def import_form(ctx: Context, source: bytes | Path, file_name: str, person: Person | None) -> FormImport:
    """Read a workbook; store it as a form (a new version when its questions changed) or say what is wrong.

    `person` sent it in chat (None: an admin at the command line). In chat a workbook may not change a form of
    another department or a built-in one, nor link questions to a ledger the person's department cannot issue
    (see handlers.tasks.issue_rights); a new form belongs to the sender's department.
    """
    result = read_form(source, file_name=file_name, check_links=lambda fields: form_problems(ctx.session, fields))
    if result.form is None:
        return FormImport(None, tuple(str(p) for p in result.problems))
    form = replace(result.form, fields=tuple(canonical(ctx.session, result.form.fields)))
    existing = ctx.session.scalar(select(Form).where(Form.code == form.code))
    if person is not None:
        refusal = change_refusal(existing, person)
        if refusal is None and person.department is not None:
            refusal = issue_refusal(ctx.session, person.department, form.title, form.fields)
        if refusal is not None:
            return FormImport(None, (refusal,))
    version = ensure_template(ctx.session, form, ctx.now())
    if existing is None and person is not None:
        version.form.owner_department_id = person.department_id
    audit.record(
        ctx.session,
        at=ctx.now(),
        actor_id=person.id if person is not None else None,
        action="import_form",
        entity="form_version",
        entity_id=version.id,
        new={"code": version.form.code, "version": version.version, "file": file_name},
    )
    return FormImport(version, ())
