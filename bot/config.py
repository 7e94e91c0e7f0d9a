"""Configuration: read once from TOML into typed objects; secrets may come from the environment."""

from __future__ import annotations

import base64
import binascii
import os
import sys
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.source_config import SourceConfigError, sources_from
from handlers.commands.recurrence import MAX_REMIND_DAYS
from handlers.core.workdays import WorkCalendar, work_calendar
from handlers.ledgers.sources import Source
from handlers.tasks.reminders import OVERDUE_DAYS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{ROOT / 'var' / 'yibiaotong.sqlite3'}"
DATABASE_URL_VARIABLE = "YBT_DATABASE_URL"


def delivery_platforms() -> frozenset[str]:
    """The platforms the outbox can be delivered to: the names in bot/platforms/registry.py."""
    from bot.platforms.registry import PLATFORMS  # the registry builds adapters from a Config: imported when asked

    return frozenset(PLATFORMS)


@dataclass(frozen=True)
class DatabaseConfig:
    """Where the data lives."""

    url: str = DEFAULT_DATABASE_URL


@dataclass(frozen=True)
class WebConfig:
    """The HTTP server that platforms call back, and the department dashboard it serves (/看板)."""

    host: str = "127.0.0.1"
    port: int = 8080
    # Where people reach the bot from a browser, e.g. https://ybt.example.gov.cn; empty: /看板 says it is not set up.
    public_url: str = ""
    # Signs the dashboard's session cookies; empty: a random one at each start (sessions then end on restart).
    secret_key: str = field(default="", repr=False)
    link_minutes: int = 10
    session_hours: int = 8
    # /readyz calls the backlog late when a stored message or a push has waited longer than this.
    backlog_late_seconds: int = 600
    # Empty: GET /metrics answers anyone who reaches the port. Set: only `Authorization: Bearer <token>`.
    metrics_token: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError(f"[web] port must be between 1 and 65535, not {self.port}")
        if self.link_minutes < 1 or self.session_hours < 1:
            raise ValueError("[web] link_minutes and session_hours must be at least 1")
        if self.backlog_late_seconds < 1:
            raise ValueError("[web] backlog_late_seconds must be at least 1")
        if self.public_url and not self.public_url.startswith(("http://", "https://")):
            raise ValueError(f"[web] public_url must start with http:// or https://, not {self.public_url!r}")


@dataclass(frozen=True)
class SimulatorConfig:
    """The local chat simulator, and who may use its HTTP endpoint."""

    files_dir: Path = ROOT / "var" / "simulator-files"
    # Empty: POST /simulator/messages answers only this machine (loopback, not through a proxy). Set: only requests
    # carrying it in the X-Simulator-Secret header, from anywhere.
    secret: str = field(default="", repr=False)


@dataclass(frozen=True)
class DeliveryConfig:
    """How the outbox is drained."""

    platform: str = "simulator"
    max_attempts: int = 5
    batch_size: int = 100
    # Pushes one platform may be handed a minute, counted per recipient as WeCom counts its quota (0: no cap).
    per_platform_per_minute: int = 2000

    def __post_init__(self) -> None:
        if self.platform not in delivery_platforms():
            known = ", ".join(sorted(delivery_platforms()))
            raise ValueError(f"[delivery] platform {self.platform!r} is not built yet; known: {known}")
        for name in ("max_attempts", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"[delivery] {name} must be at least 1, not {getattr(self, name)}")
        if self.per_platform_per_minute < 0:
            raise ValueError(
                f"[delivery] per_platform_per_minute must be 0 (no cap) or more, not {self.per_platform_per_minute}"
            )


# The WeCom options without which the app can neither get an access token nor read a callback.
WECOM_REQUIRED = ("corp_id", "secret", "token", "encoding_aes_key")


