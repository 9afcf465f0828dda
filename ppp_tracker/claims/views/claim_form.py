"""A claim drafted or changed: the late obligations to choose from, the penalty's day, the
demand and the further facts."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ppp_tracker import clock
from ppp_tracker.auth.access import Permission, get_in_scope, require
from ppp_tracker.claims import drafting, staleness
from ppp_tracker.claims.forms import ClaimForm
from ppp_tracker.claims.models import Claim
from ppp_tracker.claims.views.common import blank, bp, parse_day
from ppp_tracker.core.dates import days_late_phrase, fmt
from ppp_tracker.core.forms import save_form
from ppp_tracker.core.web import locale_code
from ppp_tracker.deadlines.penalty import contract_penalty
from ppp_tracker.money import format_money
from ppp_tracker.registry.codes import Obligor
from ppp_tracker.registry.models import Contract


def _late_choices(contract: Contract, as_of: date) -> list[tuple[int, str]]:
    """Every contractor obligation with a date, labelled with its lateness on `as_of`."""
    result = {line.milestone_id: line for line in contract_penalty(contract, as_of).lines}
    choices = []
    for m in contract.milestones:
        if m.obligor != Obligor.CONTRACTOR or m.due_on is None:
            continue
        line = result.get(m.id)
        if line is None:
            label = _("%(title)s — not late on %(d)s", title=m.title, d=fmt(as_of))
        else:
            label = _(
                "%(title)s — due %(due)s, %(late)s, %(amount)s",
                title=m.title,
                due=fmt(line.effective_due_on),
                late=days_late_phrase(line.days_late),
                amount=format_money(line.accrued, locale_code()),
            )
        choices.append((m.id, label))
    return choices


def _claim_data(form: ClaimForm) -> dict:
    return {
        "milestone_ids": list(form.milestone_ids.data or []),
        "as_of": form.as_of.data,
        "demand": form.demand.data,
        "facts_note": blank(form.facts_note.data),
        "attachments": blank(form.attachments.data),
    }


def _claim_form_page(form: ClaimForm, save, saved: str, context):
    """A valid submission goes to `save` (a drafting service) and, committed, to the claim with
    the message `saved`; otherwise the form with the service's errors next to its fields and
    `context()` (the contract, the claim, the penalty's warnings, why it is stale)."""
    if form.validate_on_submit():
        done = save_form(
            form, save, lambda claim: url_for("claims.claim", claim_id=claim.id), saved=saved
        )
        if done:
            return done
    status = 422 if (form.errors or form.form_errors) else 200
    return render_template("claims/claim_form.html", form=form, **context()), status


@bp.route("/contracts/<id:contract_id>/claims/new", methods=["GET", "POST"])
def new_claim(contract_id: int):
    user = require(Permission.MANAGE_CLAIMS)
    contract = get_in_scope(Contract, contract_id)
    form = ClaimForm()
    if request.method == "GET":
        form.as_of.data = parse_day(request.args.get("as_of")) or clock.today()
    as_of = form.as_of.data or clock.today()
    form.milestone_ids.choices = _late_choices(contract, as_of)
    if request.method == "GET":
        late = {line.milestone_id for line in contract_penalty(contract, as_of).lines}
        form.milestone_ids.data = [mid for mid, _label in form.milestone_ids.choices if mid in late]
        form.demand.data = "perform_and_pay"
    return _claim_form_page(
        form,
        lambda: drafting.create_claim(user, contract, _claim_data(form)),
        _("The draft claim is saved. Another person approves it."),
        lambda: {
            "contract": contract,
            "claim": None,
            "warnings": contract_penalty(contract, as_of).warnings,
            "stale": [],
        },
    )


@bp.route("/claims/<id:claim_id>/edit", methods=["GET", "POST"])
def edit_claim(claim_id: int):
    user = require(Permission.MANAGE_CLAIMS)
    claim = get_in_scope(Claim, claim_id)
    if not claim.is_editable:
        flash(
            _("A sent letter never changes; record a reply or escalate instead.")
            if claim.outgoing_number
            else _("The claim is withdrawn; restore it to change it."),
            "danger",
        )
        return redirect(url_for("claims.claim", claim_id=claim.id))
    form = ClaimForm(obj=claim)
    if request.method == "GET":
        form.milestone_ids.data = claim.milestone_ids
        form.demand.data = str(claim.demand)
    form.milestone_ids.choices = _late_choices(claim.contract, form.as_of.data or claim.as_of)
    return _claim_form_page(
        form,
        lambda: drafting.update_claim(
            user, claim, {**_claim_data(form), "recompute": bool(request.form.get("recompute"))}
        ),
        _("Saved as a new version."),
        lambda: {
            "contract": claim.contract,
            "claim": claim,
            "warnings": staleness.claim_warnings(claim),
            "stale": staleness.stale_reasons(claim),
        },
    )
