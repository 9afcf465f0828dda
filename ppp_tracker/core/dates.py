"""The date rules with legal weight: effective due dates, days late, milestone states.

Plain functions of plain values, so the page, the API, the worker and the test share one rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import click
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from ppp_tracker import clock
from ppp_tracker.core.calendar import WorkingCalendar, add_months, get_calendar, unconfirmed_note
from ppp_tracker.core.enums import LabelledEnum


class MilestoneStatus(LabelledEnum):
    """OCDS milestoneStatus plus `waived` (the obligation was released by the customer)."""

    SCHEDULED = "scheduled"
    MET = "met"
    NOT_MET = "notMet"
    PARTIALLY_MET = "partiallyMet"
    WAIVED = "waived"

    @classmethod
    def _labels(cls):
        return {
            "scheduled": _l("Scheduled"),
            "met": _l("Met"),
            "notMet": _l("Not met"),
            "partiallyMet": _l("Partially met"),
            "waived": _l("Waived"),
        }


#: A milestone in one of these states is still owed (in the order the deadlines queries and the
#: partial index `ix_milestones_open_due_on_contract_id` name them, so that PostgreSQL matches one
#: to the other).
OPEN_MILESTONE_STATUSES = (
    MilestoneStatus.NOT_MET,
    MilestoneStatus.PARTIALLY_MET,
    MilestoneStatus.SCHEDULED,
)


class RelativeUnit(LabelledEnum):
    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"
    MONTHS = "months"

    @classmethod
    def _labels(cls):
        return {
            "working_days": _l("working days"),
            "calendar_days": _l("calendar days"),
            "months": _l("months"),
        }


#: A milestone is "due soon" this many calendar days ahead unless a caller says otherwise.
DUE_SOON_DAYS = 7

OPEN_STATUSES = frozenset(OPEN_MILESTONE_STATUSES)


class MilestoneState(LabelledEnum):
    PENDING = "pending"
    SCHEDULED = "scheduled"
    DUE_SOON = "due_soon"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"
    MET_ON_TIME = "met_on_time"
    MET_LATE = "met_late"
    WAIVED = "waived"

    @classmethod
    def _labels(cls):
        return {
            "pending": _l("Waiting for its start event"),
            "scheduled": _l("Scheduled"),
            "due_soon": _l("Due soon"),
            "due_today": _l("Due today"),
            "overdue": _l("Overdue"),
            "met_on_time": _l("Met on time"),
            "met_late": _l("Met late"),
            "waived": _l("Waived"),
        }


def fmt(day: date) -> str:
    return day.strftime("%d.%m.%Y")


@dataclass(frozen=True)
class EffectiveDue:
    due_on: date
    effective_due_on: date
    #: One line per skipped day: "01.05.2014 — Праздник единства народа Казахстана".
    skipped: tuple[str, ...] = field(default_factory=tuple)

    @property
    def moved(self) -> bool:
        return self.effective_due_on != self.due_on

    def explanation(self) -> str:
        """Why the date is what it is, in words an officer can check."""
        if not self.moved:
            return _("due %(date)s, a working day", date=fmt(self.due_on))
        return _(
            "due %(effective)s: %(reasons)s",
            effective=fmt(self.effective_due_on),
            reasons="; ".join(self.skipped),
        )


def cli_day(value: str | None) -> date | None:
    """A day typed on the command line as YYYY-MM-DD (None when not given)."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD") from exc


def effective_due(calendar: WorkingCalendar, due_on: date, locale: str = "ru") -> EffectiveDue:
    """A due date on a non-working day moves to the next working day (Civil Code, terms)."""
    effective = calendar.next_working_day(due_on)
    skipped = []
    day = due_on
    while day < effective:
        skipped.append(
            _("%(date)s is %(why)s", date=fmt(day), why=calendar.why_not_working(day, locale))
        )
        day += timedelta(days=1)
    return EffectiveDue(due_on, effective, tuple(skipped))


