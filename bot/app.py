"""The web app factory: health check and the simulator's HTTP door; platform callbacks join here later."""

from __future__ import annotations

import logging
import uuid

from flask import Flask, jsonify, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.platforms.wecom.callback import wecom_blueprint
from bot.platforms.wecom.inbound import Inbound
from bot.runtime import Runtime
from bot.worker import Worker
from handlers.messages import Incoming
from ledger_store.org import SIMULATOR

log = logging.getLogger(__name__)


def create_app(runtime: Runtime) -> Flask:
    """Build the Flask app around a running bot: health, the simulator door, and each platform's callback."""
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

    @app.post("/simulator/messages")
    def simulator_message():
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            payload = {}
        account, message = payload.get("account"), payload.get("text")
        if not isinstance(account, str) or not isinstance(message, str):
            return jsonify(error='需要 JSON：{"account": 账号, "text": 文本}'), 400
        message_id = payload.get("message_id") or uuid.uuid4().hex
        replies = runtime.engine.receive(Incoming(SIMULATOR, account, message, message_id=str(message_id)))
        runtime.deliver()
        return jsonify(replies=[reply.text for reply in replies])

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
    return app
