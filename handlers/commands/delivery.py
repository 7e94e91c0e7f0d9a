"""/投递 for admins: how the outbox stands, the messages delivery gave up on and why, and sending them again."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from handlers.core.context import Context
from handlers.core.masking import mask_sensitive, mask_user_id
from handlers.texts import delivery as t
from ledger_store import audit
from ledger_store.api_usage import usage_in
from ledger_store.models import Person
from ledger_store.outbox import DeadLetter, dead_ids, delivery_counts, latest_dead, retry_dead

SHOWN = 10
PREVIEW_CHARS = 30
# A bare "/投递 重试" sends again what failed this recently; older messages are likely stale.
RECENT = timedelta(hours=24)
RETRY_WORDS = ("重试", "retry")
ALL_WORDS = ("全部", "all")
NUMBER = re.compile(r"#?(\d+)")
# Outbox numbers are 64-bit; a longer number names no message and must not reach the database as a parameter.
MAX_NUMBER_DIGITS = 18
SEPARATORS = re.compile(r"[\s,，、]+")


def run(ctx: Context, person: Person, args: str) -> list[str]:
    """/投递 shows the outbox; /投递 重试 [全部|编号…] sends dead messages again."""
    words = [word for word in SEPARATORS.split(args.strip()) if word]
    if not words:
        return [overview(ctx)]
    if words[0].lower() in RETRY_WORDS:
        return [retry(ctx, person, words[1:])]
    return [t.USAGE]


def overview(ctx: Context) -> str:
    """The counts, this month's API use of each platform that meters it, then the latest dead messages and why."""
    counts = delivery_counts(ctx.session)
    next_retry = f"{ctx.to_local(counts.next_retry_at):%H:%M}" if counts.next_retry_at else None
    lines = [t.overview(counts.pending, counts.retrying, next_retry, counts.dead)]
    for usage in usage_in(ctx.session, f"{ctx.local_now():%Y-%m}"):
        lines.append(t.api_usage(usage.platform, usage.calls, usage.allowance, usage.free_calls))
    if counts.dead:
        dead = latest_dead(ctx.session, SHOWN)
        lines.append(t.dead_header(len(dead), counts.dead))
        lines.extend(dead_line(ctx, letter) for letter in dead)
        lines.append(t.RETRY_HINT)
    return "\n".join(lines)


def dead_line(ctx: Context, letter: DeadLetter) -> str:
    """One dead message: when it was queued, to whom, what it said (masked), the tries and the reason."""
    local = ctx.to_local(letter.queued_at)
    if letter.person_name is not None:
        recipient = letter.person_name
    else:
        recipient = t.to_unregistered(letter.platform or "", mask_user_id(letter.user_id or ""))
    return t.dead_line(letter.id, f"{local.month}月{local.day}日 {local:%H:%M}", recipient, preview(letter),
                       letter.attempts, letter.failure_reason or t.UNKNOWN_ERROR)  # fmt: skip


def preview(letter: DeadLetter) -> str:
    """The start of the text on one line, ID numbers and mobiles masked; or the file's name."""
    if letter.text:
        text = " ".join(mask_sensitive(letter.text).split())
        return t.text_preview(text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "…")
    return t.file_preview(letter.file_name or "")


def retry(ctx: Context, person: Person, words: list[str]) -> str:
    """Put dead messages back to pending: the last day's, all of them, or the numbered ones; audited."""
    if not words:
        since = ctx.now() - RECENT
        ids = dead_ids(ctx.session, queued_since=since)
        older = delivery_counts(ctx.session).dead - len(ids)
        if not ids and not older:
            return t.NOTHING_TO_RETRY
        if ids:
            put_back(ctx, person, ids, "recent", since)
        return t.retried(len(ids), older)
    if len(words) == 1 and words[0].lower() in ALL_WORDS:
        ids = dead_ids(ctx.session)
        if not ids:
            return t.NOTHING_TO_RETRY
        put_back(ctx, person, ids, "all")
        return t.retried_all(len(ids))
    numbers = [NUMBER.fullmatch(word) for word in words]
    if not all(numbers):
        return t.USAGE
    asked = [match.group(1) for match in numbers]
    # A number too long to be an outbox id is answered as typed, as one that names no failed message.
    typed = list(dict.fromkeys(int(digits) if len(digits) <= MAX_NUMBER_DIGITS else digits for digits in asked))
    ids = dead_ids(ctx.session, ids=[number for number in typed if isinstance(number, int)])
    missing = [number for number in typed if number not in ids]
    if ids:
        put_back(ctx, person, ids, "listed")
    replies = ([t.retried_listed(ids)] if ids else []) + ([t.not_dead(missing)] if missing else [])
    return "\n".join(replies)


def put_back(ctx: Context, person: Person, ids: list[int], which: str, since: datetime | None = None) -> None:
    """Retry the rows and write who did it to the audit log."""
    count = retry_dead(ctx.session, ids)
    chosen = {"which": which, "ids": ids} | ({"queued_since": since.isoformat()} if since else {})
    audit.record(ctx.session, at=ctx.now(), actor_id=person.id, action="retry_delivery", entity="outbox",
                 entity_id=ids[0] if len(ids) == 1 else which, old={"status": "dead"},
                 new={"status": "pending", "count": count, **chosen})  # fmt: skip
