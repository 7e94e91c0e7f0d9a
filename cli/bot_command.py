"""`python -m bot`: the demos, the chat simulator, the imports, the server and the production worker, the WeCom and
DingTalk emulators, contacts sync and the check of review digests."""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path

import click

from bot.chat import ChatSimulator, run_interactive, run_script, script_lines
from bot.config import WebConfig
from bot.logs import configure_logging
from bot.platforms.simulator import SimulatorPlatform
from bot.runtime import DEMO_ORG, build_runtime, load_demo_org, open_database
from cli.common import (
    CONFIG_HELP,
    SETTINGS,
    Group,
    config_option,
    configuration,
    dingtalk_stream,
    exit_code,
    platform_runtime,
    without_platform,
)
from handlers.core.clock import SystemClock
from handlers.ledgers.catalog import assign_standard_owners
from ledger_store.db import make_session_factory, transaction
from ledger_store.org_import import import_org

FILE = click.Path(dir_okay=False, path_type=Path)
FOLDER = click.Path(file_okay=False, path_type=Path)
# Where fake-wecom posts members' messages unless told otherwise: `serve` on [web]'s default address.
FAKE_WECOM_CALLBACK = f"http://{WebConfig.host}:{WebConfig.port}/wecom/callback"
FAKE_WECOM_PORT = 8090
FAKE_DINGTALK_CALLBACK = f"http://{WebConfig.host}:{WebConfig.port}/dingtalk/callback"
FAKE_DINGTALK_PORT = 8091
STREAM_HOLDER = "钉钉 Stream 模式：本进程取得租约后连接钉钉（多开时其余进程待命）"
# How often `worker` looks for stored messages: no web process wakes it, so this is the longest a reply waits.
WORKER_POLL_SECONDS = 1.0
log = logging.getLogger("bot.worker")


@click.group(cls=Group, context_settings=SETTINGS)
@click.option("--config", "config_path", type=FILE, help=CONFIG_HELP)
def command_line(config_path: Path | None) -> None:
    """一表通机器人的命令行。

    \b
    每个子命令加 --help 查看用法，如 python -m bot chat --help。
    --config 写在子命令前后都可以，如 python -m bot serve --config config.toml。
    """
    configure_logging(logging.WARNING)


@command_line.result_callback()
def exit_with(code: int, config_path: Path | None) -> None:
    """A subcommand's return value is the process's exit code."""
    click.get_current_context().exit(code)


@command_line.command()
@click.option("--wecom", is_flag=True, help="改走企业微信全链路（本机模拟的企业微信）")
@click.option("--dingtalk", is_flag=True, help="改走钉钉 Stream 模式全链路（本机模拟的钉钉）")
@config_option
def demo(wecom: bool, dingtalk: bool, config_path: Path | None) -> int:
    """载入示范单位，打开本地聊天模拟器。

    \b
    数据库里还没有人员时，先导入示范单位和示范台账。
    定时提醒、截止、定期报表在同一个进程里运行（与 python -m scheduler 相同）。
    不加 --wecom 时推送只发到本地模拟器，配置成企业微信也一样；
    加 --wecom 则在本机模拟企业微信接口，消息加密后经机器人真实的 HTTP 回调；
    加 --dingtalk 则在本机模拟钉钉，消息经机器人与钉钉之间的 Stream 长连接（websocket）收取。
    """
    from cli.demos import run_chat_demo, run_dingtalk_demo, run_wecom_demo

    config = configuration(config_path)
    if dingtalk:
        return run_dingtalk_demo(config)
    return run_wecom_demo(config) if wecom else run_chat_demo(without_platform(config))


