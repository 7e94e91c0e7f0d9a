"""/分析 and the analysis page's data: high-frequency matters of event ledgers and flagged jumps, within scope.

A department analyses the ledgers it owns or was granted and the recurring reports it issues, over the units of
its data scope (as /查询); admins everything. Only counts, sums, categories and unit names are shown.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from handlers.commands.scope import data_scope
from handlers.core.context import Context
from handlers.core.masking import mask_sensitive
from handlers.core.words import fold
from handlers.ledgers.access import Access, ledger_access
from handlers.tasks.towns import town_labels
from handlers.texts import analysis as analysis_texts
from ledger_store.analysis import (
    Anomaly,
    MatterReport,
    ledger_anomalies,
    report_anomalies,
    top_matters,
)
from ledger_store.analysis import refresh as refresh_ledger
from ledger_store.ledger_kinds import BOARDS
from ledger_store.models import Ledger, Person, Role
from ledger_store.warnings import RecentHit, recent_hits

EVENT = "event"
WARNING_DAYS = 7  # /分析 lists the records 预警 rules found in this many days


@dataclass(frozen=True)
class LedgerAnalysis:
    """One ledger's matters and the units whose figures jump."""

    report: MatterReport
    anomalies: list[Anomaly]


@dataclass(frozen=True)
class Analysis:
    """What /分析 and the page show: the ledgers analysed, recurring reports' jumps, and the readable choices."""

    target: str | None  # the ledger's title or the board; None: every readable event ledger
    scope: str | None  # the unit the person's data scope is named by; None: the whole district
    ledgers: list[LedgerAnalysis]
    report_anomalies: list[Anomaly]
    readable: list[Ledger]  # every ledger the person may read, to offer as links or in a refusal

    @property
    def anomalies(self) -> list[Anomaly]:
        """Every flagged jump, ledgers' and recurring reports', the biggest first."""
        found = [a for one in self.ledgers for a in one.anomalies] + self.report_anomalies
        return sorted(found, key=lambda a: -(abs(a.z) if a.z is not None else float("inf")))

    @property
    def boards(self) -> list[str]:
        """The boards the readable event ledgers belong to, in the catalog's order."""
        present = {ledger.board for ledger in self.readable if ledger.entity_kind == EVENT}
        return [board for board in BOARDS if board in present]


def readable_ledgers(ctx: Context, person: Person) -> list[Ledger]:
    """The ledgers the person may read (owned, granted, or any for an admin), in id order."""
    ledgers = ctx.session.scalars(select(Ledger).order_by(Ledger.id))
    return [ledger for ledger in ledgers if isinstance(ledger_access(ctx.session, person, ledger), Access)]


def chosen_ledgers(
    readable: list[Ledger], ledger_code: str | None, board: str | None
) -> tuple[list[Ledger], str | None]:
    """The ledgers analysed (one named by code or title, one board's event ledgers, or every event ledger) among
    the readable ones, and what was asked for (the ledger's title, the board, or None for all)."""
    if ledger_code is not None:
        chosen = [ledger for ledger in readable if fold(ledger_code) in (ledger.code, fold(ledger.title))]
        return chosen, chosen[0].title if chosen else None
    if board is not None:
        return [ledger for ledger in readable if ledger.board == board and ledger.entity_kind == EVENT], board
    return [ledger for ledger in readable if ledger.entity_kind == EVENT], None


def refresh_rollups(ctx: Context, person: Person, ledger_code: str | None = None, board: str | None = None) -> None:
    """Bring the rollups of the ledgers `analyse` would read up to date, in the context's transaction."""
    today = ctx.local_now().date()
    for ledger in chosen_ledgers(readable_ledgers(ctx, person), ledger_code, board)[0]:
        refresh_ledger(ctx.session, ledger, today)


