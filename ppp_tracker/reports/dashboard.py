"""What the dashboard shows for a user's scope: deadlines, penalties, sites, and their history.

`compute` makes the figures of every scope (all regions, and each region) in one pass over the
registry — a handful of queries whose number does not grow with it (see
`tests/test_reports_dashboard.py`) — with the rules of `deadlines.rules` and the penalty
calculator. The rows are streamed (a server-side cursor, BATCH at a time) and folded into the
figures as they come: the memory of a pass does not grow with the registry. The workers store the
figures after each scan (`reports.snapshots`), so that the page reads one row; `build` computes
one user's scope on the spot. Other features add cards through `DASHBOARD_WIDGETS` (counted with
the body, which changes with any audited change). The figures' values are in
`reports.figures`, the overview's projects in `reports.overview`.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from operator import attrgetter

import sqlalchemy as sa

from ppp_tracker.auth.models import User
from ppp_tracker.core.calendar import WorkingCalendar, add_months, get_calendar
from ppp_tracker.core.dates import OPEN_STATUSES, MilestoneState, days_late, milestone_state
from ppp_tracker.core.regions import Region
from ppp_tracker.db import db
from ppp_tracker.deadlines.penalty import penalty_of, terms_of
from ppp_tracker.registry.codes import Arrangement, MilestoneStatus, Obligor
from ppp_tracker.registry.models import Contract, Milestone, ProductionSite, Project
from ppp_tracker.reports.figures import (
    Dashboard,
    DeadlineRow,
    ExposurePoint,
    OverviewProject,
    OverviewStage,
    RegionBar,
    TopPenalty,
    Widget,
)
from ppp_tracker.reports.overview import (
    OVERVIEW_MARKS,
    OVERVIEW_PROJECTS,
    overview,
    overview_rows,
)
from ppp_tracker.reports.scopes import ALL_REGIONS, Scopes, effective, in_scope, scope_key

__all__ = [
    "ALL_REGIONS",
    "DASHBOARD_WIDGETS",
    "OVERVIEW_MARKS",
    "OVERVIEW_PROJECTS",
    "Dashboard",
    "DeadlineRow",
    "ExposurePoint",
    "OverviewProject",
    "OverviewStage",
    "RegionBar",
    "TopPenalty",
    "Widget",
    "build",
    "combine",
    "compute",
    "month_ends",
    "overview_rows",
    "scope_key",
    "widgets",
]

#: Cards other features put on the dashboard: name -> fn(user) -> Widget or None (not shown).
#: The claims feature plugs in "claims waiting for legal staff" and "cases open" here. A card is
#: computed when the page body is rendered, and the body is kept per scope, language, day and
#: data version (core.versions): it may show only audited data of the user's scope, the same for
#: every user and role of that scope.
DASHBOARD_WIDGETS: dict[str, Callable[[User], Widget | None]] = {}

#: How far back the penalty exposure chart looks and how far ahead it projects, in months.
EXPOSURE_PAST_MONTHS = 12
EXPOSURE_FUTURE_MONTHS = 6
#: Rows of the overdue and upcoming lists shown on the dashboard (the deadlines page has all).
LIST_ROWS = 10
#: Rows fetched from the database at a time while the figures are computed.
BATCH = 2_000


def month_ends(as_of: date, past: int, future: int) -> list[date]:
    """The last day of each month from `past` months ago to `future` months ahead, and today."""
    first_of_month = as_of.replace(day=1)
    days = []
    for offset in range(-past, future + 1):
        next_first = add_months(first_of_month, offset + 1)
        days.append(next_first - timedelta(days=1))
    days.append(as_of)
    return sorted(set(days))


def _stream(stmt) -> Iterable:
    """The statement's rows, fetched BATCH at a time (a server-side cursor on PostgreSQL)."""
    return db.session.execute(stmt, execution_options={"yield_per": BATCH})


