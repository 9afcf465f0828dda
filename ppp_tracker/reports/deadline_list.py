"""The list of deadlines (open milestones) for a user's scope, as the page and its export see it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ppp_tracker.auth.models import User
from ppp_tracker.core.calendar import get_calendar
from ppp_tracker.core.dates import Timing
from ppp_tracker.core.validation import positive_id
from ppp_tracker.deadlines.penalty import contract_penalties
from ppp_tracker.deadlines.queries import deadlines, milestone_timing_on
from ppp_tracker.registry.models import Milestone

STATES = ("overdue", "upcoming", "open")
WITHIN_CHOICES = (7, 14, 30, 60, 90, 180, 365, 366)


@dataclass(frozen=True)
class DeadlineFilter:
    state: str = "overdue"
    within_days: int = 30
    region: str | None = None
    q: str = ""
    contract_id: int | None = None
    officer_id: int | None = None

    @classmethod
    def from_args(cls, args: Mapping) -> DeadlineFilter:
        state = args.get("state") if args.get("state") in STATES else "overdue"
        try:
            within = int(args.get("within_days") or 30)
        except ValueError:
            within = 30
        within = within if within in WITHIN_CHOICES else 30
        return cls(
            state=state,
            within_days=within,
            region=(args.get("region") or None),
            q=(args.get("q") or "").strip()[:200],
            contract_id=_positive_int(args.get("contract_id")),
            officer_id=_positive_int(args.get("officer")),
        )


def _positive_int(raw) -> int | None:
    return positive_id(raw)


@dataclass(frozen=True)
class DeadlineItem:
    milestone: Milestone
    timing: Timing
    accrued: Decimal


def deadline_items(user: User, filters: DeadlineFilter, as_of: date) -> list[DeadlineItem]:
    """Open milestones in scope matching the filter, with their timing and penalty on `as_of`."""
    milestones = deadlines(
        user,
        as_of=as_of,
        state=None if filters.state == "open" else filters.state,
        within_days=filters.within_days if filters.state == "upcoming" else None,
        region=filters.region,
        contract_id=filters.contract_id,
        officer_id=filters.officer_id,
        q=filters.q,
    )
    calendar = get_calendar()
    items = []
    penalties = contract_penalties({m.contract_id for m in milestones}, as_of, calendar)
    for milestone in milestones:
        t = milestone_timing_on(milestone, as_of, calendar)
        result = penalties.get(milestone.contract_id)
        line = result.row(milestone.id) if result is not None else None
        items.append(DeadlineItem(milestone, t, line.accrued if line else Decimal("0.00")))
    if filters.state == "overdue":
        items.sort(key=lambda i: (-i.timing.days_late, i.milestone.id))
    else:
        items.sort(key=lambda i: (i.timing.effective_due_on, i.milestone.id))
    return items
