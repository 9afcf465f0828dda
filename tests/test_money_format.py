"""Money and numbers as each of the app's languages writes them: digits grouped by no-break
spaces (ru, kk) or commas (en), two decimals, the tenge sign after the amount."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import format_currency, format_decimal

from ppp_tracker import money

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("short", "value", "text"),
    [
        ("ru", Decimal("23100000.00"), f"23{NBSP}100{NBSP}000,00{NBSP}₸"),
        ("kk", Decimal("53900000"), f"53{NBSP}900{NBSP}000,00{NBSP}₸"),
        ("en", Decimal("77000000.00"), f"77,000,000.00{NBSP}₸"),
        ("ru", Decimal("-0.01"), f"-0,01{NBSP}₸"),
        ("en", Decimal("-1234.5"), f"-1,234.50{NBSP}₸"),
        # Half-even at the third decimal, as Babel rounds (a figure is rounded half up to a
        # whole tiyn by the rule that computes it, before it is written).
        ("ru", Decimal("0.005"), f"0,00{NBSP}₸"),
        ("ru", Decimal("0.015"), f"0,02{NBSP}₸"),
    ],
)
def test_money_in_the_apps_languages(short, value, text):
    assert money.format_money(value, short) == text


@pytest.mark.parametrize(
    ("short", "value", "text"),
    [
        ("ru", 1234567, f"1{NBSP}234{NBSP}567"),
        ("kk", -1000, f"-1{NBSP}000"),
        ("en", 10**12, "1,000,000,000,000"),
    ],
)
def test_whole_numbers_in_the_apps_languages(short, value, text):
    assert money.format_number(value, short) == text


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
