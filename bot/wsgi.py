"""The web processes of a production layout: `gunicorn 'bot.wsgi:create_app()'` (see deploy/).

Each gunicorn worker only verifies, decrypts, stores and acknowledges platform callbacks and serves the dashboard;
no worker thread runs here. Stored messages are handled, and the outbox delivered, by `python -m bot worker`
processes, which look at the database every second, so the web wakes nothing.
"""

from __future__ import annotations

import logging

from flask import Flask

from bot import app as web_app
from bot.config import CONFIG_PATH_VARIABLE, WEB_SECRET_VARIABLE, Config, ConfigError, deployed_config_path, load_config
from bot.logs import configure_logging
from bot.platforms.registry import configured_runtime, unready_platform

log = logging.getLogger(__name__)
NO_SECRET_KEY = (
    f"生产部署需要看板的会话密钥：请在配置文件 [web] 填写 secret_key，或设置环境变量 {WEB_SECRET_VARIABLE}"
    "（多个 gunicorn 进程必须用同一个密钥，否则登录后换一个进程就要重新登录）。"
)


class DeploymentError(RuntimeError):
    """The web process cannot start as configured; the message says in Chinese what to change."""


def deployed_config() -> Config:
    """The configuration gunicorn's processes run with: YBT_CONFIG, else ./config.toml, else the defaults."""
    path = deployed_config_path()
    try:
        config = load_config(path)
    except ConfigError as error:
        raise DeploymentError(f"配置文件有误（{CONFIG_PATH_VARIABLE}={path}）：{error}") from error
    complaint = unready_platform(config)
    if complaint is not None:
        raise DeploymentError(complaint)
    if not config.web.secret_key:
        raise DeploymentError(NO_SECRET_KEY)
    return config


def prepare() -> None:
    """Migrate the database and write the built-in forms and ledgers once, before gunicorn forks its workers."""
    configure_logging(logging.INFO)
    runtime = configured_runtime(deployed_config())
    runtime.database.dispose()


def create_app() -> Flask:
    """The web app without a worker thread: callbacks are stored and acknowledged, and handled elsewhere."""
    configure_logging(logging.INFO)
    app = web_app.create_app(configured_runtime(deployed_config()), background=False)
    log.info("web process ready: messages are stored here and handled by python -m bot worker")
    return app
