"""What bench.city_month prints: sizes, ticks, the outbox against the platforms' limits, the year, what breaks first."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.config import DeliveryConfig, DingTalkConfig, SchedulerConfig
from bot.platforms.dingtalk.platform import MAX_BATCH_USERS, MAX_WORK_NOTICE_USERS
from bot.runtime import Runtime

MAIN_TABLES = (
    "org_units", "people", "report_tasks", "assignments", "submissions", "answers", "review_steps", "outbox",
    "inbound_messages", "audit_log", "ledger_records", "ledger_changes", "rollup_marks", "chat_focus",
    "stored_files",
)  # fmt: skip
WECOM_PER_CALL = 1000  # touser holds at most 1000 ids (shared/reference/wecom.md, doc 90236)
# "per app about 200 × account-cap person-sends a day" (shared/reference/wecom.md, WeCom doc 90236 发送应用消息)
WECOM_DAILY_PER_SEAT = 200
MB = 2**20
TZ = ZoneInfo("Asia/Shanghai")


@dataclass
class Snapshot:
    """The database at one moment, and the idle ticks timed then."""

    size: int
    tables: dict[str, tuple[int, int]]  # table -> (rows, bytes with its indexes and TOAST)
    ticks: list[float]
    open_ticks: list[float] | None = None  # the same, with one more task open and nothing due (after the month)

    @classmethod
    def take(cls, runtime: Runtime, ticks: list[float]) -> Snapshot:
        """Measure now (row counts exact, sizes from PostgreSQL)."""
        with runtime.database.connect() as connection:
            size = connection.scalar(sa.text("SELECT pg_database_size(current_database())"))
            tables = {
                table: (
                    connection.scalar(sa.text(f"SELECT count(*) FROM {table}")),
                    connection.scalar(sa.text(f"SELECT pg_total_relation_size('{table}')")),
                )
                for table in MAIN_TABLES
            }
        return cls(size, tables, ticks)


OUTBOX_DAYS = """
SELECT (created_at + interval '8 hours')::date AS day, dedupe_key LIKE 'reply:%' AS reply,
       coalesce(text, '') || coalesce(CAST(file_id AS text), '') AS content, count(*) AS n
