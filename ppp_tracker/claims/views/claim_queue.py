"""The queue of claims (tabs, search by outgoing number) and the approval of several drafts
chosen in it."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import ngettext
from sqlalchemy.orm import selectinload

from ppp_tracker import clock
from ppp_tracker.auth.access import Permission, acting_user, require, scope
from ppp_tracker.claims import cases as lawsuits
from ppp_tracker.claims import numbering, sending
from ppp_tracker.claims.codes import ClaimStatus
from ppp_tracker.claims.forms import ActionForm
from ppp_tracker.claims.models import Claim
from ppp_tracker.claims.views.common import bp
from ppp_tracker.core.errors import Invalid
from ppp_tracker.core.listing import Listing
from ppp_tracker.db import db
from ppp_tracker.registry.models import Contract, Party

#: The queue's tabs: name -> statuses shown.
QUEUE_TABS = {
    "todo": (ClaimStatus.DRAFT, ClaimStatus.APPROVED),
    "waiting": (ClaimStatus.SENT,),
    "done": (ClaimStatus.ANSWERED, ClaimStatus.CURED, ClaimStatus.ESCALATED),
    "withdrawn": (ClaimStatus.WITHDRAWN,),
    "all": tuple(ClaimStatus),
}


@bp.get("/claims")
def queue():
    user = acting_user()
    tab = request.args.get("tab", "todo")
    if tab not in QUEUE_TABS:
        tab = "todo"
    contractor = sa.orm.aliased(Party)
    stmt = (
        sa.select(Claim)
        .join(Contract, Contract.id == Claim.contract_id)
        .join(contractor, Contract.contractor_id == contractor.id)
        .where(Claim.status.in_(list(QUEUE_TABS[tab])))
        .options(selectinload(Claim.contract).selectinload(Contract.contractor))
    )
    q = request.args.get("q", "")
    listing = Listing(
        scope(stmt, user, Claim.region_code),
        search=[Contract.search_text, contractor.search_text, Claim.outgoing_number],
        sorts={
            "created": Claim.created_at,
            "number": Claim.outgoing_number,
            "sent_on": Claim.sent_on,
            "due": Claim.response_due_on,
            "penalty": Claim.penalty_total,
            "contract": Contract.number,
        },
        default_sort="due" if tab == "waiting" else "-created",
        args={**request.args, "q": numbering.normalise_number(q) if _looks_numbered(q) else q},
    )
    return render_template(
        "claims/queue.html",
        listing=listing,
        tab=tab,
        tabs=QUEUE_TABS,
        flags=lawsuits.open_flags(user),
        today=clock.today(),
    )


def _looks_numbered(text: str) -> bool:
    """A search for an outgoing number typed with Word's dashes ("14–28–9-1987")."""
    cleaned = numbering.normalise_number(text or "")
    return bool(cleaned) and cleaned.replace("-", "").isdigit() and "-" in cleaned


#: Drafts approved in one go at most.
BULK_AT_MOST = 100


def _selected_drafts(user, source) -> list[Claim]:
    """The drafts chosen in `source` (ids) within the user's scope, oldest first."""
    ids = sorted(
        {int(v) for v in source.getlist("ids") if v.strip().isdigit() and len(v.strip()) < 10}
    )[:BULK_AT_MOST]
    stmt = scope(sa.select(Claim), user, Claim.region_code).where(
        Claim.id.in_(ids), Claim.status == ClaimStatus.DRAFT
    )
    return list(db.session.scalars(stmt.order_by(Claim.created_at, Claim.id)))


@bp.route("/claims/bulk-approve", methods=["GET", "POST"])
def bulk_approve():
    """Several drafts approved at once: the queue's selection shown for confirmation (GET),
    then each approved as on its own page (POST) — one audit entry per claim, the four-eyes
    rule per claim (a refused one is named, the others are approved)."""
    user = require(Permission.APPROVE_CLAIMS)
    source = request.form if request.method == "POST" else request.args
    drafts = _selected_drafts(user, source)
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        approved, refused = 0, []
        for claim in drafts:
            try:
                sending.approve_claim(user, claim)
                db.session.commit()
                approved += 1
            except Invalid as exc:
                db.session.rollback()
                reasons = "; ".join(m for messages in exc.errors.values() for m in messages)
                refused.append(f"№ {claim.contract.number}: {reasons}")
        if approved:
            flash(
                ngettext("%(num)d claim approved.", "%(num)d claims approved.", approved),
                "success",
            )
        for line in refused:
            flash(line, "danger")
        return redirect(url_for("claims.queue"))
    return render_template("claims/bulk_approve.html", form=form, drafts=drafts), (
        200 if drafts or not source.getlist("ids") else 422
    )
