"""One delivery pass's claim: due rows grouped by content (one recipient once a call), within the limits, leased."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from bot.delivery_limits import MINUTE, Addressee, over_member_limit, over_platform_limit, platform_budgets
from bot.platforms.base import DeliveryError, Outgoing, Platform
from handlers.core.masking import mask_sensitive
from handlers.texts import delivery as texts
from ledger_store.models import OutboxMessage, OutboxStatus, Person
from ledger_store.org import platform_user_ids
from ledger_store.outbox import Buttons, is_reply, lock_claims, platform_of, reply_rows

log = logging.getLogger(__name__)
RETRY_BASE = timedelta(seconds=30)
# How long a claimed row is left alone before another pass may send it again.
LEASE = timedelta(minutes=2)


@dataclass
class Claim:
    """One content to send on one platform to the rows' recipients, and what became of each row."""

    platform: str
    message: Outgoing
    rows: list[Addressee] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)
    invalid: list[Addressee] = field(default_factory=list)
    failed: dict[int, DeliveryError] = field(default_factory=dict)  # row id -> why it failed


def claim(
    session: Session,
    platforms: dict[str, Platform],
    default_platform: str,
    now: datetime,
    max_attempts: int,
    batch_size: int,
    per_platform_per_minute: int = 0,
) -> list[Claim] | None:
    """Lease the due rows the limits allow, grouped by platform and identical content; None when nothing is due.

    Rows over a limit are not leased and their tries are not counted: over a member's limit they wait a minute,
    over the platform's they stay due, and no pass takes them while the platform's minute is used up.
    """
    lock_claims(session, now)
    budgets = platform_budgets(session, platforms, default_platform, now, per_platform_per_minute)
    spent = [name for name, left in budgets.items() if left <= 0]
    rows = list(session.scalars(due_rows(now, default_platform, spent).limit(batch_size)))
    if not rows:
        return None
    taken = Taken(session, platforms, default_platform, now, max_attempts)
    taken.add(rows)
    if len(rows) == batch_size:  # with fewer, every due row is already taken: there is no more of the same
        taken.add(more_of_the_same(session, taken, budgets))
    entries = [(item.platform, entry) for item in taken.claims for entry in item.rows]
    held: set[int] = set()
    for name in {item.platform for item in taken.claims}:
        mine = [entry for platform, entry in entries if platform == name]
        held |= over_member_limit(session, platforms[name].per_member_per_minute, mine, now)
    for row_id in held:
        taken.rows[row_id].next_attempt_at = now + MINUTE  # the member's minute has to pass first
    left_due = held | over_platform_limit(entries, budgets, held)
    for item in taken.claims:
        item.rows = [entry for entry in item.rows if entry.row_id not in left_due]
        for entry in item.rows:
            row = taken.rows[entry.row_id]
            row.attempts += 1
            row.next_attempt_at, row.sent_at = now + LEASE, now
    return [item for item in taken.claims if item.rows]


def anything_due(session: Session, now: datetime) -> bool:
    """Is any row waiting to go? A plain read, so an idle pass neither takes the claim lock nor counts the minute."""
    return session.scalar(select(OutboxMessage.id).where(*due(now)).limit(1)) is not None


def due(now: datetime) -> tuple:
    """The conditions of a row whose time has come."""
    return (
        OutboxMessage.status == OutboxStatus.PENDING,
        or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
    )


def due_rows(now: datetime, default_platform: str, spent: list[str]) -> Select:
    """Pending rows whose time has come, oldest first, locked (skipping rows another pass holds).

    Pushes to a platform whose minute is used up are left out; replies to it are not. A row waits while an
    older row to the same person is not due yet (held back by their limit, in flight in another pass, waiting
    to be tried again): otherwise it would overtake that row, and the person would read their messages out
    of order.
    """
    earlier = aliased(OutboxMessage)
    overtakes = exists().where(
        earlier.person_id == OutboxMessage.person_id,
        earlier.id < OutboxMessage.id,
        earlier.status == OutboxStatus.PENDING,
        earlier.next_attempt_at > now,
    )
    query = (
        select(OutboxMessage)
        .where(*due(now), ~overtakes)
        .order_by(OutboxMessage.id)
        .with_for_update(skip_locked=True)
        .options(selectinload(OutboxMessage.person).lazyload(Person.roles))
    )
    if spent:
        query = query.where(or_(reply_rows(), platform_of(default_platform).not_in(spent)))
    return query


@dataclass(frozen=True)
class Content:
    """What a row carries to which platform: rows with equal contents can share the platform's calls."""

    platform: str
    text: str | None
    file_id: int | None
    card: str | None
    reply: bool

    @classmethod
    def of(cls, row: OutboxMessage, platform: str) -> Content:
        """The content of one outbox row on `platform`."""
        card = repr(sorted(row.card.items())) if row.card else None
        return cls(platform, row.text, row.file_id, card, is_reply(row))

    @property
    def pushed_text(self) -> bool:
        """A text push: no file, no card, not a reply."""
        return self.text is not None and self.file_id is None and self.card is None and not self.reply


