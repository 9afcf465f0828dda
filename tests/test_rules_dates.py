"""The date rules with legal weight, on real dates of Kazakhstan's calendar."""

from datetime import date

import pytest

from ppp_tracker.core.calendar import Override, WorkingCalendar, add_months
from ppp_tracker.core.dates import MilestoneState, days_late, effective_due, milestone_state


@pytest.fixture
def cal():
    return WorkingCalendar()


def test_sunday_4_may_2014_was_a_working_day_by_decree(cal):
    assert date(2014, 5, 4).weekday() == 6
    assert cal.is_working_day(date(2014, 5, 4))
    assert cal.why_working(date(2014, 5, 4)) is not None


def test_days_off_of_may_2014(cal):
    assert not cal.is_working_day(date(2014, 5, 1))  # Unity Day
    assert not cal.is_working_day(date(2014, 5, 2))  # moved from Sunday 4 May
    assert not cal.is_working_day(date(2014, 5, 3))  # Saturday


def test_a_due_date_on_a_holiday_moves_to_the_next_working_day(app, cal):
    due = effective_due(cal, date(2014, 5, 1))
    assert due.effective_due_on == date(2014, 5, 4)
    text = due.explanation()
    assert "04.05.2014" in text
    assert "01.05.2014" in text and "02.05.2014" in text and "03.05.2014" in text


def test_a_due_date_on_a_working_day_stays(app, cal):
    due = effective_due(cal, date(2014, 6, 12))
    assert due.effective_due_on == date(2014, 6, 12)
    assert not due.moved


def test_capital_day_2014_observed_on_monday_7_july(cal):
    assert not cal.is_working_day(date(2014, 7, 7))
    # A claim sent 30.06.2014 with 10 working days is due 15.07.2014 (DESIGN.md section 4).
    assert cal.add_working_days(date(2014, 6, 30), 10) == date(2014, 7, 15)


def test_sunday_5_january_2025_was_a_working_day(cal):
    assert cal.is_working_day(date(2025, 1, 5))


def test_observed_holidays_2024(cal):
    # 8 March 2024 is a Friday holiday; Nauryz 21–23 March 2024 (Thu–Sat) → Monday 25 observed.
    assert not cal.is_working_day(date(2024, 3, 8))
    assert not cal.is_working_day(date(2024, 3, 22))
    assert not cal.is_working_day(date(2024, 3, 25))
    assert cal.is_working_day(date(2024, 3, 26))


def test_an_override_wins_over_the_package():
    day = date(2026, 1, 5)  # a Monday the package calls a working day
    cal = WorkingCalendar({day: Override(day, False, "Постановление № 1")})
    assert not cal.is_working_day(day)
    assert cal.why_not_working(day) == "Постановление № 1"
    saturday = date(2026, 1, 10)
    cal2 = WorkingCalendar({saturday: Override(saturday, True, "перенос")})
    assert cal2.is_working_day(saturday)


def test_days_late_counts_from_the_day_after_the_effective_due_date():
    assert days_late(date(2014, 5, 4), as_of=date(2014, 5, 4)) == 0
    assert days_late(date(2014, 5, 4), as_of=date(2014, 5, 5)) == 1
    assert days_late(date(2014, 5, 4), as_of=date(2014, 6, 12)) == 39
    # The day of actual performance counts.
    assert days_late(date(2014, 5, 4), as_of=date(2014, 7, 1), met_on=date(2014, 5, 10)) == 6
    # Never below zero.
    assert days_late(date(2014, 5, 4), as_of=date(2014, 5, 1)) == 0


@pytest.mark.parametrize(
    ("status", "effective", "met_on", "as_of", "expected"),
    [
        ("scheduled", date(2014, 5, 4), None, date(2014, 4, 1), MilestoneState.SCHEDULED),
        ("scheduled", date(2014, 5, 4), None, date(2014, 4, 28), MilestoneState.DUE_SOON),
        ("scheduled", date(2014, 5, 4), None, date(2014, 5, 4), MilestoneState.DUE_TODAY),
        ("scheduled", date(2014, 5, 4), None, date(2014, 5, 5), MilestoneState.OVERDUE),
        ("met", date(2014, 5, 4), date(2014, 5, 4), date(2014, 6, 1), MilestoneState.MET_ON_TIME),
        ("met", date(2014, 5, 4), date(2014, 5, 5), date(2014, 6, 1), MilestoneState.MET_LATE),
        ("waived", date(2014, 5, 4), None, date(2014, 6, 1), MilestoneState.WAIVED),
        ("scheduled", None, None, date(2014, 6, 1), MilestoneState.PENDING),
    ],
)
def test_milestone_states(status, effective, met_on, as_of, expected):
    assert milestone_state(status, effective, met_on, as_of) == expected


def test_add_months_keeps_the_day_or_takes_the_last_one():
    assert add_months(date(2014, 1, 31), 1) == date(2014, 2, 28)
    assert add_months(date(2014, 11, 21), 3) == date(2015, 2, 21)


def test_new_year_2025_moves_a_due_date_to_the_working_sunday(app, cal):
    # 1–2 January are New Year, 3 January a day off moved from Sunday 5 January, which was
    # worked instead; 4 January is a Saturday.
    due = effective_due(cal, date(2025, 1, 1))
    assert due.effective_due_on == date(2025, 1, 5)
    text = due.explanation()
    assert "03.01.2025" in text and "05.01.2025" in text and "04.01.2025" in text


def test_a_holiday_on_a_saturday_is_observed_on_monday_2025(cal):
    # 8 March 2025 was a Saturday; the day off moved to Monday 10 March.
    assert effective_due(cal, date(2025, 3, 8)).effective_due_on == date(2025, 3, 11)


def test_nauryz_2025_with_its_observed_days(cal):
    # 21–23 March 2025 (Friday to Sunday) and the two days moved from the weekend, 24–25 March.
    assert effective_due(cal, date(2025, 3, 21)).effective_due_on == date(2025, 3, 26)


def test_the_stored_effective_due_date_follows_a_relative_date(app):
    """A milestone due 10 working days after another is met gets its date, stored with the
    effective one, when the other is met (30.06.2014 + 10 working days = 15.07.2014: 07.07.2014
    was the day off for Capital Day)."""
    from ppp_tracker.alerts.models import AlertPlan
    from ppp_tracker.auth.access import SYSTEM_USER
    from ppp_tracker.db import db
    from ppp_tracker.registry.services.milestones import mark_met
    from tests import factories

    contract = factories.contract()
    claim = factories.milestone(contract, title="Претензия", due_on=date(2014, 6, 30))
    answer = factories.milestone(
        contract,
        title="Ответ на претензию",
        due_on=None,
        relative={"milestone_id": claim.id, "amount": 10, "unit": "working_days"},
    )
    assert (answer.due_on, answer.effective_due_on) == (None, None)
    assert db.session.get(AlertPlan, answer.id) is None
    mark_met(SYSTEM_USER, claim, date(2014, 6, 30))
    db.session.commit()
    assert (answer.due_on, answer.effective_due_on) == (date(2014, 7, 15), date(2014, 7, 15))
    assert db.session.get(AlertPlan, answer.id).effective_due_on == date(2014, 7, 15)
    assert db.session.get(AlertPlan, claim.id).next_alert_on is None  # met: no more reminders