@dataclass
class _Pass:
    """One computation: its day, scopes and calendar."""

    as_of: date
    only: str | None
    calendar: WorkingCalendar
    scopes: Scopes
    #: Due within 30 days: the upcoming list's horizon.
    horizon: date
    #: The exposure chart's days (month ends and today).
    days: list[date]


@dataclass
class _Lists:
    """Per scope key: the overdue and upcoming counts, and their first LIST_ROWS rows."""

    overdue: dict[str, list] = field(default_factory=lambda: defaultdict(list))
    upcoming: dict[str, list] = field(default_factory=lambda: defaultdict(list))
    overdue_count: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    due_7: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    due_30: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    #: Overdue obligations per region code (a scope's are those of its regions).
    overdue_by_region: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, bucket: list, order: tuple, row: DeadlineRow) -> None:
        """Keep `row` if it may be among the first LIST_ROWS by `order` (unique per row)."""
        bucket.append((order, row))
        if len(bucket) > 4 * LIST_ROWS:
            bucket[:] = heapq.nsmallest(LIST_ROWS, bucket)

    def first(self, bucket: list) -> list[DeadlineRow]:
        return [row for _order, row in heapq.nsmallest(LIST_ROWS, bucket)]

    def shown_overdue(self) -> set[int]:
        return {row.milestone_id for b in self.overdue.values() for row in self.first(b)}


def _open_lists(p: _Pass) -> _Lists:
    """Open milestones due by the horizon (overdue ones included), counted per scope."""
    stmt = in_scope(
        sa.select(
            Milestone.id,
            Milestone.title,
            Milestone.due_on,
            Milestone.effective_due_on,
            Milestone.status,
            Milestone.met_on,
            Contract.id.label("contract_id"),
            Contract.number,
            Contract.region_code,
        )
        .join(Contract, Milestone.contract_id == Contract.id)
        .where(
            Milestone.status.in_(list(OPEN_STATUSES)),
            Milestone.due_on.is_not(None),
            sa.or_(
                Milestone.effective_due_on <= p.horizon,
                sa.and_(Milestone.effective_due_on.is_(None), Milestone.due_on <= p.horizon),
            ),
        ),
        Contract.region_code,
        p.only,
    )
    lists = _Lists()
    week = p.as_of + timedelta(days=7)
    for m in _stream(stmt):
        eff = effective(p.calendar, m.due_on, m.effective_due_on)
        state = milestone_state(m.status, eff, m.met_on, p.as_of)
        if state == MilestoneState.OVERDUE:
            late = days_late(eff, p.as_of, m.met_on)
            row = DeadlineRow(m.id, m.title, m.contract_id, m.number, eff, state, late)
            lists.overdue_by_region[m.region_code] += 1
            for k in p.scopes.of(m.region_code):
                lists.overdue_count[k] += 1
                lists.add(lists.overdue[k], (-late, m.id), row)
        elif p.as_of <= eff <= p.horizon:
            row = DeadlineRow(m.id, m.title, m.contract_id, m.number, eff, state, 0)
            for k in p.scopes.of(m.region_code):
                lists.due_30[k] += 1
                lists.due_7[k] += eff <= week
                lists.add(lists.upcoming[k], (eff, m.id), row)
    return lists


@dataclass
class _Penalties:
    """Penalties per scope and day, and on the dashboard's day per contract and milestone."""

    exposure: dict[str, dict[date, Decimal]]
    #: Contract id -> (penalty on the day, number, region code): contracts with a penalty only.
    contracts: dict[int, tuple[Decimal, str, str]] = field(default_factory=dict)
    #: Milestone id -> penalty accrued on the day, for the overdue rows shown.
    accrued: dict[int, Decimal] = field(default_factory=dict)


