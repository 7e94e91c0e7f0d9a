"""Forms in the database: seeding the built-in templates as versions and reading fields back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers.forms.builtin import BUILTIN_TEMPLATES, Template
from handlers.forms.fields import Field
from ledger_store.models import Form, FormVersion


def ensure_template(session: Session, template: Template, now: datetime) -> FormVersion:
    """The newest version of `template`, adding a new version only when its questions changed."""
    form = session.scalar(select(Form).where(Form.code == template.code))
    if form is None:
        form = Form(code=template.code, title=template.title)
        session.add(form)
        session.flush()
    form.title = template.title
    latest = latest_version(session, form)
    fields = [f.to_dict() for f in template.fields]
    if latest is not None and latest.fields == fields and latest.headline_field == template.headline_field:
        return latest
    number = (latest.version if latest else 0) + 1
    version = FormVersion(
        form=form, version=number, fields=fields, headline_field=template.headline_field, created_at=now
    )
    session.add(version)
    session.flush()
    return version


def ensure_builtin_forms(session: Session, now: datetime) -> None:
    """Make sure every built-in template exists as a form with its current questions."""
    for template in BUILTIN_TEMPLATES:
        ensure_template(session, template, now)


def latest_version(session: Session, form: Form) -> FormVersion | None:
    """The highest version of a form."""
    newest = select(func.max(FormVersion.version)).where(FormVersion.form_id == form.id).scalar_subquery()
    return session.scalar(select(FormVersion).where(FormVersion.form_id == form.id, FormVersion.version == newest))


def all_forms(session: Session) -> list[Form]:
    """Every form, by title."""
    return list(session.scalars(select(Form).order_by(Form.id)))


def fields_of(version: FormVersion) -> list[Field]:
    """The questions of a form version, in order."""
    return [Field.from_dict(data) for data in version.fields]
