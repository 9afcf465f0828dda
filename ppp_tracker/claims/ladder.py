"""The claim ladder's dates (the reply deadline, the grace period) and the people who act on a
claim (who may approve it, who hears of a draft)."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from ppp_tracker.auth.models import Role, User
from ppp_tracker.core.calendar import WorkingCalendar, get_calendar
from ppp_tracker.db import db
from ppp_tracker.registry.models import Contract


def response_due(
    contract: Contract, sent_on: date, calendar: WorkingCalendar | None = None
) -> date:
    """The reply deadline: the sending date plus the contract's response period.

    Working days are counted from the day after sending (a claim sent 30.06.2014 with 10 working
    days is due 15.07.2014, because 07.07.2014 was a day off); a period in calendar days that
    ends on a day off ends on the next working day (Civil Code, computation of terms).
    """
    calendar = calendar or get_calendar()
    if contract.response_working:
        return calendar.add_working_days(sent_on, contract.response_days)
    return calendar.next_working_day(sent_on + timedelta(days=contract.response_days))


def grace_ends(contract: Contract, effective_due_on: date, calendar: WorkingCalendar) -> date:
    """The last day of the grace period; a claim is drafted on any later day."""
    return calendar.add_working_days(effective_due_on, contract.grace_working_days)


def id_of(user) -> int | None:
    return getattr(user, "id", None)


def approvers(region_code: str) -> list[User]:
    """Everyone who may approve the region's claims: active legal staff and admins in scope."""
    return db.session.scalars(
        sa.select(User)
        .where(
            User.active.is_(True),
            User.role.in_([Role.LEGAL, Role.ADMIN]),
            sa.or_(User.region_code.is_(None), User.region_code == region_code),
        )
        .order_by(User.id)
    ).all()


def legal_recipients(region_code: str) -> list[User]:
    """Who hears of a drafted claim: the region's legal staff (admins when it has none)."""
    people = approvers(region_code)
    legal = [u for u in people if u.role == Role.LEGAL]
    return legal or [u for u in people if u.role == Role.ADMIN]