@command_line.command()
@click.option("--as", "account", metavar="ACCOUNT", help="一开始扮演的账号，如 li_minzheng")
@click.option("--script", type=FILE, help="回放这个脚本（UTF-8），打印全部对话")
@click.option("--out", type=FOLDER, help="机器人发出的文件存到这个目录")
@config_option
def chat(account: str | None, script: Path | None, out: Path | None, config_path: Path | None) -> int:
    """本地聊天模拟器：扮演任何账号发言。

    \b
    交互时输入 @账号 文本、:人员、:帮助、:退出，看到每个人收到的消息。
    脚本每行一条“账号: 文本”，空行和 # 开头的行忽略；格式不对的行报出行号，退出码为 1。
    推送只发到本地模拟器，配置成企业微信也一样。
    """
    config = without_platform(configuration(config_path))
    lines = None
    if script:
        try:
            lines = script_lines(script)
        except UnicodeDecodeError:
            print(f"脚本文件 {script} 不是 UTF-8 编码，请另存为 UTF-8 后再试。", file=sys.stderr)
            return 2
        except OSError as error:
            print(f"无法读取脚本文件 {script}：{error.strerror}", file=sys.stderr)
            return 2
    platform = SimulatorPlatform(files_dir=out or config.simulator.files_dir)
    runtime = build_runtime(config, platform)
    load_demo_org(runtime)
    simulator = ChatSimulator(runtime, platform, sys.stdout)
    if lines is not None:
        return run_script(simulator, lines)
    run_interactive(simulator, account=account, stdin=sys.stdin)
    return 0


@command_line.command("import-org")
@click.argument("file", type=FILE)
@config_option
def import_org_file(file: Path, config_path: Path | None) -> int:
    """从 Excel 或 CSV 导入组织架构和人员。

    \b
    FILE 是 xlsx，或 UTF-8、GB18030 编码的 csv；表头：单位、上级单位、层级、
    姓名、账号、角色、手机号、企业微信账号、钉钉账号（见 README“组织架构导入”）。
    有任何错误就逐行列出，一行都不写入，退出码为 1。重复导入按单位名和账号更新。
    """
    database = open_database(configuration(config_path))
    with transaction(make_session_factory(database)) as session:
        report = import_org(session, file)
        if not report.errors:
            assign_standard_owners(session, SystemClock().now())
    print(report.summary())
    return 1 if report.errors else 0


@command_line.command("import-form")
@click.argument("file", type=FILE)
@config_option
def import_form_file(file: Path, config_path: Path | None) -> int:
    """从 Excel（XLSForm 格式）导入表单。

    \b
    FILE 的写法见 README“Excel 表单”，或在聊天里发 /空白模板 拿一份带说明的模板。
    有问题时逐条说明在哪张表第几行，什么也不保存，退出码为 1。
    """
    from handlers.commands.form_import import import_form

    config = without_platform(configuration(config_path))
    if not file.is_file():
        print(f"找不到文件：{file}", file=sys.stderr)
        return 2
    runtime = build_runtime(config, SimulatorPlatform(files_dir=config.simulator.files_dir))
    with transaction(runtime.factory) as session:
        result = import_form(runtime.engine.context(session), file, file.name, person=None)
    print(result.message())
    return 0 if result.version is not None else 1


@command_line.command("import-ledger")
@click.argument("ledger")
@click.argument("file", type=FILE)
@click.option("--errors", type=FILE, help="有误的行写到这里（默认：原文件名_错误.xlsx）")
@config_option
def import_ledger_file(ledger: str, file: Path, errors: Path | None, config_path: Path | None) -> int:
    """批量导入台账的历史数据（首次录入）。

    \b
    LEDGER 写台账编号或名称，如 dibao_households 或 低保对象台账；
    FILE 是 xlsx，或 UTF-8、GB18030 编码的 csv，流式读取、分批写入。
    有误的行不导入，写进错误表，退出码为 1。按键更新，重复运行同一文件不会重复。
    """
    from bot.progress import ProgressBar
    from handlers.ledgers.catalog import find_ledger
    from ledger_store.file_names import safe_label
    from ledger_store.ledger_import import import_ledger

    config = without_platform(configuration(config_path))
    if not file.is_file():
        print(f"找不到文件：{file}", file=sys.stderr)
        return 2
    runtime = build_runtime(config, SimulatorPlatform(files_dir=config.simulator.files_dir))
    with runtime.factory() as session:
        found = find_ledger(session, ledger)
        code = found.code if found else ledger
    # Next to the file, named after it (cut short: a long name plus _错误 could pass what the file system allows).
    errors = errors or file.with_name(f"{safe_label(file.stem)}_错误.xlsx")
    bar = ProgressBar(sys.stderr)
    report = import_ledger(
        runtime.factory,
        code,
        file,
        None,
        runtime.engine.now(),
        bar.update,
        error_path=errors,
        today=runtime.engine.today(),
    )
    bar.close()
    print(report.summary())
    return 0 if not report.problem and not report.invalid else 1


