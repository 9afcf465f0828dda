"""The SQLAlchemy base, naming convention and column types shared by every feature."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import BigInteger, DateTime, MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

TIYN = Decimal("0.01")


def to_tiyn(amount: Decimal) -> int:
    """Whole tiyn of an amount in tenge; refuses fractions of a tiyn rather than rounding them."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be a Decimal, not {type(amount).__name__}")
    if not amount.is_finite():
        raise ValueError("money must be a finite number")
    scaled = amount * 100
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has a fraction of a tiyn")
    return int(scaled)


def from_tiyn(tiyn: int) -> Decimal:
    return (Decimal(tiyn) / 100).quantize(TIYN)


def round_tiyn(amount: Decimal) -> Decimal:
    """Round an exact decimal amount half up to a whole tiyn (done once, at the end)."""
    return amount.quantize(TIYN, rounding=ROUND_HALF_UP)


class Money(TypeDecorator):
    """Tenge as `Decimal` in Python, whole tiyn (integer) in the database."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return (
            None if value is None else to_tiyn(Decimal(value) if isinstance(value, int) else value)
        )

    def process_result_value(self, value, dialect):
        return None if value is None else from_tiyn(int(value))


class Scaled(TypeDecorator):
    """An exact decimal with a fixed number of places, stored as an integer (no float anywhere)."""

    impl = BigInteger
    cache_ok = True

    def __init__(self, places: int = 4):
        super().__init__()
        self.places = places

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        try:
            scaled = Decimal(value).scaleb(self.places)
        except InvalidOperation as exc:
            raise ValueError(f"{value!r} is not a number") from exc
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.places} decimal places")
        return int(scaled)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return plain_decimal(Decimal(int(value)).scaleb(-self.places))


def Percent() -> Scaled:
    """A percentage with four decimal places (0.1 % per day is stored as 1000)."""
    return Scaled(4)


def plain_decimal(value: Decimal) -> Decimal:
    """The shortest form of a decimal without an exponent: 0.1000 → 0.1, 10.0000 → 10."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC timestamps on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: timestamps must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def enum_type(enum_cls: type[StrEnum]) -> sa.Enum:
    """A VARCHAR holding the enum's values; validated in Python so that new values need no DDL."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        validate_strings=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )
