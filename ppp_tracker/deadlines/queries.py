"""Which milestones are overdue or coming up, for a user's scope, on a given day."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ppp_tracker.auth.access import scope
from ppp_tracker.auth.models import Role, User
from ppp_tracker.core.calendar import get_calendar
from ppp_tracker.core.dates import DUE_SOON_DAYS, Timing, timing
from ppp_tracker.core.folding import contains, field_contains
from ppp_tracker.core.listing import Pages
from ppp_tracker.core.regions import Region
from ppp_tracker.db import db
from ppp_tracker.deadlines.penalty import contract_penalties
from ppp_tracker.registry.codes import OPEN_MILESTONE_STATUSES
from ppp_tracker.registry.models import Contract, Milestone, Party

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
    q: str = "",
):
    """`stmt` (a select of milestones) narrowed to the open milestones of the user's scope and
    the filters; by the contractual due date only — the caller keeps those whose effective due
    date (a working day on or after it) is in the asked state. `q` is a piece of the
    milestone's title or of its contract's number (folded: core.folding).

    The contract is asked about in a subquery, and only when the scope or a filter needs it: the
    milestones of every region are then counted from the open milestones' index alone."""
    stmt = stmt.where(
        Milestone.status.in_(OPEN_MILESTONE_STATUSES), Milestone.due_on.is_not(None)
    ).order_by(Milestone.due_on, Milestone.id)
    contracts = scope(sa.select(Contract.id), user, Contract.region_code)
    if region:
        contracts = contracts.where(Contract.region_code == region)
    if contracts.whereclause is not None:
        stmt = stmt.where(Milestone.contract_id.in_(contracts))
    if contract_id is not None:
        stmt = stmt.where(Milestone.contract_id == contract_id)
    if officer_id is not None:
        stmt = stmt.where(_responsible(officer_id))
    if q:
        stmt = stmt.where(
            sa.or_(
                contains(Milestone.search_text, q),
                Milestone.contract_id.in_(
                    sa.select(Contract.id).where(field_contains(Contract, "number", q))
                ),
            )
        )
    return stmt.where(*_due_in_state(state, as_of, within_days))


def _responsible(officer_id: int):
    """The milestones an officer answers for: directly, or as the officer of their contract."""
    return sa.or_(
        Milestone.responsible_id == officer_id,
        sa.and_(
            Milestone.responsible_id.is_(None),
            Milestone.contract_id.in_(
                sa.select(Contract.id).where(Contract.officer_id == officer_id)
            ),
        ),
    )


