"""Reminder plans: when the scan must next look at a milestone, kept in step with its date.

`plan_milestone` runs in the flush that changes a milestone's date, status or performance (it is
a deadlines.tracking hook) and when a contract's rules change. A plan always starts at the first
reminder of the effective due date; the scan then sends only the latest one that is due, and the
unique key of alerts makes a reminder already sent for that date impossible to send again.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import object_session

from ppp_tracker.alerts.models import AlertPlan, ContractAlertRules
from ppp_tracker.alerts.rules import AlertRules
from ppp_tracker.core.dates import OPEN_STATUSES
from ppp_tracker.db import db
from ppp_tracker.registry.codes import MilestoneStatus
from ppp_tracker.registry.models import Milestone


def rules_for(contract_id: int | None) -> AlertRules:
    """The contract's reminder rules, or the defaults."""
    row = db.session.get(ContractAlertRules, contract_id) if contract_id is not None else None
    return row.rules() if row is not None else AlertRules()


def rules_by_contract(contract_ids) -> dict[int, AlertRules]:
    ids = list(set(contract_ids))
    rows = db.session.scalars(
        sa.select(ContractAlertRules).where(ContractAlertRules.contract_id.in_(ids))
    ).all()
    found = {row.contract_id: row.rules() for row in rows}
    return {cid: found.get(cid, AlertRules()) for cid in ids}


def is_open(milestone: Milestone) -> bool:
    # A milestone being created has no status until its INSERT applies the default.
    return (milestone.status or MilestoneStatus.SCHEDULED) in OPEN_STATUSES


def plan_milestone(milestone: Milestone, rules: AlertRules | None = None) -> AlertPlan | None:
    """Point the milestone's plan at the first reminder of its effective due date (or stop it)."""
    session = object_session(milestone) or db.session
    plan = session.get(AlertPlan, milestone.id) if milestone.id is not None else None
    effective = milestone.effective_due_on
    if effective is None or not is_open(milestone):
        if plan is not None:
            plan.next_alert_on = None
        return plan
    if rules is None:
        contract_id = milestone.contract_id or (
            milestone.contract.id if milestone.contract else None
        )
        rules = rules_for(contract_id)
    first = rules.first_fire(effective)
    if plan is None:
        plan = AlertPlan(milestone=milestone, effective_due_on=effective, next_alert_on=first)
        session.add(plan)
    else:
        plan.effective_due_on = effective
        plan.next_alert_on = first
    return plan


def replan_contract(contract_id: int) -> int:
    """After a contract's rules changed: start its open milestones' plans afresh."""
    rules = rules_for(contract_id)
    milestones = db.session.scalars(
        sa.select(Milestone).where(
            Milestone.contract_id == contract_id,
            Milestone.status.in_(list(OPEN_STATUSES)),
            Milestone.effective_due_on.is_not(None),
        )
    ).all()
    for milestone in milestones:
        plan_milestone(milestone, rules)
    db.session.flush()
    return len(milestones)
