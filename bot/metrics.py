"""The /metrics page in Prometheus' text format (version 0.0.4), counted from the database at each scrape."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.runtime import Runtime
from ledger_store.api_calls import call_totals
from ledger_store.api_usage import latest_usage
from ledger_store.db import database_revision
from ledger_store.leases import current_holders
from ledger_store.monitoring import inbound_backlog, inbound_by_status, outbox_backlog, outbox_by_status
from ledger_store.retention import pruned_counts

Labels = dict[str, str]


@dataclass
class Family:
    """One metric: its name, type and help line, and its samples (labels, value)."""

    name: str
    kind: str  # "counter" or "gauge"
    help: str
    samples: list[tuple[Labels, float]] = field(default_factory=list)

    def add(self, value: float, **labels: str) -> Family:
        """Add one sample; the family, so samples can be chained."""
        self.samples.append((labels, value))
        return self

    def lines(self) -> list[str]:
        """The family as the text format writes it: HELP, TYPE, then one line per sample."""
        head = [f"# HELP {self.name} {escape_help(self.help)}", f"# TYPE {self.name} {self.kind}"]
        return head + [f"{self.name}{label_set(labels)} {number(value)}" for labels, value in self.samples]


def escape_help(text: str) -> str:
    """A HELP text with backslashes and line breaks escaped."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def escape_label(value: str) -> str:
    """A label value with backslashes, double quotes and line breaks escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def label_set(labels: Labels) -> str:
    """`{name="value",...}`, or nothing for no labels."""
    if not labels:
        return ""
    return "{" + ",".join(f'{name}="{escape_label(value)}"' for name, value in labels.items()) + "}"


def number(value: float) -> str:
    """A whole number without a fraction, anything else as Python writes a float."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def exposition(runtime: Runtime, head: str | None) -> str:
    """Every metric an operator watches, read in one pass over the database."""
    now = runtime.engine.now()
    with runtime.database.connect() as connection:
        revision = database_revision(connection)
    with runtime.factory() as session:
        if session.get_bind().dialect.name != "sqlite":
            # One snapshot for every read: retention deleting rows between the count of rows and the count of rows
            # deleted would count them twice, and the next scrape's smaller counter would look like a restart.
            # (On SQLite, the demo's database, each read is its own snapshot: a scrape at the moment of the nightly
            # deletion may show such a dip once.)
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        inbound, outbox = inbound_by_status(session), outbox_by_status(session)
        pruned = pruned_counts(session)  # the counters count rows retention deleted too, so they never go down
        inbound_waiting, outbox_waiting = inbound_backlog(session), outbox_backlog(session)
        holders = current_holders(session, now)
        usage, totals = latest_usage(session), call_totals(session)
    families = [
        Family("ybt_migrations_current", "gauge", "1 when the database carries this code's newest migration.").add(
            int(revision == head)
        ),
        Family("ybt_inbound_accepted_total", "counter", "Platform messages accepted (stored), handled or not.").add(
            sum(inbound.values()) + pruned["inbound_messages:done"] + pruned["inbound_messages:failed"]
        ),
        Family("ybt_inbound_handled_total", "counter", "Platform messages handled.").add(
            inbound["done"] + pruned["inbound_messages:done"]
        ),
        Family("ybt_inbound_failed_total", "counter", "Platform messages given up on after repeated failures.").add(
            inbound["failed"] + pruned["inbound_messages:failed"]
        ),
        Family("ybt_inbound_pending", "gauge", "Platform messages accepted and still to handle.").add(
            inbound["pending"]
        ),
        Family(
            "ybt_inbound_oldest_pending_seconds", "gauge", "How long the oldest message still to handle has waited."
        ).add(inbound_waiting.oldest_seconds(now) or 0),
        Family("ybt_outbox_sent_total", "counter", "Pushes handed to their platform.").add(
            outbox["sent"] + pruned["outbox:sent"]
        ),
        Family("ybt_outbox_pending", "gauge", "Pushes not sent yet, first tries and retries.").add(outbox["pending"]),
        Family("ybt_outbox_dead", "gauge", "Pushes given up on, waiting for an admin (/投递).").add(outbox["dead"]),
        Family("ybt_outbox_oldest_pending_seconds", "gauge", "How long the oldest push not sent yet has waited.").add(
            outbox_waiting.oldest_seconds(now) or 0
        ),
        Family("ybt_scheduler_lease_holder", "gauge", "1 for the process (host:pid) holding a scheduler lease."),
        Family("ybt_platform_api_calls_total", "counter", "Platform API calls made, answered or not."),
        Family("ybt_platform_api_errors_total", "counter", "Platform API calls that failed: no answer or an error."),
        Family("ybt_platform_api_month_calls", "gauge", "Answered calls in the platform's latest metered month."),
        Family("ybt_platform_api_allowance", "gauge", "The platform's monthly call allowance (0: not metered)."),
    ]
    by_name = {family.name: family for family in families}
    for lease, holder in holders:
        by_name["ybt_scheduler_lease_holder"].add(1, lease=lease, holder=holder)
    for total in totals:
        by_name["ybt_platform_api_calls_total"].add(total.calls, platform=total.platform)
        by_name["ybt_platform_api_errors_total"].add(total.errors, platform=total.platform)
    for month in usage:
        labels = {"platform": month.platform, "period": month.period}
        by_name["ybt_platform_api_month_calls"].add(month.calls, **labels, metered="true")
        by_name["ybt_platform_api_month_calls"].add(month.free_calls, **labels, metered="false")
        by_name["ybt_platform_api_allowance"].add(month.allowance, **labels)
    return "\n".join(line for family in families for line in family.lines()) + "\n"
