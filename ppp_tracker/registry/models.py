"""Regions, institutions, parties, projects, production sites, contracts and milestones."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ppp_tracker.core import limits
from ppp_tracker.core.audit import Audited
from ppp_tracker.core.folding import Searchable
from ppp_tracker.core.regions import Region
from ppp_tracker.db import Money, Percent, Scaled, UTCDateTime, db, enum_type, utcnow
from ppp_tracker.registry.codes import (
    OPEN_MILESTONE_STATUSES,
    Arrangement,
    ContractStatus,
    DocumentType,
    InstitutionKind,
    MilestoneStatus,
    MilestoneType,
    Obligor,
    PartyKind,
    PenaltyBase,
    ProjectKind,
    ProjectStatus,
    RelativeUnit,
    SiteStatus,
    StageKind,
)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Institution(Searchable, Audited, TimestampMixin, db.Model):
    """A correctional institution or a penal-system state enterprise."""

    __tablename__ = "institutions"
    __searched__ = ("name", "address")

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(limits.NAME))
    kind: Mapped[InstitutionKind] = mapped_column(enum_type(InstitutionKind))
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    address: Mapped[str | None] = mapped_column(sa.String(limits.NAME))
    #: Places (for institutions) or staff (for enterprises); optional.
    capacity: Mapped[int | None] = mapped_column(sa.Integer)
    is_demo: Mapped[bool] = mapped_column(default=False)

    region: Mapped[Region] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<Institution {self.id} {self.name!r}>"


class Party(Searchable, Audited, TimestampMixin, db.Model):
    """A counterparty: concessionaire, contractor, tenant, trustee, court, government body."""

    __tablename__ = "parties"
    __searched__ = ("name", "bin", "email")

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(limits.NAME), index=True)
    #: The name in Kazakh, for Kazakh letters (a Kazakh letter without it is flagged).
    name_kk: Mapped[str | None] = mapped_column(sa.String(limits.NAME))
    #: Kazakh business or individual identification number (12 digits with a control digit).
    bin: Mapped[str | None] = mapped_column(sa.String(12), unique=True)
    kind: Mapped[PartyKind] = mapped_column(enum_type(PartyKind))
    email: Mapped[str | None] = mapped_column(sa.String(limits.NAME))
    phone: Mapped[str | None] = mapped_column(sa.String(limits.CODE))
    address: Mapped[str | None] = mapped_column(sa.String(limits.LINE))
    address_kk: Mapped[str | None] = mapped_column(sa.String(limits.LINE))
    #: Position and name of the head, as addressed in letters ("Председателю Правления …").
    head_position: Mapped[str | None] = mapped_column(sa.String(limits.NAME))
    #: The head's position in Kazakh, as addressed ("Басқарма Төрағасына").
    head_position_kk: Mapped[str | None] = mapped_column(sa.String(limits.NAME))
    head_name: Mapped[str | None] = mapped_column(sa.String(limits.NAME))
    region_code: Mapped[str | None] = mapped_column(sa.ForeignKey("regions.code"))
    is_demo: Mapped[bool] = mapped_column(default=False)

    def __repr__(self) -> str:
        return f"<Party {self.id} {self.name!r} {self.bin}>"


class Project(Searchable, Audited, TimestampMixin, db.Model):
    """A concession or PPP project (or a lease/trust programme) with its life-cycle stages."""

    __tablename__ = "projects"
    __searched__ = ("title", "description")

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(limits.LINE))
    kind: Mapped[ProjectKind] = mapped_column(enum_type(ProjectKind))
    status: Mapped[ProjectStatus] = mapped_column(
        enum_type(ProjectStatus), default=ProjectStatus.ACTIVE
    )
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    institution_id: Mapped[int | None] = mapped_column(sa.ForeignKey("institutions.id"))
    investor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("parties.id"))
    #: Places in the institution to be built.
    capacity: Mapped[int | None] = mapped_column(sa.Integer)
    land_area_ha: Mapped[Decimal | None] = mapped_column(Scaled(4))
    estimated_cost: Mapped[Decimal | None] = mapped_column(Money)
    term_years: Mapped[int | None] = mapped_column(sa.Integer)
    description: Mapped[str | None] = mapped_column(sa.Text)
    is_demo: Mapped[bool] = mapped_column(default=False)

    region: Mapped[Region] = relationship(lazy="joined")
    institution: Mapped[Institution | None] = relationship()
    investor: Mapped[Party | None] = relationship()
    stages: Mapped[list[ProjectStage]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectStage.position"
    )
    contracts: Mapped[list[Contract]] = relationship(back_populates="project")

    def __repr__(self) -> str:
        return f"<Project {self.id} {self.title[:40]!r}>"


class ProjectStage(Audited, db.Model):
    __tablename__ = "project_stages"
    __table_args__ = (sa.UniqueConstraint("project_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[StageKind] = mapped_column(enum_type(StageKind))
    #: The stage's place in the canonical order, kept so that SQL can sort by it.
    position: Mapped[int] = mapped_column(sa.SmallInteger)
    planned_on: Mapped[date | None]
    actual_on: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(sa.Text)

    project: Mapped[Project] = relationship(back_populates="stages")

    @property
    def region_code(self) -> str:
        return self.project.region_code

    def __repr__(self) -> str:
        return f"<ProjectStage {self.project_id} {self.kind}>"


class ProductionSite(Searchable, Audited, TimestampMixin, db.Model):
    """A production site inside an institution, leased or under trust management."""

    __tablename__ = "production_sites"
    __searched__ = ("name", "activity")

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(limits.NAME))
    arrangement: Mapped[Arrangement] = mapped_column(enum_type(Arrangement), index=True)
    status: Mapped[SiteStatus] = mapped_column(enum_type(SiteStatus), default=SiteStatus.OPERATING)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institutions.id"))
    #: Copied from the institution so that region scope is one indexed comparison.
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    operator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("parties.id"))
    activity: Mapped[str | None] = mapped_column(sa.String(limits.NAME))
    area_m2: Mapped[Decimal | None] = mapped_column(Scaled(2))
    #: Convicts employed at the site.
    employed: Mapped[int] = mapped_column(sa.Integer, default=0)
    is_demo: Mapped[bool] = mapped_column(default=False)

    region: Mapped[Region] = relationship(lazy="joined")
    institution: Mapped[Institution] = relationship()
    operator: Mapped[Party | None] = relationship()
    contracts: Mapped[list[Contract]] = relationship(back_populates="site")

    def __repr__(self) -> str:
        return f"<ProductionSite {self.id} {self.name!r} {self.arrangement}>"


class Contract(Searchable, Audited, TimestampMixin, db.Model):
    """A signed contract of a project or a site, with its money, penalty terms and claim rules."""

    __tablename__ = "contracts"
    __searched__ = ("number", "subject")
    __table_args__ = (
        sa.UniqueConstraint("customer_id", "number", "signed_on"),
        sa.CheckConstraint("(project_id IS NULL) <> (site_id IS NULL)", name="project_xor_site"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(limits.CODE), index=True)
    #: Indexed: the contract list's default order (newest first) reads one page of the index.
    signed_on: Mapped[date] = mapped_column(index=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("parties.id"))
    contractor_id: Mapped[int] = mapped_column(sa.ForeignKey("parties.id"), index=True)
    project_id: Mapped[int | None] = mapped_column(sa.ForeignKey("projects.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("production_sites.id"), index=True)
    #: Copied from the project or site so that region scope is one indexed comparison.
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    subject: Mapped[str] = mapped_column(sa.Text)
    subject_kk: Mapped[str | None] = mapped_column(sa.Text)
    total_amount: Mapped[Decimal] = mapped_column(Money, index=True)
    currency: Mapped[str] = mapped_column(sa.String(3), default="KZT")
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    status: Mapped[ContractStatus] = mapped_column(
        enum_type(ContractStatus), default=ContractStatus.ACTIVE
    )
    #: Penalty (неустойка) in percent of the base per day late.
    penalty_rate_percent: Mapped[Decimal] = mapped_column(Percent(), default=Decimal("0.1"))
    penalty_base: Mapped[PenaltyBase] = mapped_column(
        enum_type(PenaltyBase), default=PenaltyBase.TOTAL
    )
    #: Upper limit of the penalty in percent of the base; NULL means no cap.
    penalty_cap_percent: Mapped[Decimal | None] = mapped_column(Percent())
    #: The number of the contract's clause that sets the penalty ("7.2"), cited in letters.
    penalty_clause_no: Mapped[str | None] = mapped_column(sa.String(limits.CLAUSE_NO))
    #: What the clause is (its heading or wording), in Russian and Kazakh, cited after its number.
    penalty_clause: Mapped[str | None] = mapped_column(sa.String(limits.NAME))
    penalty_clause_kk: Mapped[str | None] = mapped_column(sa.String(limits.NAME))
    #: Facts entered without a source to back them (the demo's assumptions, a term read from a
    #: draft): shown as such on the contract's page, so nobody takes them for the contract's text.
    assumptions: Mapped[str | None] = mapped_column(sa.Text)
    #: Days the contractor has to answer a claim, and whether they are working days.
    response_days: Mapped[int] = mapped_column(sa.Integer, default=10)
    response_working: Mapped[bool] = mapped_column(default=True)
    #: The response period runs from the day the contractor received a claim (else from sending).
    response_from_receipt: Mapped[bool] = mapped_column(default=False)
    #: Working days after the effective due date before a claim is drafted.
    grace_working_days: Mapped[int] = mapped_column(sa.Integer, default=1)
    #: Officer in charge of the contract; default responsible of its milestones.
    officer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    is_demo: Mapped[bool] = mapped_column(default=False)

    customer: Mapped[Party] = relationship(foreign_keys=[customer_id])
    contractor: Mapped[Party] = relationship(foreign_keys=[contractor_id])
    project: Mapped[Project | None] = relationship(back_populates="contracts")
    site: Mapped[ProductionSite | None] = relationship(back_populates="contracts")
    region: Mapped[Region] = relationship(lazy="joined")
    officer = relationship("User", foreign_keys=[officer_id])
    installments: Mapped[list[Installment]] = relationship(
        back_populates="contract", cascade="all, delete-orphan", order_by="Installment.due_on"
    )
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="contract",
        cascade="all, delete-orphan",
        order_by=lambda: [Milestone.due_on.asc().nulls_last(), Milestone.id],
    )

    def __repr__(self) -> str:
        return f"<Contract {self.id} No. {self.number} of {self.signed_on}>"


class Installment(Audited, db.Model):
    """One payment of the contract's schedule (30 % prepayment in 2013, 70 % in 2014)."""

    __tablename__ = "installments"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True
    )
    due_on: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(Money)
    description: Mapped[str | None] = mapped_column(sa.String(limits.LINE))
    paid_on: Mapped[date | None]
    paid_amount: Mapped[Decimal | None] = mapped_column(Money)

    contract: Mapped[Contract] = relationship(back_populates="installments")

    @property
    def region_code(self) -> str:
        return self.contract.region_code

    def __repr__(self) -> str:
        return f"<Installment {self.id} {self.amount} due {self.due_on}>"


