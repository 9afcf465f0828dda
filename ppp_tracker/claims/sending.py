"""Four-eyes approval, sending with an outgoing number and a frozen letter, and the record of
delivery (the receipt date, from which the reply period may run)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from ppp_tracker import clock
from ppp_tracker.auth.access import Permission, has_permission
from ppp_tracker.claims import numbering
from ppp_tracker.claims.codes import SENT_STATUSES, ClaimStatus, DeliveryMethod
from ppp_tracker.claims.composing import current_texts
from ppp_tracker.claims.drafting import require_editable
from ppp_tracker.claims.ladder import approvers, id_of, response_due
from ppp_tracker.claims.letter_facts import claim_facts, gap_labels
from ppp_tracker.claims.letters import frozen, language
from ppp_tracker.claims.models import Claim
from ppp_tracker.claims.staleness import claim_warnings, stale_reasons
from ppp_tracker.core.dates import fmt
from ppp_tracker.core.errors import Conflict, Invalid
from ppp_tracker.core.validation import Errors, check_date_range
from ppp_tracker.db import db
from ppp_tracker.registry.models import Document
from ppp_tracker.registry.services.checks import check_enum
from ppp_tracker.registry.services.milestones import recompute_claim_dependents


def approval_refusal(user, claim: Claim) -> list[str]:
    """Why `user` may not approve this draft now (empty: they may), for the page to say so
    instead of offering a button that refuses."""
    reasons = []
    stale = stale_reasons(claim)
    if stale:
        reasons.append(_("The facts changed since the penalty was computed; recompute it first."))
        reasons.extend(stale)
    if claim.last_editor_id is not None and claim.last_editor_id == id_of(user):
        others = [u for u in approvers(claim.region_code) if u.id != claim.last_editor_id]
        if others:
            reasons.append(
                _(
                    "You changed this draft last; another person must approve it "
                    "(four eyes): %(names)s.",
                    names=", ".join(f"{u.name} ({u.email})" for u in others[:5]),
                )
            )
    return reasons


def approve_claim(user, claim: Claim, acknowledge_warnings: bool = False) -> Claim:
    """Approve a draft for sending. Four eyes: whoever last changed the text may not approve it,
    unless nobody else in the region could (then the approval is marked as self-approved).

    A draft whose facts changed since its penalty was computed is refused until recomputed
    (409, saying what changed); a penalty with warnings needs `acknowledge_warnings` (422)."""
    _require_approvable(claim)
    warnings = claim_warnings(claim)
    if warnings and not acknowledge_warnings:
        raise Invalid(
            {
                "acknowledge_warnings": [
                    _("Read the penalty's warnings and confirm them to approve:"),
                    *(w.text for w in warnings),
                ]
            }
        )
    self_approved = _four_eyes(user, claim)
    claim.status = ClaimStatus.APPROVED
    claim.approved_by_id = id_of(user)
    claim.approved_at = clock.now()
    claim.self_approved = self_approved
    claim.warnings_acknowledged = bool(warnings)
    if claim.prepared_by_id is None:
        claim.prepared_by_id = claim.last_editor_id or id_of(user)
    db.session.flush()
    return claim


def _require_approvable(claim: Claim) -> None:
    """A draft, not withdrawn, whose facts are those its penalty was computed on."""
    if claim.status == ClaimStatus.APPROVED:
        raise Conflict(
            {
                "_request": [
                    _(
                        "The claim is already approved by %(name)s.",
                        name=claim.approved_by.name if claim.approved_by else "—",
                    )
                ]
            }
        )
    require_editable(claim)
    stale = stale_reasons(claim)
    if stale:
        raise Conflict(
            {
                "_request": [
                    _("The facts changed since the penalty was computed; recompute it first."),
                    *stale,
                ]
            }
        )


def _four_eyes(user, claim: Claim) -> bool:
    """Whether `user` approves their own text (allowed only when nobody else in the region may
    approve it: then True, and the approval says so)."""
    if claim.last_editor_id is None or claim.last_editor_id != id_of(user):
        return False
    others = [u for u in approvers(claim.region_code) if u.id != claim.last_editor_id]
    if others:
        raise Conflict(
            {
                "_request": [
                    _(
                        "You changed this draft last; another person must approve it "
                        "(four eyes), e.g. %(names)s.",
                        names=", ".join(u.name for u in others[:3]),
                    )
                ]
            }
        )
    return True


def send_claim(
    user,
    claim: Claim,
    sent_on,
    outgoing_number: str | None = None,
    acknowledge_kazakh_gaps: bool = False,
) -> Claim:
    """Send an approved claim on `sent_on`: it gets its outgoing number (or the hand-given one,
    which the counter then passes), its reply deadline and its frozen letter.

    Both letters go out; a Kazakh letter that has to quote Russian (a record without its Kazakh
    version) is sent only when the sender says so (`acknowledge_kazakh_gaps`), and the
    acknowledgement is kept in the frozen letter."""
    errors = Errors()
    _check_sent_on(errors, claim, sent_on)
    number = _hand_given_number(errors, user, outgoing_number)
    _require_sendable(claim)
    errors.raise_if_any()
    gaps = _kazakh_gaps_accepted(claim, acknowledge_kazakh_gaps)
    number = _register_number(number, sent_on)
    _mark_sent(claim, number, sent_on)
    claim.sent_by_id = id_of(user)
    claim.sent_at = clock.now()
    if claim.prepared_by_id is None:
        claim.prepared_by_id = claim.last_editor_id or id_of(user)
    db.session.flush()
    claim.letter_snapshot = {
        "facts": frozen.freeze(claim_facts(claim)),
        "texts": current_texts(),
        "kazakh_gaps_acknowledged": gaps,
    }
    db.session.flush()
    recompute_claim_dependents(user, claim)
    return claim


def _check_sent_on(errors: Errors, claim: Claim, sent_on) -> None:
    """A letter is sent today or earlier, not before its penalty's date nor before the claim it
    follows."""
    if sent_on is None:
        errors.add("sent_on", _("Give the date the letter is sent."))
    elif not isinstance(sent_on, date):
        errors.add("sent_on", _("Must be a date (YYYY-MM-DD)."))
    else:
        check_date_range(errors, "sent_on", sent_on)
        if sent_on > clock.today():
            errors.add("sent_on", _("A letter cannot be sent in the future."))
        elif sent_on < claim.as_of:
            errors.add(
                "sent_on",
                _(
                    "The penalty is computed as of %(d)s, after this date; recompute it first.",
                    d=fmt(claim.as_of),
                ),
            )
        elif claim.previous and claim.previous.sent_on and sent_on < claim.previous.sent_on:
            errors.add(
                "sent_on",
                _("The previous claim was sent on %(d)s.", d=fmt(claim.previous.sent_on)),
            )


def _hand_given_number(
    errors: Errors, user, outgoing_number: str | None
) -> numbering.OutgoingNumber | None:
    """A number given by hand (administrators only); None: the counter gives the next."""
    if outgoing_number in (None, ""):
        return None
    if not has_permission(user, Permission.ADMIN):
        errors.add(
            "outgoing_number",
            _("Only administrators register a number given by hand; leave it empty."),
        )
        return None
    try:
        return numbering.parse_number(outgoing_number)
    except Invalid as exc:
        for message in exc.errors["outgoing_number"]:
            errors.add("outgoing_number", message)
        return None


def _require_sendable(claim: Claim) -> None:
    """Approved, not sent yet, and its facts still those the approval covered."""
    if claim.status == ClaimStatus.DRAFT:
        raise Conflict({"_request": [_("Approve the claim before sending it.")]})
    if claim.status in SENT_STATUSES:
        raise Conflict(
            {
                "_request": [
                    _(
                        "This claim was already sent as No. %(n)s on %(d)s.",
                        n=claim.outgoing_number,
                        d=fmt(claim.sent_on),
                    )
                ]
            }
        )
    require_editable(claim)
    stale = stale_reasons(claim)
    if stale:
        # An approval covers what was approved: the letter would now say other facts.
        raise Conflict(
            {
                "_request": [
                    _(
                        "The approval no longer covers the letter: the facts changed after it"
                        " was approved. Recompute the claim and approve it again."
                    ),
                    *stale,
                ]
            }
        )


def _kazakh_gaps_accepted(claim: Claim, acknowledged: bool) -> list[str]:
    """Where the Kazakh letter quotes Russian; refused unless the sender accepts it."""
    gaps = language.kazakh_gaps(claim_facts(claim))
    if gaps and not acknowledged:
        raise Conflict(
            {
                "acknowledge_kazakh_gaps": [
                    _(
                        "The Kazakh letter quotes Russian where these have no Kazakh version: "
                        "%(gaps)s. Fill them in, or confirm that the letter goes out so.",
                        gaps="; ".join(gap_labels(gaps)),
                    )
                ]
            }
        )
    return gaps


def _register_number(
    number: numbering.OutgoingNumber | None, sent_on: date
) -> numbering.OutgoingNumber:
    """The hand-given number registered as used (refused if it is), or the counter's next."""
    if number is None:
        return numbering.take_next(on=sent_on)
    if numbering.is_used(number, sent_on):
        raise Conflict({"outgoing_number": [_("No. %(n)s is already used.", n=str(number))]})
    numbering.register_used(number, sent_on)
    return number


