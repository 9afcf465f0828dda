"""The deadlines page counts in the database and reads one page (`deadlines.queries.deadline_page`);
the exports and the API judge every milestone by the rule itself (`deadlines.queries.deadlines`).
Page after page, the page must list exactly the rule's milestones, in its order, with its count:
around weekends, public holidays and the administrator's overrides, for every scope and filter."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from ppp_tracker.auth.models import User
from ppp_tracker.core.calendar import get_calendar
from ppp_tracker.core.dates import DUE_SOON_DAYS, effective_due
from ppp_tracker.db import db
from ppp_tracker.deadlines import services as calendar_services
from ppp_tracker.deadlines.queries import deadline_page, deadlines
from ppp_tracker.registry.models import Milestone
from tests import factories
from tests.alerting import user

#: Due dates every day from here for this many days: May 2025 has Unity Day (1 May), Defender of
#: the Fatherland Day (7 May), Victory Day (9 May) and weekends between them.
FIRST_DUE = date(2025, 4, 20)
DAYS = 62
#: A weekday made a day off by decree and a Saturday made a working day.
DECREED_OFF = date(2025, 5, 12)
WORKING_SATURDAY = date(2025, 5, 31)


@pytest.fixture
def world(app):
    admin = user("admin@deadlines.kz", "admin", None)
    officer = user("officer@deadlines.kz", "officer", "KZ-35")
    colleague = user("colleague@deadlines.kz", "officer", "KZ-35")
    manager = user("manager@deadlines.kz", "manager", None)
    mine = factories.contract("KZ-35", officer=officer.email)
    theirs = factories.contract("KZ-35", officer=colleague.email)
    elsewhere = factories.contract("KZ-63")
    for i in range(DAYS):
        due = FIRST_DUE + timedelta(days=i)
        contract = (mine, theirs, elsewhere)[i % 3]
        extra = {}
        if i % 7 == 0 and contract is not elsewhere:
            # the colleague answers for one of my milestones, I for one of theirs
            extra["responsible"] = (colleague if contract is mine else officer).email
        factories.milestone(contract, title=f"Срок {i:02d}", due_on=due, **extra)
        if i % 5 == 0:  # a second milestone on the same day: the order is then by id
            factories.milestone(contract, title=f"Второй срок {i:02d}", due_on=due)
    met = factories.milestone(mine, title="Исполнено", due_on=date(2025, 5, 5))
    met.status, met.met_on = "met", date(2025, 5, 5)
    waived = factories.milestone(theirs, title="Освобождено", due_on=date(2025, 5, 6))
    waived.status = "waived"
    db.session.commit()
    calendar_services.set_override(DECREED_OFF, False, "Постановление", admin)
    calendar_services.set_override(WORKING_SATURDAY, True, "Перенос", admin)
    db.session.commit()
    return {
        "officer": officer,
        "colleague": colleague,
        "manager": manager,
        "mine": mine,
        "elsewhere": elsewhere,
    }


def by_the_rule(
    who: User, *, as_of, state, within_days, region=None, officer_id=None, contract_id=None
):
    """What the list must hold, judged here milestone by milestone from every milestone there is:
    open, in the user's scope and the filters, its effective due date (the calendar's next working
    day) before `as_of` or within the days ahead; by due date, then by id."""
    calendar = get_calendar()
    horizon = within_days if within_days is not None else DUE_SOON_DAYS
    out = []
    for m in db.session.scalars(sa.select(Milestone)):
        contract = m.contract
        responsible = m.responsible_id if m.responsible_id is not None else contract.officer_id
        if (
            m.status not in ("scheduled", "notMet", "partiallyMet")
            or m.due_on is None
            or who.region_code not in (None, contract.region_code)
            or region not in (None, contract.region_code)
            or officer_id not in (None, responsible)
            or contract_id not in (None, contract.id)
        ):
            continue
        effective = effective_due(calendar, m.due_on).effective_due_on
        if effective < as_of if state == "overdue" else 0 <= (effective - as_of).days <= horizon:
            out.append(m)
    return [m.id for m in sorted(out, key=lambda m: (m.due_on, m.id))]


def every_page(who: User, per_page: int, **query) -> tuple[list[int], set[int]]:
    """The milestone ids of every page in turn, and the totals each page reported."""
    ids, totals, page = [], set(), 1
    while True:
        total, shown, milestones = deadline_page(who, page=page, per_page=per_page, **query)
        totals.add(total)
        assert shown == page or (not milestones and page == 1)
        ids += [m.id for m in milestones]
        if page * per_page >= total:
            return ids, totals
        page += 1


@pytest.mark.parametrize(
    "as_of", [date(2025, 5, 2), date(2025, 5, 12), date(2025, 5, 13), date(2025, 6, 2)]
)
def test_every_page_in_turn_lists_what_the_rule_lists(world, as_of):
    cases = [
        (world["manager"], {}),
        (world["manager"], {"region": "KZ-63"}),
        (world["manager"], {"officer_id": world["officer"].id}),
        (world["officer"], {}),
        (world["officer"], {"contract_id": world["mine"].id}),
        (world["officer"], {"contract_id": world["elsewhere"].id}),  # out of scope: nothing
        (world["colleague"], {"officer_id": world["colleague"].id}),
    ]
    checked = 0
    for who, filters in cases:
        for state, within_days in (("overdue", None), ("upcoming", 7), ("upcoming", 30)):
            query = {"as_of": as_of, "state": state, "within_days": within_days, **filters}
            expected = by_the_rule(who, **query)
            assert [m.id for m in deadlines(who, **query)] == expected, (who.email, query)
            ids, totals = every_page(who, 4, **query)
            assert ids == expected, (who.email, query)
            assert totals == {len(expected)}
            checked += len(expected)
    assert checked > 100  # the world has something to list on each of these days


def test_a_holiday_weekend_and_a_decree_move_what_is_overdue(world):
    """On 12 May (a Monday made a day off) a milestone due on Saturday 10 May is not yet overdue:
    its effective due date is Tuesday the 13th; on the 14th it is."""
    saturday = date(2025, 5, 10)
    manager = world["manager"]
    query = {"state": "overdue", "within_days": None}
    on_monday, _p, _m = deadline_page(
        manager, as_of=date(2025, 5, 13), page=1, per_page=500, **query
    )
    overdue_then = {m.due_on for m in deadlines(manager, as_of=date(2025, 5, 13), **query)}
    overdue_later = {m.due_on for m in deadlines(manager, as_of=date(2025, 5, 14), **query)}
    assert saturday not in overdue_then and DECREED_OFF not in overdue_then
    assert {saturday, DECREED_OFF} <= overdue_later
    assert on_monday == len(deadlines(manager, as_of=date(2025, 5, 13), **query))


def test_a_page_past_the_end_shows_the_last_page_and_a_search_pages_alike(world):
    manager = world["manager"]
    query = {"as_of": date(2025, 6, 2), "state": "overdue", "within_days": None}
    total, page, milestones = deadline_page(manager, page=999, per_page=10, **query)
    assert page == -(-total // 10) and 0 < len(milestones) <= 10
    expected = [m.id for m in deadlines(manager, **query)]
    assert [m.id for m in milestones] == expected[(page - 1) * 10 :]
    # with a search (the title's piece), pages follow the same order
    searched = [m.id for m in deadlines(manager, **query) if "Второй" in m.title]
    ids, totals = every_page(manager, 3, q="второй", **query)
    assert ids == searched and totals == {len(searched)} and len(searched) >= 5
