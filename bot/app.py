"""The web app factory: health check and the simulator's HTTP door; platform callbacks join here later."""

from __future__ import annotations

import logging
import uuid

from flask import Flask, jsonify, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.runtime import Runtime
from handlers.messages import Incoming
from ledger_store.org import SIMULATOR

log = logging.getLogger(__name__)


def create_app(runtime: Runtime) -> Flask:
    """Build the Flask app around a running bot."""
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

    return app