@dataclass(frozen=True)
class WeComConfig:
    """The WeCom (企业微信) self-built app: API credentials and callback settings."""

    corp_id: str = ""
    agent_id: int = 0
    secret: str = ""
    token: str = ""
    encoding_aes_key: str = ""
    # Private deployments (政务微信 and the like) serve the same API under another host.
    api_base_url: str = "https://qyapi.weixin.qq.com/cgi-bin/"
    # Callbacks whose timestamp is further than this from now are refused; 0 turns the check off.
    replay_window_seconds: int = 300
    # Larger callback bodies are refused before any XML is parsed.
    max_callback_bytes: int = 65536
    # Where the access token is cached for every process: "database", or a redis:// URL.
    token_cache: str = "database"
    per_member_per_minute: int = 30

    @property
    def enabled(self) -> bool:
        """True when the app's credentials are filled in."""
        return all(getattr(self, option) for option in WECOM_REQUIRED)


# The DingTalk options without which the robot can neither get an access token nor check a callback's sign.
DINGTALK_REQUIRED = ("app_key", "app_secret")
# How DingTalk pushes may go: the robot's one-to-one batch send, or the app's work notifications (工作通知).
DINGTALK_PUSH_CHANNELS = ("robot", "work_notice")
# How DingTalk's messages reach the bot: posted to its HTTP callback, or over the websocket it holds (Stream).
DINGTALK_MODES = ("http", "stream")


@dataclass(frozen=True)
class DingTalkConfig:
    """The DingTalk (钉钉) enterprise-internal app and its robot: credentials, hosts and callback settings."""

    app_key: str = ""
    app_secret: str = field(default="", repr=False)
    # The robot's code; empty means the app key, which is what DingTalk gives an app's own robot.
    robot_code: str = ""
    # The OpenAPI host (token, batch send) and the old host that serves a message's sessionWebhook; a reply is only
    # ever posted to a sessionWebhook on the second, whatever a callback body names.
    api_base_url: str = "https://api.dingtalk.com"
    webhook_base_url: str = "https://oapi.dingtalk.com"
    # The old API host (topapi: contacts, work notifications; media uploads), called with the same access token as
    # a query parameter.
    oapi_base_url: str = "https://oapi.dingtalk.com"
    # Callbacks whose timestamp is further than this from now are refused (DingTalk's own rule: one hour).
    replay_window_seconds: int = 3600
    max_callback_bytes: int = 65536
    # Where the access token and the sessionWebhooks are kept for every process: "database", or a redis:// URL.
    token_cache: str = "database"
    # DingTalk's metered API calls a month for the organisation (standard edition: 10,000); 0 = not metered.
    monthly_call_allowance: int = 10000
    # How pushes (not replies) go: "robot" (the robot's one-to-one batch send) or "work_notice" (工作通知, which
    # needs the app's agent_id).
    push: str = "robot"
    agent_id: int = 0
    # Interactive cards: the template made in DingTalk's card platform (empty: questions go out as text); the HTTP
    # card callback's route key and apiSecret, as registered with /v1.0/card/callbacks/register (no route key:
    # clicks come by Stream, topic /v1.0/card/instances/callback).
    card_template_id: str = ""
    card_callback_route_key: str = ""
    card_callback_secret: str = field(default="", repr=False)
    # "http": DingTalk posts each message to /dingtalk/callback; "stream": the bot holds a websocket to DingTalk.
    mode: str = "http"
    # Stream mode: a connection that shows no frame and no answered ping for this long is taken as dead and reopened.
    stream_idle_seconds: float = 60.0
    # Stream mode: the first wait before reopening a connection, doubled after each failure up to the cap.
    stream_backoff_seconds: float = 1.0
    stream_backoff_max_seconds: float = 60.0
    # Stream mode: the database lease that lets one process hold the connection; a standby takes over this long
    # after the holder died (at once when it stopped cleanly).
    stream_lease_seconds: float = 30.0

    def __post_init__(self) -> None:
        if self.replay_window_seconds < 1:
            raise ValueError(f"[dingtalk] replay_window_seconds must be at least 1, not {self.replay_window_seconds}")
        if self.monthly_call_allowance < 0:
            raise ValueError(f"[dingtalk] monthly_call_allowance must be 0 or more, not {self.monthly_call_allowance}")
        if self.push not in DINGTALK_PUSH_CHANNELS:
            raise ValueError(f'[dingtalk] push must be "robot" or "work_notice", not {self.push!r}')
        if self.push == "work_notice" and self.agent_id <= 0:
            raise ValueError('[dingtalk] push = "work_notice" needs the app\'s agent_id (AgentId)')
        if self.mode not in DINGTALK_MODES:
            raise ValueError(
                f'[dingtalk] mode 是 "{self.mode}"，只能是 "http"（HTTP 回调）或 "stream"（Stream 长连接）'
            )
        for option in ("stream_idle_seconds", "stream_backoff_seconds", "stream_backoff_max_seconds",
                       "stream_lease_seconds"):  # fmt: skip
            if getattr(self, option) <= 0:
                raise ValueError(f"[dingtalk] {option} 须大于 0 秒，现在是 {getattr(self, option)}")
        if self.stream_backoff_max_seconds < self.stream_backoff_seconds:
            raise ValueError("[dingtalk] stream_backoff_max_seconds 不能小于 stream_backoff_seconds")
        if self.mode == "http" and self.card_template_id and not self.card_callback_route_key:
            raise ValueError(
                "[dingtalk] card_template_id 需要 card_callback_route_key："
                "HTTP 回调模式下卡片的点击只会送到注册过的卡片回调地址"
                '（或者改用 mode = "stream"，点击经 Stream 连接送达）'
            )

    @property
    def enabled(self) -> bool:
        """True when the app's credentials are filled in."""
        return all(getattr(self, option) for option in DINGTALK_REQUIRED)

    @property
    def robot(self) -> str:
        """The robotCode to send with."""
        return self.robot_code or self.app_key