class Taken:
    """The rows of one pass grouped into claims; rows that cannot go anywhere fail as they are added.

    A claim never names one recipient twice: WeCom delivers touser "u|u|u" once, so three replies of the
    same text to one person would show as one. The second such row starts (or joins) a later claim, and
    a row only joins a claim after the last one holding its recipient, so each person gets their
    messages in the order they were queued.
    """

    def __init__(
        self, session: Session, platforms: dict[str, Platform], default_platform: str, now: datetime, attempts: int
    ) -> None:
        self.session, self.platforms, self.default_platform = session, platforms, default_platform
        self.now, self.max_attempts = now, attempts
        self.claims: list[Claim] = []
        self.contents: list[Content] = []  # the content of each claim, by position
        self.rows: dict[int, OutboxMessage] = {}
        self._latest: dict[tuple[str, str], int] = {}  # (platform, recipient) -> position of their last claim

    def add(self, rows: list[OutboxMessage]) -> None:
        """Group `rows` by platform and content, looking each platform's user ids up in one query."""
        people: dict[str, set[int]] = {}
        for row in rows:
            if row.user_id is None and row.person_id is not None:
                people.setdefault(row.platform or self.default_platform, set()).add(row.person_id)
        user_ids = {name: platform_user_ids(self.session, ids, name) for name, ids in people.items()}
        for row in rows:
            if row.id in self.rows:
                continue
            name = row.platform or self.default_platform
            if name not in self.platforms:
                problem = DeliveryError(f"platform {name} is not configured", texts.platform_not_configured(name),
                                        retry=False, code="not_configured")  # fmt: skip
                fail(row, problem, self.now, self.max_attempts)
                continue
            user_id = row.user_id or user_ids.get(name, {}).get(row.person_id)
            if user_id is None:
                account = row.person.account if row.person else "?"
                problem = DeliveryError(f"{account} has no {name} id", texts.no_platform_id(name), retry=False,
                                        code="no_platform_id")  # fmt: skip
                fail(row, problem, self.now, self.max_attempts)
                continue
            who = f"{row.person.name}({row.person.account})" if row.person else user_id
            entry = Addressee(row.id, user_id, who, row.dedupe_key, row.person_id, is_reply(row))
            self._claim_for(Content.of(row, name), row, user_id).rows.append(entry)
            self.rows[row.id] = row

    def _claim_for(self, content: Content, row: OutboxMessage, user_id: str) -> Claim:
        """The claim this recipient's row joins: one of the same content after their latest, or a new one."""
        # Platforms compare user ids without case (WeCom lists them lower-cased).
        recipient = (content.platform, user_id.lower())
        after = self._latest.get(recipient, -1)
        position = next(
            (index for index in range(after + 1, len(self.claims)) if self.contents[index] == content), None
        )
        if position is None:
            message = outgoing(row)
            if self._has_had(content, recipient, after):
                # The same content again for someone who gets it in an earlier call of this pass: a second
                # message, not a resend, so the platform's duplicate check must not drop it.
                message = replace(message, repeatable=True)
            position = len(self.claims)
            self.claims.append(Claim(content.platform, message))
            self.contents.append(content)
        self._latest[recipient] = position
        return self.claims[position]

    def _has_had(self, content: Content, recipient: tuple[str, str], until: int) -> bool:
        """Does the recipient get this content in one of the claims up to position `until`?"""
        return any(
            self.contents[index] == content and any(entry.user_id.lower() == recipient[1] for entry in claim.rows)
            for index, claim in enumerate(self.claims[: until + 1])
        )

    def count(self, platform: str) -> int:
        """Rows taken for one platform so far."""
        return sum(len(item.rows) for item in self.claims if item.platform == platform)


def more_of_the_same(session: Session, taken: Taken, budgets: dict[str, int]) -> list[OutboxMessage]:
    """Further due rows with the text of a push already taken, filling the places left in that text's last call.

    A reminder to ten thousand people then needs ten calls, not one per `batch_size` rows. Only text pushes
    (no file, no card, no reply) are filled up, and never past what the platform may still take this minute.
    """
    found: list[OutboxMessage] = []
    seen = set(taken.rows)
    for name, platform in taken.platforms.items():
        room = budgets[name] - taken.count(name) if name in budgets else None
        for content, item in zip(taken.contents, taken.claims, strict=True):
            if item.platform != name or not content.pushed_text:
                continue
            places = -len(item.rows) % platform.max_recipients
            if room is not None:
                places = min(places, room)
            if places <= 0:
                continue
            rows = session.scalars(
                due_rows(taken.now, taken.default_platform, [])
                .where(
                    platform_of(taken.default_platform) == name,
                    OutboxMessage.text == content.text,
                    OutboxMessage.file_id.is_(None),
                    ~reply_rows(),
                    OutboxMessage.id.not_in(list(seen)),
                )
                .limit(places)
            )
            same = [row for row in rows if row.card is None]
            seen.update(row.id for row in same)
            found += same
            if room is not None:
                room -= len(same)
    return found


def outgoing(row: OutboxMessage) -> Outgoing:
    """The platform-neutral message a row holds."""
    buttons = Buttons.from_json(row.card) if row.card else None
    return Outgoing(
        text=row.text,
        file_name=row.file.name if row.file else None,
        file_bytes=row.file.content if row.file else None,
        buttons=buttons,
        repeatable=is_reply(row),
        file_key=f"{row.file_id}:{row.dedupe_key}" if row.file_id is not None else None,
    )


def fail(row: OutboxMessage, error: DeliveryError, now: datetime, max_attempts: int, counted: bool = False) -> None:
    """Record a failure: back off exponentially, or park as dead when retrying cannot help or too many failed."""
    if not counted:
        row.attempts += 1
    row.last_error, row.failure_reason = str(error), error.reason
    row.sent_at = None  # a failed try does not count against the per-minute limits
    if not error.retry or row.attempts >= max_attempts:
        row.status = OutboxStatus.DEAD
        log.warning("outbox %s is dead: %s", row.id, mask_sensitive(str(error)))
    else:
        row.next_attempt_at = now + RETRY_BASE * 2 ** (row.attempts - 1)
