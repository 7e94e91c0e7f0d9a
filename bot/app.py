"""The web app factory: the health check, each platform's routes, short error pages, and the worker."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from bot.platforms.http import plain
from bot.platforms.simulator.routes import simulator_blueprint
from bot.platforms.wecom.callback import wecom_blueprint
from bot.platforms.wecom.inbound import Inbound
from bot.runtime import Runtime
from bot.worker import Worker

log = logging.getLogger(__name__)


def create_app(runtime: Runtime, background: bool = False) -> Flask:
    """Build the Flask app around a running bot; `background` starts the worker thread at once (what serve wants).

    The simulator's door exists only while the simulator is the platform pushes go to; WeCom's callback only
    while its app is configured.
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

    if runtime.config.delivery.platform == "simulator":
        app.register_blueprint(simulator_blueprint(runtime.config.simulator, runtime.engine, runtime.deliver))
    worker = Worker(runtime)
    app.extensions["worker"] = worker
    wecom = runtime.platforms.get("wecom")
    if wecom is not None:

        def after_response(inbound: Inbound) -> None:
            if inbound.card_update is not None:
                try:
                    wecom.update_card(inbound.card_update)
                except Exception:
                    log.exception("updating the clicked card failed")
            worker.kick()

        app.register_blueprint(
            wecom_blueprint(runtime.config.wecom, runtime.engine, after_response, runtime.engine.clock.now)
        )
    if background:
        worker.start()
    return app
