"""Forms of the reports pages (the import upload; the calendar feed's buttons carry only CSRF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField

from ppp_tracker.reports.models import ImportKind


class ImportForm(FlaskForm):
    kind = SelectField(_l("The file contains"), choices=ImportKind.choices)
    file = FileField(
        _l("File (.xlsx or .csv)"),
        validators=[FileRequired(_l("Choose a file."))],
        description=_l("The first row names the columns; download a template below."),
    )


class ButtonForm(FlaskForm):
    """A form that is only a button: CSRF protection for actions without fields."""
