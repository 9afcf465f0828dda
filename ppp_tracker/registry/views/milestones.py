"""Pages of milestones: detail, form, marking one or several met."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext

from ppp_tracker import clock
from ppp_tracker.auth.access import (
    Permission,
    get_in_scope,
    require,
)
from ppp_tracker.core.dates import milestone_timing
from ppp_tracker.core.errors import Invalid
from ppp_tracker.core.forms import save_form
from ppp_tracker.core.web import locale_code
from ppp_tracker.db import db
from ppp_tracker.registry.codes import (
    MilestoneStatus,
)
from ppp_tracker.registry.forms import (
    ConfirmForm,
    MarkMetForm,
    MilestoneForm,
    blank_to_none,
)
from ppp_tracker.registry.models import (
    Contract,
    Milestone,
)
from ppp_tracker.registry.services import milestones as milestone_services
from ppp_tracker.registry.services.milestones import save_milestone
from ppp_tracker.registry.views.common import (
    bp,
    edit_page,
    history_of,
    officer_choices,
)

MILESTONE_PANELS: dict = {}


def milestone_panels(milestone: Milestone) -> list:
    return [html for html in (panel(milestone) for panel in MILESTONE_PANELS.values()) if html]


@bp.get("/milestones/<id:milestone_id>")
def milestone(milestone_id: int):
    milestone = get_in_scope(Milestone, milestone_id)
    return render_template(
        "registry/milestone.html",
        milestone=milestone,
        timing=milestone_timing(milestone, clock.today(), locale_code()),
        met_form=MarkMetForm(met_on=clock.today()),
        history=history_of(("milestones", [milestone.id])),
        extra_panels=milestone_panels(milestone),
    )


def _claim_choices(contract: Contract) -> list[tuple[int, str]]:
    """The contract's claims, for dates that count from a claim's sending."""
    Claim = Milestone.claim_class()

    claims = db.session.scalars(
        sa.select(Claim).where(Claim.contract_id == contract.id).order_by(Claim.sequence, Claim.id)
    )
    return [
        (
            c.id,
            _("Claim %(seq)s, No. %(n)s", seq=c.sequence, n=c.outgoing_number)
            if c.outgoing_number
            else _("Claim %(seq)s (not sent yet)", seq=c.sequence),
        )
        for c in claims
    ]


@bp.route("/contracts/<id:contract_id>/milestones/new", methods=["GET", "POST"])
@bp.route("/milestones/<id:milestone_id>/edit", methods=["GET", "POST"])
def edit_milestone(contract_id: int | None = None, milestone_id: int | None = None):
    user = require(Permission.EDIT_REGISTRY)
    milestone = get_in_scope(Milestone, milestone_id) if milestone_id else None
    contract = milestone.contract if milestone else get_in_scope(Contract, contract_id)
    form = MilestoneForm(obj=milestone)
    form.responsible.choices = officer_choices(contract.region_code)
    form.relative_to.choices = [(None, "—")] + [
        (m.id, m.title[:100])
        for m in contract.milestones
        if milestone is None or m.id != milestone.id
    ]
    form.relative_to_claim.choices = [(None, "—"), *_claim_choices(contract)]
    if request.method == "GET":
        if milestone is not None:
            form.fill(milestone)
        else:
            form.responsible.data = contract.officer.email if contract.officer else ""
    return edit_page(
        form,
        lambda: save_milestone(user, contract, form.service_data(milestone), milestone),
        lambda obj: url_for("registry.contract", contract_id=contract.id) + "#milestones",
        template="registry/milestone_form.html",
        title=_("Milestone of contract No. %(n)s", n=contract.number),
        cancel=(
            url_for("registry.milestone", milestone_id=milestone.id)
            if milestone
            else url_for("registry.contract", contract_id=contract.id)
        ),
        milestone=milestone,
    )


#: Milestones marked met in one go at most (a page of the deadlines list is 25–100).
BULK_AT_MOST = 200


def _bulk_selection(user, source) -> tuple[list[Milestone], date | None, bool]:
    """The milestones chosen in `source` (ids) that the user may change, in due order, the
    date of performance asked for, and whether the date was given but unreadable."""
    ids = []
    for value in source.getlist("ids"):
        value = value.strip()
        if value.isdigit() and len(value) < 10:
            ids.append(int(value))
    ids = sorted(set(ids))[:BULK_AT_MOST]
    milestones = milestone_services.in_scope_by_id(user, ids)
    raw = (source.get("met_on") or "").strip()
    try:
        met_on = date.fromisoformat(raw) if raw else None
    except ValueError:
        met_on = None
    return list(milestones), met_on, bool(raw) and met_on is None


@bp.route("/milestones/bulk-met", methods=["GET", "POST"])
def bulk_met():
    """Several milestones marked met with one date: the deadlines page's selection is shown
    for confirmation (GET), then each is marked as on its own page (POST, one audit entry per
    milestone, all or nothing)."""
    user = require(Permission.EDIT_REGISTRY)
    source = request.form if request.method == "POST" else request.args
    milestones, met_on, bad_date = _bulk_selection(user, source)
    form = ConfirmForm()
    errors: list[str] = []
    status = 200
    if bad_date:
        errors.append(_("This is not a date."))
    elif met_on is None:
        errors.append(_("Say on which day the obligations were performed."))
    elif met_on > clock.today():
        errors.append(_("The date of performance cannot be in the future."))
    already = [m for m in milestones if m.status == MilestoneStatus.MET]
    to_mark = [m for m in milestones if m.status != MilestoneStatus.MET]
    if not to_mark:
        errors.append(_("Select the obligations to mark as met on the deadlines page."))
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if not errors:
            try:
                for milestone in to_mark:
                    milestone_services.mark_met(user, milestone, met_on, None)
                db.session.commit()
            except Invalid as exc:
                db.session.rollback()
                errors.extend(m for messages in exc.errors.values() for m in messages)
                milestones, met_on, _bad = _bulk_selection(user, source)
                already = [m for m in milestones if m.status == MilestoneStatus.MET]
                to_mark = [m for m in milestones if m.status != MilestoneStatus.MET]
            else:
                flash(
                    ngettext(
                        "%(num)d obligation marked as met on %(date)s.",
                        "%(num)d obligations marked as met on %(date)s.",
                        len(to_mark),
                        date=met_on.strftime("%d.%m.%Y"),
                    ),
                    "success",
                )
                return redirect(url_for("reports.deadlines"))
        status = 422
    elif errors and milestones:
        status = 422
    return render_template(
        "registry/bulk_met.html",
        form=form,
        to_mark=to_mark,
        already=already,
        met_on=met_on,
        errors=errors,
        today=clock.today(),
    ), status


@bp.post("/milestones/<id:milestone_id>/met")
def mark_met(milestone_id: int):
    user = require(Permission.EDIT_REGISTRY)
    milestone = get_in_scope(Milestone, milestone_id)
    form = MarkMetForm()
    if form.validate_on_submit():
        done = save_form(
            form,
            lambda: milestone_services.mark_met(
                user, milestone, form.met_on.data, blank_to_none(form.note.data)
            ),
            lambda _met: url_for("registry.milestone", milestone_id=milestone.id),
            saved=_("The milestone is marked as met."),
        )
        if done:
            return done
    return render_template(
        "registry/milestone.html",
        milestone=milestone,
        timing=milestone_timing(milestone, clock.today(), locale_code()),
        met_form=form,
        history=history_of(("milestones", [milestone.id])),
        extra_panels=[],
    ), 422