def _mark_sent(claim: Claim, number: numbering.OutgoingNumber, sent_on: date) -> None:
    """The claim becomes sent with its number and reply deadline, by a conditional UPDATE."""
    # Where the contract says the reply period runs from receipt, it has not started yet: the
    # deadline is set when the receipt is recorded (record_delivery).
    from_receipt = claim.contract.response_from_receipt
    due = None if from_receipt else response_due(claim.contract, sent_on)
    fields = {
        "status": ClaimStatus.SENT,
        "outgoing_prefix": number.prefix,
        "outgoing_seq": number.seq,
        "outgoing_year": sent_on.year,
        "outgoing_number": str(number),
        "sent_on": sent_on,
        "response_due_on": due,
        "response_from_receipt": from_receipt,
    }
    # The conditional UPDATE is the claim on the work: of two concurrent sends of one letter
    # only one changes the row; the other finds it sent, stops, and its rollback returns the
    # number it took to the counter.
    moved = db.session.execute(
        sa.update(Claim)
        .where(Claim.id == claim.id, Claim.status == ClaimStatus.APPROVED)
        .values(**fields),
        execution_options={"synchronize_session": False},
    ).rowcount
    if moved != 1:
        raise Conflict({"_request": [_("This claim was sent by someone else a moment ago.")]})
    for key, value in fields.items():
        setattr(claim, key, value)


