"""The scopes the dashboard's figures are made for: all regions, and each region."""

from __future__ import annotations

from datetime import date

from ppp_tracker.auth.models import User
from ppp_tracker.core.calendar import WorkingCalendar

#: The scope key of users who see every region (a region's scope key is its code).
ALL_REGIONS = "*"


def scope_key(user: User) -> str:
    return user.region_code or ALL_REGIONS


class Scopes:
    """Accumulates figures into every scope a record belongs to: all regions and its own."""

    def __init__(self, keys: list[str]):
        self.keys = keys

    def of(self, region_code: str) -> list[str]:
        return [k for k in (ALL_REGIONS, region_code) if k in self.keys]


def in_scope(stmt, column, only: str | None):
    """`stmt` narrowed to one region's records when `only` names one."""
    return stmt if only in (None, ALL_REGIONS) else stmt.where(column == only)


def effective(calendar: WorkingCalendar, due_on: date, stored: date | None) -> date:
    """The stored effective due date (deadlines.tracking keeps it), or the calendar's when a
    milestone has not been planned yet (just after an upgrade)."""
    # The same rule as core.dates.effective_due, without composing its explanation.
    return stored if stored is not None else calendar.next_working_day(due_on)