@dataclass(frozen=True)
class SchedulerConfig:
    """The timed work: quiet hours for reminders, when reminders after a deadline go out, how often jobs run."""

    quiet_start: str = "22:00"
    quiet_end: str = "08:00"
    overdue_reminder_at: str = "09:00"
    tick_seconds: int = 60
    deliver_seconds: int = 10
    lease_seconds: int = 120
    warning_minutes: int = 10  # a 预警 rule is evaluated again at the first tick this long after its last evaluation

    def __post_init__(self) -> None:
        for name in ("quiet_start", "quiet_end", "overdue_reminder_at"):
            clock_time(name, getattr(self, name))
        if self.warning_minutes < 1:
            raise ValueError("[scheduler] warning_minutes must be at least 1")
        if min(self.tick_seconds, self.deliver_seconds) < 1 or self.lease_seconds < 2 * self.tick_seconds:
            raise ValueError("[scheduler] intervals must be positive, and lease_seconds at least twice tick_seconds")

    def times(self) -> tuple[time, time, time]:
        """(quiet start, quiet end, overdue reminder time) as times of day."""
        return tuple(
            clock_time(name, getattr(self, name)) for name in ("quiet_start", "quiet_end", "overdue_reminder_at")
        )


def clock_time(name: str, text: str) -> time:
    """An HH:MM setting as a time of day; ValueError naming the setting otherwise."""
    try:
        return datetime.strptime(text, "%H:%M").time()
    except ValueError as error:
        raise ValueError(f'[scheduler] {name} must be HH:MM, such as "22:00", not {text!r}') from error


@dataclass(frozen=True)
class CalendarConfig:
    """Public holidays and the weekend days worked instead (调休): for 每个工作日 reports and 个工作日 deadlines."""

    holidays: tuple[str, ...] = ()
    workdays: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.calendar()

    def calendar(self) -> WorkCalendar:
        """The working-day calendar these lists describe."""
        return work_calendar(self.holidays, self.workdays)


@dataclass(frozen=True)
class ReviewConfig:
    """审核上报: how long a submission may wait on its reviewer before the reviewer is reminded."""

    remind_after_hours: int = 24

    def __post_init__(self) -> None:
        if self.remind_after_hours < 1:
            raise ValueError(f"[review] remind_after_hours must be at least 1, not {self.remind_after_hours}")


# The shortest period retention may keep sent pushes: a job may queue a key again for up to OVERDUE_DAYS + 1 days
# after a deadline (late reminders, the escalation upward) and a "提醒 N 天" reminder waits up to MAX_REMIND_DAYS
# for the next; with a few days' margin (see ledger_store/retention.py for every key family).
RETENTION_FLOOR_DAYS = max(OVERDUE_DAYS + 1, MAX_REMIND_DAYS) + 4


