"""The department dashboard (/看板) in the browser: sessions opened by one-time links, the task pages and 预警."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from flask import Flask

from bot.runtime import Runtime
from bot.web import analysis, auth, burden, pages, warnings

log = logging.getLogger(__name__)


def install(app: Flask, runtime: Runtime) -> None:
    """Give the app the dashboard: the cookie settings its sessions need, and its pages."""
    web = runtime.config.web
    if not web.secret_key:
        log.warning("no [web] secret_key or YBT_WEB_SECRET_KEY: dashboard sessions end when the bot restarts")
    app.secret_key = web.secret_key or secrets.token_hex(32)
    app.config.update(
        SESSION_COOKIE_NAME="ybt_dashboard",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=web.public_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=web.session_hours),
    )
    app.extensions["runtime"] = runtime
    app.register_blueprint(auth.blueprint)
    app.register_blueprint(pages.blueprint)
    app.register_blueprint(burden.blueprint)
    app.register_blueprint(warnings.blueprint)
    app.register_blueprint(analysis.blueprint)
