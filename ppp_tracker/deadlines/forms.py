"""Forms of the deadline pages: the admin's calendar override."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length


class OverrideForm(FlaskForm):
    day = DateField(_l("Day"), validators=[DataRequired()])
    kind = SelectField(
        _l("The day becomes"),
        choices=[("off", _l("a day off")), ("working", _l("a working day"))],
    )
    reason = StringField(
        _l("Reason (the decree)"),
        validators=[DataRequired(), Length(max=500)],
        description=_l("E.g. «Постановление Правительства РК от … № …»"),
    )


class ConfirmYearForm(FlaskForm):
    """Only the CSRF token: the year is in the address."""


class RemoveOverrideForm(FlaskForm):
    day = DateField(_l("Day"), validators=[DataRequired()])
