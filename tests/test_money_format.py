"""The fast path of money and number formatting writes exactly what Babel writes."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from babel.numbers import format_currency, format_decimal

from ppp_tracker import money

LOCALES = {"ru": "ru_KZ", "kk": "kk_KZ", "en": "en"}


def _babel_money(value, locale: str) -> str:
    """What the product wrote before the fast path (and still writes for other locales)."""
    if locale == "en":
        return format_decimal(value, format="#,##0.00", locale="en") + "\u00a0₸"
    return format_currency(value, "KZT", locale=locale)


def _amounts() -> list:
    rng = random.Random(20261126)
    fixed = ["0", "-0.00", "0.01", "-0.01", "0.5", "0.005", "0.015", "0.025", "12.345", "999.995"]
    fixed += ["1000", "1E+3", "100000000000000.00", "-77000000.00", "3003000.00", "1.23456789"]
    values = [Decimal(v) for v in fixed] + [0, 7, -7, 1000, -1234567, 10**15]
    for _ in range(3000):
        digits = rng.randint(0, 15)
        places = rng.choice([0, 1, 2, 2, 2, 3, 6])
        value = Decimal(rng.randint(0, 10**digits)).scaleb(-places)
        values.append(-value if rng.random() < 0.2 else value)
    return values


@pytest.mark.parametrize("short", sorted(LOCALES))
def test_money_in_the_apps_locales_is_babels_text(short):
    locale = LOCALES[short]
    values = _amounts()
    different = [
        (v, money.format_money(v, short), _babel_money(v, locale))
        for v in values
        if money.format_money(v, short) != _babel_money(v, locale)
    ]
    assert not different, different[:5]
    # The fast path is the one taken for these locales (else this test would prove nothing).
    assert money._money_shape(locale) is not None


@pytest.mark.parametrize("short", sorted(LOCALES))
def test_whole_numbers_in_the_apps_locales_are_babels_text(short):
    locale = LOCALES[short]
    rng = random.Random(7)
    values = [0, 1, -1, 999, 1000, -1000, 10**12] + [
        rng.randint(-(10**9), 10**9) for _ in range(2000)
    ]
    different = [
        v for v in values if money.format_number(v, short) != format_decimal(v, locale=locale)
    ]
    assert not different, different[:5]
    assert money._number_shape(locale) is not None


def test_other_values_and_locales_go_through_babel():
    assert money.format_money(Decimal("1234.5"), "de_DE") == format_currency(
        Decimal("1234.5"), "KZT", locale="de_DE"
    )
    assert money.format_number(Decimal("1234.5678"), "ru") == format_decimal(
        Decimal("1234.5678"), locale="ru_KZ"
    )
    assert money.format_money(None) == ""
    assert money.format_money(Decimal("NaN"), "ru") == format_currency(
        Decimal("NaN"), "KZT", locale="ru_KZ"
    )