def _penalties(p: _Pass, shown: set[int]) -> _Penalties:
    """Every contractor's milestone that may be late on a day of the chart, through the penalty
    calculator itself, one contract at a time (the rows come ordered by contract)."""
    stmt = in_scope(
        sa.select(
            Milestone.id,
            Milestone.title,
            Milestone.obligor,
            Milestone.status,
            Milestone.due_on,
            Milestone.effective_due_on,
            Milestone.met_on,
            Milestone.value,
            Contract.id.label("contract_id"),
            Contract.number,
            Contract.region_code,
            Contract.total_amount,
            Contract.penalty_rate_percent,
            Contract.penalty_base,
            Contract.penalty_cap_percent,
        )
        .join(Contract, Milestone.contract_id == Contract.id)
        .where(
            Milestone.obligor == Obligor.CONTRACTOR,
            Milestone.due_on.is_not(None),
            Milestone.due_on < max(p.days),
            sa.or_(
                Milestone.status.in_(list(OPEN_STATUSES)),
                sa.and_(
                    Milestone.status == MilestoneStatus.MET,
                    Milestone.met_on > Milestone.due_on,
                ),
            ),
        )
        .order_by(Milestone.contract_id, Milestone.id),
        Contract.region_code,
        p.only,
    )
    out = _Penalties({k: dict.fromkeys(p.days, Decimal("0.00")) for k in p.scopes.keys})
    for _contract_id, rows in itertools.groupby(_stream(stmt), key=attrgetter("contract_id")):
        _contract_penalties(p, list(rows), shown, out)
    return out


def _contract_penalties(p: _Pass, rows: list, shown: set[int], out: _Penalties) -> None:
    """One contract's penalty on each day of the chart. A day on or before the effective due
    date accrues nothing, and a performed milestone's penalty stops changing on the day of
    performance: both are the calculator's own rules, used here only to skip calls whose answer
    is known. A row carries both the milestone's and its contract's columns (labelled); the days
    of delay are counted once per contract (core.penalty), so the whole contract is asked."""
    terms = terms_of(rows[0])
    first_late = min(effective(p.calendar, m.due_on, m.effective_due_on) for m in rows)
    contract = rows[0]
    member = p.scopes.of(contract.region_code)
    for day in p.days[bisect_right(p.days, first_late) :]:
        result = penalty_of(terms, rows, day, p.calendar)
        for k in member:
            out.exposure[k][day] += result.total
        if day == p.as_of:
            if result.total:
                out.contracts[contract.contract_id] = (
                    result.total,
                    contract.number,
                    contract.region_code,
                )
            for line in result.rows:
                if line.milestone_id in shown:
                    out.accrued[line.milestone_id] = line.accrued


@dataclass
class _Counts:
    """Sites, projects and contracts by region, counted in the database."""

    sites: list
    projects: list
    contracts: list


def _counts(only: str | None) -> _Counts:
    sites = sa.select(
        ProductionSite.region_code,
        ProductionSite.arrangement,
        sa.func.count(ProductionSite.id),
        sa.func.coalesce(sa.func.sum(ProductionSite.employed), 0),
    ).group_by(ProductionSite.region_code, ProductionSite.arrangement)
    projects = sa.select(Project.region_code, sa.func.count(Project.id)).group_by(
        Project.region_code
    )
    contracts = sa.select(Contract.region_code, sa.func.count(Contract.id)).group_by(
        Contract.region_code
    )
    return _Counts(
        sites=db.session.execute(in_scope(sites, ProductionSite.region_code, only)).all(),
        projects=db.session.execute(in_scope(projects, Project.region_code, only)).all(),
        contracts=db.session.execute(in_scope(contracts, Contract.region_code, only)).all(),
    )


