"""Keeps each milestone's stored effective due date right, whatever changed it.

A flush hook (like the audit trail's) recomputes `Milestone.effective_due_on` whenever a
milestone is created or its due date, status or date of performance changes, so no service, page,
API call or import can forget it; calendar overrides refresh the milestones around the changed
day (`refresh_around`). Features that plan work from the date (the alerts) register a hook in
`MILESTONE_HOOKS` and are called in the same flush.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, attributes

from ppp_tracker.core.calendar import WorkingCalendar, get_calendar
from ppp_tracker.registry.models import Milestone

#: Columns whose change may change what is due when.
TRACKED = ("due_on", "status", "met_on")
#: The calendar looks this far ahead for a working day (WorkingCalendar.next_working_day).
LOOKAHEAD_DAYS = 60

#: name -> fn(milestone): called for every milestone whose date, status or performance changed.
MILESTONE_HOOKS: dict[str, Callable[[Milestone], None]] = {}


def _tracked_change(milestone: Milestone) -> bool:
    return any(
        attributes.get_history(
            milestone, key, passive=attributes.PASSIVE_NO_INITIALIZE
        ).has_changes()
        for key in TRACKED
    )


def refresh(milestone: Milestone, calendar: WorkingCalendar, *, notify: bool = True) -> bool:
    """Recompute the stored effective due date; returns whether it changed."""
    effective = calendar.next_working_day(milestone.due_on) if milestone.due_on else None
    changed = milestone.effective_due_on != effective
    if changed:
        milestone.effective_due_on = effective
    if notify:
        for hook in MILESTONE_HOOKS.values():
            hook(milestone)
    return changed


@event.listens_for(Session, "before_flush")
def _refresh_changed_milestones(session: Session, flush_context, instances) -> None:
    changed = [obj for obj in session.new if isinstance(obj, Milestone)]
    changed += [
        obj
        for obj in session.dirty
        if isinstance(obj, Milestone) and obj not in session.deleted and _tracked_change(obj)
    ]
    if not changed:
        return
    with session.no_autoflush:
        calendar = get_calendar()
        for milestone in changed:
            refresh(milestone, calendar)


def refresh_around(session: Session, day: date) -> list[Milestone]:
    """After `day` changed between working and off: refresh the milestones it may move.

    Only a milestone due on or before `day` whose effective date is on or after it can move
    (a due date moves forward, to the next working day, never further than the look-ahead).
    """
    calendar = get_calendar()
    rows = session.scalars(
        sa.select(Milestone).where(
            Milestone.due_on <= day,
            Milestone.due_on >= day - timedelta(days=LOOKAHEAD_DAYS),
            sa.or_(Milestone.effective_due_on >= day, Milestone.effective_due_on.is_(None)),
        )
    ).all()
    moved = []
    for milestone in rows:
        if refresh(milestone, calendar, notify=False):
            for hook in MILESTONE_HOOKS.values():
                hook(milestone)
            moved.append(milestone)
    session.flush()
    return moved


def refresh_unplanned(session: Session, limit: int = 1000) -> int:
    """Fill in the stored effective due date where it is missing (rows older than the column)."""
    calendar = get_calendar()
    rows = session.scalars(
        sa.select(Milestone)
        .where(Milestone.due_on.is_not(None), Milestone.effective_due_on.is_(None))
        .order_by(Milestone.id)
        .limit(limit)
    ).all()
    for milestone in rows:
        refresh(milestone, calendar)
    session.flush()
    return len(rows)