@dataclass(frozen=True)
class RetentionConfig:
    """How long handled inbound messages and sent pushes are kept before the scheduler deletes them (0: forever)."""

    keep_days: int = 90
    at: str = "03:00"  # local time of day after which the day's deletion runs, at the scheduler's next tick

    def __post_init__(self) -> None:
        if self.keep_days != 0 and self.keep_days < RETENTION_FLOOR_DAYS:
            raise ValueError(
                f"[retention] keep_days 是 {self.keep_days}：须为 0（从不清理）或至少 {RETENTION_FLOOR_DAYS} 天，"
                "因为催报和逾期提醒在截止后一个月内还会查看发过没有"
            )
        self.time()

    def time(self) -> time:
        """The time of day of `at`."""
        try:
            return datetime.strptime(self.at, "%H:%M").time()
        except ValueError as error:
            raise ValueError(f'[retention] at 须是“时:分”，例如 "03:00"，现在是 {self.at!r}') from error


@dataclass(frozen=True)
class Config:
    """Everything the bot can be told."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    web: WebConfig = field(default_factory=WebConfig)
    simulator: SimulatorConfig = field(default_factory=SimulatorConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    wecom: WeComConfig = field(default_factory=WeComConfig)
    dingtalk: DingTalkConfig = field(default_factory=DingTalkConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    calendar: CalendarConfig = field(default_factory=CalendarConfig)
    review: ReviewConfig = field(default_factory=ReviewConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    sources: tuple[Source, ...] = ()


class ConfigError(ValueError):
    """The configuration file says something we cannot use."""


# The options each section may hold and the TOML type of each; anything else is a typo worth reporting.
OPTIONS: dict[str, dict[str, type]] = {
    "bot": {"timezone": str},
    "database": {"url": str},
    "web": {
        "host": str,
        "port": int,
        "public_url": str,
        "secret_key": str,
        "link_minutes": int,
        "session_hours": int,
        "backlog_late_seconds": int,
        "metrics_token": str,
    },
    "simulator": {"files_dir": str, "secret": str},
    "delivery": {"platform": str, "max_attempts": int, "batch_size": int, "per_platform_per_minute": int},
    "wecom": {
        "corp_id": str,
        "agent_id": int,
        "secret": str,
        "token": str,
        "encoding_aes_key": str,
        "api_base_url": str,
        "replay_window_seconds": int,
        "max_callback_bytes": int,
        "token_cache": str,
        "per_member_per_minute": int,
    },
    "dingtalk": {
        "app_key": str,
        "app_secret": str,
        "robot_code": str,
        "api_base_url": str,
        "webhook_base_url": str,
        "oapi_base_url": str,
        "replay_window_seconds": int,
        "max_callback_bytes": int,
        "token_cache": str,
        "monthly_call_allowance": int,
        "push": str,
        "agent_id": int,
        "card_template_id": str,
        "card_callback_route_key": str,
        "card_callback_secret": str,
        "mode": str,
        "stream_idle_seconds": float,
        "stream_backoff_seconds": float,
        "stream_backoff_max_seconds": float,
        "stream_lease_seconds": float,
    },
    "scheduler": {
        "quiet_start": str,
        "quiet_end": str,
        "overdue_reminder_at": str,
        "tick_seconds": int,
        "deliver_seconds": int,
        "lease_seconds": int,
        "warning_minutes": int,
    },
    "calendar": {"holidays": list, "workdays": list},
    "review": {"remind_after_hours": int},
    "retention": {"keep_days": int, "at": str},
}
TYPE_NAMES = {str: "a quoted string", int: "a whole number", float: "a number", list: "a list of days"}


def load_config(path: Path | None = None, environ: dict[str, str] | None = None) -> Config:
    """Read `path` (defaults when None), then let YBT_DATABASE_URL override the database URL."""
    environ = dict(os.environ) if environ is None else environ
    data: dict = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise ConfigError(f"cannot read {path}: {error}") from error
    try:
        sources = sources_from(data.pop("sources", []), resolve)
    except SourceConfigError as error:
        raise ConfigError(f"{path}: {error}") from error
    unknown = set(data) - set(OPTIONS)
    if unknown:
        raise ConfigError(f"unknown sections in {path}: {', '.join(sorted(unknown))}")
    bot, database, web, simulator, delivery, wecom, dingtalk, scheduler, days, review, retention = (
        checked_section(data, name, path) for name in OPTIONS
    )
    platform = delivery.get("platform", DeliveryConfig.platform)
    if platform not in delivery_platforms():
        known = " 或 ".join(f'"{name}"' for name in sorted(delivery_platforms()))
        raise ConfigError(f'{path} 的 [delivery] platform 是 "{platform}"，没有这个平台，请改为 {known}。')
    url = environ.get(DATABASE_URL_VARIABLE) or sqlite_from_root(database.get("url")) or DEFAULT_DATABASE_URL
    timezone = bot.get("timezone", "Asia/Shanghai")
    try:
        zone = ZoneInfo(timezone)
    except (ValueError, KeyError, OSError) as error:
        raise ConfigError(
            f"[bot] timezone in {path}: {timezone!r} is not a time zone name such as 'Asia/Shanghai'"
        ) from error
    try:
        return Config(
            timezone=zone,
            database=DatabaseConfig(url=url),
            web=WebConfig(**(web | web_secret_from(environ))),
            simulator=SimulatorConfig(
                files_dir=resolve(simulator.get("files_dir"), SimulatorConfig.files_dir),
                secret=environ.get(SIMULATOR_SECRET_VARIABLE) or simulator.get("secret", ""),
            ),
            delivery=DeliveryConfig(**delivery),
            wecom=WeComConfig(**(wecom | secrets_from(environ))),
            dingtalk=DingTalkConfig(**(dingtalk | dingtalk_secrets_from(environ))),
            scheduler=SchedulerConfig(**scheduler),
            calendar=CalendarConfig(**{name: tuple(map(str, items)) for name, items in days.items()}),
            review=ReviewConfig(**review),
            retention=RetentionConfig(**retention),
            sources=sources,
        )
    except ValueError as error:
        raise ConfigError(f"invalid setting in {path}: {error}") from error


def config_or_complaint(path: Path | None) -> Config | None:
    """The configuration for a command line; None after telling the person, in Chinese, what is wrong with it."""
    try:
        return load_config(path)
    except ConfigError as error:
        print(f"配置文件有误：{error}", file=sys.stderr)
        return None


def checked_section(data: dict, name: str, path: Path | None) -> dict:
    """The [name] table of the file; unknown options and values of the wrong type are refused."""
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{name} in {path} must be a [{name}] section")
    options = OPTIONS[name]
    unknown = set(table) - set(options)
    if unknown:
        raise ConfigError(
            f"unknown options in [{name}] of {path}: {', '.join(sorted(unknown))} (known: {', '.join(options)})"
        )
    for key, value in table.items():
        expected = options[key]
        # TOML's true/false arrive as bool, which Python also counts as int.
        wrong_items = expected is list and isinstance(value, list) and not all(map(is_day_item, value))
        number = expected is float and isinstance(value, int)  # 60 is as good as 60.0 for a number of seconds
        if isinstance(value, bool) or not (isinstance(value, expected) or number) or wrong_items:
            raise ConfigError(f"[{name}] {key} in {path} must be {TYPE_NAMES[expected]}, not {value!r}")
    return table


def is_day_item(item: object) -> bool:
    """A list item of [calendar]: a quoted day or range, or a TOML date written bare (2025-10-01)."""
    return isinstance(item, str) or (isinstance(item, date) and not isinstance(item, datetime))


def resolve(value: str | None, default: Path) -> Path:
    """A configured path, relative to the project root when not absolute."""
    if value is None:
        return default
    candidate = Path(value)
    return candidate if candidate.is_absolute() else ROOT / candidate


def sqlite_from_root(url: str | None) -> str | None:
    """A relative SQLite path in the config file is taken from the project folder, not the shell's."""
    prefix = "sqlite:///"
    if url and url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str(ROOT / url[len(prefix) :])
    return url