def compute(as_of: date, only: str | None = None) -> dict[str, Dashboard]:
    """The dashboards of every scope on `as_of` (or of one scope key: `only`), by scope key."""
    regions = {r.code: r for r in db.session.scalars(sa.select(Region))}
    keys = [ALL_REGIONS, *sorted(regions)] if only is None else [only]
    p = _Pass(
        as_of=as_of,
        only=only,
        calendar=get_calendar(),
        scopes=Scopes(keys),
        horizon=as_of + timedelta(days=30),
        days=month_ends(as_of, EXPOSURE_PAST_MONTHS, EXPOSURE_FUTURE_MONTHS),
    )
    lists = _open_lists(p)
    penalties = _penalties(p, lists.shown_overdue())
    counts = _counts(only)
    drawn = overview(as_of, p.horizon, p.calendar, only, p.scopes)
    tops = {k: _top_contracts(p, penalties, k) for k in keys}
    subjects = _subjects({cid for top in tops.values() for cid, _amount in top})
    return {
        k: _board(p, k, regions, lists, penalties, counts, drawn, tops[k], subjects) for k in keys
    }


def _top_contracts(p: _Pass, penalties: _Penalties, k: str) -> list[tuple[int, Decimal]]:
    """The scope's five contracts with the largest penalty (ties by id)."""
    mine = (
        (cid, amount)
        for cid, (amount, _number, region) in penalties.contracts.items()
        if k in p.scopes.of(region)
    )
    return heapq.nsmallest(5, mine, key=lambda pair: (-pair[1], pair[0]))


def _subjects(contract_ids: set[int]) -> dict[int, str]:
    if not contract_ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(Contract.id, Contract.subject).where(Contract.id.in_(sorted(contract_ids)))
        ).all()
    )


def _sites(counts: _Counts, p: _Pass, k: str) -> dict[str, dict[str, int]]:
    sites = {a.value: {"count": 0, "employed": 0} for a in Arrangement}
    for region, arrangement, count, employed in counts.sites:
        if k in p.scopes.of(region):
            sites[str(arrangement)]["count"] += int(count)
            sites[str(arrangement)]["employed"] += int(employed)
    return sites


def _region_bars(
    p: _Pass, k: str, regions: dict[str, Region], lists: _Lists, penalties: _Penalties
) -> list[RegionBar]:
    counts = {r: n for r, n in lists.overdue_by_region.items() if k in p.scopes.of(r)}
    accrued: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for amount, _number, region in penalties.contracts.values():
        if k in p.scopes.of(region):
            accrued[region] += amount
    bars = [
        RegionBar(
            code,
            {"ru": regions[code].name_ru, "kk": regions[code].name_kk, "en": regions[code].name_en},
            counts.get(code, 0),
            accrued[code],
        )
        for code in set(counts) | {c for c, a in accrued.items() if a}
    ]
    bars.sort(key=lambda b: (-b.overdue, -b.accrued, b.code))
    return bars


def _board(
    p: _Pass,
    k: str,
    regions: dict[str, Region],
    lists: _Lists,
    penalties: _Penalties,
    counts: _Counts,
    drawn: dict[str, tuple[int, list[OverviewProject]]],
    top: list[tuple[int, Decimal]],
    subjects: dict[int, str],
) -> Dashboard:
    """The dashboard of scope `k` from what the pass gathered."""
    amounts = [a for a, _n, region in penalties.contracts.values() if k in p.scopes.of(region)]
    overdue = [
        dataclasses.replace(r, accrued=penalties.accrued.get(r.milestone_id, r.accrued))
        for r in lists.first(lists.overdue[k])
    ]
    sites = _sites(counts, p, k)
    projects_in_scope, projects_drawn = drawn.get(k, (0, []))
    return Dashboard(
        as_of=p.as_of,
        overdue_count=lists.overdue_count[k],
        overdue=overdue,
        due_7_count=lists.due_7[k],
        due_30_count=lists.due_30[k],
        due_30=lists.first(lists.upcoming[k]),
        penalties_total=sum(amounts, Decimal("0.00")),
        penalty_contracts=len(amounts),
        top_penalties=[
            TopPenalty(cid, penalties.contracts[cid][1], subjects[cid], amount)
            for cid, amount in top
        ],
        sites=sites,
        employed=sum(v["employed"] for v in sites.values()),
        projects=sum(int(n) for region, n in counts.projects if k in p.scopes.of(region)),
        contracts=sum(int(n) for region, n in counts.contracts if k in p.scopes.of(region)),
        by_region=_region_bars(p, k, regions, lists, penalties),
        exposure=[ExposurePoint(day, penalties.exposure[k][day], day > p.as_of) for day in p.days],
        overview=projects_drawn,
        overview_more=max(0, projects_in_scope - len(projects_drawn)),
    )


