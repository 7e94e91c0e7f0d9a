"""The least a WeCom callback URL can do, as a WSGI app for gunicorn: `gunicorn 'bench.bare_callback:create_app()'`.

It only verifies and decrypts the message with wechatpy and answers with an encrypted empty reply: no parsing of the
message, no database. bench/gunicorn_callbacks.py serves it with the same gunicorn settings as the bot, as the
baseline. It reads the WeCom keys from the same configuration as the bot (YBT_CONFIG, else ./config.toml).
"""

from __future__ import annotations

from flask import Flask, Response, request
from wechatpy.enterprise.crypto import WeChatCrypto

from bot.config import deployed_config_path, load_config


def create_app() -> Flask:
    """A Flask app with /healthz and POST /wecom/callback (decrypt, then an encrypted empty reply)."""
    wecom = load_config(deployed_config_path()).wecom
    crypto = WeChatCrypto(wecom.token, wecom.encoding_aes_key, wecom.corp_id)
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz() -> Response:
        return Response("ok", mimetype="text/plain")

    @app.post("/wecom/callback")
    def receive() -> Response:
        args = request.args
        crypto.decrypt_message(request.get_data(), args["msg_signature"], args["timestamp"], args["nonce"])
        return Response(crypto.encrypt_message("", args["nonce"], args["timestamp"]), mimetype="text/xml")

    return app
