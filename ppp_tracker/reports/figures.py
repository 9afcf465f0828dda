"""The dashboard's figures as values: what `reports.dashboard` computes for a scope, what
`reports.snapshots` stores as JSON and reads back, and what the page's templates show."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ppp_tracker.core.dates import MilestoneState
from ppp_tracker.registry.codes import StageKind


@dataclass(frozen=True)
class Widget:
    """A card on the dashboard contributed by a feature (claims waiting, cases open…)."""

    title: str
    value: Any
    url: str | None = None
    #: Bootstrap contextual colour of the value: danger, warning, success, secondary…
    level: str = "secondary"
    note: str | None = None


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
    #: Stale figures shown while another request computes the new ones.
    updating: bool = False

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