# The simulator endpoint's secret may stay out of the file too; when set it wins over [simulator] secret.
SIMULATOR_SECRET_VARIABLE = "YBT_SIMULATOR_SECRET"
# Secrets may stay out of the file: these variables, when set, win over [wecom].
SECRET_VARIABLES = {"YBT_WECOM_SECRET": "secret", "YBT_WECOM_TOKEN": "token", "YBT_WECOM_AES_KEY": "encoding_aes_key"}


def secrets_from(environ: dict[str, str]) -> dict[str, str]:
    """WeCom secrets given in the environment."""
    return {option: environ[name] for name, option in SECRET_VARIABLES.items() if environ.get(name)}


# The DingTalk app secret may stay out of the file too; when set it wins over [dingtalk] app_secret.
WEB_SECRET_VARIABLE = "YBT_WEB_SECRET_KEY"
METRICS_TOKEN_VARIABLE = "YBT_METRICS_TOKEN"


def web_secret_from(environ: dict[str, str]) -> dict[str, str]:
    """The dashboard's cookie-signing key and the /metrics token given in the environment."""
    names = {WEB_SECRET_VARIABLE: "secret_key", METRICS_TOKEN_VARIABLE: "metrics_token"}
    return {option: environ[name] for name, option in names.items() if environ.get(name)}


