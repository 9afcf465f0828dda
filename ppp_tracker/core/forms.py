"""Helpers shared by the WTForms forms of every feature."""

from __future__ import annotations

from decimal import Decimal

from flask import flash, redirect
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, validators
from wtforms.validators import ValidationError

from ppp_tracker.core.errors import Invalid
from ppp_tracker.core.validation import invisible_problem
from ppp_tracker.db import db
from ppp_tracker.money import MoneyError, parse_money, parse_percent


def apply_errors(form: FlaskForm, exc: Invalid, field_map: dict[str, str] | None = None) -> None:
    """Put a service's field errors next to the form's fields; others go above the form."""
    field_map = field_map or getattr(form, "field_map", {})
    for name, messages in exc.errors.items():
        target = field_map.get(name, name)
        field = form._fields.get(target)
        if field is None and "." in name:
            field = form._fields.get(name.replace(".", "_"))
        if field is not None:
            field.errors = list(field.errors) + messages
        else:
            form.form_errors.extend(f"{name}: {m}" for m in messages)


def save_form(form: FlaskForm, save, redirect_to, *, saved: str, field_map=None):
    """Run a service (`save`) with the form's data: committed, flash `saved` and redirect to
    `redirect_to(result)`; refused, roll back, put its errors next to the form's fields and
    return None (the caller shows the form again)."""
    try:
        result = save()
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        apply_errors(form, exc, field_map)
        return None
    flash(saved, "success")
    return redirect(redirect_to(result))


def flash_errors(exc: Invalid) -> None:
    """A service's refusal on a page without a form to show it next to: each message flashed."""
    for messages in exc.errors.values():
        for message in messages:
            flash(message, "danger")


class NumberRange(validators.NumberRange):
    """WTForms' NumberRange, except that a number too large for a float ("9" * 400) is out of
    range instead of an OverflowError in `math.isnan` (a 500)."""

    def __call__(self, form, field):
        try:
            super().__call__(form, field)
        except OverflowError:
            if self.max is None:
                message = field.gettext("Number must be at least %(min)s.")
            else:
                message = field.gettext("Number must be between %(min)s and %(max)s.")
            raise ValidationError(
                self.message or message % {"min": self.min, "max": self.max}
            ) from None


class MoneyField(StringField):
    """An amount in tenge typed as "23 100 000,00" or "23100000.00"; becomes a Decimal."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        self.data = None
        self._raw = valuelist[0] if valuelist else ""
        if self._raw and self._raw.strip():
            try:
                self.data = parse_money(self._raw)
            except MoneyError as exc:
                self.data = None
                raise ValueError(_l("Enter an amount in tenge, e.g. 23 100 000,00.")) from exc

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if isinstance(self.data, Decimal):
            return f"{self.data:.2f}"
        return ""


class PercentField(StringField):
    def process_formdata(self, valuelist):
        self.data = None
        raw = valuelist[0] if valuelist else ""
        if raw and raw.strip():
            try:
                self.data = parse_percent(raw)
            except MoneyError as exc:
                raise ValueError(_l("Enter a percentage, e.g. 0.1.")) from exc

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)


class VisibleText:
    """Refuses invisible direction and zero-width characters (core.validation's one rule), for
    the fields that do not go through a service's `check_text` (the user's own name)."""

    def __call__(self, form, field) -> None:

        problem = invisible_problem(field.data if isinstance(field.data, str) else None)
        if problem:
            raise ValidationError(problem)
