"""Lawsuit recommendations and the court cases opened on them, with their hearings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ppp_tracker.claims.codes import (
    CaseOutcome,
    FlagReason,
)
from ppp_tracker.claims.models.claim import Claim
from ppp_tracker.core.audit import Audited
from ppp_tracker.core.folding import Searchable
from ppp_tracker.db import Money, db, enum_type
from ppp_tracker.registry.models import Contract, Milestone, TimestampMixin


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