@command_line.command()
@click.argument("source")
@config_option
def sink(source: str, config_path: Path | None) -> int:
    """马上运行一个数据源（数据下沉），不等它的时间表。

    \b
    SOURCE 写配置里 [[sources]] 的 name，如 民政低保系统。
    结果和定时运行一样记下来，并推送给台账所属部门的发布员（由 serve 或 python -m scheduler 投递）。
    成功退出码为 0；没有完成或因同一数据源正在运行而跳过，退出码为 1；没有这个数据源，退出码为 2。
    """
    from handlers.ledgers.sources import RunStatus, run_source
    from scheduler.jobs import default_holder

    config = without_platform(configuration(config_path))
    found = next((candidate for candidate in config.sources if candidate.name == source.strip()), None)
    if found is None:
        names = "、".join(candidate.name for candidate in config.sources) or "（没有）"
        print(f"配置里没有名为“{source}”的数据源。已配置的数据源：{names}", file=sys.stderr)
        return 2
    runtime = build_runtime(config, SimulatorPlatform(files_dir=config.simulator.files_dir))
    result = run_source(runtime.factory, found, runtime.engine.clock, runtime.engine.tz, default_holder())
    print(result.told or result.message)
    return 0 if result.status == RunStatus.OK else 1


@command_line.command("define-ledger")
@click.argument("file", type=FILE)
@click.option("--confirm-loss", is_flag=True, help="确认执行会清空已有数据的修改（删除有数据的字段、改类型）")
@config_option
def define_ledger_file(file: Path, confirm_loss: bool, config_path: Path | None) -> int:
    """从 Excel 台账定义表定义或修改一本台账。

    \b
    FILE 的写法见 README“台账定义（Excel）”，或在聊天里发 /空白台账 拿一份带说明的定义表。
    有问题时逐条说明在哪张表第几行，什么也不保存，退出码为 1。
    修改会清空已有数据时先列出来、不保存，退出码为 1；确认后加 --confirm-loss 重新运行。
    """
    from handlers.commands.ledger_define import define_from_workbook

    config = without_platform(configuration(config_path))
    if not file.is_file():
        print(f"找不到文件：{file}", file=sys.stderr)
        return 2
    runtime = build_runtime(config, SimulatorPlatform(files_dir=config.simulator.files_dir))
    with transaction(runtime.factory) as session:
        result = define_from_workbook(runtime.engine.context(session), file, file.name, None, confirm_loss=confirm_loss)
    print(result.text)
    return 0 if result.saved else 1


@command_line.command("verify-digest")
@click.option("--task", "task_id", type=int, required=True, metavar="N", help="任务编号，如 12（任务#12）")
@click.option("--unit", metavar="NAME", help="只核对这个单位（单位名称，如 松林村）")
@config_option
def verify_digest(task_id: int, unit: str | None, config_path: Path | None) -> int:
    """核对审核签字的摘要（SHA-256）。

    \b
    按数据库里保存的报送重新计算每个已审核通过单位的规范内容和摘要，
    与签字时记下的摘要逐一比对，打印两者和“一致”或“不一致”。
    有任何不一致，退出码为 1；找不到任务或单位，退出码为 2。
    规范内容怎样算见 README“审核上报”。
    """
    from handlers.review.verification import report_lines, verify

    database = open_database(configuration(config_path))
    try:
        with make_session_factory(database)() as session:
            result = verify(session, task_id, unit)
    finally:
        database.dispose()
    if isinstance(result, str):
        print(result, file=sys.stderr)
        return 2
    print("\n".join(report_lines(result)))
    return 1 if any(check.agrees is False for check in result.checks) else 0


@command_line.command()
@config_option
def serve(config_path: Path | None) -> int:
    """启动 HTTP 服务（企业微信回调、模拟器接口、健康检查）。

    \b
    地址和端口见配置的 [web]；后台线程处理收到的消息、投递推送。
    [dingtalk] mode = "stream" 时还保持钉钉 Stream 长连接（多个进程时只有一个连接）。
    定时提醒、截止和定期报表由 python -m scheduler 另外运行。
    """
    # Werkzeug's server directly, not Flask's app.run: that one turns the debugger on when FLASK_DEBUG is set,
    # and the debugger runs code typed into an error page.
    from werkzeug.serving import make_server

    from bot.app import create_app

    config = configuration(config_path)
    runtime = platform_runtime(config)
    app = create_app(runtime, background=True)
    try:
        server = make_server(config.web.host, config.web.port, app, threaded=True)
    except OSError as error:
        print(f"无法在 {config.web.host}:{config.web.port} 启动 HTTP 服务：{error.strerror}", file=sys.stderr)
        app.extensions["worker"].stop()
        return 2
    print(f"一表通机器人 HTTP 服务：http://{config.web.host}:{server.server_port}（Ctrl+C 结束）", file=sys.stderr)
    if config.dingtalk.mode == "stream":
        print(STREAM_HOLDER, file=sys.stderr)
    try:
        with dingtalk_stream(runtime, app.extensions["worker"].kick):
            server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        app.extensions["worker"].stop()
    return 0