def combine(as_of: date, by_region: dict[str, Dashboard]) -> Dashboard:
    """The all-regions dashboard from the dashboard of every region (by code) on `as_of`: the
    figures `compute` makes for all regions in one pass (a record belongs to one region; each
    region keeps the first rows of every list, from which the all-regions lists are cut),
    without going again through the regions that did not change."""
    boards = list(by_region.values())
    overdue = sorted(
        (r for b in boards for r in b.overdue), key=lambda r: (-r.days_late, r.milestone_id)
    )
    upcoming = sorted(
        (r for b in boards for r in b.due_30), key=lambda r: (r.effective_due_on, r.milestone_id)
    )
    top = sorted(
        (t for b in boards for t in b.top_penalties), key=lambda t: (-t.amount, t.contract_id)
    )
    drawn = _combined_overview(by_region)
    projects = sum(b.projects for b in boards)
    return Dashboard(
        as_of=as_of,
        overdue_count=sum(b.overdue_count for b in boards),
        overdue=overdue[:LIST_ROWS],
        due_7_count=sum(b.due_7_count for b in boards),
        due_30_count=sum(b.due_30_count for b in boards),
        due_30=upcoming[:LIST_ROWS],
        penalties_total=sum((b.penalties_total for b in boards), Decimal("0.00")),
        penalty_contracts=sum(b.penalty_contracts for b in boards),
        top_penalties=top[:5],
        sites={
            a.value: {
                key: sum(b.sites[a.value][key] for b in boards) for key in ("count", "employed")
            }
            for a in Arrangement
        },
        employed=sum(b.employed for b in boards),
        projects=projects,
        contracts=sum(b.contracts for b in boards),
        by_region=sorted(
            (bar for b in boards for bar in b.by_region),
            key=lambda bar: (-bar.overdue, -bar.accrued, bar.code),
        ),
        exposure=[
            ExposurePoint(
                points[0].on, sum((pt.total for pt in points), Decimal("0.00")), points[0].projected
            )
            for points in zip(*(b.exposure for b in boards), strict=True)
        ],
        overview=drawn,
        overview_more=max(0, projects - len(drawn)),
    )


def _combined_overview(by_region: dict[str, Dashboard]) -> list[OverviewProject]:
    """Each region drew its most overdue projects (`reports.overview`); the all-regions overview
    takes the most overdue of those in the same order, and shows them by region and title."""

    def overdue_marks(project: OverviewProject) -> int:
        return sum(1 for m in project.marks if m.state == MilestoneState.OVERDUE)

    candidates = [(code, p) for code, b in by_region.items() for p in b.overview]
    chosen = sorted(candidates, key=lambda c: (-overdue_marks(c[1]), c[0], c[1].title, c[1].id))
    return [
        p
        for _code, p in sorted(
            chosen[:OVERVIEW_PROJECTS], key=lambda c: (c[0], c[1].title, c[1].id)
        )
    ]


def build(user: User, as_of: date, locale: str = "ru") -> Dashboard:
    """The dashboard of `user`'s scope on `as_of`, computed now, with the widgets."""
    board = compute(as_of, only=scope_key(user))[scope_key(user)]
    board.widgets = widgets(user)
    return board


def widgets(user: User) -> list[Widget]:
    return [w for w in (fn(user) for fn in DASHBOARD_WIDGETS.values()) if w is not None]
