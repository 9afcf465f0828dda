"""Claims (pre-trial claim letters) with their penalty lines, versions, replies and rendered
letters, and the e-mails sent about them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ppp_tracker.claims.codes import (
    ClaimStatus,
    DeliveryMethod,
    Demand,
    NoticeStatus,
    ReplyKind,
)
from ppp_tracker.core.audit import Audited
from ppp_tracker.db import Money, Percent, UTCDateTime, db, enum_type, utcnow
from ppp_tracker.registry.codes import PenaltyBase
from ppp_tracker.registry.models import Contract, Document, Milestone, TimestampMixin


class Claim(Audited, TimestampMixin, db.Model):
    """A pre-trial claim letter (претензия) about late obligations of one contract."""

    __tablename__ = "claims"
    __table_args__ = (
        sa.UniqueConstraint("outgoing_prefix", "outgoing_year", "outgoing_seq"),
        sa.Index("ix_claims_status_response_due_on", "status", "response_due_on"),
        sa.CheckConstraint(
            "(status IN ('draft', 'approved', 'withdrawn')) OR (outgoing_number IS NOT NULL"
            " AND sent_on IS NOT NULL AND (response_due_on IS NOT NULL OR response_from_receipt))",
            name="sent_has_number",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id"), index=True)
    #: Copied from the contract so that region scope is one indexed comparison.
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    #: 1st, 2nd, 3rd… letter about the same obligations (the escalation ladder).
    sequence: Mapped[int] = mapped_column(sa.SmallInteger)
    status: Mapped[ClaimStatus] = mapped_column(enum_type(ClaimStatus), default=ClaimStatus.DRAFT)
    #: The claim this one follows after it went unanswered.
    previous_id: Mapped[int | None] = mapped_column(sa.ForeignKey("claims.id"))

    #: The day the penalty is computed on; frozen at drafting, recomputed only by an edit.
    as_of: Mapped[date]
    #: The contract's penalty terms as they were when the penalty was computed.
    penalty_rate_percent: Mapped[Decimal] = mapped_column(Percent())
    penalty_base: Mapped[PenaltyBase] = mapped_column(enum_type(PenaltyBase))
    penalty_cap_percent: Mapped[Decimal | None] = mapped_column(Percent())
    penalty_total: Mapped[Decimal] = mapped_column(Money)
    demand: Mapped[Demand] = mapped_column(enum_type(Demand), default=Demand.PERFORM_AND_PAY)
    #: Further facts for the letter, one paragraph per line.
    facts_note: Mapped[str | None] = mapped_column(sa.Text)
    #: Attachments listed in the letter, one per line.
    attachments: Mapped[str | None] = mapped_column(sa.Text)

    outgoing_prefix: Mapped[str | None] = mapped_column(sa.String(32))
    outgoing_seq: Mapped[int | None] = mapped_column(sa.Integer)
    #: The year of the letter's date: with a yearly sequence a number is unique per prefix and
    #: year (numbering.py); with the continuous one it is unique across years too.
    outgoing_year: Mapped[int | None] = mapped_column(sa.SmallInteger)
    #: "14-28-9-1987": assigned when the letter is sent, never reused (within its year when the
    #: sequence restarts yearly).
    outgoing_number: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    sent_on: Mapped[date | None]
    #: sent_on (or received_on, see response_from_receipt) + the contract's response period
    #: (working or calendar days); NULL while a period that runs from receipt has not started.
    response_due_on: Mapped[date | None]
    #: The contract's rule when the letter was sent: the reply period runs from the day the
    #: contractor received the letter, not from sending.
    response_from_receipt: Mapped[bool] = mapped_column(default=False)
    #: How the letter was delivered, the day the contractor received it, and the proof (a scan,
    #: a document of the contract typed claimDeliveryProof).
    delivery_method: Mapped[DeliveryMethod | None] = mapped_column(enum_type(DeliveryMethod))
    received_on: Mapped[date | None]
    delivery_document_id: Mapped[int | None] = mapped_column(
        # use_alter: documents → milestones → claims → documents is a cycle of foreign keys.
        sa.ForeignKey("documents.id", ondelete="SET NULL", use_alter=True)
    )

    #: "worker:claims.scan" or the e-mail of the person who drafted it.
    drafted_by: Mapped[str] = mapped_column(sa.String(255))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: The last person who changed the text (four-eyes: they may not approve it).
    last_editor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Approved by its own last editor, allowed only when nobody else in scope could approve.
    self_approved: Mapped[bool] = mapped_column(default=False)
    sent_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The officer named on the letter as the one who prepared it.
    prepared_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    withdrawn_reason: Mapped[str | None] = mapped_column(sa.Text)
    #: Everything the letter says, frozen when it is sent (a sent letter never changes).
    letter_snapshot: Mapped[dict | None] = deferred(mapped_column(sa.JSON))
    #: The warnings that came with the penalty (core.penalty.Warning.as_dict, frozen).
    penalty_warnings: Mapped[list | None] = deferred(mapped_column(sa.JSON))
    #: The approver confirmed having read the warnings (approval with warnings needs it).
    warnings_acknowledged: Mapped[bool] = mapped_column(default=False)
    #: The facts the penalty was computed on (contract, parties, obligations, the penalty
    #: itself): when today's differ, the draft is stale and an approval no longer covers them.
    facts_snapshot: Mapped[dict | None] = deferred(mapped_column(sa.JSON))

    contract: Mapped[Contract] = relationship()
    delivery_document: Mapped[Document | None] = relationship()
    previous: Mapped[Claim | None] = relationship(remote_side=[id])
    lines: Mapped[list[ClaimMilestone]] = relationship(
        back_populates="claim", cascade="all, delete-orphan", order_by="ClaimMilestone.id"
    )
    versions: Mapped[list[ClaimVersion]] = relationship(
        back_populates="claim", cascade="all, delete-orphan", order_by="ClaimVersion.number"
    )
    replies: Mapped[list[ClaimReply]] = relationship(
        back_populates="claim", cascade="all, delete-orphan", order_by="ClaimReply.received_on"
    )
    created_by = relationship("User", foreign_keys=[created_by_id])
    last_editor = relationship("User", foreign_keys=[last_editor_id])
    approved_by = relationship("User", foreign_keys=[approved_by_id])
    sent_by = relationship("User", foreign_keys=[sent_by_id])
    prepared_by = relationship("User", foreign_keys=[prepared_by_id])

    @property
    def is_editable(self) -> bool:
        return self.status in (ClaimStatus.DRAFT, ClaimStatus.APPROVED)

    @property
    def milestone_ids(self) -> list[int]:
        return [line.milestone_id for line in self.lines]

    @property
    def awaiting_receipt(self) -> bool:
        """Sent, its reply period runs from receipt, and the receipt is not recorded yet: the
        reply deadline is not running."""
        return self.sent_on is not None and self.response_from_receipt and self.received_on is None

    def __repr__(self) -> str:
        return f"<Claim {self.id} #{self.sequence} {self.status} {self.outgoing_number or ''}>"


class ClaimMilestone(Audited, db.Model):
    """One late obligation in a claim, with its penalty as computed (frozen with the claim).

    (milestone, sequence) is unique: two drafts for the same milestone at the same stage are
    impossible by construction, whoever drafts them (a worker, a second worker, a person).
    """

    __tablename__ = "claim_milestones"
    __table_args__ = (sa.UniqueConstraint("milestone_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(
        sa.ForeignKey("claims.id", ondelete="CASCADE"), index=True
    )
    milestone_id: Mapped[int] = mapped_column(sa.ForeignKey("milestones.id", ondelete="CASCADE"))
    #: The claim's sequence, copied here so that the unique key can hold it.
    sequence: Mapped[int] = mapped_column(sa.SmallInteger)
    title: Mapped[str] = mapped_column(sa.String(500))
    due_on: Mapped[date]
    effective_due_on: Mapped[date]
    #: Why the effective due date differs from the contractual one (empty when it does not).
    due_explanation: Mapped[str | None] = mapped_column(sa.Text)
    #: The last day counted: performance, or the claim's as-of date while unperformed.
    counted_until: Mapped[date]
    met_on: Mapped[date | None]
    days_late: Mapped[int] = mapped_column(sa.Integer)
    #: The days charged to this obligation (core.penalty: with base `total` a day of the
    #: contract's delay counts once, for the earliest-due obligation late on it).
    counted_from: Mapped[date | None]
    counted_to: Mapped[date | None]
    days_counted: Mapped[int] = mapped_column(sa.Integer, default=0)
    base: Mapped[Decimal] = mapped_column(Money)
    daily_amount: Mapped[Decimal] = mapped_column(Money)
    accrued: Mapped[Decimal] = mapped_column(Money)
    capped: Mapped[bool] = mapped_column(default=False)
    cap_amount: Mapped[Decimal | None] = mapped_column(Money)
    #: The base is the obligation's value but it has none: nothing accrues (said in the letter).
    missing_value: Mapped[bool] = mapped_column(default=False)

    claim: Mapped[Claim] = relationship(back_populates="lines")
    milestone: Mapped[Milestone] = relationship()

    @property
    def region_code(self) -> str | None:
        return self.claim.region_code if self.claim is not None else None

    def __repr__(self) -> str:
        return f"<ClaimMilestone claim={self.claim_id} milestone={self.milestone_id}>"


class ClaimVersion(db.Model):
    """The claim's text as it stood after each edit before sending (number 1 = as drafted)."""

    __tablename__ = "claim_versions"
    __table_args__ = (sa.UniqueConstraint("claim_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claims.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The actor's e-mail, or "worker:…".
    actor: Mapped[str] = mapped_column(sa.String(255))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: The editable fields and the computed penalty of this version (what changed is the
    #: difference to the previous version, shown in the reader's language).
    data: Mapped[dict] = mapped_column(sa.JSON)

    claim: Mapped[Claim] = relationship(back_populates="versions")

    def __repr__(self) -> str:
        return f"<ClaimVersion claim={self.claim_id} v{self.number}>"


class ClaimReply(Audited, db.Model):
    """The contractor's reply to a claim: an answer, or a cure (performed or paid)."""

    __tablename__ = "claim_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(
        sa.ForeignKey("claims.id", ondelete="CASCADE"), index=True
    )
    received_on: Mapped[date]
    kind: Mapped[ReplyKind] = mapped_column(enum_type(ReplyKind))
    #: The contractor's own number of the reply letter.
    incoming_number: Mapped[str | None] = mapped_column(sa.String(64))
    summary: Mapped[str | None] = mapped_column(sa.Text)
    #: Penalty the contractor paid voluntarily, if any.
    paid_amount: Mapped[Decimal | None] = mapped_column(Money)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    claim: Mapped[Claim] = relationship(back_populates="replies")
    recorded_by = relationship("User")

    @property
    def region_code(self) -> str:
        return self.claim.region_code

    def __repr__(self) -> str:
        return f"<ClaimReply {self.id} claim={self.claim_id} {self.kind} {self.received_on}>"


class ClaimFile(Audited, db.Model):
    """A rendered letter (DOCX or PDF, Russian or Kazakh) of a sent claim, kept as sent."""

    __tablename__ = "claim_files"
    __table_args__ = (sa.UniqueConstraint("claim_id", "language", "format"),)
    __audit_exclude__ = ("content",)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claims.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(sa.String(2))
    format: Mapped[str] = mapped_column(sa.String(4))
    content: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary))
    size: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    rendered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    claim: Mapped[Claim] = relationship()

    @property
    def region_code(self) -> str:
        return self.claim.region_code

    def __repr__(self) -> str:
        return f"<ClaimFile claim={self.claim_id} {self.language}.{self.format} {self.size} B>"


