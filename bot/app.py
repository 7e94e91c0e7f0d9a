"""The web app factory: probes and metrics, each platform's routes, the dashboard, short error pages, the worker."""

from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import HTTPException

from bot.health import install as install_health
from bot.platforms.http import plain
from bot.runtime import Runtime
from bot.web import install as install_dashboard
from bot.worker import Worker


def create_app(runtime: Runtime, background: bool = False) -> Flask:
    """Build the Flask app around a running bot; `background` starts the worker thread at once (what serve wants).

    Each configured platform registers its own routes (see Platform.routes): the simulator's door only while it
    is where pushes go, WeCom's callback while its app is configured.
    """
    app = Flask(__name__)
    app.json.ensure_ascii = False

    @app.errorhandler(HTTPException)
    def short_error(error: HTTPException):
        # Also what an unexpected exception becomes (Flask logs it first): a status line, never a page or a trace.
        return plain(error.code or 500, error.name)

    install_health(app, runtime)
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
