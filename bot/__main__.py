"""Command line: `python -m bot demo | chat | import-org FILE | serve | migrate`."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from bot.chat import ChatSimulator, run_interactive, run_script, script_lines
from bot.config import Config, config_or_complaint
from bot.logs import configure_logging
from bot.platforms.simulator import SimulatorPlatform
from bot.runtime import build_runtime, load_demo_org, open_database
from handlers.clock import SystemClock
from handlers.ledger_catalog import assign_standard_owners
from ledger_store.db import make_session_factory, transaction
from ledger_store.org_import import import_org
from scheduler.jobs import TimedWork
from scheduler.process import background

DEMO_INTRO = """一表通机器人 · 本地聊天模拟器
数据库：{database}
示范单位：永川区（朱沱镇、中山路街道及下辖村社区），部门：区民政局、区残联。

试一试：
  @li_minzheng /发布 低保月报 截止 明天17:00       区民政局李敏正发布任务（默认发给各镇街）
  @hu_xiaoyan 开始                                 朱沱镇胡晓燕逐题填写
  @li_minzheng /进度                               查看谁还没报
  @liu_ting 开始                                   中山路街道刘婷填写；最后一个提交后汇总表自动发给区民政局
  @li_minzheng /发布 低保月报 每月25日 截止 次月3日 18:00   每月定时发布；“/定时”查看