#: The predicate of the open milestones' partial index (`registry.codes.OPEN_MILESTONE_STATUSES`).
OPEN_MILESTONES = "status IN ({}) AND due_on IS NOT NULL".format(
    ", ".join(f"'{status.value}'" for status in OPEN_MILESTONE_STATUSES)
)


class Milestone(Searchable, Audited, TimestampMixin, db.Model):
    """An obligation with a due date; the unit that deadlines, alerts and claims work on."""

    __tablename__ = "milestones"
    __searched__ = ("title",)
    __table_args__ = (
        sa.Index("ix_milestones_status_due_on", "status", "due_on"),
        # A region's (or a contract's) open milestones by due date: the deadlines page of a
        # regional user reads its region's contracts, then their open milestones due by a day,
        # from this index alone (with the contract id only, PostgreSQL read every milestone of
        # each contract — 100 a contract — to keep a handful). Serves contract id lookups too.
        sa.Index("ix_milestones_contract_id_status_due_on", "contract_id", "status", "due_on"),
        # The open milestones by due date, with their contract: the deadlines page counts them
        # per due date from this index alone (`deadlines.queries.deadline_page`); the predicate
        # is `registry.codes.OPEN_MILESTONE_STATUSES`, which the page's query names in the same
        # order.
        sa.Index(
            "ix_milestones_open_due_on_contract_id",
            "due_on",
            "contract_id",
            postgresql_where=sa.text(OPEN_MILESTONES),
            sqlite_where=sa.text(OPEN_MILESTONES),
        ),
        # Milestones whose stored effective due date is still to be computed (after an upgrade).
        sa.Index(
            "ix_milestones_unplanned",
            "id",
            postgresql_where=sa.text("due_on IS NOT NULL AND effective_due_on IS NULL"),
            sqlite_where=sa.text("due_on IS NOT NULL AND effective_due_on IS NULL"),
        ),
        sa.CheckConstraint(
            "relative_to_id IS NULL OR (relative_amount IS NOT NULL AND relative_unit IS NOT NULL)",
            name="relative_complete",
        ),
        sa.CheckConstraint(
            "relative_to_claim_id IS NULL OR (relative_to_id IS NULL"
            " AND relative_amount IS NOT NULL AND relative_unit IS NOT NULL)",
            name="relative_claim_complete",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(sa.String(limits.LINE))
    #: The title in Kazakh, for Kazakh letters.
    title_kk: Mapped[str | None] = mapped_column(sa.String(limits.LINE))
    description: Mapped[str | None] = mapped_column(sa.Text)
    type: Mapped[MilestoneType] = mapped_column(enum_type(MilestoneType))
    #: Optional OCDS milestone code (free text, e.g. "stateExpertise").
    code: Mapped[str | None] = mapped_column(sa.String(limits.CODE))
    obligor: Mapped[Obligor] = mapped_column(enum_type(Obligor), default=Obligor.CONTRACTOR)
    responsible_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: Money at stake; the penalty base when the contract's base is `outstanding`.
    value: Mapped[Decimal | None] = mapped_column(Money)
    #: The contractual due date; NULL while a relative date's anchor has not happened.
    due_on: Mapped[date | None]
    #: `due_on` moved to the next working day; kept by deadlines.tracking whenever the date or
    #: the calendar changes, so that lists and the alert scan can filter on it in SQL.
    effective_due_on: Mapped[date | None] = mapped_column(index=True)
    relative_to_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("milestones.id", ondelete="SET NULL"), index=True
    )
    #: Or the date counts from the sending of a claim letter ("10 working days after claim …").
    relative_to_claim_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("claims.id", ondelete="SET NULL"), index=True
    )
    relative_amount: Mapped[int | None] = mapped_column(sa.Integer)
    relative_unit: Mapped[RelativeUnit | None] = mapped_column(enum_type(RelativeUnit))
    met_on: Mapped[date | None]
    status: Mapped[MilestoneStatus] = mapped_column(
        enum_type(MilestoneStatus), default=MilestoneStatus.SCHEDULED
    )
    #: Why the milestone was waived or only partially met.
    status_note: Mapped[str | None] = mapped_column(sa.Text)

    contract: Mapped[Contract] = relationship(back_populates="milestones")
    responsible = relationship("User", foreign_keys=[responsible_id])
    relative_to: Mapped[Milestone | None] = relationship(remote_side=[id])
    relative_to_claim = relationship("Claim", foreign_keys=[relative_to_claim_id])
    due_date_changes: Mapped[list[DueDateChange]] = relationship(
        back_populates="milestone",
        cascade="all, delete-orphan",
        order_by="DueDateChange.changed_at",
    )

    @property
    def region_code(self) -> str:
        return self.contract.region_code

    @property
    def is_relative(self) -> bool:
        return self.relative_to_id is not None or self.relative_to_claim_id is not None

    @classmethod
    def claim_class(cls) -> type:
        """The claims feature's Claim, as `relative_to_claim` names it: a date may count from a
        claim's sending, yet the registry imports no feature above it (claims builds on it)."""
        return cls.relative_to_claim.property.mapper.class_

    def __repr__(self) -> str:
        return f"<Milestone {self.id} {self.title[:40]!r} due {self.due_on} {self.status}>"