@command_line.command()
@click.option(
    "--poll-seconds",
    type=click.FloatRange(0.1, 60),
    default=WORKER_POLL_SECONDS,
    show_default=True,
    metavar="SECONDS",
    help="隔多久查一次数据库里新收到的消息",
)
@config_option
def worker(poll_seconds: float, config_path: Path | None) -> int:
    """处理收到的消息、投递推送的工作进程（生产部署用，见 deploy/README.md）。

    \b
    网页进程（gunicorn 'bot.wsgi:create_app()'）只验签、解密、存下消息并立即应答，
    这个进程每隔 --poll-seconds 秒查一次数据库，处理存下的消息、投递到期的推送。
    可以同时开几个：同一个人的消息按到达顺序一条接一条处理，不同人的消息由几个进程同时处理
    （PostgreSQL、MariaDB；SQLite 上一次一条），推送并行投递，都不会重复。
    [dingtalk] mode = "stream" 时还保持钉钉 Stream 长连接（多个进程时只有一个连接）。
    收到 SIGTERM 或 Ctrl+C 时处理完手上这条消息再退出，退出码为 0。
    """
    from bot.worker import Worker

    configure_logging(logging.INFO)
    runtime = platform_runtime(configuration(config_path))
    rounds = Worker(runtime, longest_sleep=poll_seconds)

    def stop(signum: int, frame: object) -> None:
        log.info("worker: %s received, stopping after the current message", signal.Signals(signum).name)
        rounds.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("worker %s started: looking for stored messages every %ss", os.getpid(), poll_seconds)
    if runtime.config.dingtalk.mode == "stream":
        print(STREAM_HOLDER, file=sys.stderr)
    with dingtalk_stream(runtime, rounds.kick):
        rounds.run_until_stopped()
    runtime.database.dispose()
    log.info("worker %s stopped", os.getpid())
    return 0


@command_line.command("fake-wecom")
@click.option(
    "--callback-url", default=FAKE_WECOM_CALLBACK, metavar="URL", help=f"机器人的回调地址，默认 {FAKE_WECOM_CALLBACK}"
)
@click.option(
    "--port", type=int, default=FAKE_WECOM_PORT, metavar="PORT", help=f"模拟器在本机监听的端口，默认 {FAKE_WECOM_PORT}"
)
@click.option("--org", type=FILE, default=DEMO_ORG, help="通讯录：import-org 格式的 CSV，默认示范单位")
@click.option("--corp-id", metavar="ID", help="企业ID（CorpID），默认示范值")
@click.option("--agent-id", metavar="ID", type=int, help="应用的 AgentId，默认示范值")
@click.option("--secret", help="应用的 Secret，默认示范值")
@click.option("--token", help="接收消息的 Token，默认示范值")
@click.option("--aes-key", metavar="KEY", help="接收消息的 EncodingAESKey（43 个字符），默认示范值")
def fake_wecom(
    callback_url: str,
    port: int,
    org: Path,
    corp_id: str | None,
    agent_id: int | None,
    secret: str | None,
    token: str | None,
    aes_key: str | None,
) -> int:
    """本地企业微信模拟器（只监听本机）。

    \b
    扮演成员给另外启动的机器人发消息，显示每个成员收到的内容。
    机器人配置的 [wecom] 填上启动时打印的 CorpID、Secret、Token、EncodingAESKey，
    api_base_url 填打印的接口地址。不加选项时用示范值。
    控制台里：@账号 文本 发消息，:click @账号 task_id 按钮key 点卡片按钮，
    :file @账号 路径 发文件，:verify 验证回调 URL，:help 查看用法，:quit 退出。
    """
    from bot.platforms.wecom.emulator import SAMPLE_AES_KEY, SAMPLE_CORP_ID, SAMPLE_TOKEN, EmulatorSettings
    from bot.platforms.wecom.emulator_cli import DEFAULT_AGENT_ID, DEFAULT_SECRET, run_fake_wecom

    settings = EmulatorSettings(
        corp_id=corp_id or SAMPLE_CORP_ID,
        secret=secret or DEFAULT_SECRET,
        agent_id=agent_id or DEFAULT_AGENT_ID,
        token=token or SAMPLE_TOKEN,
        encoding_aes_key=aes_key or SAMPLE_AES_KEY,
        callback_url=callback_url,
    )
    return run_fake_wecom(settings, port=port, org=org)


