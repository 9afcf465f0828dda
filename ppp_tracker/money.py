"""Parsing and formatting of tenge amounts and percentages: Decimal in, Decimal out, never float."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency, format_decimal

_SPACES = re.compile(r"[\s\u00a0\u202f']")


class MoneyError(ValueError):
    pass


def parse_money(raw: str | int | Decimal, *, allow_negative: bool = False) -> Decimal:
    """An amount in tenge from user input ("23 100 000,00", "23100000.00"); at most two decimals."""
    if isinstance(raw, float):
        raise MoneyError("amounts must be given as text or Decimal, not float")
    if isinstance(raw, Decimal | int):
        text = str(raw)
    else:
        text = _SPACES.sub("", str(raw)).replace(",", ".").replace("₸", "")
        if text.upper().endswith("KZT"):
            text = text[:-3]
    if not re.fullmatch(r"-?\d+(\.\d{1,2})?", text):
        raise MoneyError("not an amount in tenge with at most two decimals")
    try:
        value = Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise MoneyError("not an amount") from exc
    if value < 0 and not allow_negative:
        raise MoneyError("must not be negative")
    if abs(value) >= Decimal("10") ** 15:
        raise MoneyError("too large")
    return value


def parse_percent(raw: str | Decimal, *, maximum: Decimal = Decimal(100)) -> Decimal:
    text = _SPACES.sub("", str(raw)).replace(",", ".").rstrip("%")
    if not re.fullmatch(r"\d+(\.\d{1,4})?", text):
        raise MoneyError("not a percentage with at most four decimals")
    value = Decimal(text)
    if value > maximum:
        raise MoneyError(f"must not exceed {maximum}")
    return value


def money_str(value: Decimal | None) -> str | None:
    """The API form of money: a string with two decimals, "77000000.00"."""
    return None if value is None else f"{value.quantize(Decimal('0.01'))}"


def format_money(value: Decimal | None, locale: str = "ru_KZ") -> str:
    """23 100 000,00 ₸ in the reader's locale (no-break spaces as Babel puts them)."""
    if value is None:
        return ""
    locale = _kz_locale(locale)
    if locale == "en":
        # Babel knows no en_KZ, and plain English writes "KZT23,100,000.00"; write the tenge sign.
        return format_decimal(value, format="#,##0.00", locale="en") + "\u00a0₸"
    return format_currency(value, "KZT", locale=locale)


def format_number(value: Decimal | int | None, locale: str = "ru_KZ") -> str:
    if value is None:
        return ""
    return format_decimal(value, locale=_kz_locale(locale))


def _kz_locale(locale: str) -> str:
    return {"ru": "ru_KZ", "kk": "kk_KZ", "en": "en"}.get(str(locale), str(locale))
