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


def _filtered(
    stmt,
    user: User,
    *,
    as_of: date,
    state: str | None,
    within_days: int | None,
    contract_id: int | None,
    region: str | None,
    officer_id: int | None,
):
    """`stmt` (milestones joined to their contracts) narrowed to the open milestones of the
    user's scope and the filters; by the contractual due date only — the caller keeps those whose
    effective due date (a working day on or after it) is in the asked state."""
    stmt = stmt.where(
        Milestone.status.in_(list(OPEN_STATUSES)), Milestone.due_on.is_not(None)
    ).order_by(Milestone.due_on, Milestone.id)
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
    return stmt


def _in_state(effective_due_on: date, state: str | None, as_of: date, horizon: int) -> bool:
    if state == "overdue":
        return effective_due_on < as_of
    if state == "upcoming":
        return as_of <= effective_due_on <= as_of + timedelta(days=horizon)
    return True


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
    stmt = _filtered(
        sa.select(Milestone)
        .join(Milestone.contract)
        .options(
            selectinload(Milestone.contract),
            selectinload(Milestone.responsible),
            selectinload(Milestone.due_date_changes),
        ),
        user,
        as_of=as_of,
        state=state,
        within_days=within_days,
        contract_id=contract_id,
        region=region,
        officer_id=officer_id,
    )
    horizon = within_days if within_days is not None else DUE_SOON_DAYS
    calendar = get_calendar()
    out = []
    for milestone in db.session.scalars(stmt):
        t = milestone_timing_on(milestone, as_of, calendar)
        if _in_state(t.effective_due_on, state, as_of, horizon):
            out.append(milestone)
    return out


def matches(needle: str, title: str, contract_number: str) -> bool:
    """The deadlines' text search: a piece of the obligation's title or its contract's number."""
    return not needle or needle.lower() in f"{title} {contract_number}".lower()


def deadline_page(
    user: User,
    *,
    as_of: date,
    state: str,
    page: int,
    per_page: int,
    q: str = "",
    within_days: int | None = None,
    contract_id: int | None = None,
    region: str | None = None,
    officer_id: int | None = None,
) -> tuple[int, int, list[Milestone]]:
    """One page of what `deadlines()` lists (same rows, same order, `q` as the export's search):
    (the number of rows, the page actually shown, its milestones). Only the page's milestones
    are loaded; the others are counted from plain (id, date, title, number) rows."""
    # The title and the contract's number only when searching: thousands of rows travel.
    columns = [Milestone.id, Milestone.due_on] + ([Milestone.title, Contract.number] if q else [])
    stmt = _filtered(
        sa.select(*columns).join(Milestone.contract),
        user,
        as_of=as_of,
        state=state,
        within_days=within_days,
        contract_id=contract_id,
        region=region,
        officer_id=officer_id,
    )
    horizon = within_days if within_days is not None else DUE_SOON_DAYS
    calendar = get_calendar()
    # The rule of deadlines.rules.effective_due (without composing its explanation), and the
    # state's test, once per distinct due date.
    kept: dict[date, bool] = {}
    ids = []
    for row in db.session.execute(stmt):
        keep = kept.get(row[1])
        if keep is None:
            keep = kept[row[1]] = _in_state(
                calendar.next_working_day(row[1]), state, as_of, horizon
            )
        if keep and (not q or matches(q, row[2], row[3])):
            ids.append(row[0])
    pages = max(1, -(-len(ids) // per_page))
    page = min(max(1, page), pages)
    chosen = ids[(page - 1) * per_page : page * per_page]
    if not chosen:
        return len(ids), page, []
    loaded = {
        m.id: m
        for m in db.session.scalars(
            sa.select(Milestone)
            .where(Milestone.id.in_(chosen))
            .options(
                selectinload(Milestone.contract).selectinload(Contract.officer),
                selectinload(Milestone.responsible),
                selectinload(Milestone.due_date_changes),
            )
        )
    }
    return len(ids), page, [loaded[i] for i in chosen]


def milestone_timing_on(milestone: Milestone, as_of: date, calendar=None) -> Timing:
    return timing(
        calendar or get_calendar(),
        due_on=milestone.due_on,
        status=milestone.status,
        met_on=milestone.met_on,
        as_of=as_of,
    )
