"""The web app factory: the health check, each platform's routes, the dashboard, short error pages, the worker."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from bot.platforms.http import plain
from bot.runtime import Runtime
from bot.web import install as install_dashboard
from bot.worker import Worker

log = logging.getLogger(__name__)


def create_app(runtime: Runtime, background: bool = False) -> Flask:
    """Build the Flask app around a running bot; `background` starts the worker thread at once (what serve wants).

    Each configured platform registers its own routes (see Platform.routes): the simulator's door only while it
    is where pushes go, WeCom's callback while its app is configured.
    """
    app = Flask(__name__)
    app.json.ensure_ascii = False

    @app.get("/healthz")
    def health():
        try:
            with runtime.database.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            log.exception("health check: database unreachable")
            return jsonify(status="error", database="unreachable"), 503
        return jsonify(status="ok")

    @app.errorhandler(HTTPException)
    def short_error(error: HTTPException):
        # Also what an unexpected exception becomes (Flask logs it first): a status line, never a page or a trace.
        return plain(error.code or 500, error.name)

    install_dashboard(app, runtime)
    worker = Worker(runtime)
    app.extensions["worker"] = worker
    for platform in runtime.platforms.values():  # each brings its own routes, and what follows an acknowledgement
        blueprint = platform.routes(runtime, worker.kick)
        if blueprint is not None:
            app.register_blueprint(blueprint)
    if background:
        worker.start()
    return app
