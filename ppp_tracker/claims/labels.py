"""The claims feature's records and fields in words, for the history of changes (core.history)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ppp_tracker.core.history import ENTITY_LABELS, FIELD_LABELS


def register() -> None:
    ENTITY_LABELS.update(
        claims=_l("Claim"),
        claim_milestones=_l("Obligation in a claim"),
        claim_replies=_l("Reply to a claim"),
        claim_files=_l("Letter file"),
        cases=_l("Lawsuit"),
        case_hearings=_l("Hearing"),
        lawsuit_flags=_l("Lawsuit recommendation"),
        letter_templates=_l("Letter template"),
        outgoing_sequences=_l("Outgoing numbering"),
    )
    for key, label in {
        "sequence": _l("Letter in the sequence"),
        "previous_id": _l("Previous claim"),
        "as_of": _l("Penalty counted as of"),
        "penalty_total": _l("Penalty"),
        "demand": _l("Demand"),
        "facts_note": _l("Facts"),
        "attachments": _l("Attachments"),
        "outgoing_number": _l("Outgoing number"),
        "sent_on": _l("Sent on"),
        "response_due_on": _l("Reply due"),
        "approved_by_id": _l("Approved by"),
        "approved_at": _l("Approved at"),
        "sent_by_id": _l("Sent by"),
        "sent_at": _l("Sent at"),
        "withdrawn_reason": _l("Reason for withdrawal"),
        "received_on": _l("Received on"),
        "incoming_number": _l("Incoming number"),
        "summary": _l("Summary"),
        "court_name": _l("Court"),
        "case_number": _l("Case number"),
        "filed_on": _l("Filed on"),
        "claims_penalty": _l("Claims the penalty"),
        "claims_register": _l("Claims the register entry"),
        "amount_claimed": _l("Amount claimed"),
        "outcome": _l("Outcome"),
        "decided_on": _l("Decided on"),
        "amount_awarded": _l("Amount awarded"),
        "notes": _l("Notes"),
        "raised_on": _l("Raised on"),
        "case_id": _l("Lawsuit"),
        "claim_id": _l("Claim"),
        "days_late": _l("Days late"),
        "accrued": _l("Accrued"),
        "base": _l("Base"),
        "daily_amount": _l("Per day"),
        "capped": _l("Cap reached"),
    }.items():
        FIELD_LABELS.setdefault(key, label)
