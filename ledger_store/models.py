"""SQLAlchemy typed models: organisation, forms, tasks, answers, conversations, outbox and audit."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    inspect,
    true,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, validates

from ledger_store.masking import mask_payload

# Stable constraint names so Alembic migrations are identical on every database.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# MariaDB's plain BLOB stops at 64 KiB; a summary workbook can be larger.
Blob = LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")
Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base with the shared naming convention."""

    metadata = MetaData(naming_convention=NAMING)


class Level(StrEnum):
    """Levels of the administrative tree."""

    DISTRICT = "district"
    TOWN = "town"
    VILLAGE = "village"
    GRID = "grid"


class Role(StrEnum):
    """What a person may do."""

    FILLER = "filler"
    REVIEWER = "reviewer"
    ISSUER = "issuer"
    ADMIN = "admin"


class AssignmentStatus(StrEnum):
    """Where one target unit stands on one task.

    SUBMITTED is the end: the answers count (approved by the last reviewer, or taken at 提交 without review).
    REVIEWING waits on the first review step (待审核), ACCEPTING on the department's after the town's (待验收).
    """

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    REVIEWING = "reviewing"
    ACCEPTING = "accepting"
    RETURNED = "returned"
    SUBMITTED = "submitted"


# The filler still owes the task an answer (reminders go to these); the others wait on a reviewer or are done.
FILLER_OWES = (AssignmentStatus.PENDING, AssignmentStatus.IN_PROGRESS, AssignmentStatus.RETURNED)
WAITING_REVIEW = (AssignmentStatus.REVIEWING, AssignmentStatus.ACCEPTING)


class ReviewPolicy(StrEnum):
    """Who checks a task's submissions before they count (see handlers.review.policy)."""

    NONE = "none"  # 不审核: a 提交 counts at once
    TOWN = "town"  # the reviewer of the town above a village; a town's own by the issuing department
    TOWN_AND_DEPARTMENT = "town+department"  # 审核 区级: and then the department's acceptance


class ReviewDecision(StrEnum):
    """What a reviewer decided on one review step."""

    APPROVED = "approved"
    RETURNED = "returned"


class OutboxStatus(StrEnum):
    """Delivery state of a pushed message."""

    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


class OrgUnit(Base):
    """A node of the administrative tree: district > town/street > village/community > grid."""

    __tablename__ = "org_units"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    level: Mapped[str] = mapped_column(String(20))
    # The level word as imported (村, 社区, 镇, 乡, 街道, 区, 网格): 各村 and 各社区 tell villages from communities.
    kind: Mapped[str | None] = mapped_column(String(10))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id])


