"""The penalty rule (DESIGN.md section 4) on a table of cases, in exact decimals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ppp_tracker.claims.penalty import contract_penalty, penalty_amount
from tests import factories

D = Decimal


def test_the_article_example():
    # 77,000,000.00 × 0.1 % × 39 days = 3,003,000.00 KZT
    assert penalty_amount(D("77000000.00"), D("0.1"), 39, None) == (D("3003000.00"), False)


@pytest.mark.parametrize(
    ("base", "rate", "days", "cap", "expected", "capped"),
    [
        (D("77000000.00"), D("0.1"), 39, D("10"), D("3003000.00"), False),
        (D("77000000.00"), D("0.1"), 120, D("10"), D("7700000.00"), True),  # cap reached
        (D("77000000.00"), D("0.1"), 120, None, D("9240000.00"), False),  # no cap
        (D("1000.01"), D("0.1"), 1, None, D("1.00"), False),  # 1.00001 → 1.00
        (D("1000.05"), D("0.1"), 1, None, D("1.00"), False),  # 1.00005 → 1.00
        (D("15.00"), D("0.1"), 1, None, D("0.02"), False),  # 0.015 → 0.02, half up
        (D("333.33"), D("0.03"), 3, None, D("0.30"), False),  # rounded once, not per day
        (D("100.00"), D("0.1"), 0, None, D("0.00"), False),
    ],
)
def test_penalty_amounts(base, rate, days, cap, expected, capped):
    assert penalty_amount(base, rate, days, cap) == (expected, capped)


def test_rounding_happens_once_at_the_end():
    # Per-day rounding would give 0.01 × 3 = 0.03; the exact amount is 0.045 → 0.05.
    assert penalty_amount(D("15.00"), D("0.1"), 3, None)[0] == D("0.05")


@pytest.fixture
def article_contract(app):
    return factories.contract(
        total_amount=D("77000000.00"),
        penalty={"rate_percent_per_day": D("0.1"), "base": "total", "cap_percent": None},
    )


def test_due_on_a_holiday_counts_from_the_next_working_day(app, article_contract):
    m = factories.milestone(
        article_contract, due_on=date(2014, 5, 1)
    )  # → Sunday 04.05.2014, a working day
    result = contract_penalty(article_contract, date(2014, 6, 12))
    [line] = result.lines
    assert line.milestone_id == m.id
    assert line.effective_due_on == date(2014, 5, 4)
    assert line.days_late == 39
    assert line.accrued == D("3003000.00")
    assert line.daily_amount == D("77000.00")
    assert result.total == D("3003000.00")


def test_met_late_counts_until_the_day_of_performance(app, article_contract, set_today):
    set_today("2014-07-01")
    factories.milestone(
        article_contract, due_on=date(2014, 5, 1), status="met", met_on=date(2014, 5, 10)
    )
    [line] = contract_penalty(article_contract, date(2014, 7, 1)).lines
    assert line.days_late == 6 and line.counted_until == date(2014, 5, 10)
    assert line.accrued == D("462000.00")


def test_outstanding_base_uses_the_milestone_value(app):
    c = factories.contract(
        total_amount=D("77000000.00"),
        penalty={"rate_percent_per_day": D("0.1"), "base": "outstanding", "cap_percent": D("10")},
    )
    factories.milestone(c, due_on=date(2014, 6, 2), value=D("53900000.00"))
    [line] = contract_penalty(c, date(2014, 6, 12)).lines
    assert line.base == D("53900000.00") and line.days_late == 10
    assert line.accrued == D("539000.00")


def test_outstanding_without_a_value_accrues_nothing_and_says_so(app):
    c = factories.contract(
        penalty={"rate_percent_per_day": D("0.1"), "base": "outstanding", "cap_percent": None}
    )
    factories.milestone(c, due_on=date(2014, 6, 2))
    [line] = contract_penalty(c, date(2014, 6, 12)).lines
    assert line.missing_value and line.accrued == D("0.00")


def test_waived_on_time_and_customer_obligations_accrue_nothing(app, article_contract, set_today):
    set_today("2014-07-01")
    factories.milestone(
        article_contract, due_on=date(2014, 5, 1), status="waived", status_note="Освобождён"
    )
    factories.milestone(
        article_contract, due_on=date(2014, 5, 1), status="met", met_on=date(2014, 5, 4)
    )
    factories.milestone(article_contract, due_on=date(2014, 5, 1), obligor="customer")
    factories.milestone(article_contract, due_on=date(2014, 8, 1))
    assert contract_penalty(article_contract, date(2014, 7, 1)).lines == ()


def test_transferred_working_sunday_is_a_due_day(app, article_contract):
    # Due on Sunday 04.05.2014, which was a working day: late from Monday 05.05.
    factories.milestone(article_contract, due_on=date(2014, 5, 4))
    [line] = contract_penalty(article_contract, date(2014, 5, 5)).lines
    assert line.effective_due_on == date(2014, 5, 4) and line.days_late == 1


def test_cap_reached_on_the_contract(app):
    c = factories.contract(
        total_amount=D("77000000.00"),
        penalty={"rate_percent_per_day": D("0.1"), "base": "total", "cap_percent": D("10")},
    )
    factories.milestone(c, due_on=date(2014, 5, 1))
    [line] = contract_penalty(c, date(2014, 12, 31)).lines
    assert line.capped and line.accrued == D("7700000.00") == line.cap_amount
