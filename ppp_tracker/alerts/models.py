"""Alert rules of contracts, reminder plans, alerts, their deliveries and digests, scan runs.

One `Alert` is one reminder of one milestone at one rule for one effective due date (the unique
key that makes a second one impossible). Each person it goes to gets an `AlertDelivery` with its
own outcome; people who chose the daily digest get theirs inside one `AlertDigest` per day.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ppp_tracker.alerts.rules import DEFAULT_OVERDUE_EVERY_DAYS, AlertRules, format_days, parse_days
from ppp_tracker.auth.models import AlertMode
from ppp_tracker.core.audit import Audited
from ppp_tracker.core.enums import LabelledEnum
from ppp_tracker.db import UTCDateTime, db, enum_type, utcnow
from ppp_tracker.registry.models import Contract, Milestone


class DeliveryStatus(LabelledEnum):
    PENDING = "pending"
    SENDING = "sending"
    RETRY = "retry"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EMPTY = "empty"

    @classmethod
    def _labels(cls):
        return {
            "pending": _l("waiting to be sent"),
            "sending": _l("being sent"),
            "retry": _l("will be retried"),
            "sent": _l("sent"),
            "failed": _l("failed"),
            "cancelled": _l("not sent: no longer true"),
            "empty": _l("nothing left to send"),
        }


#: Statuses of work that is not finished; a partial index keeps them cheap to find.
OPEN_DELIVERY_STATUSES = ("pending", "sending", "retry")


class CancelReason(LabelledEnum):
    """Why a reminder was not sent after all: by the time of sending it was no longer true."""

    CLOSED = "closed"
    DATE_CHANGED = "date_changed"
    SUPERSEDED = "superseded"
    INACTIVE_USER = "inactive_user"
    OUT_OF_SCOPE = "out_of_scope"
    ROLE_CHANGED = "role_changed"

    @classmethod
    def _labels(cls):
        return {
            "closed": _l("the milestone was met or waived"),
            "date_changed": _l("the due date changed"),
            "superseded": _l("a later reminder replaced it"),
            "inactive_user": _l("the user is no longer active"),
            "out_of_scope": _l("the user no longer works in this region"),
            "role_changed": _l("the user's role no longer receives it"),
        }


class RecipientReason(LabelledEnum):
    RESPONSIBLE = "responsible"
    OFFICER = "officer"
    MANAGER = "manager"

    @classmethod
    def _labels(cls):
        return {
            "responsible": _l("responsible for the milestone"),
            "officer": _l("officer of the contract"),
            "manager": _l("manager of the region"),
        }


class ContractAlertRules(Audited, db.Model):
    """A contract's own reminder rules; a contract without a row uses the defaults."""

    __tablename__ = "contract_alert_rules"

    contract_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contracts.id", ondelete="CASCADE"), primary_key=True
    )
    #: Days before the effective due date, e.g. "30, 14, 7, 3, 1" (empty: none).
    days_before: Mapped[str] = mapped_column(sa.String(100), default="30, 14, 7, 3, 1")
    on_due_day: Mapped[bool] = mapped_column(default=True)
    overdue: Mapped[bool] = mapped_column(default=True)
    #: After the first overdue reminder, one every N days until met or waived (0: no repeats).
    overdue_every_days: Mapped[int] = mapped_column(sa.Integer, default=DEFAULT_OVERDUE_EVERY_DAYS)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    contract: Mapped[Contract] = relationship()

    @property
    def region_code(self) -> str:
        return self.contract.region_code

    def rules(self) -> AlertRules:

        return AlertRules(
            days_before=parse_days(self.days_before),
            on_due_day=self.on_due_day,
            overdue=self.overdue,
            overdue_every_days=self.overdue_every_days,
        )

    @classmethod
    def from_rules(cls, contract_id: int, rules: AlertRules) -> ContractAlertRules:
        return cls(
            contract_id=contract_id,
            days_before=format_days(rules.days_before),
            on_due_day=rules.on_due_day,
            overdue=rules.overdue,
            overdue_every_days=rules.overdue_every_days,
        )

    def __repr__(self) -> str:
        return f"<ContractAlertRules {self.contract_id} {self.days_before!r}>"


class AlertPlan(db.Model):
    """When the scan must next look at a milestone: the day its next reminder fires.

    Kept by the planning hook whenever the milestone's effective due date, status or the
    contract's rules change; advanced by the scan with a conditional UPDATE (its claim).
    """

    __tablename__ = "alert_plans"
    __table_args__ = (
        sa.Index(
            "ix_alert_plans_next_alert_on",
            "next_alert_on",
            "milestone_id",
            postgresql_where=sa.text("next_alert_on IS NOT NULL"),
            sqlite_where=sa.text("next_alert_on IS NOT NULL"),
        ),
    )

    milestone_id: Mapped[int] = mapped_column(
        sa.ForeignKey("milestones.id", ondelete="CASCADE"), primary_key=True
    )
    #: The effective due date this plan is for; a new date is a new plan.
    effective_due_on: Mapped[date]
    #: NULL: no reminder will fire (met, waived, no rules left).
    next_alert_on: Mapped[date | None]

    milestone: Mapped[Milestone] = relationship()

    def __repr__(self) -> str:
        return (
            f"<AlertPlan {self.milestone_id} due {self.effective_due_on} next {self.next_alert_on}>"
        )


