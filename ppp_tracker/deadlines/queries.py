"""Which milestones are overdue or coming up, for a user's scope, on a given day."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ppp_tracker.auth.access import scope
from ppp_tracker.auth.models import User
from ppp_tracker.db import db
from ppp_tracker.deadlines.calendar import get_calendar
from ppp_tracker.deadlines.rules import DUE_SOON_DAYS, OPEN_STATUSES, Timing, timing
from ppp_tracker.registry.models import Contract, Milestone

#: No run of consecutive days off in Kazakhstan is longer than this; an effective due date is
#: never more than this many days after the contractual one.
MAX_DAYS_OFF_RUN = 14


def deadlines(
    user: User,
    *,
    as_of: date,
    state: str | None = None,
    within_days: int | None = None,
    contract_id: int | None = None,
    region: str | None = None,
    officer_id: int | None = None,
) -> list[Milestone]:
    """Open milestones in the user's scope; `overdue` or `upcoming` (within N days) on `as_of`;
    `officer_id` keeps those the user is responsible for (directly or as the contract's officer).
    """
    stmt = (
        sa.select(Milestone)
        .join(Milestone.contract)
        .where(Milestone.status.in_(list(OPEN_STATUSES)), Milestone.due_on.is_not(None))
        .options(
            selectinload(Milestone.contract),
            selectinload(Milestone.responsible),
            selectinload(Milestone.due_date_changes),
        )
        .order_by(Milestone.due_on, Milestone.id)
    )
    stmt = scope(stmt, user, Contract.region_code)
    if contract_id is not None:
        stmt = stmt.where(Milestone.contract_id == contract_id)
    if region:
        stmt = stmt.where(Contract.region_code == region)
    if officer_id is not None:
        stmt = stmt.where(
            sa.or_(
                Milestone.responsible_id == officer_id,
                sa.and_(Milestone.responsible_id.is_(None), Contract.officer_id == officer_id),
            )
        )
    horizon = within_days if within_days is not None else DUE_SOON_DAYS
    if state == "overdue":
        stmt = stmt.where(Milestone.due_on < as_of)
    elif state == "upcoming":
        stmt = stmt.where(
            Milestone.due_on >= as_of - timedelta(days=MAX_DAYS_OFF_RUN),
            Milestone.due_on <= as_of + timedelta(days=horizon),
        )
    elif within_days is not None:
        stmt = stmt.where(Milestone.due_on <= as_of + timedelta(days=within_days))
    calendar = get_calendar()
    out = []
    for milestone in db.session.scalars(stmt):
        t = milestone_timing_on(milestone, as_of, calendar)
        if state == "overdue" and not t.effective_due_on < as_of:
            continue
        if state == "upcoming" and not (
            as_of <= t.effective_due_on <= as_of + timedelta(days=horizon)
        ):
            continue
        out.append(milestone)
    return out


def milestone_timing_on(milestone: Milestone, as_of: date, calendar=None) -> Timing:
    return timing(
        calendar or get_calendar(),
        due_on=milestone.due_on,
        status=milestone.status,
        met_on=milestone.met_on,
        as_of=as_of,
    )