class DueDateChange(Audited, db.Model):
    """A change of a milestone's due date: the old value is kept with the reason."""

    __tablename__ = "due_date_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(
        sa.ForeignKey("milestones.id", ondelete="CASCADE"), index=True
    )
    old_due_on: Mapped[date | None]
    new_due_on: Mapped[date | None]
    reason: Mapped[str] = mapped_column(sa.Text)
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    milestone: Mapped[Milestone] = relationship(back_populates="due_date_changes")
    changed_by = relationship("User")

    @property
    def region_code(self) -> str | None:
        return self.milestone.region_code if self.milestone is not None else None

    def __repr__(self) -> str:
        return f"<DueDateChange {self.milestone_id} {self.old_due_on}→{self.new_due_on}>"


class Document(Audited, db.Model):
    """A typed attachment of a project, site, contract or milestone; the bytes live in the row."""

    __tablename__ = "documents"
    __table_args__ = (
        sa.CheckConstraint(
            "(CASE WHEN project_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN site_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN contract_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_owner",
        ),
    )
    __audit_exclude__ = ("content",)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("production_sites.id", ondelete="CASCADE"), index=True
    )
    contract_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True
    )
    milestone_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("milestones.id", ondelete="SET NULL")
    )
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    document_type: Mapped[DocumentType] = mapped_column(enum_type(DocumentType))
    title: Mapped[str] = mapped_column(sa.String(limits.LINE))
    filename: Mapped[str] = mapped_column(sa.String(limits.NAME))
    content_type: Mapped[str] = mapped_column(sa.String(128))
    size: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    content: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    uploaded_by = relationship("User")

    def __repr__(self) -> str:
        return f"<Document {self.id} {self.document_type} {self.filename!r}>"
