"""What the dashboard shows for a user's scope: deadlines, penalties, sites, and their history.

Everything is computed from a handful of queries whose number does not grow with the registry
(see `tests/test_reports_dashboard.py`), with the rules of `deadlines.rules` and the penalty
calculator; other features add cards through `DASHBOARD_WIDGETS`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ppp_tracker.auth.access import scope
from ppp_tracker.auth.models import User
from ppp_tracker.claims.penalty import PenaltyTerms, penalty_line
from ppp_tracker.db import db
from ppp_tracker.deadlines.calendar import add_months, get_calendar
from ppp_tracker.deadlines.rules import OPEN_STATUSES, MilestoneState, Timing, timing
from ppp_tracker.registry.codes import Arrangement, MilestoneStatus, Obligor
from ppp_tracker.registry.models import Contract, Milestone, ProductionSite, Project, Region


@dataclass(frozen=True)
class Widget:
    """A card on the dashboard contributed by a feature (claims waiting, cases open…)."""

    title: str
    value: Any
    url: str | None = None
    #: Bootstrap contextual colour of the value: danger, warning, success, secondary…
    level: str = "secondary"
    note: str | None = None


#: Cards other features put on the dashboard: name -> fn(user) -> Widget or None (not shown).
#: The claims feature plugs in "claims waiting for legal staff" and "cases open" here.
DASHBOARD_WIDGETS: dict[str, Callable[[User], Widget | None]] = {}

#: How far back the penalty exposure chart looks and how far ahead it projects, in months.
EXPOSURE_PAST_MONTHS = 12
EXPOSURE_FUTURE_MONTHS = 6


@dataclass(frozen=True)
class DeadlineRow:
    milestone: Milestone
    timing: Timing
    #: The penalty accrued on this milestone as of the dashboard's day (zero if none).
    accrued: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class RegionBar:
    code: str
    name: str
    overdue: int
    accrued: Decimal


@dataclass(frozen=True)
class ExposurePoint:
    on: date
    total: Decimal
    #: A day after today: what will have accrued if nothing is performed meanwhile.
    projected: bool


@dataclass
class Dashboard:
    as_of: date
    overdue: list[DeadlineRow]
    due_7: list[DeadlineRow]
    due_30: list[DeadlineRow]
    penalties_total: Decimal
    penalty_contracts: int
    top_penalties: list[tuple[Contract, Decimal]]
    sites: dict[str, dict[str, int]]
    employed: int
    projects: int
    contracts: int
    by_region: list[RegionBar]
    exposure: list[ExposurePoint]
    widgets: list[Widget] = field(default_factory=list)


def _late_candidates(user: User, until: date) -> list[Milestone]:
    """Milestones that may carry a penalty on some day up to `until`: the contractor's, not
    waived, due before `until`, open or met after their contractual date."""
    stmt = (
        sa.select(Milestone)
        .join(Milestone.contract)
        .where(
            Milestone.obligor == Obligor.CONTRACTOR,
            Milestone.due_on.is_not(None),
            Milestone.due_on < until,
            sa.or_(
                Milestone.status.in_(list(OPEN_STATUSES)),
                sa.and_(
                    Milestone.status == MilestoneStatus.MET, Milestone.met_on > Milestone.due_on
                ),
            ),
        )
        .options(selectinload(Milestone.contract))
    )
    return list(db.session.scalars(scope(stmt, user, Contract.region_code)))


def _open_until(user: User, until: date) -> list[Milestone]:
    stmt = (
        sa.select(Milestone)
        .join(Milestone.contract)
        .where(
            Milestone.status.in_(list(OPEN_STATUSES)),
            Milestone.due_on.is_not(None),
            Milestone.due_on <= until,
        )
        .options(selectinload(Milestone.contract))
        .order_by(Milestone.due_on, Milestone.id)
    )
    return list(db.session.scalars(scope(stmt, user, Contract.region_code)))


def month_ends(as_of: date, past: int, future: int) -> list[date]:
    """The last day of each month from `past` months ago to `future` months ahead, and today."""
    first_of_month = as_of.replace(day=1)
    days = []
    for offset in range(-past, future + 1):
        next_first = add_months(first_of_month, offset + 1)
        days.append(next_first - timedelta(days=1))
    days.append(as_of)
    return sorted(set(days))


def build(user: User, as_of: date, locale: str = "ru") -> Dashboard:
    """The dashboard of `user`'s scope on `as_of`; names of regions in `locale`."""
    calendar = get_calendar()
    # 1. Open milestones due within 30 days (plus the longest run of days off) — and overdue.
    horizon = as_of + timedelta(days=30)
    open_rows = []
    for milestone in _open_until(user, horizon):
        t = timing(
            calendar,
            due_on=milestone.due_on,
            status=milestone.status,
            met_on=milestone.met_on,
            as_of=as_of,
        )
        open_rows.append((milestone, t))

    # 2. Penalties: every milestone that may be late on a day of the exposure chart.
    days = month_ends(as_of, EXPOSURE_PAST_MONTHS, EXPOSURE_FUTURE_MONTHS)
    candidates = _late_candidates(user, max(days))
    terms: dict[int, PenaltyTerms] = {}
    exposure_totals = {day: Decimal("0.00") for day in days}
    accrued_by_milestone: dict[int, Decimal] = {}
    by_contract: dict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
    contracts_by_id: dict[int, Contract] = {}
    for milestone in candidates:
        contract = milestone.contract
        contracts_by_id[contract.id] = contract
        contract_terms = terms.setdefault(contract.id, PenaltyTerms.of(contract))
        for day in days:
            line = penalty_line(contract, milestone, day, calendar, contract_terms)
            if line is None:
                continue
            exposure_totals[day] += line.accrued
            if day == as_of:
                accrued_by_milestone[milestone.id] = line.accrued
                by_contract[contract.id] += line.accrued

    def row(milestone: Milestone, t: Timing) -> DeadlineRow:
        return DeadlineRow(milestone, t, accrued_by_milestone.get(milestone.id, Decimal("0.00")))

    overdue = [row(m, t) for m, t in open_rows if t.state == MilestoneState.OVERDUE]
    overdue.sort(key=lambda r: (-r.timing.days_late, r.milestone.id))
    upcoming = [
        row(m, t)
        for m, t in open_rows
        if t.effective_due_on is not None and as_of <= t.effective_due_on <= horizon
    ]
    upcoming.sort(key=lambda r: (r.timing.effective_due_on, r.milestone.id))
    due_7 = [r for r in upcoming if r.timing.effective_due_on <= as_of + timedelta(days=7)]

    # 3. Overdue by region: count of overdue obligations and penalty accrued today.
    regions = {r.code: r for r in db.session.scalars(sa.select(Region))}
    region_counts: dict[str, int] = defaultdict(int)
    region_accrued: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for r in overdue:
        region_counts[r.milestone.contract.region_code] += 1
    for contract_id, amount in by_contract.items():
        region_accrued[contracts_by_id[contract_id].region_code] += amount
    by_region = [
        RegionBar(
            code, regions[code].name(locale), region_counts.get(code, 0), region_accrued[code]
        )
        for code in set(region_counts) | {c for c, a in region_accrued.items() if a}
    ]
    by_region.sort(key=lambda b: (-b.overdue, -b.accrued, b.code))

    # 4. Sites by arrangement and convicts employed; projects and contracts in scope.
    site_rows = db.session.execute(
        scope(
            sa.select(
                ProductionSite.arrangement,
                sa.func.count(ProductionSite.id),
                sa.func.coalesce(sa.func.sum(ProductionSite.employed), 0),
            ).group_by(ProductionSite.arrangement),
            user,
            ProductionSite.region_code,
        )
    ).all()
    sites = {a.value: {"count": 0, "employed": 0} for a in Arrangement}
    for arrangement, count, employed in site_rows:
        sites[str(arrangement)] = {"count": int(count), "employed": int(employed)}
    projects = db.session.scalar(
        scope(sa.select(sa.func.count(Project.id)), user, Project.region_code)
    )
    contracts = db.session.scalar(
        scope(sa.select(sa.func.count(Contract.id)), user, Contract.region_code)
    )

    top = sorted(
        ((contracts_by_id[cid], amount) for cid, amount in by_contract.items() if amount > 0),
        key=lambda pair: (-pair[1], pair[0].id),
    )
    widgets = [w for w in (fn(user) for fn in DASHBOARD_WIDGETS.values()) if w is not None]
    return Dashboard(
        as_of=as_of,
        overdue=overdue,
        due_7=due_7,
        due_30=upcoming,
        penalties_total=sum(by_contract.values(), Decimal("0.00")),
        penalty_contracts=sum(1 for amount in by_contract.values() if amount > 0),
        top_penalties=top[:5],
        sites=sites,
        employed=sum(v["employed"] for v in sites.values()),
        projects=int(projects or 0),
        contracts=int(contracts or 0),
        by_region=by_region,
        exposure=[ExposurePoint(day, exposure_totals[day], day > as_of) for day in days],
        widgets=widgets,
    )
