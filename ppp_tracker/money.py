"""Parsing and formatting of tenge amounts and percentages: Decimal in, Decimal out, never float."""

from __future__ import annotations

import re
from dataclasses import dataclass
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
    shape = _money_shape(locale)
    if shape is not None and (type(value) is int or (type(value) is Decimal and value.is_finite())):
        return _fast(value, shape, "{:,.2f}")
    return _babel_money(value, locale)


def format_number(value: Decimal | int | None, locale: str = "ru_KZ") -> str:
    if value is None:
        return ""
    locale = _kz_locale(locale)
    if type(value) is int:
        shape = _number_shape(locale)
        if shape is not None:
            return _fast(value, shape, "{:,}")
    return format_decimal(value, locale=locale)


def _kz_locale(locale: str) -> str:
    return {"ru": "ru_KZ", "kk": "kk_KZ", "en": "en"}.get(str(locale), str(locale))


def _babel_money(value, locale: str) -> str:
    if locale == "en":
        # Babel knows no en_KZ, and plain English writes "KZT23,100,000.00"; write the tenge sign.
        return format_decimal(value, format="#,##0.00", locale="en") + "\u00a0₸"
    return format_currency(value, "KZT", locale=locale)


# --- the fast path -------------------------------------------------------------------------------
# Babel re-reads the locale's pattern and symbols on every call (a list page formats dozens of
# amounts). For the app's own locales the shape of its output is learnt once from Babel itself —
# the text around the digits of a positive and a negative probe, the group and decimal signs —
# and applied to Python's own grouping of the digits (which rounds half-even, as Babel does).
# tests/test_money_format.py checks that both give the same text.


@dataclass(frozen=True)
class _Shape:
    prefix: str
    suffix: str
    negative_prefix: str
    negative_suffix: str
    group: str
    decimal: str


_PROBE = "1234567.89"
_SHAPES: dict[tuple[str, str], _Shape | None] = {}
FAST_LOCALES = ("ru_KZ", "kk_KZ", "en")


def _learn(kind: str, locale: str, render) -> _Shape | None:
    key = (kind, locale)
    if key not in _SHAPES:
        shape = None
        if locale in FAST_LOCALES:
            positive, negative = render(Decimal(_PROBE)), render(-Decimal(_PROBE))
            digits = re.compile(r"1(?P<g>.)234(?P=g)567(?:(.)89)?")
            p, n = digits.search(positive), digits.search(negative)
            if p and n and p.group(0) == n.group(0):
                shape = _Shape(
                    positive[: p.start()],
                    positive[p.end() :],
                    negative[: n.start()],
                    negative[n.end() :],
                    p.group("g"),
                    p.group(2) or "",
                )
        _SHAPES[key] = shape
    return _SHAPES[key]


def _money_shape(locale: str) -> _Shape | None:
    return _learn("money", locale, lambda v: _babel_money(v, locale))


def _number_shape(locale: str) -> _Shape | None:
    return _learn("number", locale, lambda v: format_decimal(int(v), locale=locale))


def _fast(value: Decimal | int, shape: _Shape, pattern: str) -> str:
    negative = value.is_signed() if isinstance(value, Decimal) else value < 0
    text = pattern.format(abs(value))
    if shape.group != "," or shape.decimal != ".":
        text = text.translate({44: shape.group, 46: shape.decimal})
    if negative:
        return shape.negative_prefix + text + shape.negative_suffix
    return shape.prefix + text + shape.suffix