def days_late(effective_due_on: date, as_of: date, met_on: date | None = None) -> int:
    """Calendar days from the effective due date to performance (or `as_of`), never below zero.

    The day after the effective due date is day 1; the day of actual performance counts.
    """
    end = min(as_of, met_on) if met_on is not None else as_of
    return max(0, (end - effective_due_on).days)


def milestone_state(
    status: MilestoneStatus | str,
    effective_due_on: date | None,
    met_on: date | None,
    as_of: date,
    soon_days: int = DUE_SOON_DAYS,
) -> MilestoneState:
    status = MilestoneStatus(status)
    if status == MilestoneStatus.WAIVED:
        return MilestoneState.WAIVED
    if status == MilestoneStatus.MET and met_on is not None and effective_due_on is not None:
        return MilestoneState.MET_LATE if met_on > effective_due_on else MilestoneState.MET_ON_TIME
    if status == MilestoneStatus.MET:
        return MilestoneState.MET_ON_TIME
    if effective_due_on is None:
        return MilestoneState.PENDING
    if as_of > effective_due_on:
        return MilestoneState.OVERDUE
    if as_of == effective_due_on:
        return MilestoneState.DUE_TODAY
    if (effective_due_on - as_of).days <= soon_days:
        return MilestoneState.DUE_SOON
    return MilestoneState.SCHEDULED


def relative_due(
    calendar: WorkingCalendar, anchor_on: date, amount: int, unit: RelativeUnit | str
) -> date:
    """The due date N working days, calendar days or months after the anchor event."""
    unit = RelativeUnit(unit)
    if unit == RelativeUnit.WORKING_DAYS:
        return calendar.add_working_days(anchor_on, amount)
    if unit == RelativeUnit.CALENDAR_DAYS:
        return anchor_on + timedelta(days=amount)
    return add_months(anchor_on, amount)


def relative_phrase(amount: int, unit: RelativeUnit | str) -> str:
    """ "10 working days", "1 month": the count with its unit, in the right plural form."""
    unit = RelativeUnit(unit)
    if unit == RelativeUnit.WORKING_DAYS:
        return ngettext("%(num)d working day", "%(num)d working days", amount)
    if unit == RelativeUnit.CALENDAR_DAYS:
        return ngettext("%(num)d calendar day", "%(num)d calendar days", amount)
    return ngettext("%(num)d month", "%(num)d months", amount)


def days_late_phrase(days: int) -> str:
    return ngettext("%(num)d day late", "%(num)d days late", days)


@dataclass(frozen=True)
class Timing:
    """Everything a page or an API response says about a milestone's date on `as_of`."""

    as_of: date
    due_on: date | None
    effective_due_on: date | None
    state: MilestoneState
    days_late: int
    explanation: str


def timing(
    calendar: WorkingCalendar,
    *,
    due_on: date | None,
    status: MilestoneStatus | str,
    met_on: date | None,
    as_of: date,
    soon_days: int = DUE_SOON_DAYS,
    locale: str = "ru",
) -> Timing:
    if due_on is None:
        return Timing(
            as_of,
            None,
            None,
            milestone_state(status, None, met_on, as_of, soon_days),
            0,
            _("the due date follows from another event that has not happened yet"),
        )
    eff = effective_due(calendar, due_on, locale)
    state = milestone_state(status, eff.effective_due_on, met_on, as_of, soon_days)
    late = 0
    if state in (MilestoneState.OVERDUE, MilestoneState.MET_LATE):
        late = days_late(eff.effective_due_on, as_of, met_on)
    explanation = eff.explanation()
    note = unconfirmed_note(calendar.unconfirmed_years(due_on, eff.effective_due_on))
    if note:
        explanation = f"{explanation} ({note})"
    return Timing(as_of, due_on, eff.effective_due_on, state, late, explanation)


def milestone_timing(milestone, as_of: date | None = None, locale: str = "ru") -> Timing:
    """Effective due date, state and days late of a milestone (anything with its `due_on`,
    `status` and `met_on`) on `as_of` (default today)."""
    return timing(
        get_calendar(),
        due_on=milestone.due_on,
        status=milestone.status,
        met_on=milestone.met_on,
        as_of=as_of or clock.today(),
        locale=locale,
    )