定时提醒、截止汇总和定时发布在后台运行（与 python -m scheduler 相同）。
机器人发出的文件保存在 {files}
"""


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="一表通机器人")
    parser.add_argument("--config", type=Path, help="配置文件（TOML），默认用内置默认值")
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="载入示范单位并打开本地聊天模拟器")
    demo_parser.add_argument("--wecom", action="store_true", help="改为走企业微信全链路（本地模拟企业微信）")
    chat = commands.add_parser("chat", help="本地聊天模拟器")
    chat.add_argument("--as", dest="account", help="一开始扮演的账号")
    chat.add_argument("--script", type=Path, help="按行回放“账号: 文本”的脚本文件")
    chat.add_argument("--out", type=Path, help="机器人发出的文件保存到这个目录")
    org = commands.add_parser("import-org", help="从 Excel/CSV 导入组织架构和人员")
    org.add_argument("file", type=Path)
    form = commands.add_parser("import-form", help="从 Excel（XLSForm 格式）导入表单")
    form.add_argument("file", type=Path)
    ledger = commands.add_parser("import-ledger", help="批量导入台账历史数据（首次录入），可重复运行")
    ledger.add_argument("ledger", help="台账编号或名称，如 dibao_households 或 低保对象台账")
    ledger.add_argument("file", type=Path)
    ledger.add_argument("--errors", type=Path, help="有误的行写到这个 Excel 文件（默认：原文件名_错误.xlsx）")
    commands.add_parser("serve", help="启动 HTTP 服务（健康检查、模拟器接口、企业微信回调）")
    fake = commands.add_parser("fake-wecom", help="本地企业微信模拟器（只监听本机）", add_help=False)
    fake.add_argument("rest", nargs=argparse.REMAINDER)
    commands.add_parser("sync-wecom", help="从企业微信同步部门和成员")
    commands.add_parser("migrate", help="把数据库升级到最新结构")
    args = parser.parse_args(argv)
    configure_logging(logging.WARNING)
    config = config_or_complaint(args.config)
    return 2 if config is None else COMMANDS[args.command](config, args)


def demo(config: Config, args: argparse.Namespace) -> int:
    """Migrate, load the demo organisation if the database is empty, and open the chat."""
    if args.wecom:
        from bot.wecom_demo import run_wecom_demo

        return run_wecom_demo(config)
    platform = SimulatorPlatform(files_dir=config.simulator.files_dir)
    runtime = build_runtime(config, platform)
    report = load_demo_org(runtime)
    if report is not None:
        print(report.summary())
    print(DEMO_INTRO.format(database=config.database.url, files=config.simulator.files_dir))
    work = TimedWork(runtime, config.scheduler)
    timer = background(work, config.scheduler)
    timer.start()  # reminders, deadlines and recurring reports, as `python -m scheduler` runs them
    try:
        run_interactive(ChatSimulator(runtime, platform, sys.stdout), account=None)
    finally:
        timer.shutdown(wait=False)
        work.stop()
    return 0


def chat(config: Config, args: argparse.Namespace) -> int:
    """The chat simulator, interactive or replaying a script."""
    lines = None
    if args.script:
        try:
            lines = script_lines(args.script)
        except UnicodeDecodeError:
            print(f"脚本文件 {args.script} 不是 UTF-8 编码，请另存为 UTF-8 后再试。", file=sys.stderr)
            return 2
        except OSError as error:
            print(f"无法读取脚本文件 {args.script}：{error.strerror}", file=sys.stderr)
            return 2
    files_dir = args.out or config.simulator.files_dir
    platform = SimulatorPlatform(files_dir=files_dir)
    runtime = build_runtime(config, platform)
    load_demo_org(runtime)
    simulator = ChatSimulator(runtime, platform, sys.stdout)
    if lines is not None:
        return run_script(simulator, lines)
    run_interactive(simulator, account=args.account)
    return 0


def import_org_file(config: Config, args: argparse.Namespace) -> int:
    """Import an organisation file; nothing is written when it has errors. Standard ledgers get their owners."""
    database = open_database(config)

    with transaction(make_session_factory(database)) as session:
        report = import_org(session, args.file)
        if not report.errors:
            assign_standard_owners(session, SystemClock().now())
    print(report.summary())
    return 1 if report.errors else 0


def import_form_file(config: Config, args: argparse.Namespace) -> int:
    """Import a form workbook; nothing is stored when it has problems."""
    from handlers.form_import import import_form

    if not args.file.is_file():
        print(f"找不到文件：{args.file}", file=sys.stderr)
        return 2
    runtime = build_runtime(config, SimulatorPlatform(files_dir=config.simulator.files_dir))
    with transaction(runtime.factory) as session:
        result = import_form(runtime.engine.context(session), args.file, args.file.name, person=None)
    print(result.message())
    return 0 if result.version is not None else 1


def import_ledger_file(config: Config, args: argparse.Namespace) -> int:
    """Stream a ledger file into the database, showing progress on a terminal."""
    from bot.progress import ProgressBar
    from handlers.ledger_catalog import find_ledger
    from ledger_store.file_names import safe_label
    from ledger_store.ledger_import import import_ledger

    if not args.file.is_file():
        print(f"找不到文件：{args.file}", file=sys.stderr)
        return 2
    runtime = build_runtime(config, SimulatorPlatform(files_dir=config.simulator.files_dir))
    with runtime.factory() as session:
        ledger = find_ledger(session, args.ledger)
        code = ledger.code if ledger else args.ledger
    # Next to the file, named after it (cut short: a long name plus _错误 could pass what the file system allows).
    errors = args.errors or args.file.with_name(f"{safe_label(args.file.stem)}_错误.xlsx")
    bar = ProgressBar(sys.stderr)
    report = import_ledger(runtime.factory, code, args.file, None, runtime.engine.now(), bar.update, error_path=errors)
    bar.close()
    print(report.summary())
    return 0 if not report.problem and not report.invalid else 1


def serve(config: Config, args: argparse.Namespace) -> int:
    """Run the HTTP server and its worker; timed work (reminders, deadlines) belongs to `python -m scheduler`.

    Werkzeug's server directly, not Flask's app.run: that one turns the debugger on when FLASK_DEBUG is set,
    and the debugger runs code typed into an error page.
    """
    from werkzeug.serving import make_server

    from bot.app import create_app
    from bot.platforms.registry import configured_runtime

    app = create_app(configured_runtime(config), background=True)
    try:
        server = make_server(config.web.host, config.web.port, app, threaded=True)
    except OSError as error:
        print(f"无法在 {config.web.host}:{config.web.port} 启动 HTTP 服务：{error.strerror}", file=sys.stderr)
        app.extensions["worker"].stop()
        return 2
    print(f"一表通机器人 HTTP 服务：http://{config.web.host}:{server.server_port}（Ctrl+C 结束）", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        app.extensions["worker"].stop()
    return 0


def fake_wecom(config: Config, args: argparse.Namespace) -> int:
    """The local WeCom emulator, with a console to play members."""
    from bot.platforms.wecom.emulator_cli import main_fake_wecom

    return main_fake_wecom(args.rest)


def sync_wecom(config: Config, args: argparse.Namespace) -> int:
    """Pull WeCom departments and members into the organisation."""
    from bot.platforms.registry import wecom_platform
    from bot.platforms.wecom.contacts import sync_contacts

    if not config.wecom.enabled:
        print("配置里还没有填写企业微信应用（[wecom] corp_id、secret、token、encoding_aes_key）。", file=sys.stderr)
        return 2
    database = open_database(config)
    platform = wecom_platform(config, database)
    report = sync_contacts(make_session_factory(database), platform.client, SystemClock().now)
    print(report.summary())
    return 0


def migrate(config: Config, args: argparse.Namespace) -> int:
    """Bring the database schema up to date."""
    open_database(config)
    print(f"数据库已是最新结构：{config.database.url}")
    return 0


COMMANDS = {
    "demo": demo,
    "chat": chat,
    "import-org": import_org_file,
    "import-form": import_form_file,
    "import-ledger": import_ledger_file,
    "serve": serve,
    "fake-wecom": fake_wecom,
    "sync-wecom": sync_wecom,
    "migrate": migrate,
}

if __name__ == "__main__":
    sys.exit(main())