@command_line.command("fake-dingtalk")
@click.option(
    "--callback-url",
    default=FAKE_DINGTALK_CALLBACK,
    metavar="URL",
    help=f"机器人的回调地址，默认 {FAKE_DINGTALK_CALLBACK}",
)
@click.option(
    "--port",
    type=int,
    default=FAKE_DINGTALK_PORT,
    metavar="PORT",
    help=f"模拟器在本机监听的端口，默认 {FAKE_DINGTALK_PORT}",
)
@click.option(
    "--org",
    type=FILE,
    default=DEMO_ORG,
    help="通讯录：import-org 格式的 CSV（部门取单位，成员取钉钉账号），默认示范单位",
)
@click.option("--app-key", metavar="KEY", help="应用的 AppKey，默认示范值")
@click.option("--app-secret", metavar="SECRET", help="应用的 AppSecret，默认示范值")
@click.option("--stream", is_flag=True, help="Stream 模式：成员的消息经 websocket 推给连上来的机器人，不发回调")
def fake_dingtalk(
    callback_url: str, port: int, org: Path, app_key: str | None, app_secret: str | None, stream: bool
) -> int:
    """本地钉钉模拟器（只监听本机，HTTP 回调模式或 Stream 模式）。

    \b
    扮演成员在单聊里给另外启动的机器人发消息（带 timestamp 和 sign 签名），显示每个成员收到的内容。
    机器人配置的 [dingtalk] 填上启动时打印的 AppKey、AppSecret，
    api_base_url、webhook_base_url 和 oapi_base_url 填打印的接口地址。不加选项时用示范值。
    加 --stream 时机器人配置 mode = "stream"，由机器人连上模拟器的 Stream 网关收消息。
    控制台里：@钉钉账号 文本 发消息，:click @钉钉账号 卡片ID 选项值 点卡片，:quit 退出。
    """
    from bot.platforms.dingtalk.emulator import EmulatorSettings
    from bot.platforms.dingtalk.emulator_cli import DEFAULT_APP_KEY, DEFAULT_APP_SECRET, run_fake_dingtalk

    settings = EmulatorSettings(
        app_key=app_key or DEFAULT_APP_KEY,
        app_secret=app_secret or DEFAULT_APP_SECRET,
        callback_url=callback_url,
        stream=stream,
    )
    return run_fake_dingtalk(settings, port=port, org=org)


@command_line.command("sync-wecom")
@config_option
def sync_wecom(config_path: Path | None) -> int:
    """从企业微信同步部门和成员。

    \b
    按单位名称对应到组织架构，按企业微信账号对应到人员；新成员自动登记，
    本地分配的角色保留，打印新增和变更。需要配置 [wecom]。
    """
    from cli.contacts_sync import sync_platform_contacts

    return sync_platform_contacts(configuration(config_path), "wecom")


@command_line.command("sync-dingtalk")
@config_option
def sync_dingtalk(config_path: Path | None) -> int:
    """从钉钉同步部门和成员。

    \b
    从根部门起逐级读取部门，分页读取每个部门的成员；按单位名称对应到组织架构，
    按钉钉账号对应到人员；新成员自动登记，本地分配的角色和企业微信账号保留，
    打印新增和变更。钉钉出错时不改动任何数据。需要配置 [dingtalk]。
    """
    from cli.contacts_sync import sync_platform_contacts

    return sync_platform_contacts(configuration(config_path), "dingtalk")


@command_line.command()
@config_option
def migrate(config_path: Path | None) -> int:
    """把数据库升级到最新结构。

    其他命令启动时也会先升级。
    """
    config = configuration(config_path)
    open_database(config)
    print(f"数据库已是最新结构：{config.database.url}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m bot ARGS`, returning the exit code."""
    return exit_code(command_line, argv, "python -m bot")
