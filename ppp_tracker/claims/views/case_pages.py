"""Lawsuits: the list, a case with its hearings, a case opened or edited, a hearing added or
marked as held."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ppp_tracker import clock
from ppp_tracker.auth.access import Permission, acting_user, get_in_scope, require, scope
from ppp_tracker.claims import cases as lawsuits
from ppp_tracker.claims.codes import CaseOutcome
from ppp_tracker.claims.forms import CaseForm, HearingForm, HeldForm
from ppp_tracker.claims.models import Case, Claim
from ppp_tracker.claims.views.common import blank, bp, flash_errors
from ppp_tracker.core.dates import fmt
from ppp_tracker.core.errors import Invalid
from ppp_tracker.core.forms import save_form
from ppp_tracker.core.listing import Listing
from ppp_tracker.db import db
from ppp_tracker.registry.models import Contract, Milestone, Party
from ppp_tracker.registry.views.common import history_of


@bp.get("/cases")
def cases():
    user = acting_user()
    contractor = sa.orm.aliased(Party)
    stmt = (
        sa.select(Case)
        .join(Contract, Contract.id == Case.contract_id)
        .join(contractor, Contract.contractor_id == contractor.id)
    )
    listing = Listing(
        scope(stmt, user, Case.region_code),
        search=[Contract.search_text, contractor.search_text, Case.search_text],
        sorts={"filed_on": Case.filed_on, "outcome": Case.outcome},
        default_sort="-filed_on",
        filters={"outcome": Case.outcome},
    )
    return render_template(
        "claims/cases.html", listing=listing, outcomes=CaseOutcome, flags=lawsuits.open_flags(user)
    )


def _case_page(case: Case, status: int = 200, **forms):
    forms.setdefault("hearing_form", HearingForm(formdata=None))
    forms.setdefault("held_form", HeldForm(formdata=None, held_on=clock.today()))
    return render_template(
        "claims/case.html",
        case=case,
        history=history_of(("cases", [case.id])),
        **forms,
    ), status


@bp.get("/cases/<id:case_id>")
def case(case_id: int):
    return _case_page(get_in_scope(Case, case_id))


def _sent_claim_choices(contract: Contract) -> list[tuple[int, str]]:
    claims = db.session.scalars(
        sa.select(Claim)
        .where(Claim.contract_id == contract.id, Claim.outgoing_number.is_not(None))
        .order_by(Claim.sent_on)
    ).all()
    return [(c.id, _("No. %(n)s of %(d)s", n=c.outgoing_number, d=fmt(c.sent_on))) for c in claims]


@bp.route("/contracts/<id:contract_id>/cases/new", methods=["GET", "POST"])
@bp.route("/cases/<id:case_id>/edit", methods=["GET", "POST"])
def edit_case(contract_id: int | None = None, case_id: int | None = None):
    user = require(Permission.MANAGE_CLAIMS)
    case = get_in_scope(Case, case_id) if case_id else None
    contract = case.contract if case else get_in_scope(Contract, contract_id)
    form = CaseForm(obj=case)
    form.claim_ids.choices = _sent_claim_choices(contract)
    if request.method == "GET":
        if case is None:
            form.court_name.data = contract.region.court_name
            form.court_name_kk.data = contract.region.court_name_kk
            form.filed_on.data = clock.today()
            form.claim_ids.data = [cid for cid, _label in form.claim_ids.choices]
            form.outcome.data = "pending"
        else:
            form.claim_ids.data = [c.id for c in case.claims]
            form.outcome.data = str(case.outcome)
    if form.validate_on_submit():
        data = {
            "court_name": form.court_name.data,
            "court_name_kk": blank(form.court_name_kk.data),
            "case_number": blank(form.case_number.data),
            "filed_on": form.filed_on.data,
            "claims_penalty": form.claims_penalty.data,
            "claims_register": form.claims_register.data,
            "amount_claimed": form.amount_claimed.data,
            "claim_ids": list(form.claim_ids.data or []),
            "outcome": form.outcome.data,
            "decided_on": form.decided_on.data,
            "amount_awarded": form.amount_awarded.data,
            "amount_paid": form.amount_paid.data,
            "notes": blank(form.notes.data),
        }
        done = save_form(
            form,
            lambda: lawsuits.save_case(user, contract, data, case),
            lambda saved: url_for("claims.case", case_id=saved.id),
            saved=_("Saved."),
        )
        if done:
            return done
    status = 422 if (form.errors or form.form_errors) else 200
    return render_template("claims/case_form.html", form=form, contract=contract, case=case), status


@bp.post("/cases/<id:case_id>/hearings")
def add_hearing(case_id: int):
    user = require(Permission.MANAGE_CLAIMS)
    case = get_in_scope(Case, case_id)
    form = HearingForm()
    if form.validate_on_submit():
        data = {"hearing_on": form.hearing_on.data, "note": blank(form.note.data)}
        done = save_form(
            form,
            lambda: lawsuits.add_hearing(user, case, data),
            lambda _hearing: url_for("claims.case", case_id=case.id),
            saved=_("The hearing is added to the contract's milestones."),
        )
        if done:
            return done
    return _case_page(case, 422, hearing_form=form)


@bp.post("/cases/<id:case_id>/hearings/<id:milestone_id>/held")
def hearing_held(case_id: int, milestone_id: int):
    user = require(Permission.MANAGE_CLAIMS)
    case = get_in_scope(Case, case_id)
    milestone = get_in_scope(Milestone, milestone_id)
    form = HeldForm()
    if form.validate_on_submit():
        try:
            lawsuits.hearing_held(user, case, milestone, form.held_on.data)
            db.session.commit()
        except Invalid as exc:
            db.session.rollback()
            flash_errors(exc)
        else:
            flash(_("The hearing is marked as held."), "success")
    else:
        for messages in form.errors.values():
            for message in messages:
                flash(str(message), "danger")
    return redirect(url_for("claims.case", case_id=case.id))
