"""The penalty rule (DESIGN.md section 4) on a table of cases, in exact decimals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ppp_tracker.core.penalty import Obligation, Terms, compute
from ppp_tracker.deadlines.penalty import contract_penalty
from tests import factories

D = Decimal


def _one(amount, rate, days, cap):
    """One obligation of a contract of `amount` (base total), `days` late on 2014-07-01."""
    as_of = date(2014, 7, 1)
    terms = Terms(rate, "total", cap, amount)
    due = date.fromordinal(as_of.toordinal() - days)
    result = compute(terms, [Obligation(1, "x", due, due)], as_of)
    return result.total, result.capped


def test_the_article_example():
    # 77,000,000.00 × 0.1 % × 39 days = 3,003,000.00 KZT
    assert _one(D("77000000.00"), D("0.1"), 39, None) == (D("3003000.00"), False)


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
    ],
)
def test_penalty_amounts(base, rate, days, cap, expected, capped):
    assert _one(base, rate, days, cap) == (expected, capped)


def test_rounding_happens_once_at_the_end():
    # Per-day rounding would give 0.01 × 3 = 0.03; the exact amount is 0.045 → 0.05.
    assert _one(D("15.00"), D("0.1"), 3, None)[0] == D("0.05")


def test_rows_add_up_to_the_total_when_the_daily_amount_has_fractions_of_a_tiyn():
    # 15.00 × 0.1 % = 0.015 a day. A: late 3 days (28–30.06), then B alone 1 day (01.07):
    # running totals 0.045 → 0.05 and 0.060 → 0.06; rows 0.05 and 0.01, total 0.06 (rounded once).
    terms = Terms(D("0.1"), "total", None, D("15.00"))
    a = Obligation(1, "A", date(2014, 6, 27), date(2014, 6, 27), met_on=date(2014, 6, 30))
    b = Obligation(2, "B", date(2014, 6, 29), date(2014, 6, 29))
    result = compute(terms, [a, b], date(2014, 7, 1))
    assert [r.accrued for r in result.rows] == [D("0.05"), D("0.01")]
    assert result.total == D("0.06")


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


# --- the contract's penalty: a day counts once, one cap, rows that add up (DESIGN §4) ----------


def _contract(cap=None, base="total", amount="1000000.00"):
    return factories.contract(
        total_amount=D(amount),
        penalty={"rate_percent_per_day": D("0.1"), "base": base, "cap_percent": cap},
    )


def _two_overlapping(c, **values):
    """A due Mon 02.06.2014, performed 20.06.2014; B due Tue 10.06.2014, unperformed."""
    a = factories.milestone(
        c, due_on=date(2014, 6, 2), status="met", met_on=date(2014, 6, 20), **values.get("a", {})
    )
    b = factories.milestone(c, due_on=date(2014, 6, 10), **values.get("b", {}))
    return a, b


def test_two_overlapping_late_obligations_count_each_day_once(any_app):
    any_app.config["FAKE_TODAY"] = date(2014, 6, 30)
    c = _contract()
    a, b = _two_overlapping(c)
    result = contract_penalty(c, date(2014, 6, 30))
    ra, rb = result.rows
    # A late 03.06–20.06 = 18 days; B late 11.06–30.06 = 20 days; together 03.06–30.06 = 28
    # days, not 38. 1,000,000.00 × 0.1 % = 1,000.00 a day.
    assert (ra.milestone_id, ra.days_late, ra.days_counted) == (a.id, 18, 18)
    assert (ra.counted_from, ra.counted_to) == (date(2014, 6, 3), date(2014, 6, 20))
    assert ra.accrued == D("18000.00")
    # B's days while A was late are A's: B is charged 21.06–30.06, 10 days.
    assert (rb.milestone_id, rb.days_late, rb.days_counted) == (b.id, 20, 10)
    assert (rb.counted_from, rb.counted_to) == (date(2014, 6, 21), date(2014, 6, 30))
    assert rb.accrued == D("10000.00")
    assert result.total == D("28000.00") and result.days_counted == 28
    assert result.warnings == ()


def test_a_claim_about_one_obligation_takes_its_rows_of_the_whole_contract(any_app):
    any_app.config["FAKE_TODAY"] = date(2014, 6, 30)
    c = _contract()
    _a, b = _two_overlapping(c)
    part = contract_penalty(c, date(2014, 6, 30), [b])
    [rb] = part.rows
    assert rb.days_counted == 10 and part.total == D("10000.00")


def test_the_cap_limits_the_contracts_whole_penalty_once(any_app):
    any_app.config["FAKE_TODAY"] = date(2014, 6, 30)
    c = _contract(cap=D("2"))
    _two_overlapping(c)
    result = contract_penalty(c, date(2014, 6, 30))
    ra, rb = result.rows
    # Cap 2 % × 1,000,000.00 = 20,000.00 for the contract. A's 18 days (18,000.00) come first;
    # B's 10 days would bring 28,000.00, so B gets the remaining 2,000.00 and is capped.
    assert (ra.accrued, ra.capped) == (D("18000.00"), False)
    assert (rb.accrued, rb.capped) == (D("2000.00"), True)
    assert result.total == D("20000.00")
    [warning] = result.warnings
    assert (warning.code, warning.amount) == ("cap_reached", D("20000.00"))


def test_outstanding_is_counted_per_obligation_with_its_own_cap(any_app):
    any_app.config["FAKE_TODAY"] = date(2014, 6, 30)
    c = _contract(cap=D("1"), base="outstanding")
    _two_overlapping(c, a={"value": D("500000.00")}, b={"value": D("100000.00")})
    ra, rb = contract_penalty(c, date(2014, 6, 30)).rows
    # A: 500,000.00 × 0.1 % × 18 days = 9,000.00 (its cap 1 % = 5,000.00 → capped 5,000.00).
    assert (ra.days_counted, ra.accrued, ra.capped) == (18, D("5000.00"), True)
    # B: 100,000.00 × 0.1 % × 20 days = 2,000.00 (cap 1,000.00 → 1,000.00): overlapping days
    # count for each obligation, as each has its own base.
    assert (rb.days_counted, rb.accrued, rb.capped) == (20, D("1000.00"), True)


def test_outstanding_below_its_caps(any_app):
    any_app.config["FAKE_TODAY"] = date(2014, 6, 30)
    c = _contract(cap=D("10"), base="outstanding")
    _two_overlapping(c, a={"value": D("500000.00")}, b={"value": D("300000.00")})
    result = contract_penalty(c, date(2014, 6, 30))
    # 500.00 × 18 = 9,000.00 and 300.00 × 20 = 6,000.00.
    assert [r.accrued for r in result.rows] == [D("9000.00"), D("6000.00")]
    assert result.total == D("15000.00") and result.warnings == ()


def test_no_cap_above_the_contract_sum_and_time_barred_days_are_warned(any_app):
    any_app.config["FAKE_TODAY"] = date(2017, 6, 10)
    c = _contract()
    factories.milestone(c, due_on=date(2014, 6, 2))
    result = contract_penalty(c, date(2017, 6, 10))
    # 03.06.2014–10.06.2017: 3 years (1,096 days with 29.02.2016) from 02.06 + 8 days = 1,104.
    assert result.days_counted == 1104 and result.total == D("1104000.00")
    above, barred = result.warnings
    assert (above.code, above.amount) == ("above_contract_sum", D("1000000.00"))
    # Three years back from 10.06.2017 is 10.06.2014: 03.06–09.06.2014 (7 days) are older.
    assert (barred.code, barred.days, barred.since) == ("time_barred", 7, date(2014, 6, 10))
    assert barred.amount == D("7000.00")
    assert "ст. 297 ГК РК" in above.text and "ст. 178 ГК РК" in barred.text
    assert "7 дней периода" in barred.text.replace("\xa0", " ")


def test_the_limitation_period_is_a_setting(any_app):
    any_app.config["FAKE_TODAY"] = date(2017, 6, 10)
    any_app.config["PENALTY_LIMITATION_YEARS"] = 4
    try:
        c = _contract()
        factories.milestone(c, due_on=date(2014, 6, 2))
        codes = [w.code for w in contract_penalty(c, date(2017, 6, 10)).warnings]
        assert codes == ["above_contract_sum"]
    finally:
        any_app.config["PENALTY_LIMITATION_YEARS"] = 3


@pytest.mark.parametrize(
    ("as_of", "days", "expected"),
    [
        # 77,000,000.00 × 0.1 % = 77,000.00 a day from 05.05.2014 (due 01.05, moved to the
        # working Sunday 04.05).
        (date(2014, 6, 12), 39, D("3003000.00")),  # 05.05–12.06: 27 + 12 days
        (date(2014, 6, 30), 57, D("4389000.00")),  # 05.05–30.06: 27 + 30 days
        (date(2014, 7, 14), 71, D("5467000.00")),  # 05.05–14.07: 27 + 30 + 14 days
    ],
)
def test_the_three_letters_of_the_article(any_app, as_of, days, expected):
    any_app.config["FAKE_TODAY"] = date(2014, 7, 14)
    c = factories.contract(
        total_amount=D("77000000.00"),
        penalty={"rate_percent_per_day": D("0.1"), "base": "total", "cap_percent": D("10")},
    )
    state = factories.milestone(c, due_on=date(2014, 5, 1), title="Государственная экспертиза")
    sector = factories.milestone(c, due_on=date(2014, 7, 1), title="Отраслевая экспертиза")
    result = contract_penalty(c, as_of)
    assert result.days_counted == days and result.total == expected
    assert result.rows[0].milestone_id == state.id
    if as_of == date(2014, 7, 14):
        # Both late: the second (02.07–14.07, 13 days) adds no day the first has not.
        assert result.row(sector.id).days_late == 13
        assert result.row(sector.id).days_counted == 0
        assert result.row(sector.id).accrued == D("0.00")
