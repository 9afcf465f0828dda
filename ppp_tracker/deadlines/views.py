"""The administrator's working-day calendar with its overrides and confirmed years (the deadline
list, which also shows the reminders sent, is the reports feature's: reports/deadline_list.py)."""

from __future__ import annotations

import calendar as stdcal
from datetime import date

import sqlalchemy as sa
from babel.dates import get_day_names, get_month_names
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from ppp_tracker import clock
from ppp_tracker.auth.access import Permission, require
from ppp_tracker.core.calendar import CalendarOverride
from ppp_tracker.core.errors import Invalid
from ppp_tracker.core.forms import apply_errors, flash_errors
from ppp_tracker.core.validation import positive_id
from ppp_tracker.core.web import locale_code
from ppp_tracker.db import db
from ppp_tracker.deadlines import services, years
from ppp_tracker.deadlines.forms import ConfirmYearForm, OverrideForm, RemoveOverrideForm

bp = Blueprint("deadlines", __name__)


@bp.before_request
@login_required
def _logged_in():
    """Every deadline page needs a logged-in user."""


# --- the working-day calendar (administrators) -------------------------------------------------


def _int_arg(name: str) -> int | None:
    return positive_id(request.args.get(name))


def _year_arg() -> int:
    year = _int_arg("year")
    return year if year is not None and 1991 <= year <= 2100 else clock.today().year


def _calendar_page(year: int, form: OverrideForm, status: int = 200):
    days = services.year_days(year, locale_code())
    months = []
    for month in range(1, 13):
        weeks = stdcal.Calendar(firstweekday=0).monthdatescalendar(year, month)
        by_day = {d.day: d for d in days}
        months.append(
            (
                month,
                [
                    [by_day.get(day) if day.month == month else None for day in week]
                    for week in weeks
                ],
            )
        )
    overrides = db.session.scalars(
        sa.select(CalendarOverride)
        .where(CalendarOverride.day >= date(year, 1, 1), CalendarOverride.day <= date(year, 12, 31))
        .order_by(CalendarOverride.day)
    ).all()
    today = clock.today()
    shown = sorted({year, *range(today.year - 1, today.year + 3)})
    return render_template(
        "deadlines/calendar.html",
        year=year,
        year_states=years.year_states(shown),
        this_year=years.year_state(year),
        confirm_form=ConfirmYearForm(),
        months=months,
        unusual=[d for d in days if d.unusual],
        overrides=overrides,
        form=form,
        remove_form=RemoveOverrideForm(),
        month_names=[_month_name(m) for m in range(1, 13)],
        weekday_names=_weekday_names(),
    ), status


def _month_name(month: int) -> str:
    return get_month_names("wide", "stand-alone", locale=locale_code())[month].capitalize()


def _weekday_names() -> list[str]:
    """Monday to Sunday, abbreviated in the reader's language."""
    names = get_day_names("abbreviated", "stand-alone", locale=locale_code())
    return [names[day].capitalize() for day in range(7)]


@bp.get("/admin/calendar")
def calendar():
    require(Permission.ADMIN)
    return _calendar_page(_year_arg(), OverrideForm(kind="off"))


@bp.post("/admin/calendar/overrides")
def add_override():
    user = require(Permission.ADMIN)
    form = OverrideForm()
    year = form.day.data.year if form.day.data else _year_arg()
    if form.validate_on_submit():
        moved = []
        try:
            services.set_override(
                form.day.data, form.kind.data == "working", form.reason.data, user, moved=moved
            )
            db.session.commit()
        except Invalid as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            flash(_moved_message(form.day.data, len(moved)), "success")
            return redirect(url_for("deadlines.calendar", year=form.day.data.year))
    return _calendar_page(year, form, 422)


@bp.post("/admin/calendar/years/<int(min=1991, max=2100):year>/confirm")
def confirm_year(year: int):
    user = require(Permission.ADMIN)
    form = ConfirmYearForm()
    if not form.validate_on_submit():
        abort(400)
    _row, new = years.confirm_year(year, user)
    db.session.commit()
    if new:
        flash(_("The calendar of %(y)s is confirmed.", y=year), "success")
    else:
        flash(_("The calendar of %(y)s was already confirmed.", y=year), "info")
    return redirect(url_for("deadlines.calendar", year=year))


@bp.post("/admin/calendar/overrides/remove")
def remove_override():
    require(Permission.ADMIN)
    form = RemoveOverrideForm()
    if form.validate_on_submit():
        moved = []
        try:
            services.remove_override(form.day.data, moved=moved)
            db.session.commit()
        except Invalid as exc:
            db.session.rollback()
            flash_errors(exc)
        else:
            flash(_moved_message(form.day.data, len(moved), removed=True), "success")
        return redirect(url_for("deadlines.calendar", year=form.day.data.year))
    flash(_("Choose the day whose override to remove."), "danger")
    return redirect(url_for("deadlines.calendar"))


def _moved_message(day: date, count: int, removed: bool = False) -> str:
    when = day.strftime("%d.%m.%Y")
    first = (
        _("The override of %(d)s is removed.", d=when)
        if removed
        else _("%(d)s is saved in the calendar.", d=when)
    )
    return first + " " + _("Effective due dates moved: %(n)d.", n=count)