class Department(Base):
    """A district-level department that issues reports (区民政局, 区残联 ...)."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))


class Person(Base):
    """A user of the bot, belonging to an org unit or a department."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    mobile: Mapped[str | None] = mapped_column(String(20))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    org_unit: Mapped[OrgUnit | None] = relationship()
    department: Mapped[Department | None] = relationship()
    roles: Mapped[list[PersonRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    def has_role(self, role: Role) -> bool:
        """True when the person holds `role`."""
        return any(r.role == role for r in self.roles)


class PersonRole(Base):
    """One role held by a person."""

    __tablename__ = "person_roles"
    __table_args__ = (UniqueConstraint("person_id", "role"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))


class PlatformIdentity(Base):
    """A person's user id on one chat platform (WeCom userid, DingTalk userid ...)."""

    __tablename__ = "platform_identities"
    __table_args__ = (UniqueConstraint("platform", "user_id"), UniqueConstraint("person_id", "platform"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[str] = mapped_column(String(128))


class Form(Base):
    """A report form; its questions live in versions."""

    __tablename__ = "forms"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(100))
    # The department that brought the form in by chat and may change it; None: built in or imported by an admin
    # from the command line, changed by admins only.
    owner_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))

    owner: Mapped[Department | None] = relationship(lazy="joined")


class FormVersion(Base):
    """An immutable set of field definitions; a task keeps the version it was issued with."""

    __tablename__ = "form_versions"
    __table_args__ = (UniqueConstraint("form_id", "version"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"))
    version: Mapped[int] = mapped_column(Integer)
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    headline_field: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    form: Mapped[Form] = relationship(lazy="joined")


class ReportTask(Base):
    """A report a department issued to a set of units, with a deadline."""

    __tablename__ = "report_tasks"
    # A period of a recurring report is issued once, however many schedulers run.
    __table_args__ = (UniqueConstraint("recurrence_id", "period"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    form_version_id: Mapped[int] = mapped_column(ForeignKey("form_versions.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    issued_at: Mapped[datetime] = mapped_column(DateTime)
    deadline: Mapped[datetime] = mapped_column(DateTime)
    summary_sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    # After the deadline: keep taking (late) answers, or close. `closed_at` is when the deadline was handled.
    accepts_late: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Hours before the deadline to remind at; None is the default policy (see handlers.tasks.reminders).
    remind_hours: Mapped[list[int] | None] = mapped_column(JSON)
    recurrence_id: Mapped[int | None] = mapped_column(ForeignKey("recurrences.id"))
    period: Mapped[str | None] = mapped_column(String(20))  # the recurrence's period this task is for, e.g. 2024-11
    review: Mapped[str] = mapped_column(String(20), default=ReviewPolicy.NONE, server_default=ReviewPolicy.NONE.value)

    form_version: Mapped[FormVersion] = relationship(lazy="joined")
    department: Mapped[Department] = relationship(lazy="joined")
    issued_by: Mapped[Person] = relationship()
    assignments: Mapped[list[Assignment]] = relationship(back_populates="task", order_by="Assignment.id")


class RecurrenceStatus(StrEnum):
    """Whether a recurring report still issues its periods."""

    ACTIVE = "active"
    PAUSED = "paused"
    STOPPED = "stopped"


class Recurrence(Base):
    """A recurring report (每月25日 …): each period is issued as its own task."""

    __tablename__ = "recurrences"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    # {"every": "month", "day": 25} | {"every": "week", "weekday": 4} | {"every": "workday"}, issued at `issue_time`.
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    issue_time: Mapped[str] = mapped_column(String(5))  # local HH:MM
    # {"months": 1, "day": 3} | {"weeks": 1, "weekday": 0} | {"days": 0}, at `deadline_time`, from the period's date.
    deadline_rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    deadline_time: Mapped[str] = mapped_column(String(5))
    unit_ids: Mapped[list[int] | None] = mapped_column(JSON)  # None: every town and street, as /发布 without 范围
    accepts_late: Mapped[bool] = mapped_column(Boolean, default=True)
    remind_hours: Mapped[list[int] | None] = mapped_column(JSON)
    review: Mapped[str] = mapped_column(String(20), default=ReviewPolicy.NONE, server_default=ReviewPolicy.NONE.value)
    status: Mapped[str] = mapped_column(String(20), default=RecurrenceStatus.ACTIVE)
    next_issue_at: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    form: Mapped[Form] = relationship(lazy="joined")


class Assignment(Base):
    """One target unit's share of a task, filled by that unit's filler."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("task_id", "org_unit_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("report_tasks.id"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    filler_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    status: Mapped[str] = mapped_column(String(20), default=AssignmentStatus.PENDING)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)  # the latest 提交
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime)  # when the answers came to count (SUBMITTED)

    task: Mapped[ReportTask] = relationship(back_populates="assignments")
    org_unit: Mapped[OrgUnit] = relationship(lazy="joined")
    filler: Mapped[Person] = relationship(lazy="joined")


class Submission(Base):
    """A submitted set of answers for one assignment."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), unique=True)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    submitted_at: Mapped[datetime] = mapped_column(DateTime)
    # The burden figures (填报负担): when filling began, how many questions the person answered, how many values
    # the ledger offered and how many of those were confirmed unchanged. None on submissions older than them.
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    asked_count: Mapped[int | None] = mapped_column(Integer)
    prefilled_count: Mapped[int | None] = mapped_column(Integer)
    confirmed_count: Mapped[int | None] = mapped_column(Integer)
    # Taken from the ledgers by 取数 with nobody asked (submitted_by is the department's issuer).
    generated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    answers: Mapped[list[Answer]] = relationship(cascade="all, delete-orphan", order_by="Answer.id")
    roster_rows: Mapped[list[RosterRow]] = relationship(cascade="all, delete-orphan", order_by="RosterRow.id")


class Answer(Base):
    """One typed answer: exactly one value column is used, by the field's type."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("submission_id", "field_name"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    field_name: Mapped[str] = mapped_column(String(64))
    number_value: Mapped[Decimal | None] = mapped_column(Numeric(20, 4))
    text_value: Mapped[str | None] = mapped_column(Text)
    date_value: Mapped[date | None] = mapped_column(Date)
    bool_value: Mapped[bool | None] = mapped_column(Boolean)
    choices_value: Mapped[list[str] | None] = mapped_column(JSON)
    # Where a generated answer came from: the ledger's code and when its value was last confirmed.
    ledger_code: Mapped[str | None] = mapped_column(String(64))
    as_of: Mapped[datetime | None] = mapped_column(DateTime)


class RosterRow(Base):
    """One row of a submitted roster (花名册): a person or household, with what the filler did to it."""

    __tablename__ = "roster_rows"
    __table_args__ = (UniqueConstraint("submission_id", "repeat", "position"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    repeat: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    # kept, changed, added or removed (a row the ledger offered that the filler took off the list)
    status: Mapped[str] = mapped_column(String(20))
    values: Mapped[dict[str, Any]] = mapped_column(JSON)  # field name -> answer as stored


class Conversation(Base):
    """Form-filling state for one (person, assignment): where they are and what they have answered."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("person_id", "assignment_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    editing: Mapped[bool] = mapped_column(Boolean, default=False)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    skipped: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What the ledgers offered: {"offered": {field: answer as stored}, "stale": {...}, "confirming": bool}.
    prefill: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Repeat name -> the roster being filled: rows, the row under review, the row being edited; see
    # handlers.conversation.roster.
    rosters: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # After a return: the questions (field names) the reviewer reopened that are still to be answered again.
    reopened: Mapped[list[str] | None] = mapped_column(JSON)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    assignment: Mapped[Assignment] = relationship(lazy="joined")


class ReviewStep(Base):
    """One reviewer's look at one round of a submission: what was submitted (and its digest), and the decision.

    A 提交 starts a round; each round has a step per review stage (the town's, then the department's); a return
    ends the round and the next 提交 starts another, so every round is kept. A step's reviewer is a unit (any
    reviewer placed in it decides) or, with no unit, the task's department.
    """

    __tablename__ = "review_steps"
    __table_args__ = (
        UniqueConstraint("assignment_id", "round", "stage"),
        Index("ix_review_steps_waiting", "decision", "reviewer_unit_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    round: Mapped[int] = mapped_column(Integer)
    stage: Mapped[int] = mapped_column(Integer)
    reviewer_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    submitted_at: Mapped[datetime] = mapped_column(DateTime)  # when the step began waiting on its reviewer
    # The submission's canonical content as reviewed and its SHA-256 (see handlers.review.content).
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    changed: Mapped[list[str] | None] = mapped_column(JSON)  # questions changed since the round before
    decision: Mapped[str | None] = mapped_column(String(20))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    reopened: Mapped[list[str] | None] = mapped_column(JSON)  # the questions a return reopened; None: all
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime)  # a later change replaced what was signed
    # When the people who may decide it were reminded that it has waited too long (once per step).
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime)

    assignment: Mapped[Assignment] = relationship(lazy="joined")
    reviewer_unit: Mapped[OrgUnit | None] = relationship()
    submitted_by: Mapped[Person] = relationship(foreign_keys=[submitted_by_id])
    decided_by: Mapped[Person | None] = relationship(foreign_keys=[decided_by_id])


class ChatFocus(Base):
    """Which conversation a person's next plain message answers, or a pending choice between tasks."""

    __tablename__ = "chat_focus"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    choosing: Mapped[list[int] | None] = mapped_column(JSON)
    # A question the bot asked and waits on, e.g. confirming a /发布 that repeats an open task: {"kind": …, …}.
    pending: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class StoredFile(Base):
    """A generated file (summary workbook) kept for delivery and download."""

    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(Blob)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class OutboxMessage(Base):
    """A message to push to a person, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox"
    # Delivery asks whether an older row to the same person still waits (bot/delivery_claim.py due_rows).
    __table_args__ = (Index("ix_outbox_person_status", "person_id", "status"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    # Registered people are addressed by person; an unregistered sender by platform user id.
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    user_id: Mapped[str | None] = mapped_column(String(128))
    platform: Mapped[str | None] = mapped_column(String(20))
    text: Mapped[str | None] = mapped_column(Text)
    card: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Indexed so that retention finds whether a stored file is still referred to (ledger_store/retention.py).
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=OutboxStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)  # the details, for the log and whoever reads the database
    # Why the last try failed, in Chinese for an admin's /投递: the words of the platform that failed (its error
    # codes stay inside its adapter), or of delivery itself (no account on the platform, platform not set up).
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # When a delivery pass handed the row to its platform: stamped with the lease, kept once sent, cleared when
    # that try failed; so a pending row with sent_at is in flight, and the per-minute limits count it.
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)  # the per-minute limits count by it

    person: Mapped[Person | None] = relationship()
    file: Mapped[StoredFile | None] = relationship()


class InboundStatus(StrEnum):
    """Where an accepted platform message stands."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class InboundMessage(Base):
    """A platform delivery, kept by key so a retry is processed once; queued when handled after the ack."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("platform", "message_key"),
        # A worker claims a person's message only when no older one of theirs waits (ledger_store.inbox).
        Index("ix_inbound_messages_waiting", "status", "platform", "sender", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    message_key: Mapped[str] = mapped_column(String(200))
    sender: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Set while a worker downloads the message's file outside a transaction: no other worker takes it until then.
    fetch_until: Mapped[datetime | None] = mapped_column(DateTime)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20), default=InboundStatus.DONE, index=True)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"), index=True)  # as the outbox's
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime)

    file: Mapped[StoredFile | None] = relationship()


class InboundSender(Base):
    """One row per person who ever sent a message: a worker handling one of their messages holds its lock, so no
    other worker handles another of theirs at the same time (ledger_store.inbox)."""

    __tablename__ = "inbound_senders"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    sender: Mapped[str] = mapped_column(String(200), primary_key=True)


class AuditEntry(Base):
    """Who changed what, when, from which value to which."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    action: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str] = mapped_column(String(64))
    old: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    new: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    @validates("entity_id", "old", "new")
    def _masked(self, key: str, value: Any) -> Any:
        """ID numbers and mobiles are masked on the way in, whoever writes the entry: no caller can forget."""
        return mask_payload(value)


class SchedulerLease(Base):
    """Which scheduler process does the timed work now; a standby takes over when the lease runs out."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class CachedValue(Base):
    """A small shared cache every process can read (platform access tokens), with an expiry."""

    __tablename__ = "cached_values"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)


class Ledger(Base):
    """A shared register (台账): one record per entity, each field kept once and taken from here by everyone."""

    __tablename__ = "ledgers"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(100))
    key_field: Mapped[str] = mapped_column(String(64))
    # [{name, label, type, required, choices: [{value, label}], validity_days, sensitive}], see ledger_store.ledgers.
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # The department that owns the ledger and sees it whole; others read it through a LedgerGrant an admin sets.
    owner_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))

    # 党的建设 / 经济发展 / 民生服务 / 平安法治, and what one record is about (ledger_store.ledger_kinds).
    board: Mapped[str | None] = mapped_column(String(20))
    entity_kind: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)

    owner: Mapped[Department | None] = relationship(lazy="joined")


class LedgerVersion(Base):
    """One version of a ledger's definition as defined (title, key, board, kind, fields, owner and shares).

    `losses` lists what a confirmed data-losing change gave up (dropped fields holding values, retyped fields,
    a changed key); None for a change that lost nothing.
    """

    __tablename__ = "ledger_versions"
    __table_args__ = (UniqueConstraint("ledger_id", "version"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    ledger_id: Mapped[int] = mapped_column(ForeignKey("ledgers.id"))
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    losses: Mapped[list[Any] | None] = mapped_column(JSON)


class LedgerSession(Base):
    """A person's open upkeep of a ledger in chat (/登记, /更新, /核实): at most one per person, kept across
    restarts; `state` is the upkeep's own (which ledger and record, the position, the answers so far)."""

    __tablename__ = "ledger_sessions"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class SourceRun(Base):
    """One run of a data source sinking rows of another system into a ledger (数据下沉), and what it did."""

    __tablename__ = "source_runs"
    __table_args__ = (Index("ix_source_runs_source", "source", "started_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20))
    input_name: Mapped[str | None] = mapped_column(String(300))  # the file a folder source read
    input_digest: Mapped[str | None] = mapped_column(String(64))  # its SHA-256, so the same file is read once
    added: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    changed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unchanged: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    refused: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    message: Mapped[str | None] = mapped_column(Text)


class LedgerGrant(Base):
    """A department other than the owner allowed to read a ledger; `full` shows its sensitive fields unmasked."""

    __tablename__ = "ledger_grants"
    __table_args__ = (UniqueConstraint("ledger_id", "department_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    ledger_id: Mapped[int] = mapped_column(ForeignKey("ledgers.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    full: Mapped[bool] = mapped_column(Boolean, default=False)
    granted_at: Mapped[datetime] = mapped_column(DateTime)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))


class LedgerRecord(Base):
    """One entity of a ledger (a person, a household, a parcel): the current value of each field."""

    __tablename__ = "ledger_records"
    __table_args__ = (
        UniqueConstraint("ledger_id", "key"),
        Index("ix_ledger_records_unit", "ledger_id", "org_unit_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    ledger_id: Mapped[int] = mapped_column(ForeignKey("ledgers.id"))
    key: Mapped[str] = mapped_column(String(64))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Field name -> ISO time the value was last changed or confirmed; decides whether it is still fresh.
    value_times: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # Set when the unit took the entity off its roster (moved away, no longer eligible): rosters stop offering it.
    left_at: Mapped[datetime | None] = mapped_column(DateTime)
    left_reason: Mapped[str | None] = mapped_column(String(200))


class LedgerChange(Base):
    """One value of one record changing: the history that lets anyone see who changed what, when, from where."""

    __tablename__ = "ledger_changes"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("ledger_records.id"), index=True)
    field_name: Mapped[str] = mapped_column(String(64))
    old: Mapped[Any] = mapped_column(JSON, nullable=True)
    new: Mapped[Any] = mapped_column(JSON, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    source: Mapped[str] = mapped_column(String(200))


class ApiUsage(Base):
    """A platform's API calls in one month (the platform meters them against a monthly allowance)."""

    __tablename__ = "api_usage"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    # The month in the platform's own time zone, "YYYY-MM".
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    # Calls the platform meters, and calls it does not (replies to a conversation's own webhook).
    calls: Mapped[int] = mapped_column(Integer, default=0)
    free_calls: Mapped[int] = mapped_column(Integer, default=0)
    # The allowance configured when the row was last counted; 0 = not metered.
    allowance: Mapped[int] = mapped_column(Integer, default=0)
    # When the admins were warned that most of the allowance is used: set once, by whichever process got there.
    warned_at: Mapped[datetime | None] = mapped_column(DateTime)


class ApiCallTotal(Base):
    """A platform's API calls since the table was made, and how many of them failed: counters for /metrics."""

    __tablename__ = "api_call_totals"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    # Every call that went out, answered or not; and those that failed (no answer, an HTTP error, an error code).
    calls: Mapped[int] = mapped_column(BigInteger, default=0)
    errors: Mapped[int] = mapped_column(BigInteger, default=0)


class LoginLink(Base):
    """A one-time link into the department dashboard: only the token's hash is kept, and it works once, briefly."""

    __tablename__ = "login_links"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class WarningRule(Base):
    """A department's 预警 on a ledger: the conditions as typed (re-read at every evaluation), until removed."""

    __tablename__ = "warning_rules"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    ledger_id: Mapped[int] = mapped_column(ForeignKey("ledgers.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    conditions: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime)
    checked_at: Mapped[datetime | None] = mapped_column(DateTime)  # last evaluated (the scheduler waits between)
    # The ledger version whose definition the conditions last failed to read under (told to the department once).
    broken_version: Mapped[int | None] = mapped_column(Integer)

    ledger: Mapped[Ledger] = relationship(lazy="joined")
    department: Mapped[Department] = relationship(lazy="joined")


class WarningHit(Base):
    """A record found matching a rule: at most one row per (rule, record), so each is pushed once, ever."""

    __tablename__ = "warning_hits"
    __table_args__ = (UniqueConstraint("rule_id", "record_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("warning_rules.id"))
    record_id: Mapped[int] = mapped_column(ForeignKey("ledger_records.id"))
    found_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class LedgerRollup(Base):
    """A ledger's current records of one unit and month with one matter category (the ledger's category field)
    counted: what analysis reads instead of the records themselves (ledger_store/rollups.py keeps it)."""

    __tablename__ = "ledger_rollups"
    __table_args__ = (Index("ix_ledger_rollups_unit", "ledger_id", "org_unit_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    ledger_id: Mapped[int] = mapped_column(ForeignKey("ledgers.id"))
    org_unit_id: Mapped[int | None] = mapped_column(Id)  # a unit id (no key: units are never deleted), None: none
    month: Mapped[str | None] = mapped_column(String(7))  # YYYY-MM, None when the record's date is empty
    category: Mapped[str | None] = mapped_column(Text)  # the stored choice, None when empty or no category field
    records: Mapped[int] = mapped_column(Integer)


class LedgerUnitMonth(Base):
    """A ledger's current records of one unit and month: how many, and the sums of its non-sensitive numeric
    fields (field name -> the sum as decimal text)."""

    __tablename__ = "ledger_unit_months"
    __table_args__ = (Index("ix_ledger_unit_months_unit", "ledger_id", "org_unit_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    ledger_id: Mapped[int] = mapped_column(ForeignKey("ledgers.id"))
    org_unit_id: Mapped[int | None] = mapped_column(Id)
    month: Mapped[str | None] = mapped_column(String(7))
    records: Mapped[int] = mapped_column(Integer)
    sums: Mapped[dict[str, str]] = mapped_column(JSON)


class RollupMark(Base):
    """A unit whose records of a ledger changed since its rollup rows were last counted (many rows may say so)."""

    __tablename__ = "rollup_marks"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    ledger_id: Mapped[int] = mapped_column(Id, index=True)
    org_unit_id: Mapped[int | None] = mapped_column(Id)


class RollupState(Base):
    """A ledger whose rollup rows exist, and the shape (category, date and numeric fields) they were counted by."""

    __tablename__ = "rollup_states"

    ledger_id: Mapped[int] = mapped_column(ForeignKey("ledgers.id"), primary_key=True)
    shape: Mapped[str] = mapped_column(Text)
    judged_as_of: Mapped[str | None] = mapped_column(String(16))  # the month LedgerFlag rows were judged for


class LedgerFlag(Base):
    """A unit's figure of a ledger that jumps against its own earlier months (ledger_store/analysis.py judges
    them when the rollup changes), so that the analysis page reads the few flagged instead of judging thousands."""

    __tablename__ = "ledger_flags"
    __table_args__ = (Index("ix_ledger_flags_unit", "ledger_id", "org_unit_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    ledger_id: Mapped[int] = mapped_column(ForeignKey("ledgers.id"))
    org_unit_id: Mapped[int | None] = mapped_column(Id)
    measure: Mapped[str] = mapped_column(String(64))  # a numeric field's name, or "" for the count of records
    period: Mapped[str] = mapped_column(String(7))
    value: Mapped[str] = mapped_column(String(60))  # decimal text
    median: Mapped[str] = mapped_column(String(60))
    z: Mapped[float | None] = mapped_column(Double)
    ratio: Mapped[float | None] = mapped_column(Double)


@event.listens_for(Session, "before_flush")
def _mark_rollups(session: Session, _context: object, _instances: object) -> None:
    """Leave a RollupMark for each (ledger, unit) whose records this flush adds, changes or removes: the unit
    the record is in and, when it moves, the one it leaves."""
    marks: set[tuple[int, int | None]] = set()
    for record in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(record, LedgerRecord) or record.ledger_id is None:
            continue
        if record in session.dirty and not session.is_modified(record):
            continue
        marks.add((record.ledger_id, record.org_unit_id))
        marks.update((record.ledger_id, unit) for unit in inspect(record).attrs.org_unit_id.history.deleted)
    session.add_all(RollupMark(ledger_id=ledger, org_unit_id=unit) for ledger, unit in sorted(marks, key=str))
