"""What an operator's probes ask: /healthz (the process answers), /readyz (database, schema, backlog), /metrics.

Everything reported is read from the database at the moment of the request, so any process answers for all of them;
nothing names a person or quotes a message: counts, ages, revisions and the scheduler's host:pid only.
"""

from __future__ import annotations

import hmac
import logging
from datetime import datetime

from flask import Blueprint, Flask, Response, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from bot.metrics import exposition
from bot.platforms.http import plain
from bot.runtime import Runtime
from ledger_store.db import database_revision, head_revision
from ledger_store.monitoring import Backlog, inbound_backlog, outbox_backlog

log = logging.getLogger(__name__)


def install(app: Flask, runtime: Runtime) -> None:
    """Give the app its probes and its metrics page."""
    head = head_revision()
    blueprint = Blueprint("health", __name__)

    @blueprint.get("/healthz")
    def alive():
        # Only that this process answers: cheap enough to ask every second, and true while the database is away.
        return jsonify(status="ok")

    @blueprint.get("/readyz")
    def ready():
        report = readiness(runtime, head)
        return jsonify(report), 200 if report["ready"] else 503

    @blueprint.get("/metrics")
    def metrics():
        if not authorised(runtime.config.web.metrics_token):
            return plain(403, "Forbidden")
        try:
            text = exposition(runtime, head)
        except SQLAlchemyError:
            log.exception("metrics: database unreachable")
            return plain(503, "database unreachable")
        return Response(text, content_type="text/plain; version=0.0.4; charset=utf-8")

    app.register_blueprint(blueprint)


def authorised(token: str) -> bool:
    """True when no token is set, or the request carries it as `Authorization: Bearer <token>` (constant time)."""
    if not token:
        return True
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def readiness(runtime: Runtime, head: str | None) -> dict:
    """Ready when the database answers and carries this code's newest migration; the backlog is reported beside.

    A late backlog does not make the process unready: every process shares it, so taking them out of a load
    balancer would only stop platform callbacks from being acknowledged. It is flagged for an alert instead.
    """
    try:
        with runtime.database.connect() as connection:
            revision = database_revision(connection)
    except SQLAlchemyError:
        log.exception("readiness: database unreachable")
        return {"ready": False, "database": "unreachable"}
    report = {
        "ready": revision == head,
        "database": "ok",
        "migrations": {"current": revision == head, "database": revision, "code": head},
    }
    try:
        with runtime.factory() as session:
            inbound, outbox = inbound_backlog(session), outbox_backlog(session)
    except SQLAlchemyError:  # a schema far behind the code may lack what the count reads
        log.exception("readiness: the backlog could not be counted")
        return report | {"ready": False, "backlog": None}
    limit = runtime.config.web.backlog_late_seconds
    now = runtime.engine.now()
    backlog = {"inbound": _waiting(inbound, now), "outbox": _waiting(outbox, now)}
    late = any(part["oldest_seconds"] is not None and part["oldest_seconds"] > limit for part in backlog.values())
    return report | {"backlog": backlog | {"late": late, "late_after_seconds": limit}}


def _waiting(backlog: Backlog, now: datetime) -> dict:
    seconds = backlog.oldest_seconds(now)
    return {"pending": backlog.pending, "oldest_seconds": None if seconds is None else round(seconds, 3)}
