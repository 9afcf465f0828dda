"""The deadline scan: find the milestones whose reminder day has come, claim each one, create
its alert and the deliveries to its recipients; queue the digests; find lost work.

Services: they flush and never commit; `alerts.jobs` runs them at the edge (beat, CLI) and
commits between batches. Every step is safe against a second scan running at the same time:
the plan row is claimed with a conditional UPDATE that changes exactly one row, and the alert's
unique key (milestone, rule, effective due date) refuses a second copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from ppp_tracker import clock
from ppp_tracker.alerts.audience import may_receive
from ppp_tracker.alerts.models import (
    Alert,
    AlertDelivery,
    AlertDigest,
    AlertPlan,
    DeliveryStatus,
    RecipientReason,
)
from ppp_tracker.alerts.planning import rules_by_contract
from ppp_tracker.alerts.rules import AlertRules, Stage, is_overdue_rule
from ppp_tracker.auth.models import AlertMode, Role, User
from ppp_tracker.core import outbox, versions
from ppp_tracker.db import db
from ppp_tracker.deadlines.rules import OPEN_STATUSES
from ppp_tracker.registry.models import Contract, Milestone


@dataclass
class BatchResult:
    selected: int = 0
    claimed: int = 0
    alert_ids: list[int] = field(default_factory=list)
    deliveries: int = 0
    #: Deliveries to send at once (their users chose immediate e-mails).
    immediate_ids: list[int] = field(default_factory=list)

    @property
    def alerts(self) -> int:
        return len(self.alert_ids)


def due_plans_query(as_of: date, limit: int) -> sa.Select:
    """The plans whose reminder day has come: one range scan of a partial index."""
    plans = AlertPlan.__table__.c
    return (
        sa.select(plans.milestone_id, plans.next_alert_on, plans.effective_due_on)
        .where(plans.next_alert_on.is_not(None), plans.next_alert_on <= as_of)
        .order_by(plans.next_alert_on, plans.milestone_id)
        .limit(limit)
    )


def due_plans(as_of: date, limit: int):
    # Plain rows through the session's connection: no ORM entities are needed to decide.
    return db.session.connection().execute(due_plans_query(as_of, limit)).all()


def claim_plan(
    milestone_id: int, seen_next: date, seen_effective: date, *, session=None, **new
) -> bool:
    """Move the plan on, but only if nobody did since we read it: exactly one row or none."""
    result = (session or db.session).execute(
        sa.update(AlertPlan)
        .where(
            AlertPlan.milestone_id == milestone_id,
            AlertPlan.next_alert_on == seen_next,
            AlertPlan.effective_due_on == seen_effective,
        )
        .values(**new)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _insert_ignoring_duplicates(table, values: dict):
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the id, or None when the row existed."""
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table).values(**values).on_conflict_do_nothing().returning(table.c.id)
    return db.session.execute(stmt).scalar_one_or_none()


def recipients(milestone: Milestone, rule: str) -> list[tuple[User, RecipientReason]]:
    """The responsible officer (or the contract's officer); the region's managers from the first
    overdue reminder on — and always when nobody is responsible, so that no date goes unseen."""
    out: dict[int, tuple[User, RecipientReason]] = {}
    contract = milestone.contract
    region = contract.region_code
    # Each person as they are now (audience.may_receive): one moved to another region, given
    # another role or deactivated is passed over, and the next in line is told instead.
    responsible = milestone.responsible
    if may_receive(responsible, region, RecipientReason.RESPONSIBLE):
        out[responsible.id] = (responsible, RecipientReason.RESPONSIBLE)
    elif may_receive(contract.officer, region, RecipientReason.OFFICER):
        out[contract.officer.id] = (contract.officer, RecipientReason.OFFICER)
    if is_overdue_rule(rule) or not out:
        for manager in managers_of(region):
            if may_receive(manager, region, RecipientReason.MANAGER):
                out.setdefault(manager.id, (manager, RecipientReason.MANAGER))
    return list(out.values())


def managers_of(region_code: str) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.role == Role.MANAGER,
                User.active.is_(True),
                sa.or_(User.region_code.is_(None), User.region_code == region_code),
            )
            .order_by(User.id)
        )
    )