DINGTALK_SECRET_VARIABLE = "YBT_DINGTALK_APP_SECRET"
# The card callback's apiSecret may stay out of the file the same way.
DINGTALK_CARD_SECRET_VARIABLE = "YBT_DINGTALK_CARD_SECRET"


def dingtalk_secrets_from(environ: dict[str, str]) -> dict[str, str]:
    """The DingTalk app secret (and card callback secret) given in the environment."""
    secret, card_secret = environ.get(DINGTALK_SECRET_VARIABLE), environ.get(DINGTALK_CARD_SECRET_VARIABLE)
    return ({"app_secret": secret} if secret else {}) | ({"card_callback_secret": card_secret} if card_secret else {})


def dingtalk_complaint(dingtalk: DingTalkConfig) -> str | None:
    """What the DingTalk app still lacks, in one Chinese line; None when it is ready."""
    missing = [option for option in DINGTALK_REQUIRED if not getattr(dingtalk, option)]
    if not missing:
        return None
    also = f"（app_secret 也可以用环境变量 {DINGTALK_SECRET_VARIABLE}）" if "app_secret" in missing else ""
    return f"钉钉应用缺少 {'、'.join(missing)}：请在配置文件的 [dingtalk] 一节填写{also}。"


def wecom_complaint(wecom: WeComConfig) -> str | None:
    """What the WeCom app still lacks, in one Chinese line naming the options and variables to set; None if ready."""
    variables = {option: name for name, option in SECRET_VARIABLES.items()}
    missing = [option for option in WECOM_REQUIRED if not getattr(wecom, option)]
    if missing:
        alternatives = [variables[option] for option in missing if option in variables]
        also = f"（也可以设置环境变量 {'、'.join(alternatives)}）" if alternatives else ""
        return f"企业微信应用缺少 {'、'.join(missing)}：请在配置文件的 [wecom] 一节填写{also}。"
    if not is_aes_key(wecom.encoding_aes_key):
        return (
            "企业微信的 encoding_aes_key 不对：应是“接收消息”设置里随机获取的 43 个字母和数字；"
            "请改正配置文件 [wecom] 的 encoding_aes_key 或环境变量 YBT_WECOM_AES_KEY。"
        )
    return None


def is_aes_key(key: str) -> bool:
    """True for an EncodingAESKey WeCom could have issued: 43 base64 characters standing for 32 bytes."""
    try:
        return len(key) == 43 and len(base64.b64decode(key + "=", validate=True)) == 32
    except binascii.Error:
        return False


# Where a process started without our command line (gunicorn's web workers) finds its configuration file.
CONFIG_PATH_VARIABLE = "YBT_CONFIG"
DEFAULT_CONFIG_FILE = Path("config.toml")


def deployed_config_path(environ: dict[str, str] | None = None) -> Path | None:
    """The file named in YBT_CONFIG, else config.toml in the working directory when there is one, else None."""
    environ = dict(os.environ) if environ is None else environ
    if environ.get(CONFIG_PATH_VARIABLE):
        return Path(environ[CONFIG_PATH_VARIABLE])
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None