class ClaimNotice(db.Model):
    """One e-mail to one person about a drafted claim or a lawsuit recommendation.

    The row is written in the same transaction as the draft (unique per claim, kind and person),
    then a task claims it with a conditional UPDATE before sending: each person gets one e-mail.
    """

    __tablename__ = "claim_notices"
    __table_args__ = (
        sa.UniqueConstraint("claim_id", "kind", "user_id"),
        sa.Index("ix_claim_notices_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claims.id", ondelete="CASCADE"))
    #: "drafted" or "lawsuit".
    kind: Mapped[str] = mapped_column(sa.String(16))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(sa.String(255))
    status: Mapped[NoticeStatus] = mapped_column(
        enum_type(NoticeStatus), default=NoticeStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When a worker last took it for sending: a send unfinished after ALERT_SEND_LEASE_SECONDS
    #: (its worker died, or the database went away under it) is taken over.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When a temporarily refused e-mail is tried again; the scan requeues it if that task is lost.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: "smtp" or "outbox".
    channel: Mapped[str | None] = mapped_column(sa.String(16))
    error: Mapped[str | None] = mapped_column(sa.Text)

    claim: Mapped[Claim] = relationship()
    user = relationship("User")

    def __repr__(self) -> str:
        return f"<ClaimNotice {self.id} {self.kind} claim={self.claim_id} {self.status}>"
