"""What the dashboard shows for a user's scope: deadlines, penalties, sites, and their history.

`compute` makes the figures of every scope (all regions, and each region) in one pass over the
registry — a handful of queries whose number does not grow with it (see
`tests/test_reports_dashboard.py`) — with the rules of `deadlines.rules` and the penalty
calculator. The workers store them after each scan (`reports.snapshots`), so that the page reads
one row; `build` computes one user's scope on the spot. Other features add cards through
`DASHBOARD_WIDGETS` (counted with the body, which changes with any audited change).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _

from ppp_tracker.auth.models import User
from ppp_tracker.core.regions import Region
from ppp_tracker.db import db
from ppp_tracker.deadlines.calendar import WorkingCalendar, add_months, get_calendar
from ppp_tracker.deadlines.penalty import penalty_of, terms_of
from ppp_tracker.deadlines.rules import (
    OPEN_STATUSES,
    MilestoneState,
    days_late,
    days_late_phrase,
    milestone_state,
)
from ppp_tracker.registry.codes import Arrangement, MilestoneStatus, Obligor, StageKind
from ppp_tracker.registry.models import Contract, Milestone, ProductionSite, Project, ProjectStage
from ppp_tracker.reports.charts import Mark, TimelineRow

#: The scope key of users who see every region (a region's scope key is its code).
ALL_REGIONS = "*"


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
#: Projects drawn on the dashboard's overview, those with the most overdue obligations first;
#: the timeline page draws them all.
OVERVIEW_PROJECTS = 12
#: Milestones drawn per project on the overview: overdue first, then due soon, then the latest.
OVERVIEW_MARKS = 40


def scope_key(user: User) -> str:
    return user.region_code or ALL_REGIONS


@dataclass(frozen=True)
class DeadlineRow:
    milestone_id: int
    title: str
    contract_id: int
    contract_number: str
    effective_due_on: date
    state: MilestoneState
    days_late: int
    #: The penalty accrued on this milestone as of the dashboard's day (zero if none).
    accrued: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class RegionBar:
    code: str
    #: The region's name by locale ("ru", "kk", "en").
    names: dict[str, str]
    overdue: int
    accrued: Decimal

    def name(self, locale: str) -> str:
        return self.names.get(locale) or self.names["ru"]


@dataclass(frozen=True)
class ExposurePoint:
    on: date
    total: Decimal
    #: A day after today: what will have accrued if nothing is performed meanwhile.
    projected: bool


@dataclass(frozen=True)
class TopPenalty:
    contract_id: int
    number: str
    subject: str
    amount: Decimal


@dataclass(frozen=True)
class OverviewStage:
    kind: StageKind
    position: int
    planned_on: date | None
    actual_on: date | None


@dataclass(frozen=True)
class OverviewProject:
    id: int
    title: str
    stages: list[OverviewStage]
    marks: list[DeadlineRow]


@dataclass
class Dashboard:
    as_of: date
    overdue_count: int
    #: The most overdue first (at most LIST_ROWS).
    overdue: list[DeadlineRow]
    due_7_count: int
    due_30_count: int
    #: The nearest first (at most LIST_ROWS).
    due_30: list[DeadlineRow]
    penalties_total: Decimal
    penalty_contracts: int
    top_penalties: list[TopPenalty]
    sites: dict[str, dict[str, int]]
    employed: int
    projects: int
    contracts: int
    by_region: list[RegionBar]
    exposure: list[ExposurePoint]
    overview: list[OverviewProject]
    #: Projects in scope not drawn on the overview.
    overview_more: int = 0
    #: When the figures were computed (UTC); None while they are computed for this request.
    computed_at: datetime | None = None
    widgets: list[Widget] = field(default_factory=list)
    #: The charts drawn when the figures were stored, in the page's language (`snapshots`).
    charts: Any = None
    #: Computed and stored by this request (its transaction is to be committed).
    stored_now: bool = False

    def to_json(self) -> dict:
        """Plain JSON values (the snapshot table stores them); `from_json` reads them back."""

        def row(r: DeadlineRow) -> list:
            return [
                r.milestone_id,
                r.title,
                r.contract_id,
                r.contract_number,
                r.effective_due_on.isoformat(),
                r.state.value,
                r.days_late,
                str(r.accrued),
            ]

        return {
            "as_of": self.as_of.isoformat(),
            "overdue_count": self.overdue_count,
            "overdue": [row(r) for r in self.overdue],
            "due_7_count": self.due_7_count,
            "due_30_count": self.due_30_count,
            "due_30": [row(r) for r in self.due_30],
            "penalties_total": str(self.penalties_total),
            "penalty_contracts": self.penalty_contracts,
            "top_penalties": [
                [t.contract_id, t.number, t.subject, str(t.amount)] for t in self.top_penalties
            ],
            "sites": self.sites,
            "employed": self.employed,
            "projects": self.projects,
            "contracts": self.contracts,
            "by_region": [[b.code, b.names, b.overdue, str(b.accrued)] for b in self.by_region],
            "exposure": [[p.on.isoformat(), str(p.total), p.projected] for p in self.exposure],
            "overview": [
                {
                    "id": p.id,
                    "title": p.title,
                    "stages": [
                        [
                            s.kind.value,
                            s.position,
                            s.planned_on and s.planned_on.isoformat(),
                            s.actual_on and s.actual_on.isoformat(),
                        ]
                        for s in p.stages
                    ],
                    "marks": [row(m) for m in p.marks],
                }
                for p in self.overview
            ],
            "overview_more": self.overview_more,
        }

    @classmethod
    def from_json(cls, data: dict, computed_at: datetime | None = None) -> Dashboard:
        def day(text: str | None) -> date | None:
            return date.fromisoformat(text) if text else None

        def row(r: list) -> DeadlineRow:
            return DeadlineRow(
                r[0], r[1], r[2], r[3], day(r[4]), MilestoneState(r[5]), r[6], Decimal(r[7])
            )

        return cls(
            as_of=day(data["as_of"]),
            overdue_count=data["overdue_count"],
            overdue=[row(r) for r in data["overdue"]],
            due_7_count=data["due_7_count"],
            due_30_count=data["due_30_count"],
            due_30=[row(r) for r in data["due_30"]],
            penalties_total=Decimal(data["penalties_total"]),
            penalty_contracts=data["penalty_contracts"],
            top_penalties=[
                TopPenalty(t[0], t[1], t[2], Decimal(t[3])) for t in data["top_penalties"]
            ],
            sites=data["sites"],
            employed=data["employed"],
            projects=data["projects"],
            contracts=data["contracts"],
            by_region=[RegionBar(b[0], b[1], b[2], Decimal(b[3])) for b in data["by_region"]],
            exposure=[ExposurePoint(day(p[0]), Decimal(p[1]), p[2]) for p in data["exposure"]],
            overview=[
                OverviewProject(
                    p["id"],
                    p["title"],
                    [
                        OverviewStage(StageKind(s[0]), s[1], day(s[2]), day(s[3]))
                        for s in p["stages"]
                    ],
                    [row(m) for m in p["marks"]],
                )
                for p in data["overview"]
            ],
            overview_more=data["overview_more"],
            computed_at=computed_at,
        )


def month_ends(as_of: date, past: int, future: int) -> list[date]:
    """The last day of each month from `past` months ago to `future` months ahead, and today."""
    first_of_month = as_of.replace(day=1)
    days = []
    for offset in range(-past, future + 1):
        next_first = add_months(first_of_month, offset + 1)
        days.append(next_first - timedelta(days=1))
    days.append(as_of)
    return sorted(set(days))


def _in_scope(stmt, column, only: str | None):
    return stmt if only in (None, ALL_REGIONS) else stmt.where(column == only)


def _effective(calendar: WorkingCalendar, due_on: date, stored: date | None) -> date:
    """The stored effective due date (deadlines.tracking keeps it), or the calendar's when a
    milestone has not been planned yet (just after an upgrade)."""
    # The same rule as deadlines.rules.effective_due, without composing its explanation.
    return stored if stored is not None else calendar.next_working_day(due_on)


class _Scopes:
    """Accumulates figures into every scope a record belongs to: all regions and its own."""

    def __init__(self, keys: list[str]):
        self.keys = keys

    def of(self, region_code: str) -> list[str]:
        return [k for k in (ALL_REGIONS, region_code) if k in self.keys]


def compute(as_of: date, only: str | None = None) -> dict[str, Dashboard]:
    """The dashboards of every scope on `as_of` (or of one scope key: `only`), by scope key."""
    calendar = get_calendar()
    regions = {r.code: r for r in db.session.scalars(sa.select(Region))}
    keys = [ALL_REGIONS, *sorted(regions)] if only is None else [only]
    scopes = _Scopes(keys)
    horizon = as_of + timedelta(days=30)
    days = month_ends(as_of, EXPOSURE_PAST_MONTHS, EXPOSURE_FUTURE_MONTHS)
    until = max(days)

    # 1. Open milestones due by the horizon (overdue ones included), as plain rows.
    open_rows = db.session.execute(
        _in_scope(
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
                    Milestone.effective_due_on <= horizon,
                    sa.and_(Milestone.effective_due_on.is_(None), Milestone.due_on <= horizon),
                ),
            ),
            Contract.region_code,
            only,
        )
    ).all()
    overdue: dict[str, list[DeadlineRow]] = defaultdict(list)
    upcoming: dict[str, list[DeadlineRow]] = defaultdict(list)
    open_by_id: dict[int, tuple[DeadlineRow, str]] = {}
    for m in open_rows:
        eff = _effective(calendar, m.due_on, m.effective_due_on)
        state = milestone_state(m.status, eff, m.met_on, as_of)
        late = days_late(eff, as_of, m.met_on) if state == MilestoneState.OVERDUE else 0
        r = DeadlineRow(m.id, m.title, m.contract_id, m.number, eff, state, late)
        open_by_id[m.id] = (r, m.region_code)

    # 2. Penalties: every contractor's milestone that may be late on a day of the chart, through
    # the penalty calculator itself. A day on or before the effective due date accrues nothing,
    # and a performed milestone's penalty stops changing on the day of performance: both are
    # the calculator's own rules, used here only to skip calls whose answer is known.
    candidates = db.session.execute(
        _in_scope(
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
                Contract.subject,
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
                Milestone.due_on < until,
                sa.or_(
                    Milestone.status.in_(list(OPEN_STATUSES)),
                    sa.and_(
                        Milestone.status == MilestoneStatus.MET,
                        Milestone.met_on > Milestone.due_on,
                    ),
                ),
            ),
            Contract.region_code,
            only,
        )
    ).all()
    exposure = {k: dict.fromkeys(days, Decimal("0.00")) for k in keys}
    by_contract: dict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
    contract_info: dict[int, tuple[str, str, str]] = {}
    members: dict[int, list] = defaultdict(list)
    for m in candidates:
        contract_info[m.contract_id] = (m.number, m.subject, m.region_code)
        members[m.contract_id].append(m)
    for contract_id, rows in members.items():
        # A row carries both the milestone's and its contract's columns (labelled); the days of
        # delay are counted once per contract (core.penalty), so the whole contract is asked.
        terms = terms_of(rows[0])
        first_late = min(_effective(calendar, m.due_on, m.effective_due_on) for m in rows)
        member = scopes.of(contract_info[contract_id][2])
        for day in days[bisect_right(days, first_late) :]:
            result = penalty_of(terms, rows, day, calendar)
            total = result.total
            for k in member:
                exposure[k][day] += total
            if day == as_of:
                by_contract[contract_id] += total
                for line in result.rows:
                    if line.milestone_id in open_by_id:
                        r, region = open_by_id[line.milestone_id]
                        open_by_id[line.milestone_id] = (
                            DeadlineRow(*_fields(r)[:-1], line.accrued),
                            region,
                        )
    for r, region in open_by_id.values():
        for k in scopes.of(region):
            if r.state == MilestoneState.OVERDUE:
                overdue[k].append(r)
            elif as_of <= r.effective_due_on <= horizon:
                upcoming[k].append(r)

    # 3. Sites, projects and contracts by region, counted in the database.
    site_rows = db.session.execute(
        _in_scope(
            sa.select(
                ProductionSite.region_code,
                ProductionSite.arrangement,
                sa.func.count(ProductionSite.id),
                sa.func.coalesce(sa.func.sum(ProductionSite.employed), 0),
            ).group_by(ProductionSite.region_code, ProductionSite.arrangement),
            ProductionSite.region_code,
            only,
        )
    ).all()
    project_counts = db.session.execute(
        _in_scope(
            sa.select(Project.region_code, sa.func.count(Project.id)).group_by(Project.region_code),
            Project.region_code,
            only,
        )
    ).all()
    contract_counts = db.session.execute(
        _in_scope(
            sa.select(Contract.region_code, sa.func.count(Contract.id)).group_by(
                Contract.region_code
            ),
            Contract.region_code,
            only,
        )
    ).all()

    # 4. The overview: projects with their stages and their most telling milestones.
    overview = _overview(as_of, horizon, calendar, only, scopes, keys)

    boards = {}
    for k in keys:
        sites = {a.value: {"count": 0, "employed": 0} for a in Arrangement}
        for region, arrangement, count, employed in site_rows:
            if k in scopes.of(region):
                sites[str(arrangement)]["count"] += int(count)
                sites[str(arrangement)]["employed"] += int(employed)
        scope_contracts = {
            cid: amount
            for cid, amount in by_contract.items()
            if k in scopes.of(contract_info[cid][2])
        }
        region_counts: dict[str, int] = defaultdict(int)
        region_accrued: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
        for r in overdue[k]:
            region_counts[open_by_id[r.milestone_id][1]] += 1
        for cid, amount in scope_contracts.items():
            region_accrued[contract_info[cid][2]] += amount
        by_region = [
            RegionBar(
                code,
                {
                    "ru": regions[code].name_ru,
                    "kk": regions[code].name_kk,
                    "en": regions[code].name_en,
                },
                region_counts.get(code, 0),
                region_accrued[code],
            )
            for code in set(region_counts) | {c for c, a in region_accrued.items() if a}
        ]
        by_region.sort(key=lambda b: (-b.overdue, -b.accrued, b.code))
        k_overdue = sorted(overdue[k], key=lambda r: (-r.days_late, r.milestone_id))
        k_upcoming = sorted(upcoming[k], key=lambda r: (r.effective_due_on, r.milestone_id))
        top = sorted(
            ((cid, amount) for cid, amount in scope_contracts.items() if amount > 0),
            key=lambda pair: (-pair[1], pair[0]),
        )
        projects_in_scope, drawn = overview.get(k, (0, []))
        boards[k] = Dashboard(
            as_of=as_of,
            overdue_count=len(k_overdue),
            overdue=k_overdue[:LIST_ROWS],
            due_7_count=sum(
                1 for r in k_upcoming if r.effective_due_on <= as_of + timedelta(days=7)
            ),
            due_30_count=len(k_upcoming),
            due_30=k_upcoming[:LIST_ROWS],
            penalties_total=sum(scope_contracts.values(), Decimal("0.00")),
            penalty_contracts=sum(1 for amount in scope_contracts.values() if amount > 0),
            top_penalties=[
                TopPenalty(cid, contract_info[cid][0], contract_info[cid][1], amount)
                for cid, amount in top[:5]
            ],
            sites=sites,
            employed=sum(v["employed"] for v in sites.values()),
            projects=sum(int(n) for region, n in project_counts if k in scopes.of(region)),
            contracts=sum(int(n) for region, n in contract_counts if k in scopes.of(region)),
            by_region=by_region,
            exposure=[ExposurePoint(day, exposure[k][day], day > as_of) for day in days],
            overview=drawn,
            overview_more=max(0, projects_in_scope - len(drawn)),
        )
    return boards


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
    sites = {
        a.value: {key: sum(b.sites[a.value][key] for b in boards) for key in ("count", "employed")}
        for a in Arrangement
    }
    bars = sorted(
        (bar for b in boards for bar in b.by_region),
        key=lambda bar: (-bar.overdue, -bar.accrued, bar.code),
    )
    exposure = [
        ExposurePoint(
            points[0].on, sum((p.total for p in points), Decimal("0.00")), points[0].projected
        )
        for points in zip(*(b.exposure for b in boards), strict=True)
    ]

    # Each region drew its most overdue projects (`_overview`); the all-regions overview takes
    # the most overdue of those in the same order, and shows them by region and title.
    def overdue_marks(project: OverviewProject) -> int:
        return sum(1 for m in project.marks if m.state == MilestoneState.OVERDUE)

    candidates = [(code, p) for code, b in by_region.items() for p in b.overview]
    chosen = sorted(candidates, key=lambda c: (-overdue_marks(c[1]), c[0], c[1].title, c[1].id))
    drawn = [
        p
        for _code, p in sorted(
            chosen[:OVERVIEW_PROJECTS], key=lambda c: (c[0], c[1].title, c[1].id)
        )
    ]
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
        sites=sites,
        employed=sum(b.employed for b in boards),
        projects=projects,
        contracts=sum(b.contracts for b in boards),
        by_region=bars,
        exposure=exposure,
        overview=drawn,
        overview_more=max(0, projects - len(drawn)),
    )


def _fields(r: DeadlineRow) -> tuple:
    return (
        r.milestone_id,
        r.title,
        r.contract_id,
        r.contract_number,
        r.effective_due_on,
        r.state,
        r.days_late,
        r.accrued,
    )


def _overview(
    as_of: date,
    horizon: date,
    calendar: WorkingCalendar,
    only: str | None,
    scopes: _Scopes,
    keys: list[str],
) -> dict[str, tuple[int, list[OverviewProject]]]:
    """Per scope key: (projects in scope, the projects drawn with their stages and marks)."""
    projects = db.session.execute(
        _in_scope(
            sa.select(Project.id, Project.title, Project.region_code), Project.region_code, only
        )
    ).all()
    if not projects:
        return {}
    eff = sa.func.coalesce(Milestone.effective_due_on, Milestone.due_on)
    is_open = Milestone.status.in_(list(OPEN_STATUSES))
    priority = sa.case(
        (sa.and_(is_open, eff < as_of), 0), (sa.and_(is_open, eff <= horizon), 1), else_=2
    )
    ranked = _in_scope(
        sa.select(
            Contract.project_id,
            Milestone.id,
            Milestone.title,
            Milestone.due_on,
            Milestone.effective_due_on,
            Milestone.status,
            Milestone.met_on,
            Contract.id.label("contract_id"),
            Contract.number,
            priority.label("priority"),
            sa.func.row_number()
            .over(
                partition_by=Contract.project_id,
                order_by=(priority, eff.desc(), Milestone.id),
            )
            .label("rank"),
        )
        .join(Contract, Milestone.contract_id == Contract.id)
        .where(Contract.project_id.is_not(None), Milestone.due_on.is_not(None)),
        Contract.region_code,
        only,
    ).subquery()
    marks: dict[int, list[DeadlineRow]] = defaultdict(list)
    overdue: dict[int, int] = defaultdict(int)
    for m in db.session.execute(
        sa.select(ranked).where(ranked.c.rank <= OVERVIEW_MARKS).order_by(ranked.c.rank)
    ):
        day = _effective(calendar, m.due_on, m.effective_due_on)
        state = milestone_state(m.status, day, m.met_on, as_of)
        late = (
            days_late(day, as_of, m.met_on)
            if state in (MilestoneState.OVERDUE, MilestoneState.MET_LATE)
            else 0
        )
        marks[m.project_id].append(
            DeadlineRow(m.id, m.title, m.contract_id, m.number, day, state, late)
        )
        overdue[m.project_id] += state == MilestoneState.OVERDUE
    stages: dict[int, list[OverviewStage]] = defaultdict(list)
    for s in db.session.execute(
        sa.select(
            ProjectStage.project_id,
            ProjectStage.kind,
            ProjectStage.position,
            ProjectStage.planned_on,
            ProjectStage.actual_on,
        ).where(ProjectStage.project_id.in_([p.id for p in projects]))
    ):
        stages[s.project_id].append(OverviewStage(s.kind, s.position, s.planned_on, s.actual_on))
    out = {}
    for k in keys:
        mine = [p for p in projects if k in scopes.of(p.region_code)]
        chosen = sorted(mine, key=lambda p: (-overdue[p.id], p.region_code, p.title, p.id))
        drawn = []
        for p in chosen:
            if len(drawn) == OVERVIEW_PROJECTS:
                break
            if stages[p.id] or marks[p.id]:
                drawn.append(OverviewProject(p.id, p.title, stages[p.id], marks[p.id]))
        order = {p.id: (p.region_code, p.title, p.id) for p in mine}
        drawn.sort(key=lambda p: order[p.id])
        out[k] = (len(mine), drawn)
    return out


def build(user: User, as_of: date, locale: str = "ru") -> Dashboard:
    """The dashboard of `user`'s scope on `as_of`, computed now, with the widgets."""
    board = compute(as_of, only=scope_key(user))[scope_key(user)]
    board.widgets = widgets(user)
    return board


def widgets(user: User) -> list[Widget]:
    return [w for w in (fn(user) for fn in DASHBOARD_WIDGETS.values()) if w is not None]


def overview_rows(board: Dashboard, today: date) -> list[TimelineRow]:
    """The overview chart's rows: one per project, its stages side by side, milestones on top."""
    from ppp_tracker.reports.timeline import stage_spans

    rows = []
    for project in board.overview:
        row = TimelineRow(
            project.title, "project", url_for("registry.project", project_id=project.id)
        )
        row.spans = [span for _stage, span in stage_spans(project, today)]
        for m in project.marks:
            label = f"№ {m.contract_number}: {m.title}"
            title = f"{label} · {_('due %(date)s', date=_d(m.effective_due_on))} · {m.state.label}"
            if m.days_late:
                title += " · " + days_late_phrase(m.days_late)
            row.marks.append(Mark(m.effective_due_on, "diamond", f"ms-{m.state.value}", title))
        if row.spans or row.marks:
            rows.append(row)
    return rows


def _d(day: date) -> str:
    return day.strftime("%d.%m.%Y")