class Alert(db.Model):
    """One reminder of one milestone at one rule for one effective due date, created once."""

    __tablename__ = "alerts"
    __table_args__ = (sa.UniqueConstraint("milestone_id", "rule", "effective_due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(sa.ForeignKey("milestones.id", ondelete="CASCADE"))
    #: before_30 … before_1, due_day, overdue_1, overdue_8, … (see alerts.rules).
    rule: Mapped[str] = mapped_column(sa.String(32))
    effective_due_on: Mapped[date]
    #: The day the rule fires; earlier than `as_of` when a late scan caught up.
    fire_on: Mapped[date]
    #: The legal day of the scan that created the alert; the e-mail describes that day.
    as_of: Mapped[date]
    days_left: Mapped[int] = mapped_column(sa.Integer, default=0)
    days_late: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    milestone: Mapped[Milestone] = relationship()
    deliveries: Mapped[list[AlertDelivery]] = relationship(
        back_populates="alert", order_by="AlertDelivery.id"
    )

    @property
    def region_code(self) -> str:
        return self.milestone.region_code

    def __repr__(self) -> str:
        return (
            f"<Alert {self.id} milestone={self.milestone_id} {self.rule} {self.effective_due_on}>"
        )


class AlertDigest(db.Model):
    """The one daily e-mail of a user who chose the digest: the alerts of that day, together."""

    __tablename__ = "alert_digests"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "digest_on"),
        sa.Index(
            "ix_alert_digests_open",
            "status",
            postgresql_where=sa.text("status IN ('pending', 'sending', 'retry')"),
            sqlite_where=sa.text("status IN ('pending', 'sending', 'retry')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    digest_on: Mapped[date]
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_type(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    sent_to: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the current lease started (core.outbox; the column keeps its older name): a row
    #: leased longer ago than ALERT_SEND_LEASE_SECONDS is taken over.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User")
    deliveries: Mapped[list[AlertDelivery]] = relationship(back_populates="digest")

    def __repr__(self) -> str:
        return f"<AlertDigest {self.id} user={self.user_id} {self.digest_on} {self.status}>"


class AlertDelivery(db.Model):
    """One alert to one person: who, why, how (at once or in the digest) and what became of it."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("alert_id", "user_id"),
        sa.Index(
            "ix_alert_deliveries_open",
            "status",
            "user_id",
            postgresql_where=sa.text("status IN ('pending', 'sending', 'retry')"),
            sqlite_where=sa.text("status IN ('pending', 'sending', 'retry')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(sa.ForeignKey("alerts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    reason: Mapped[RecipientReason] = mapped_column(enum_type(RecipientReason))
    #: The user's choice when the alert was created.
    mode: Mapped[AlertMode] = mapped_column(enum_type(AlertMode))
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_type(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    cancel_reason: Mapped[CancelReason | None] = mapped_column(enum_type(CancelReason))
    #: The address it went to (the user's address at the time of sending).
    sent_to: Mapped[str | None] = mapped_column(sa.String(255))
    digest_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("alert_digests.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the current lease started (core.outbox; the column keeps its older name).
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    alert: Mapped[Alert] = relationship(back_populates="deliveries")
    user = relationship("User")
    digest: Mapped[AlertDigest | None] = relationship(back_populates="deliveries")

    def __repr__(self) -> str:
        return f"<AlertDelivery {self.id} alert={self.alert_id} user={self.user_id} {self.status}>"


class ScanRun(db.Model):
    """One run of the deadline scan; the last finished one tells whether beat is alive."""

    __tablename__ = "scan_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "beat", "cli" or "worker".
    trigger: Mapped[str] = mapped_column(sa.String(16))
    as_of: Mapped[date]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    #: Milestones whose stored effective due date was filled in (after an upgrade).
    planned: Mapped[int] = mapped_column(sa.Integer, default=0)
    alerts: Mapped[int] = mapped_column(sa.Integer, default=0)
    deliveries: Mapped[int] = mapped_column(sa.Integer, default=0)
    digests: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: Deliveries and digests queued again because their task was lost or their worker died.
    requeued: Mapped[int] = mapped_column(sa.Integer, default=0)
    error: Mapped[str | None] = mapped_column(sa.Text)

    def __repr__(self) -> str:
        return f"<ScanRun {self.id} {self.trigger} as of {self.as_of} finished {self.finished_at}>"
