"""The list of deadlines (open milestones) for a user's scope: the page (with the reminders sent,
from alerts) and its exports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import render_template, request

from ppp_tracker import clock
from ppp_tracker.alerts.services import last_alerts, last_completed_scan
from ppp_tracker.auth.access import Permission, require
from ppp_tracker.auth.models import User
from ppp_tracker.core import limits, versions
from ppp_tracker.core.calendar import get_calendar
from ppp_tracker.core.dates import Timing, milestone_timing
from ppp_tracker.core.listing import PER_PAGE_CHOICES, Pages
from ppp_tracker.core.validation import positive_id
from ppp_tracker.core.web import locale_code
from ppp_tracker.deadlines import queries
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
            q=(args.get("q") or "").strip()[: limits.SEARCH],
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


# --- the page -------------------------------------------------------------------------------

#: The "coming up" list looks this many days ahead unless the user asks otherwise.
DEFAULT_WITHIN_DAYS = 30
MAX_WITHIN_DAYS = 366


def _int_arg(name: str) -> int | None:
    return positive_id(request.args.get(name))


def deadlines_page():
    """What is overdue and what is coming up. The body is kept per (scope, role, language, day,
    query string, last scan, data version): the registry's changes and the alerts the scan
    creates move the data version (core.versions), the scan's end the last scan."""
    user = require(Permission.READ)
    body = versions.scope_body(
        user, "deadlines", lambda: _deadlines_body(user), last_completed_scan()
    )
    return render_template("reports/deadlines.html", body=body)


def _filters() -> dict:
    """The list's filters from the query string (anything unreadable is no filter)."""
    return {
        "region": request.args.get("region") or None,
        "contract_id": _int_arg("contract_id"),
        "officer_id": _int_arg("officer"),
        "q": (request.args.get("q") or "").strip()[: limits.SEARCH],
    }


def _deadlines_body(user: User) -> str:
    today = clock.today()
    locale = locale_code()
    filters = _filters()
    within = _int_arg("within_days")
    within = DEFAULT_WITHIN_DAYS if within is None else min(within, MAX_WITHIN_DAYS)
    # Both in due-date order: the most overdue first, then the nearest coming up; a page of
    # each (thousands of rows for all regions), counted in full.
    per_page = PER_PAGE_CHOICES[0]
    rows, pages = {}, {}
    for kind, within_days in (("overdue", None), ("upcoming", within)):
        total, page, milestones = queries.deadline_page(
            user,
            as_of=today,
            state=kind,
            within_days=within_days,
            page=_int_arg(f"{kind}_page") or 1,
            per_page=per_page,
            **filters,
        )
        rows[kind] = [(m, milestone_timing(m, today, locale)) for m in milestones]
        pages[kind] = Pages(total, page, per_page, page_arg=f"{kind}_page", anchor=kind)
    # The exports carry the page's filters, one list each, every row (not the page's).
    common = {
        "region": filters["region"],
        "contract_id": filters["contract_id"],
        "officer": filters["officer_id"],
        "q": filters["q"] or None,
    }
    exports = {
        "overdue": {"state": "overdue", **common},
        "upcoming": {"state": "upcoming", "within_days": within, **common},
    }
    return render_template(
        "reports/_deadlines_body.html",
        rows=rows,
        pages=pages,
        accrued=queries.accrued_penalties([m for m, _t in rows["overdue"]], today),
        exports={
            k: {a: v for a, v in args.items() if v is not None} for k, args in exports.items()
        },
        within=within,
        regions=[(r.code, r.name(locale)) for r in queries.regions_in_scope(user)],
        # The contract filter is a search field (thousands of contracts make no menu); a
        # contract chosen elsewhere (its page links here) is named, in scope or not at all.
        chosen_contract=queries.contract_label(user, filters["contract_id"]),
        officers=queries.officer_choices(user),
        selected={**common, "region": filters["region"] or "", "q": filters["q"]},
        last_alerts=last_alerts([m.id for m, _t in rows["overdue"] + rows["upcoming"]]),
        last_scan=last_completed_scan(),
    )
