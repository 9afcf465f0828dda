"""Calendar overrides and milestone timing for pages, the API and the workers."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _

from ppp_tracker import clock
from ppp_tracker.auth.models import User
from ppp_tracker.core.errors import Invalid
from ppp_tracker.core.validation import Errors, check_date_range, check_text
from ppp_tracker.db import db
from ppp_tracker.deadlines.calendar import forget_calendar, get_calendar
from ppp_tracker.deadlines.models import CalendarOverride
from ppp_tracker.deadlines.rules import Timing, timing
from ppp_tracker.registry.models import Milestone


def set_override(
    day: date, working: bool, reason: str | None, user: User | None = None
) -> CalendarOverride:
    """Make `day` a working day or a day off by decree (replaces an earlier override)."""
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
    return row


def remove_override(day: date) -> None:
    row = db.session.get(CalendarOverride, day)
    if row is None:
        raise Invalid.one("day", _("There is no override for this day."))
    db.session.delete(row)
    db.session.flush()
    forget_calendar()


def milestone_timing(milestone: Milestone, as_of: date | None = None, locale: str = "ru") -> Timing:
    """Effective due date, state and days late of a milestone on `as_of` (default today)."""
    return timing(
        get_calendar(),
        due_on=milestone.due_on,
        status=milestone.status,
        met_on=milestone.met_on,
        as_of=as_of or clock.today(),
        locale=locale,
    )
