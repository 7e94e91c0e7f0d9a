"""/看板: a one-time link into the department dashboard, for the speaker alone."""

from __future__ import annotations

from urllib.parse import urlencode

from handlers.core.context import Context
from handlers.texts import dashboard as dashboard_texts
from ledger_store.login_links import create_link
from ledger_store.models import Person

LOGIN_PATH = "/dashboard/login"


def send_link(ctx: Context, person: Person, args: str) -> list[str]:
    """/看板: store a fresh link for the speaker (only its hash is kept) and answer with it."""
    links = ctx.dashboard
    if not links.public_url:
        return [dashboard_texts.NOT_SET_UP]
    token = create_link(ctx.session, person.id, ctx.now(), links.link_minutes)
    url = f"{links.public_url.rstrip('/')}{LOGIN_PATH}?{urlencode({'t': token})}"
    return [dashboard_texts.login_link(url, links.link_minutes)]
