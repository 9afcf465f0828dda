"""Deadline pages: what is overdue and what is coming (filtered, in the user's scope) and the
administrator's working-day calendar with its overrides."""

from __future__ import annotations

import calendar as stdcal
from datetime import date

import sqlalchemy as sa
from babel.dates import get_day_names, get_month_names
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from ppp_tracker import clock
from ppp_tracker.auth.access import Permission, require, scope
from ppp_tracker.auth.models import Role, User
from ppp_tracker.core import versions
from ppp_tracker.core.calendar import CalendarOverride, get_calendar
from ppp_tracker.core.dates import milestone_timing
from ppp_tracker.core.errors import Invalid
from ppp_tracker.core.forms import apply_errors
from ppp_tracker.core.listing import PER_PAGE_CHOICES, Pages
from ppp_tracker.core.regions import Region
from ppp_tracker.core.validation import positive_id
from ppp_tracker.core.web import locale_code
from ppp_tracker.db import db
from ppp_tracker.deadlines import services, years
from ppp_tracker.deadlines.forms import ConfirmYearForm, OverrideForm, RemoveOverrideForm
from ppp_tracker.deadlines.queries import deadline_page
from ppp_tracker.registry.models import Contract, Party

bp = Blueprint("deadlines", __name__)

#: The "coming up" list looks this many days ahead unless the user asks otherwise.
DEFAULT_WITHIN_DAYS = 30
MAX_WITHIN_DAYS = 366


@bp.before_request
@login_required
def _logged_in():
    """Every deadline page needs a logged-in user."""


def _int_arg(name: str) -> int | None:
    return positive_id(request.args.get(name))


@bp.get("/deadlines")
def deadlines():
    """What is overdue and what is coming up. The body is kept per (scope, role, language, day,
    query string, last scan, data version): the registry's changes and the alerts the scan
    creates move the data version (core.versions), the scan's end the last scan."""
    user = require(Permission.READ)
    from ppp_tracker.alerts.services import last_completed_scan

    body = versions.scope_body(
        user, "deadlines", lambda: _deadlines_body(user), last_completed_scan()
    )
    return render_template("deadlines/deadlines.html", body=body)


def _deadlines_body(user: User) -> str:
    today = clock.today()
    locale = locale_code()
    region = request.args.get("region") or None
    contract_id = _int_arg("contract_id")
    officer_id = _int_arg("officer")
    q = (request.args.get("q") or "").strip()[:200]
    within = _int_arg("within_days")
    within = DEFAULT_WITHIN_DAYS if within is None else min(within, MAX_WITHIN_DAYS)
    filters = {"region": region, "contract_id": contract_id, "officer_id": officer_id, "q": q}
    # Both in due-date order: the most overdue first, then the nearest coming up; a page of
    # each (thousands of rows for all regions), counted in full.
    per_page = PER_PAGE_CHOICES[0]
    rows, pages = {}, {}
    for kind, within_days in (("overdue", None), ("upcoming", within)):
        total, page, milestones = deadline_page(
            user,
            as_of=today,
            state=kind,
            within_days=within_days,
            page=_int_arg(f"{kind}_page") or 1,
            per_page=per_page,
            **filters,
        )
        rows[kind] = [(m, milestone_timing(m, today, locale)) for m in milestones]
        pages[kind] = Pages(total, page, per_page, page_arg=f"{kind}_page", anchor=kind)
    regions = db.session.scalars(
        scope(sa.select(Region).order_by(Region.name_ru), user, Region.code)
    ).all()
    # The contract filter is a search field (thousands of contracts make no menu); a contract
    # chosen elsewhere (its page links here) is named, in scope or not at all.
    chosen_contract = None
    if contract_id is not None:
        contractor = sa.orm.aliased(Party)
        chosen_contract = db.session.execute(
            scope(
                sa.select(Contract.number, contractor.name)
                .join(contractor, Contract.contractor_id == contractor.id)
                .where(Contract.id == contract_id),
                user,
                Contract.region_code,
            )
        ).first()
    officers = db.session.scalars(
        sa.select(User)
        .where(
            User.active.is_(True),
            User.role.in_([Role.OFFICER, Role.MANAGER, Role.ADMIN, Role.LEGAL]),
            *(
                [sa.or_(User.region_code.is_(None), User.region_code == user.region_code)]
                if user.region_code
                else []
            ),
        )
        .order_by(User.name)
    ).all()
    from ppp_tracker.alerts.services import last_alerts, last_completed_scan
    from ppp_tracker.deadlines.penalty import contract_penalties

    ids = [m.id for m, _t in rows["overdue"] + rows["upcoming"]]
    calendar = get_calendar()
    penalties = contract_penalties({m.contract_id for m, _t in rows["overdue"]}, today, calendar)
    accrued = {}
    for m, _t in rows["overdue"]:
        line = penalties[m.contract_id].row(m.id) if m.contract_id in penalties else None
        accrued[m.id] = line.accrued if line else None
    # The exports carry the page's filters, one list each, every row (not the page's).
    common = {
        "region": region,
        "contract_id": contract_id,
        "officer": officer_id,
        "q": q or None,
    }
    exports = {
        "overdue": {"state": "overdue", **common},
        "upcoming": {"state": "upcoming", "within_days": within, **common},
    }
    return render_template(
        "deadlines/_body.html",
        rows=rows,
        pages=pages,
        accrued=accrued,
        exports={
            k: {a: v for a, v in args.items() if v is not None} for k, args in exports.items()
        },
        within=within,
        regions=[(r.code, r.name(locale)) for r in regions],
        chosen_contract=(
            f"№ {chosen_contract[0]} · {chosen_contract[1]}" if chosen_contract else None
        ),
        officers=[(u.id, u.name) for u in officers],
        selected={
            "region": region or "",
            "contract_id": contract_id,
            "officer": officer_id,
            "q": q,
        },
        last_alerts=last_alerts(ids),
        last_scan=last_completed_scan(),
    )


# --- the working-day calendar (administrators) -------------------------------------------------


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
            for messages in exc.errors.values():
                for message in messages:
                    flash(message, "danger")
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