def scan_batch(as_of: date, *, limit: int = 500) -> BatchResult:
    """One batch of the scan on `as_of`: claim, create alerts and deliveries; flush."""
    rows = due_plans(as_of, limit)
    result = BatchResult(selected=len(rows))
    if not rows:
        return result
    ids = [row.milestone_id for row in rows]
    milestones = {
        m.id: m
        for m in db.session.scalars(
            sa.select(Milestone)
            .where(Milestone.id.in_(ids))
            .options(
                selectinload(Milestone.contract).selectinload(Contract.officer),
                selectinload(Milestone.responsible),
            )
        )
    }
    rules = rules_by_contract(m.contract_id for m in milestones.values())
    for row in rows:
        milestone = milestones.get(row.milestone_id)
        if milestone is None:
            # The milestone is gone and the database kept its plan (SQLite without enforced
            # foreign keys): drop the plan, or it would be selected again forever.
            db.session.execute(
                sa.delete(AlertPlan).where(AlertPlan.milestone_id == row.milestone_id)
            )
            result.claimed += 1
            continue
        claimed, stage = _handle(milestone, row, rules[milestone.contract_id], as_of)
        if not claimed:
            continue
        result.claimed += 1
        if stage is None:
            continue
        alert_id = _create_alert(milestone, stage, as_of)
        if alert_id is None:
            continue
        result.alert_ids.append(alert_id)
        people = recipients(milestone, stage.rule)
        if not people:
            continue
        # One INSERT per alert, not an ORM flush per person: a scan after an outage may create
        # thousands, and each flush would walk every object the session holds.
        created = db.session.execute(
            sa.insert(AlertDelivery.__table__).returning(
                AlertDelivery.__table__.c.id, AlertDelivery.__table__.c.mode
            ),
            [
                {
                    "alert_id": alert_id,
                    "user_id": user.id,
                    "reason": reason,
                    "mode": user.alert_mode,
                    "status": DeliveryStatus.PENDING,
                    "attempts": 0,
                    "created_at": clock.now(),
                }
                for user, reason in people
            ],
        ).all()
        result.deliveries += len(created)
        result.immediate_ids.extend(
            delivery_id for delivery_id, mode in created if mode == AlertMode.IMMEDIATE
        )
    return result


def _handle(milestone: Milestone, row, rules: AlertRules, as_of: date) -> tuple[bool, Stage | None]:
    """Claim the plan row (moving it on); whether we got it, and the reminder to send if any."""
    effective = milestone.effective_due_on
    if milestone.status not in OPEN_STATUSES or effective is None:
        # The planning hook stops such plans; this only tidies one it could not see.
        claimed = claim_plan(
            milestone.id, row.next_alert_on, row.effective_due_on, next_alert_on=None
        )
        return claimed, None
    if effective != row.effective_due_on:
        # Likewise a plan left on an old date: start it afresh on the milestone's date.
        claimed = claim_plan(
            milestone.id,
            row.next_alert_on,
            row.effective_due_on,
            effective_due_on=effective,
            next_alert_on=rules.first_fire(effective),
        )
        return claimed, None
    claimed = claim_plan(
        milestone.id,
        row.next_alert_on,
        row.effective_due_on,
        next_alert_on=rules.next_fire_after(effective, as_of),
    )
    return claimed, rules.latest_stage(effective, as_of) if claimed else None


def _create_alert(milestone: Milestone, stage: Stage, as_of: date) -> int | None:
    """The alert of this stage (None when it existed). Pages show the alert log (the deadline
    lists' last reminder): a new alert moves the data version with the batch's commit."""
    effective = milestone.effective_due_on
    alert_id = _insert_ignoring_duplicates(
        Alert.__table__,
        {
            "milestone_id": milestone.id,
            "rule": stage.rule,
            "effective_due_on": effective,
            "fire_on": stage.fire_on,
            "as_of": as_of,
            "days_left": max(0, (effective - as_of).days),
            "days_late": max(0, (as_of - effective).days),
            "created_at": clock.now(),
        },
    )
    if alert_id is not None:
        versions.changed(db.session)
    return alert_id


# --- digests ------------------------------------------------------------------------------


def digest_time(as_of: date, now: datetime) -> bool:
    """Digests of `as_of` go out from ALERT_DIGEST_HOUR local time (at once for a past day)."""
    local = clock.to_local(now)
    return as_of < local.date() or local.hour >= current_app.config["ALERT_DIGEST_HOUR"]


def queue_digests(as_of: date, now: datetime) -> list[int]:
    """Create the day's digest of every user with reminders waiting for one; their ids."""
    if not digest_time(as_of, now):
        return []
    user_ids = db.session.scalars(
        sa.select(AlertDelivery.user_id)
        .where(
            AlertDelivery.status == DeliveryStatus.PENDING,
            AlertDelivery.mode == AlertMode.DIGEST,
            AlertDelivery.digest_id.is_(None),
        )
        .distinct()
    ).all()
    if not user_ids:
        return []
    for user_id in user_ids:
        dialect = db.session.get_bind().dialect.name
        module = postgresql if dialect == "postgresql" else sqlite
        db.session.execute(
            module.insert(AlertDigest.__table__)
            .values(
                user_id=user_id,
                digest_on=as_of,
                status=DeliveryStatus.PENDING.value,
                attempts=0,
                created_at=now,
            )
            .on_conflict_do_nothing()
        )
    db.session.flush()
    return list(
        db.session.scalars(
            sa.select(AlertDigest.id).where(
                AlertDigest.user_id.in_(user_ids),
                AlertDigest.digest_on == as_of,
                AlertDigest.status == DeliveryStatus.PENDING,
            )
        )
    )


# --- lost work ----------------------------------------------------------------------------


def stale_work(now: datetime, limit: int = 1000) -> tuple[list[int], list[int]]:
    """Deliveries and digests whose task was lost or whose worker died: queue them again
    (`core.outbox.stale`); their tasks claim the rows, so a second message does nothing."""
    from ppp_tracker.alerts.delivery import DELIVERIES, DIGESTS

    return outbox.stale(DELIVERIES, now, limit), outbox.stale(DIGESTS, now, limit)
