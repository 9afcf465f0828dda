"""Claims (pre-trial claim letters), their versions, replies and rendered letters; outgoing
numbering; letter templates; lawsuit recommendations and cases; the e-mails sent about them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ppp_tracker.claims.codes import (
    CaseOutcome,
    ClaimStatus,
    DeliveryMethod,
    Demand,
    FlagReason,
    NoticeStatus,
    ReplyKind,
)
from ppp_tracker.core.audit import Audited
from ppp_tracker.core.folding import Searchable
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


class OutgoingSequence(Audited, db.Model):
    """The department's outgoing-number counter per prefix and year: 14-28-9 → last used 1987
    (year 0: the counter that never restarts; 2027: the counter of letters dated in 2027).

    A send takes the next number with one `UPDATE … SET last_number = last_number + 1 …
    RETURNING`, which locks the row until the send commits: concurrent sends wait for each
    other and never share a number; a send that rolls back gives its number back unused.
    """

    __tablename__ = "outgoing_sequences"

    prefix: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    #: The year the counter numbers (OUTGOING_NUMBER_RESTARTS_YEARLY), 0 when it never restarts.
    year: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, default=0)
    last_number: Mapped[int] = mapped_column(sa.Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def region_code(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"<OutgoingSequence {self.prefix} {self.year or ''} last={self.last_number}>"


class LetterTemplate(Audited, db.Model):
    """An admin's version of the letter text in one language (the newest one is used)."""

    __tablename__ = "letter_templates"
    __table_args__ = (sa.UniqueConstraint("language", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(sa.String(2))
    version: Mapped[int] = mapped_column(sa.Integer)
    body: Mapped[str] = mapped_column(sa.Text)
    note: Mapped[str | None] = mapped_column(sa.String(500))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by = relationship("User")

    @property
    def region_code(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"<LetterTemplate {self.language} v{self.version}>"


class LawsuitFlag(Audited, db.Model):
    """A recommendation to sue: the last claim went unanswered, or legal staff decided so."""

    __tablename__ = "lawsuit_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id"), index=True)
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    #: The claim that led here; unique, so a scan run twice flags once.
    claim_id: Mapped[int | None] = mapped_column(sa.ForeignKey("claims.id"), unique=True)
    reason: Mapped[FlagReason] = mapped_column(enum_type(FlagReason))
    raised_on: Mapped[date]
    raised_by: Mapped[str] = mapped_column(sa.String(255))
    note: Mapped[str | None] = mapped_column(sa.Text)
    #: The case opened on it; an open flag has none.
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"))

    contract: Mapped[Contract] = relationship()
    claim: Mapped[Claim | None] = relationship()

    def __repr__(self) -> str:
        return f"<LawsuitFlag {self.id} contract={self.contract_id} {self.reason}>"


case_claims = sa.Table(
    "case_claims",
    db.metadata,
    sa.Column("case_id", sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("claim_id", sa.ForeignKey("claims.id", ondelete="CASCADE"), primary_key=True),
)


class Case(Searchable, Audited, TimestampMixin, db.Model):
    """A lawsuit in the region's specialised inter-district economic court."""

    __tablename__ = "cases"
    __searched__ = ("case_number", "court_name")

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id"), index=True)
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    court_name: Mapped[str] = mapped_column(sa.String(255))
    #: The court's name in Kazakh, for Kazakh letters.
    court_name_kk: Mapped[str | None] = mapped_column(sa.String(255))
    #: The court's number of the case, once it has one.
    case_number: Mapped[str | None] = mapped_column(sa.String(64))
    filed_on: Mapped[date]
    #: What the suit asks: recovery of the penalty, and/or the unscrupulous-participant register.
    claims_penalty: Mapped[bool] = mapped_column(default=True)
    claims_register: Mapped[bool] = mapped_column(default=False)
    amount_claimed: Mapped[Decimal | None] = mapped_column(Money)
    outcome: Mapped[CaseOutcome] = mapped_column(
        enum_type(CaseOutcome), default=CaseOutcome.PENDING
    )
    decided_on: Mapped[date | None]
    amount_awarded: Mapped[Decimal | None] = mapped_column(Money)
    amount_paid: Mapped[Decimal | None] = mapped_column(Money)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    contract: Mapped[Contract] = relationship()
    claims: Mapped[list[Claim]] = relationship(secondary=case_claims, order_by=Claim.sequence)
    hearings: Mapped[list[CaseHearing]] = relationship(
        back_populates="case", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Case {self.id} contract={self.contract_id} filed {self.filed_on}>"


class CaseHearing(Audited, db.Model):
    """A hearing of a case; its date is a milestone of the contract, so alerts cover it."""

    __tablename__ = "case_hearings"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    milestone_id: Mapped[int] = mapped_column(
        sa.ForeignKey("milestones.id", ondelete="CASCADE"), unique=True
    )

    case: Mapped[Case] = relationship(back_populates="hearings")
    milestone: Mapped[Milestone] = relationship()

    @property
    def region_code(self) -> str | None:
        return self.case.region_code if self.case is not None else None

    def __repr__(self) -> str:
        return f"<CaseHearing case={self.case_id} milestone={self.milestone_id}>"


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


#: Civil Code articles a claim letter cites by default (DESIGN.md section 5): obligations are
#: performed properly and on time (272, 277), the penalty (293), liability for breach (349–351).
DEFAULT_LEGAL_BASIS = "272, 277, 293, 349–351"


class Department(Audited, TimestampMixin, db.Model):
    """A regional department (the sender of claim letters) with its requisites: the letterhead,
    the payment details of the demand, the signatory and the executor. One per region."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), unique=True)
    name_ru: Mapped[str] = mapped_column(sa.String(255))
    name_kk: Mapped[str | None] = mapped_column(sa.String(255))
    #: The department's BIN (12 digits with a control digit).
    bin: Mapped[str | None] = mapped_column(sa.String(12))
    address_ru: Mapped[str | None] = mapped_column(sa.String(500))
    address_kk: Mapped[str | None] = mapped_column(sa.String(500))
    phone: Mapped[str | None] = mapped_column(sa.String(64))
    #: The bank (for a state body usually the Committee of the Treasury) in Russian and Kazakh.
    bank_ru: Mapped[str | None] = mapped_column(sa.String(255))
    bank_kk: Mapped[str | None] = mapped_column(sa.String(255))
    #: ИИК (ЖСК): the account, a 20-character Kazakh IBAN.
    iik: Mapped[str | None] = mapped_column(sa.String(20))
    #: БИК (БСК): the bank's code, 8 or 11 characters.
    bik: Mapped[str | None] = mapped_column(sa.String(11))
    #: КБК (БЖК): the budget classification code a penalty is paid to (a state body's income).
    kbk: Mapped[str | None] = mapped_column(sa.String(6))
    #: КНП (ТМК): the payment purpose code.
    knp: Mapped[str | None] = mapped_column(sa.String(3))
    head_position_ru: Mapped[str | None] = mapped_column(sa.String(255))
    head_position_kk: Mapped[str | None] = mapped_column(sa.String(255))
    head_name: Mapped[str | None] = mapped_column(sa.String(255))
    #: The officer named at the foot of letters as the one who prepared them.
    executor_name: Mapped[str | None] = mapped_column(sa.String(255))
    executor_phone: Mapped[str | None] = mapped_column(sa.String(64))
    #: Civil Code articles cited as the legal basis of claims, comma-separated ("272, 349–351").
    legal_basis: Mapped[str] = mapped_column(sa.String(255), default=DEFAULT_LEGAL_BASIS)

    region = relationship("Region")

    def __repr__(self) -> str:
        return f"<Department {self.region_code} {self.name_ru[:40]!r}>"
