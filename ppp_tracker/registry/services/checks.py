"""Checks the registry's services share: enum values, money, whole numbers, decimals, dates,
regions in scope, linked records and users; each adds its message to `Errors` and returns the
parsed value or None."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from ppp_tracker.auth.access import in_scope
from ppp_tracker.auth.models import User
from ppp_tracker.core.limits import MAX_ID
from ppp_tracker.core.validation import Errors, check_date_range, check_text
from ppp_tracker.db import db
from ppp_tracker.registry.models import (
    Party,
    Region,
)

MAX_AMOUNT = Decimal("10") ** 14  # 100 trillion tenge: far above any contract here


# --- shared checks -------------------------------------------------------------------------


def check_enum(errors: Errors, field: str, value, enum_cls, *, required: bool = True):
    if value is None or value == "":
        if required:
            errors.add(field, _("This field is required."))
        return None
    try:
        return enum_cls(value)
    except ValueError:
        errors.add(
            field,
            _(
                "Unknown value %(value)s; allowed: %(allowed)s.",
                value=repr(value),
                allowed=", ".join(m.value for m in enum_cls),
            ),
        )
        return None


def check_money(errors: Errors, field: str, value, *, required: bool = False, positive=False):
    if value is None:
        if required:
            errors.add(field, _("This field is required."))
        return None
    if not isinstance(value, Decimal):
        errors.add(field, _("Must be an amount with at most two decimals."))
        return None
    if not value.is_finite() or abs(value) >= MAX_AMOUNT:
        errors.add(field, _("The amount is implausibly large."))
        return None
    if value != value.quantize(Decimal("0.01")):
        errors.add(field, _("At most two decimals (whole tiyn)."))
        return None
    if value < 0 or (positive and value == 0):
        errors.add(
            field, _("Must be greater than zero.") if positive else _("Must not be negative.")
        )
        return None
    if value >= MAX_AMOUNT:
        errors.add(field, _("The amount is implausibly large."))
        return None
    return value


def check_int(errors: Errors, field: str, value, *, minimum=0, maximum=10**9, required=False):
    if value is None:
        if required:
            errors.add(field, _("This field is required."))
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(field, _("Must be a whole number."))
        return None
    if not minimum <= value <= maximum:
        errors.add(field, _("Must be between %(lo)s and %(hi)s.", lo=minimum, hi=maximum))
        return None
    return value


def check_decimal(errors: Errors, field: str, value, *, minimum=Decimal(0), maximum=None, places=4):
    if value is None:
        return None
    if not isinstance(value, Decimal):
        errors.add(field, _("Must be a number."))
        return None
    if not value.is_finite() or abs(value) >= Decimal(10) ** 12:
        errors.add(field, _("Must be a number."))
        return None
    if value.as_tuple().exponent < -places:
        errors.add(field, _("At most %(n)d decimals.", n=places))
        return None
    if value < minimum or (maximum is not None and value > maximum):
        if maximum is None:
            errors.add(field, _("Must not be negative."))
        else:
            errors.add(field, _("Must be between %(lo)s and %(hi)s.", lo=minimum, hi=maximum))
        return None
    return value


def check_date(errors: Errors, field: str, value, *, required=False) -> date | None:
    if value is None:
        if required:
            errors.add(field, _("This field is required."))
        return None
    if not isinstance(value, date):
        errors.add(field, _("Must be a date as YYYY-MM-DD."))
        return None
    check_date_range(errors, field, value)
    return value


def check_region(errors: Errors, field: str, code, user: User, *, required=True) -> str | None:
    if code is None or code == "":
        if required:
            errors.add(field, _("This field is required."))
        return None
    if db.session.get(Region, code) is None:
        errors.add(field, _("Unknown region code %(code)s.", code=code))
        return None
    if not in_scope(user, code):
        errors.add(field, _("This region is outside your scope."))
        return None
    return code


def check_linked(errors: Errors, field: str, model, ident, user: User | None, *, required=False):
    """The linked record if it exists (and, for regional records, lies in the user's scope)."""
    if ident is None:
        if required:
            errors.add(field, _("This field is required."))
        return None
    if isinstance(ident, bool) or not isinstance(ident, int):
        errors.add(field, _("Must be the id of an existing record."))
        return None
    obj = db.session.get(model, ident) if 1 <= ident <= MAX_ID else None
    if obj is None:
        errors.add(field, _("No record with id %(id)s.", id=ident))
        return None
    region = getattr(obj, "region_code", None)
    if user is not None and model is not Party and not in_scope(user, region):
        errors.add(field, _("No record with id %(id)s.", id=ident))
        return None
    return obj


def check_user_email(errors: Errors, field: str, email, region_code: str | None):
    if email is None or email == "":
        return None
    user = db.session.scalar(sa.select(User).where(User.email == str(email).strip().lower()))
    if user is None or not user.active:
        errors.add(field, _("No active user with the e-mail %(email)s.", email=email))
        return None
    if region_code is not None and not in_scope(user, region_code):
        errors.add(field, _("This user works in another region."))
        return None
    return user


def check_texts(
    errors: Errors,
    data: dict,
    values: dict[str, Any],
    lengths: dict[str, int],
    *,
    required: tuple[str, ...] = (),
    partial: bool = False,
) -> None:
    """Each text field of `lengths` that `data` carries, checked into `values`; a `required`
    one is also checked when absent from a new record's data (`partial` is a change)."""
    for field, length in lengths.items():
        needed = field in required
        if field in data or (needed and not partial):
            values[field] = check_text(
                errors, field, data.get(field), required=needed, max_length=length
            )


def check_enums(
    errors: Errors,
    data: dict,
    values: dict[str, Any],
    enums: dict[str, type],
    *,
    required: tuple[str, ...] = (),
    partial: bool = False,
) -> None:
    """Each closed-list field of `enums` that `data` carries, checked into `values`; a
    `required` one is also checked when absent from a new record's data."""
    for field, enum_cls in enums.items():
        if field in data or (field in required and not partial):
            values[field] = check_enum(errors, field, data.get(field), enum_cls)


def set_values(obj, values: dict[str, Any]) -> None:
    for key, value in values.items():
        setattr(obj, key, value)


def store(obj, model, values: dict[str, Any]):
    """`obj`, or a new `model` added to the session, with `values` set; flushed."""
    if obj is None:
        obj = model()
        db.session.add(obj)
    set_values(obj, values)
    db.session.flush()
    return obj
