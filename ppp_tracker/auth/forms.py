"""Forms of the login, profile and user-administration pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from ppp_tracker.auth.models import Role
from ppp_tracker.auth.services import MIN_PASSWORD_LENGTH
from ppp_tracker.core import limits
from ppp_tracker.core.forms import VisibleText


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class ProfileForm(FlaskForm):
    name = StringField(
        _l("Full name"), validators=[DataRequired(), Length(max=limits.NAME), VisibleText()]
    )
    position = StringField(
        _l("Position"), validators=[Optional(), Length(max=limits.NAME), VisibleText()]
    )
    phone = StringField(
        _l("Phone"), validators=[Optional(), Length(max=limits.CODE), VisibleText()]
    )
    # Language and alert mode are set in the notifications card (alerts feature).


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=limits.PASSWORD)],
    )


class TokenForm(FlaskForm):
    name = StringField(_l("Label"), validators=[DataRequired(), Length(max=limits.NAME)])


class UserForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=limits.NAME)])
    name = StringField(
        _l("Full name"), validators=[DataRequired(), Length(max=limits.NAME), VisibleText()]
    )
    position = StringField(
        _l("Position"), validators=[Optional(), Length(max=limits.NAME), VisibleText()]
    )
    role = SelectField(_l("Role"), choices=Role.choices)
    region = SelectField(_l("Region"), choices=[])
    active = BooleanField(_l("Active"), default=True)
    password = PasswordField(
        _l("Password"),
        validators=[Optional(), Length(min=MIN_PASSWORD_LENGTH, max=limits.PASSWORD)],
        description=_l("Leave empty to keep the current password (or to generate one)."),
    )