def _due_in_state(state: str | None, as_of: date, within_days: int | None) -> list:
    """The contractual due dates whose effective date may be in `state` on `as_of`."""
    horizon = within_days if within_days is not None else DUE_SOON_DAYS
    if state == "overdue":
        return [Milestone.due_on < as_of]
    if state == "upcoming":
        return [
            Milestone.due_on >= as_of - timedelta(days=MAX_DAYS_OFF_RUN),
            Milestone.due_on <= as_of + timedelta(days=horizon),
        ]
    if within_days is not None:
        return [Milestone.due_on <= as_of + timedelta(days=within_days)]
    return []


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
    q: str = "",
) -> list[Milestone]:
    """Open milestones in the user's scope; `overdue` or `upcoming` (within N days) on `as_of`;
    `officer_id` keeps those the user is responsible for (directly or as the contract's officer).
    """
    stmt = _filtered(
        sa.select(Milestone).options(
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
        q=q,
    )
    horizon = within_days if within_days is not None else DUE_SOON_DAYS
    calendar = get_calendar()
    out = []
    for milestone in db.session.scalars(stmt):
        t = milestone_timing_on(milestone, as_of, calendar)
        if _in_state(t.effective_due_on, state, as_of, horizon):
            out.append(milestone)
    return out


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
    """One page of what `deadlines()` lists (same rows, same order, same search):
    (the number of rows, the page actually shown, its milestones).

    The database counts the rows per contractual due date and the calendar judges each date once
    (the rule of `core.dates.effective_due`, without composing its explanation). Only the
    page's milestones are loaded."""
    filters = dict(
        as_of=as_of,
        state=state,
        within_days=within_days,
        contract_id=contract_id,
        region=region,
        officer_id=officer_id,
        q=q,
    )
    horizon = within_days if within_days is not None else DUE_SOON_DAYS
    calendar = get_calendar()

    def in_state(due_on: date) -> bool:
        return _in_state(calendar.next_working_day(due_on), state, as_of, horizon)

    per_date = db.session.execute(
        _filtered(sa.select(Milestone.due_on, sa.func.count()), user, **filters)
        .order_by(None)
        .group_by(Milestone.due_on)
        .order_by(Milestone.due_on)
    ).all()
    kept = [(due_on, n) for due_on, n in per_date if in_state(due_on)]
    total = sum(n for _d, n in kept)
    page = _shown_page(total, page, per_page)
    if not kept:
        return total, page, []
    # The effective due date never comes before a later contractual date's (the next working
    # day of a later day is not earlier), and each state is a span of effective dates: the kept
    # contractual dates are one unbroken run of the dates counted, from the first to the last.
    stmt = _filtered(sa.select(Milestone), user, **filters).where(
        Milestone.due_on.between(kept[0][0], kept[-1][0])
    )
    return total, page, _loaded(stmt.limit(per_page).offset((page - 1) * per_page))


def _shown_page(total: int, page: int, per_page: int) -> int:
    """The asked page, or the nearest that exists (the last one for a page past the end)."""
    return min(max(1, page), Pages(total, page, per_page).pages)


def _loaded(stmt) -> list[Milestone]:
    """The milestones of `stmt` with what a deadline row shows of them."""
    return list(
        db.session.scalars(
            stmt.options(
                selectinload(Milestone.contract).selectinload(Contract.officer),
                selectinload(Milestone.responsible),
                selectinload(Milestone.due_date_changes),
            )
        )
    )


def milestone_timing_on(milestone: Milestone, as_of: date, calendar=None) -> Timing:
    return timing(
        calendar or get_calendar(),
        due_on=milestone.due_on,
        status=milestone.status,
        met_on=milestone.met_on,
        as_of=as_of,
    )


# --- what the deadline page's filters offer ------------------------------------------------------


def regions_in_scope(user: User) -> list[Region]:
    return list(
        db.session.scalars(scope(sa.select(Region).order_by(Region.name_ru), user, Region.code))
    )


def contract_label(user: User, contract_id: int | None) -> str | None:
    """ "№ number · contractor" of a contract in the user's scope (None if it is not)."""
    if contract_id is None:
        return None
    contractor = sa.orm.aliased(Party)
    row = db.session.execute(
        scope(
            sa.select(Contract.number, contractor.name)
            .join(contractor, Contract.contractor_id == contractor.id)
            .where(Contract.id == contract_id),
            user,
            Contract.region_code,
        )
    ).first()
    return f"№ {row[0]} · {row[1]}" if row else None


def officer_choices(user: User) -> list[tuple[int, str]]:
    """(id, name) of the active people a milestone can be the responsibility of, in reach of
    `user`'s region."""
    same_region = (
        [sa.or_(User.region_code.is_(None), User.region_code == user.region_code)]
        if user.region_code
        else []
    )
    rows = db.session.execute(
        sa.select(User.id, User.name)
        .where(
            User.active.is_(True),
            User.role.in_([Role.OFFICER, Role.MANAGER, Role.ADMIN, Role.LEGAL]),
            *same_region,
        )
        .order_by(User.name)
    )
    return [(row.id, row.name) for row in rows]


def accrued_penalties(milestones: list[Milestone], as_of: date) -> dict[int, Decimal | None]:
    """milestone id -> the penalty accrued on it by `as_of` (None where nothing accrues)."""
    penalties = contract_penalties({m.contract_id for m in milestones}, as_of, get_calendar())
    accrued = {}
    for m in milestones:
        line = penalties[m.contract_id].row(m.id) if m.contract_id in penalties else None
        accrued[m.id] = line.accrued if line else None
    return accrued