FROM outbox GROUP BY 1, 2, 3
"""


@dataclass
class Day:
    """One local day of the outbox: recipients and the call floors."""

    replies: int = 0
    pushes: int = 0
    wecom_calls: int = 0
    robot_calls: int = 0
    notice_calls: int = 0


def outbox_days(runtime: Runtime) -> dict[Any, Day]:
    """Per local day: replies, pushes, and the fewest calls each platform needs (a push text is grouped by day)."""
    days: dict[Any, Day] = {}
    with runtime.database.connect() as connection:
        for day, reply, _, n in connection.execute(sa.text(OUTBOX_DAYS)):
            figures = days.setdefault(day, Day())
            if reply:
                figures.replies += n
                figures.wecom_calls += n  # a reply goes alone; on DingTalk it goes to the session webhook, unmetered
            else:
                figures.pushes += n
                figures.wecom_calls += -(-n // WECOM_PER_CALL)
                figures.robot_calls += -(-n // MAX_BATCH_USERS)
                figures.notice_calls += -(-n // MAX_WORK_NOTICE_USERS)
    return dict(sorted(days.items()))


def print_tables(org: Snapshot, full: Snapshot) -> None:
    """Rows and sizes after the org was built and after the month."""
    print(
        f"\ndatabase  pg_database_size {org.size / MB:8.1f} MB after the org, {full.size / MB:8.1f} MB after the month"
    )
    print(f"{'table':<17}{'rows (org)':>12}{'rows (month)':>14}{'MB (month)':>12}")
    for table, (rows, size) in full.tables.items():
        print(f"{table:<17}{org.tables[table][0]:>12,}{rows:>14,}{size / MB:>12.1f}")


def print_figures(runtime: Runtime, args: Any, month: Any, org: Snapshot, full: Snapshot, summary: tuple) -> None:
    """Everything the bench measured, then the year and what would break first."""
    scheduler = SchedulerConfig()
    units = args.villages
    print(
        f"\nissuing   {len(month.issue_seconds)} × /发布 to {units} villages through the engine: "
        f"{statistics.median(month.issue_seconds):.1f} s median, {max(month.issue_seconds):.1f} s max"
    )
    print(
        f"sample    {month.sample_messages} chat messages of one town (webhook path) in {month.sample_seconds:.1f} s; "
        "rows its first unit's reviewed report wrote (the template of the copies):"
    )
    print("          " + ", ".join(f"{table} {n}" for table, n in month.per_unit.items()))
    print(
        "          and its reviewer's /审核, 全部通过, 确认 (copied once per town and wave): "
        + ", ".join(f"{table} {n}" for table, n in month.per_town.items())
    )
    print(f"bulk      synthetic copies of those rows for every other unit: {month.bulk_seconds:.1f} s in all")
    print_tables(org, full)

    busy = [seconds for _, seconds, _ in month.ticks]
    slowest = sorted(month.ticks, key=lambda tick: -tick[1])[:3]
    half = len(busy) // 2
    print(f"\nticks     {len(busy)} ticks in the month (real TimedWork.tick): median {statistics.median(busy):.1f} s, "
          f"max {max(busy):.1f} s; tick_seconds = {scheduler.tick_seconds}")  # fmt: skip
    for when, seconds, report in slowest:
        print(f"          {seconds:6.1f} s at {when.astimezone(TZ):%m-%d %H:%M}: {describe(report)}")
    building = [seconds for _, seconds, report in month.ticks if report and (report.closed or report.summaries)]
    others = [seconds for _, seconds, report in month.ticks if not (report and (report.closed or report.summaries))]
    if building and others:
        print(f"          {len(building)} ticks built a summary (a deadline passed, or the last approval came in): "
              f"median {statistics.median(building):.1f} s; the {len(others)} others (reminders only): median "
              f"{statistics.median(others):.1f} s, max {max(others):.1f} s")  # fmt: skip
    if half:
        print(f"          first half of the month median {statistics.median(busy[:half]):.1f} s, "
              f"second half {statistics.median(busy[half:]):.1f} s")  # fmt: skip
    idle_org, idle_full = statistics.median(org.ticks), statistics.median(full.ticks)
    print(f"idle tick median of {len(full.ticks)}: {idle_org:.2f} s on the empty month, {idle_full:.2f} s after it")
    if full.open_ticks:
        print(f"          after it with one more task issued to every village and open (no reminder due yet): "
              f"{statistics.median(full.open_ticks):.2f} s median of {len(full.open_ticks)} "
              f"({', '.join(f'{t:.2f}' for t in full.open_ticks)} s)")  # fmt: skip

    days = outbox_days(runtime)
    members = full.tables["people"][0]
    quota = WECOM_DAILY_PER_SEAT * members
    peak_day, peak = max(days.items(), key=lambda item: item[1].replies + item[1].pushes)
    month_robot = sum(day.robot_calls for day in days.values())
    month_notice = sum(day.notice_calls for day in days.values())
    print("\noutbox    per local day: recipients (replies + pushes), WeCom message/send calls (floor), "
          "DingTalk metered calls (floor, robot / work notice)")  # fmt: skip
    for day, figures in days.items():
        print(
            f"          {day}  {figures.replies + figures.pushes:>8,} = {figures.replies:>7,} + {figures.pushes:>7,}"
            f"   WeCom {figures.wecom_calls:>7,}   DingTalk {figures.robot_calls:>6,} / {figures.notice_calls:>6,}"
        )
    print(f"WeCom     quota {WECOM_DAILY_PER_SEAT} × {members:,} members = {quota:,} recipients a day (a floor: the "
          "account cap is at least the members; shared/reference/wecom.md, WeCom doc 90236)")  # fmt: skip
    print(f"          peak day {peak_day}: {peak.replies + peak.pushes:,} recipients = "
          f"{(peak.replies + peak.pushes) / quota:.1%} of it; its {peak.pushes:,} pushes need "
          f"{peak.pushes / DeliveryConfig.per_platform_per_minute:.1f} min at per_platform_per_minute "
          f"{DeliveryConfig.per_platform_per_minute}")  # fmt: skip
    allowance = DingTalkConfig.monthly_call_allowance
    print(f"DingTalk  the month's pushes: {month_robot:,} metered calls by robot, {month_notice:,} by work notices, "
          f"against {allowance:,} a month ({month_robot / allowance:.0%} / {month_notice / allowance:.0%}); "
          "replies go to the session webhook, unmetered")  # fmt: skip

    read, build, summary_units, size = summary
    print(f"\nsummary   the biggest task ({summary_units:,} units): answers read in {read:.1f} s, workbook built in "
          f"{build:.1f} s, {size / MB:.1f} MB")  # fmt: skip
    print_year(org, full, idle_org, idle_full, busy, scheduler.tick_seconds)
    print_breaks(
        month_robot / allowance, month_notice / allowance, (peak.replies + peak.pushes) / quota,
        max(busy) / scheduler.tick_seconds, read + build, full, org,
    )  # fmt: skip


def print_year(org: Snapshot, full: Snapshot, idle_org: float, idle_full: float, busy: list, tick: int) -> None:
    """Twelve such months, linearly: the org stays, the month's rows and bytes come again."""
    rows_org = sum(rows for rows, _ in org.tables.values())
    rows_month = sum(rows for rows, _ in full.tables.values()) - rows_org
    growth = full.size - org.size
    print(
        f"\nyear      rows {rows_org + 12 * rows_month:,} (org {rows_org:,} + 12 × {rows_month:,}); "
        f"size {(org.size + 12 * growth) / 2**30:.1f} GB (org {org.size / MB:.0f} MB + 12 × {growth / MB:.0f} MB)"
    )
    trend = idle_full - idle_org
    print(f"          idle tick {idle_org:.2f} s → {idle_full:.2f} s over the month; linearly "
          f"{idle_org + 12 * trend:.2f} s after a year (tick_seconds {tick}); the busiest tick of the month "
          f"{max(busy):.1f} s, plus what twelve months of rows add to it")  # fmt: skip


def print_breaks(robot: float, notice: float, wecom: float, tick: float, summary: float, full: Snapshot,
                 org: Snapshot) -> None:  # fmt: skip
    """The limits, by how much of each the month uses: the first to break is the one nearest or past 100 %."""
    limits = [
        (robot, "DingTalk's monthly API allowance, pushes by robot (20 people a call, one call per distinct text)"),
        (notice, "DingTalk's monthly API allowance, pushes as work notices (100 people a call)"),
        (wecom, "WeCom's daily per-app quota on the busiest day"),
        (tick, "the scheduler's busiest tick against tick_seconds (a longer tick delays the next one)"),
    ]
    print("\nwhat would break first (share of each limit the month uses):")
    for share, name in sorted(limits, key=lambda item: -item[0]):
        print(f"          {share:8.1%}  {name}")
    print(f"          summary of the biggest task {summary:.1f} s inside one tick's transaction; the database grows "
          f"{(full.size - org.size) / MB:.0f} MB a month")  # fmt: skip


def describe(report: Any) -> str:
    """A tick's report in a few words."""
    if report is None:
        return "lease held elsewhere"
    return (f"{report.reminded} reminders, {report.closed} closed, {report.summaries} summaries, "
            f"{report.failed} failed")  # fmt: skip
