"""The reminder rules on real dates: which reminder is due on a day, and when the next fires."""

from datetime import date

import pytest

from ppp_tracker.alerts.rules import AlertRules, parse_days

# Due 01.05.2014 (Unity Day); 02.05 was a day off moved from Sunday 04.05, which was worked:
# the effective due date is Sunday 04.05.2014.
E = date(2014, 5, 4)
DEFAULT = AlertRules()


@pytest.mark.parametrize(
    ("as_of", "rule", "fire_on"),
    [
        (date(2014, 4, 3), None, None),  # 31 days before: nothing yet
        (date(2014, 4, 4), "before_30", date(2014, 4, 4)),
        (date(2014, 4, 19), "before_30", date(2014, 4, 4)),  # 15 days left: still the 30-day one
        (date(2014, 4, 20), "before_14", date(2014, 4, 20)),
        (date(2014, 4, 27), "before_7", date(2014, 4, 27)),
        (date(2014, 5, 1), "before_3", date(2014, 5, 1)),
        (date(2014, 5, 2), "before_3", date(2014, 5, 1)),  # a scan that missed 01.05 catches up
        (date(2014, 5, 3), "before_1", date(2014, 5, 3)),
        (date(2014, 5, 4), "due_day", date(2014, 5, 4)),
        (date(2014, 5, 5), "overdue_1", date(2014, 5, 5)),
        (date(2014, 5, 11), "overdue_1", date(2014, 5, 5)),
        (date(2014, 5, 12), "overdue_8", date(2014, 5, 12)),
        (date(2014, 6, 12), "overdue_36", date(2014, 6, 9)),  # 39 days late; weekly since day 1
    ],
)
def test_the_latest_reminder_due_on_a_day(as_of, rule, fire_on):
    stage = DEFAULT.latest_stage(E, as_of)
    if rule is None:
        assert stage is None
    else:
        assert (stage.rule, stage.fire_on) == (rule, fire_on)


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (date(2014, 1, 1), date(2014, 4, 4)),
        (date(2014, 4, 4), date(2014, 4, 20)),
        (date(2014, 5, 1), date(2014, 5, 3)),
        (date(2014, 5, 3), date(2014, 5, 4)),
        (date(2014, 5, 4), date(2014, 5, 5)),
        (date(2014, 5, 5), date(2014, 5, 12)),
        (date(2014, 5, 12), date(2014, 5, 19)),
        (date(2014, 6, 12), date(2014, 6, 16)),
    ],
)
def test_the_next_reminder_fires_after_a_day(after, expected):
    assert DEFAULT.next_fire_after(E, after) == expected


def test_a_reminder_before_the_date_is_never_sent_once_it_has_passed():
    no_overdue = AlertRules(on_due_day=False, overdue=False)
    assert no_overdue.latest_stage(E, date(2014, 5, 4)) is None
    assert no_overdue.latest_stage(E, date(2014, 5, 20)) is None
    assert no_overdue.next_fire_after(E, date(2014, 5, 3)) is None


def test_overdue_only_once_when_repeats_are_off():
    once = AlertRules(overdue_every_days=0)
    assert once.latest_stage(E, date(2014, 6, 12)).rule == "overdue_1"
    assert once.next_fire_after(E, date(2014, 5, 5)) is None


def test_custom_days_before():
    rules = AlertRules(days_before=(10, 2), on_due_day=False)
    assert rules.first_fire(E) == date(2014, 4, 24)
    assert rules.latest_stage(E, date(2014, 5, 1)).rule == "before_10"
    assert rules.latest_stage(E, date(2014, 5, 2)).rule == "before_2"
    assert rules.next_fire_after(E, date(2014, 5, 2)) == date(2014, 5, 5)


def test_days_are_parsed_strictly():
    assert parse_days("30, 14 ,7;3 1") == (30, 14, 7, 3, 1)
    assert parse_days("") == ()
    for bad in ("7, 7", "0", "400", "a week", "-1"):
        with pytest.raises(ValueError):
            parse_days(bad)