def analyse(
    ctx: Context, person: Person, ledger_code: str | None = None, board: str | None = None, refresh: bool = True
) -> Analysis | str | None:
    """The analysis of one readable ledger, one board's event ledgers, or every readable event ledger.

    A sentence when the person has no data scope; None when the ledger or board named is not theirs to read.
    With `refresh`, each ledger's rollup is brought up to date first, in the context's own (write) transaction;
    a caller that only reads refreshes before in a transaction of its own."""
    scope = data_scope(ctx, person)
    if isinstance(scope, str):
        return scope
    readable = readable_ledgers(ctx, person)
    chosen, target = chosen_ledgers(readable, ledger_code, board)
    if (ledger_code is not None or board is not None) and not chosen:
        return None
    today = ctx.local_now().date()
    this_month = f"{today:%Y-%m}"
    analysed = []
    for ledger in chosen:
        if refresh:
            refresh_ledger(ctx.session, ledger, today)
        report = top_matters(ctx.session, ledger, scope.unit_ids, this_month, town_labels=town_labels, today=today)
        anomalies = ledger_anomalies(ctx.session, ledger, this_month, scope.unit_ids, today=today)
        analysed.append(LedgerAnalysis(report, anomalies))
    department = None if person.has_role(Role.ADMIN) else person.department_id
    reports = (
        []
        if ledger_code is not None or board is not None
        else report_anomalies(ctx.session, department, scope.unit_ids)
    )
    return Analysis(target, scope.unit, analysed, reports, readable)


def digest(ctx: Context, person: Person, args: str) -> list[str]:
    """/分析 [台账|板块]: one message with the top matters, the flagged jumps and new warnings."""
    word = args.strip() or None
    found = analyse(ctx, person, board=word) if word in BOARDS else analyse(ctx, person, ledger_code=word)
    if found is None:
        return [refusal(ctx, person, word or "")]
    if isinstance(found, str):
        return [found]
    titles = None if word is None else {one.report.ledger.title for one in found.ledgers}
    warned = new_warnings_lines(ctx, person, titles)
    if not found.ledgers and not found.report_anomalies and not warned:
        return [analysis_texts.NOTHING]
    lines = [analysis_texts.heading(found.scope, found.target)]
    lines += [analysis_texts.ledger_line(one.report) for one in found.ledgers]
    if found.ledgers or found.report_anomalies:
        lines.append(analysis_texts.anomalies_block(found.anomalies))
    lines += warned
    return [mask_sensitive("\n".join(lines))]


def refusal(ctx: Context, person: Person, word: str) -> str:
    """Why /分析 of that word shows nothing: the owner's refusal for a ledger not shared, else the choices."""
    named = next((x for x in ctx.session.scalars(select(Ledger)) if fold(word) in (x.code, fold(x.title))), None)
    access = None if named is None else ledger_access(ctx.session, person, named)
    if isinstance(access, str):
        return access
    readable = readable_ledgers(ctx, person)
    boards = [board for board in BOARDS if any(ledger.board == board for ledger in readable)]
    return analysis_texts.unknown_target(word, [ledger.title for ledger in readable], boards)


def new_warnings_lines(ctx: Context, person: Person, titles: set[str] | None) -> list[str]:
    """Records the department's 预警 rules found in the last WARNING_DAYS days, one line per rule (an admin: every
    department's), limited to the ledgers of `titles` when /分析 named a ledger or board (None: all)."""
    department = None if person.has_role(Role.ADMIN) else person.department_id
    if department is None and not person.has_role(Role.ADMIN):
        return []
    since = ctx.now() - timedelta(days=WARNING_DAYS)
    hits = [hit for hit in recent_hits(ctx.session, department, since) if titles is None or hit.ledger_title in titles]
    by_rule: dict[int, list[RecentHit]] = {}
    for hit in hits:
        by_rule.setdefault(hit.rule_id, []).append(hit)
    if not by_rule:
        return []
    lines = [analysis_texts.warnings_heading(WARNING_DAYS)]
    for rule_hits in sorted(by_rule.values(), key=len, reverse=True):
        units = Counter(hit.unit or "" for hit in rule_hits)
        first = rule_hits[0]
        lines.append(analysis_texts.warning_line(first.rule_id, first.ledger_title, first.rule_name, units))
    return lines
