"""After a claim is sent: the contractor's reply, escalation to the next claim or to court, and
withdrawal (and restoring) of a claim not sent."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from ppp_tracker import clock
from ppp_tracker.claims import cases
from ppp_tracker.claims.codes import (
    EDITABLE,
    SENT_STATUSES,
    ClaimStatus,
    Escalation,
    FlagReason,
    ReplyKind,
)
from ppp_tracker.claims.drafting import create_claim, optional_text, require_editable
from ppp_tracker.claims.ladder import id_of
from ppp_tracker.claims.models import Claim, ClaimMilestone, ClaimReply, LawsuitFlag
from ppp_tracker.core import limits
from ppp_tracker.core.errors import Conflict, Invalid
from ppp_tracker.core.validation import Errors, check_text, normalise_dashes
from ppp_tracker.db import db
from ppp_tracker.registry.codes import MilestoneStatus
from ppp_tracker.registry.services.checks import check_money


def record_reply(user, claim: Claim, data: dict) -> ClaimReply:
    """The contractor's reply: an answer stops the ladder, a cure settles the claim."""
    if claim.status not in SENT_STATUSES:
        raise Conflict({"_request": [_("Only a sent claim can have a reply.")]})
    if claim.status == ClaimStatus.CURED:
        raise Conflict({"_request": [_("The claim is already settled (cured).")]})
    errors = Errors()
    received = data.get("received_on")
    if received is None:
        errors.add("received_on", _("This field is required."))
    elif not isinstance(received, date):
        errors.add("received_on", _("Must be a date (YYYY-MM-DD)."))
    elif received < claim.sent_on:
        errors.add("received_on", _("The reply cannot come before the claim was sent."))
    elif received > clock.today():
        errors.add("received_on", _("A reply cannot be received in the future."))
    kind = None
    try:
        kind = ReplyKind(data.get("kind"))
    except ValueError:
        errors.add(
            "kind",
            _(
                "Unknown value %(value)s; allowed: %(allowed)s.",
                value=repr(data.get("kind")),
                allowed=", ".join(k.value for k in ReplyKind),
            ),
        )
    # ReplyForm and ReplySchema (claims/forms.py, claims/api) check the same limits.
    incoming = check_text(
        errors, "incoming_number", data.get("incoming_number"), max_length=limits.CODE
    )
    summary = optional_text(errors, data, "summary")
    paid = check_money(errors, "paid_amount", data.get("paid_amount"))
    errors.raise_if_any()
    reply = ClaimReply(
        received_on=received,
        kind=kind,
        incoming_number=normalise_dashes(incoming) if incoming else None,
        summary=summary,
        paid_amount=paid,
        recorded_by_id=id_of(user),
    )
    claim.replies.append(reply)
    if kind == ReplyKind.CURE:
        claim.status = ClaimStatus.CURED
        # A cure stops the ladder: drafts that would follow this claim are withdrawn.
        for follower in _followers(claim):
            follower.status = ClaimStatus.WITHDRAWN
            follower.withdrawn_reason = _(
                "The contractor cured after claim No. %(n)s.", n=claim.outgoing_number
            )
    elif claim.status == ClaimStatus.SENT:
        claim.status = ClaimStatus.ANSWERED
    db.session.flush()
    return reply


def _followers(claim: Claim) -> list[Claim]:
    return db.session.scalars(
        sa.select(Claim)
        .join(ClaimMilestone, ClaimMilestone.claim_id == Claim.id)
        .where(
            Claim.contract_id == claim.contract_id,
            Claim.sequence > claim.sequence,
            Claim.status.in_(list(EDITABLE)),
            ClaimMilestone.milestone_id.in_(claim.milestone_ids),
        )
        .distinct()
    ).all()


def escalate_claim(
    user, claim: Claim, decision, as_of: date | None = None, note=None
) -> Claim | LawsuitFlag:
    """Legal staff go on: the next claim now, or a lawsuit recommendation for the contract."""
    try:
        decision = Escalation(decision)
    except ValueError:
        raise Invalid.one(
            "decision",
            _(
                "Unknown value %(value)s; allowed: %(allowed)s.",
                value=repr(decision),
                allowed=", ".join(e.value for e in Escalation),
            ),
        ) from None
    if claim.status not in (ClaimStatus.SENT, ClaimStatus.ANSWERED):
        raise Conflict(
            {"_request": [_("Only a sent claim that is not settled or escalated can escalate.")]}
        )
    errors = Errors()
    # EscalateForm and EscalateSchema (claims/forms.py, claims/api) check the same limit.
    note = check_text(errors, "note", note, max_length=limits.TEXT)
    errors.raise_if_any()
    if decision == Escalation.NEXT_CLAIM:
        as_of = as_of or clock.today()
        candidates = [
            line.milestone
            for line in claim.lines
            if line.milestone.status != MilestoneStatus.WAIVED
        ]
        return create_claim(
            user,
            claim.contract,
            {"milestone_ids": [m.id for m in candidates], "as_of": as_of},
            previous=claim,
        )
    flag = cases.flag_lawsuit(claim, FlagReason.DECISION, note)
    claim.status = ClaimStatus.ESCALATED
    db.session.flush()
    return flag


def withdraw_claim(user, claim: Claim, reason) -> Claim:
    require_editable(claim)
    errors = Errors()
    # WithdrawForm and WithdrawSchema (claims/forms.py, claims/api) check the same limit.
    reason = check_text(errors, "reason", reason, required=True, max_length=limits.TEXT)
    errors.raise_if_any()
    claim.status = ClaimStatus.WITHDRAWN
    claim.withdrawn_reason = reason
    claim.approved_by_id = None
    claim.approved_at = None
    db.session.flush()
    return claim


def restore_claim(user, claim: Claim) -> Claim:
    if claim.status != ClaimStatus.WITHDRAWN:
        raise Conflict({"_request": [_("Only a withdrawn claim can be restored.")]})
    claim.status = ClaimStatus.DRAFT
    claim.withdrawn_reason = None
    claim.last_editor_id = id_of(user)
    db.session.flush()
    return claim
