"""Calendar overrides and milestone timing for pages, the API and the workers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _

from ppp_tracker.auth.models import User
from ppp_tracker.core.calendar import CalendarOverride, Override, forget_calendar, get_calendar
from ppp_tracker.core.errors import Invalid
from ppp_tracker.core.validation import Errors, check_date_range, check_text
from ppp_tracker.db import db
from ppp_tracker.deadlines.tracking import refresh_around
from ppp_tracker.registry.models import Milestone


def set_override(
    day: date,
    working: bool,
    reason: str | None,
    user: User | None = None,
    moved: list[Milestone] | None = None,
) -> CalendarOverride:
    """Make `day` a working day or a day off by decree (replaces an earlier override); the
    milestones whose effective due date it moves are refreshed, and so are their reminders."""
    errors = Errors()
    check_date_range(errors, "day", day)
    reason = check_text(errors, "reason", reason, max_length=500)
    errors.raise_if_any()
    row = db.session.get(CalendarOverride, day)
    if row is None:
        row = CalendarOverride(day=day)
        db.session.add(row)
    row.working = working
    row.reason = reason
    row.created_by_id = user.id if user else None
    db.session.flush()
    forget_calendar()
    shifted = refresh_around(db.session, day)
    if moved is not None:
        moved.extend(shifted)
    return row


def remove_override(day: date, moved: list[Milestone] | None = None) -> None:
    """Drop an override: the day is again what the holidays package says it is."""
    row = db.session.get(CalendarOverride, day)
    if row is None:
        raise Invalid.one("day", _("There is no override for this day."))
    db.session.delete(row)
    db.session.flush()
    forget_calendar()
    shifted = refresh_around(db.session, day)
    if moved is not None:
        moved.extend(shifted)


@dataclass(frozen=True)
class CalendarDay:
    day: date
    working: bool
    #: Why a weekday is off or a weekend day is working; None for an ordinary day.
    why: str | None
    override: Override | None

    @property
    def unusual(self) -> bool:
        """A weekday off or a weekend day at work: what a year view lists."""
        return (self.day.weekday() < 5) != self.working or self.override is not None


def year_days(year: int, locale: str = "ru") -> list[CalendarDay]:
    """Every day of the year with whether it is a working day and why (for the admin page)."""
    calendar = get_calendar()
    out = []
    day = date(year, 1, 1)
    while day.year == year:
        working = calendar.is_working_day(day)
        why = calendar.why_working(day) if working else calendar.why_not_working(day, locale)
        out.append(CalendarDay(day, working, why, calendar.overrides.get(day)))
        day += timedelta(days=1)
    return out
