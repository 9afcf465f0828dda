"""What happens to a claim after drafting: approve, send, record its delivery and the reply,
escalate, withdraw, restore. Each posts its form, calls a claims service, commits once."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _

from ppp_tracker.auth.access import Permission, get_in_scope, require
from ppp_tracker.claims import escalation, sending
from ppp_tracker.claims.forms import (
    ActionForm,
    ApproveForm,
    DeliveryForm,
    EscalateForm,
    ReplyForm,
    SendForm,
    WithdrawForm,
)
from ppp_tracker.claims.models import Claim
from ppp_tracker.claims.tasks import queue_render
from ppp_tracker.claims.views.claim_page import claim_page
from ppp_tracker.claims.views.common import blank, bp, flash_errors
from ppp_tracker.core.dates import fmt
from ppp_tracker.core.errors import Invalid
from ppp_tracker.core.forms import apply_errors
from ppp_tracker.db import db
from ppp_tracker.registry.codes import DocumentType
from ppp_tracker.registry.services.documents import add_document


def _act(
    claim: Claim,
    action,
    success: str | None,
    form=None,
    key: str | None = None,
    renamed: dict[str, str] | None = None,
):
    """Run a state change; refusals (409) come back as a flash, field errors next to fields."""
    try:
        result = action()
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        db.session.refresh(claim)
        if renamed:
            exc = type(exc)({renamed.get(k, k): v for k, v in exc.errors.items()})
        if form is not None and any(k != "_request" for k in exc.errors):
            apply_errors(form, exc)
            return None, claim_page(claim, 422, **{key: form})
        flash_errors(exc)
        return None, redirect(url_for("claims.claim", claim_id=claim.id))
    if success:
        flash(success, "success")
    return result, None


@bp.post("/claims/<id:claim_id>/approve")
def approve(claim_id: int):
    user = require(Permission.APPROVE_CLAIMS)
    claim = get_in_scope(Claim, claim_id)
    form = ApproveForm()
    if not form.validate_on_submit():
        abort(400)
    _result, page = _act(
        claim,
        lambda: sending.approve_claim(user, claim, bool(form.acknowledge_warnings.data)),
        _("The claim is approved."),
        form,
        "approve_form",
    )
    return page or redirect(url_for("claims.claim", claim_id=claim.id))


@bp.post("/claims/<id:claim_id>/send")
def send(claim_id: int):
    user = require(Permission.APPROVE_CLAIMS)
    claim = get_in_scope(Claim, claim_id)
    form = SendForm()
    if not form.validate_on_submit():
        return claim_page(claim, 422, send_form=form)
    sent, page = _act(
        claim,
        lambda: sending.send_claim(
            user,
            claim,
            form.sent_on.data,
            blank(form.outgoing_number.data),
            bool(form.acknowledge_kazakh_gaps.data),
        ),
        None,
        form,
        "send_form",
    )
    if page is not None:
        return page
    queue_render(sent.id)
    if sent.response_due_on is None:
        message = _(
            "Sent: outgoing No. %(n)s of %(d)s; the reply period runs from the contractor's"
            " receipt: record it when known.",
            n=sent.outgoing_number,
            d=fmt(sent.sent_on),
        )
    else:
        message = _(
            "Sent: outgoing No. %(n)s of %(d)s; the reply is due by %(due)s.",
            n=sent.outgoing_number,
            d=fmt(sent.sent_on),
            due=fmt(sent.response_due_on),
        )
    flash(message, "success")
    return redirect(url_for("claims.claim", claim_id=claim.id))


@bp.post("/claims/<id:claim_id>/delivery")
def delivery(claim_id: int):
    user = require(Permission.MANAGE_CLAIMS)
    claim = get_in_scope(Claim, claim_id)
    form = DeliveryForm()
    if not form.validate_on_submit():
        return claim_page(claim, 422, delivery_form=form)
    data = {"method": form.method.data, "received_on": form.delivered_on.data}

    def record():
        proof = None
        upload = form.proof_file.data
        if upload is not None and getattr(upload, "filename", ""):
            # The scan is a typed document of the contract: the registry's one upload path,
            # with its limits (size, types, content) and its audit.
            try:
                proof = add_document(
                    user,
                    owner=claim.contract,
                    document_type=DocumentType.CLAIM_DELIVERY_PROOF,
                    title=_("Proof of delivery of claim No. %(n)s", n=claim.outgoing_number),
                    filename=upload.filename,
                    content=upload.read(),
                )
            except Invalid as exc:
                messages = [m for ms in exc.errors.values() for m in ms]
                raise Invalid({"proof_file": messages}) from None
        return sending.record_delivery(user, claim, data, proof)

    _result, page = _act(
        claim, record, _("The delivery is recorded."), form, "delivery_form", DELIVERY_FIELDS
    )
    return page or redirect(url_for("claims.claim", claim_id=claim.id) + "#delivery")


#: The service's field names → the delivery form's (whose names stay unique on the claim page).
DELIVERY_FIELDS = {"received_on": "delivered_on", "document_id": "proof_file"}


@bp.post("/claims/<id:claim_id>/reply")
def reply(claim_id: int):
    user = require(Permission.MANAGE_CLAIMS)
    claim = get_in_scope(Claim, claim_id)
    form = ReplyForm()
    if not form.validate_on_submit():
        return claim_page(claim, 422, reply_form=form)
    data = {
        "received_on": form.received_on.data,
        "kind": form.kind.data,
        "incoming_number": blank(form.incoming_number.data),
        "summary": blank(form.summary.data),
        "paid_amount": form.paid_amount.data,
    }
    _result, page = _act(
        claim,
        lambda: escalation.record_reply(user, claim, data),
        _("The reply is recorded."),
        form,
        "reply_form",
    )
    return page or redirect(url_for("claims.claim", claim_id=claim.id))


@bp.post("/claims/<id:claim_id>/escalate")
def escalate(claim_id: int):
    user = require(Permission.MANAGE_CLAIMS)
    claim = get_in_scope(Claim, claim_id)
    form = EscalateForm()
    if not form.validate_on_submit():
        return claim_page(claim, 422, escalate_form=form)
    outcome, page = _act(
        claim,
        lambda: escalation.escalate_claim(
            user, claim, form.decision.data, form.next_as_of.data, blank(form.note.data)
        ),
        _("Escalated."),
        form,
        "escalate_form",
    )
    if page is not None:
        return page
    if isinstance(outcome, Claim):
        return redirect(url_for("claims.claim", claim_id=outcome.id))
    return redirect(url_for("claims.claim", claim_id=claim.id))


@bp.post("/claims/<id:claim_id>/withdraw")
def withdraw(claim_id: int):
    user = require(Permission.MANAGE_CLAIMS)
    claim = get_in_scope(Claim, claim_id)
    form = WithdrawForm()
    if not form.validate_on_submit():
        return claim_page(claim, 422, withdraw_form=form)
    _result, page = _act(
        claim,
        lambda: escalation.withdraw_claim(user, claim, form.reason.data),
        _("The claim is withdrawn."),
        form,
        "withdraw_form",
    )
    return page or redirect(url_for("claims.claim", claim_id=claim.id))


@bp.post("/claims/<id:claim_id>/restore")
def restore(claim_id: int):
    user = require(Permission.MANAGE_CLAIMS)
    claim = get_in_scope(Claim, claim_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    _result, page = _act(
        claim, lambda: escalation.restore_claim(user, claim), _("The claim is a draft again.")
    )
    return page or redirect(url_for("claims.claim", claim_id=claim.id))