def record_delivery(user, claim: Claim, data: dict, proof: Document | None = None) -> Claim:
    """How a sent claim was delivered, the day the contractor received it, and the proof.

    `data`: `method` (required), `received_on` (a date or None: not received yet),
    `document_id` (a document of the claim's contract; `proof`, a document just uploaded, wins).
    Where the reply period runs from receipt, the deadline follows `received_on`. Recorded again,
    it corrects the earlier record; only the receipt date of a claim already escalated on its
    deadline is fixed (the next claim stands on it).
    """
    if claim.status not in SENT_STATUSES:
        raise Conflict({"_request": [_("Only a sent claim can have its delivery recorded.")]})
    errors = Errors()
    method = check_enum(errors, "method", data.get("method"), DeliveryMethod)
    received = data.get("received_on")
    _check_received_on(errors, claim, received)
    document = proof
    if document is None and data.get("document_id") is not None:
        document = _proof_of(errors, claim, data["document_id"])
    errors.raise_if_any()
    if (
        claim.status == ClaimStatus.ESCALATED
        and claim.response_from_receipt
        and received != claim.received_on
    ):
        raise Conflict(
            {
                "received_on": [
                    _(
                        "The claim was escalated on the deadline its receipt gave; the receipt"
                        " date can no longer change."
                    )
                ]
            }
        )
    due = claim.response_due_on
    if claim.response_from_receipt:
        due = response_due(claim.contract, received) if received else None
    # Set together after every read, so the audit log holds the change as one event.
    claim.delivery_method = method
    claim.received_on = received
    if document is not None:
        claim.delivery_document_id = document.id
    claim.response_due_on = due
    db.session.flush()
    return claim


def _check_received_on(errors: Errors, claim: Claim, received) -> None:
    """A receipt (None: not received yet) falls between the sending and today."""
    if received is None:
        return
    if not isinstance(received, date):
        errors.add("received_on", _("Must be a date (YYYY-MM-DD)."))
        return
    check_date_range(errors, "received_on", received)
    if received < claim.sent_on:
        errors.add(
            "received_on",
            _(
                "The contractor cannot receive the claim before it was sent (%(d)s).",
                d=fmt(claim.sent_on),
            ),
        )
    elif received > clock.today():
        errors.add("received_on", _("A receipt cannot be recorded for a future day."))


def _proof_of(errors: Errors, claim: Claim, document_id) -> Document | None:
    """The proof of delivery chosen among the documents of the claim's contract."""
    document = db.session.get(Document, document_id)
    if document is None or document.contract_id != claim.contract_id:
        errors.add("document_id", _("Not a document of this claim's contract."))
        return None
    return document
