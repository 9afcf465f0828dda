"""Forms of the alert pages: a contract's reminder rules, a user's notification preferences."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from ppp_tracker.auth.models import AlertMode
from ppp_tracker.i18n import LANGUAGE_NAMES


class ContractRulesForm(FlaskForm):
    days_before = StringField(
        _l("Remind this many days before the due date"),
        validators=[Optional(), Length(max=100)],
        description=_l("Numbers separated by commas, e.g. 30, 14, 7, 3, 1; empty: none."),
    )
    on_due_day = BooleanField(_l("Remind on the due day"))
    overdue = BooleanField(_l("Remind the day after the due date when it is not met"))
    overdue_every_days = IntegerField(
        _l("Then remind every N days until met or waived"),
        validators=[InputRequired()],
        description=_l("0: only the day after."),
    )


class PreferencesForm(FlaskForm):
    alert_mode = SelectField(_l("Reminders by e-mail"), choices=AlertMode.choices)
    locale = SelectField(_l("Language of e-mails and pages"), choices=list(LANGUAGE_NAMES.items()))
