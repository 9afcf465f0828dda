"""The registry's records and fields in words, for the history of changes (core.history)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ppp_tracker.core.history import ENTITY_LABELS, FIELD_LABELS, VALUE_TEXTS
from ppp_tracker.registry.codes import DocumentType


def ocds_code_label(code: str) -> str:
    """A milestone's OCDS code as words when it names a document type we know (the codelist is
    open: another code is shown as it is)."""
    try:
        return DocumentType(code).label
    except ValueError:
        return code


#: The registry's tables as the history of changes names them.
ENTITIES = {
    "institutions": _l("Institution"),
    "parties": _l("Counterparty"),
    "projects": _l("Project"),
    "project_stages": _l("Project stage"),
    "production_sites": _l("Production site"),
    "contracts": _l("Contract"),
    "installments": _l("Installment"),
    "milestones": _l("Milestone"),
    "due_date_changes": _l("Due date change"),
    "documents": _l("Document"),
}
#: The registry's columns as the history of changes names them (the forms' labels).
FIELDS = {
    "kind": _l("Kind"),
    "address": _l("Address"),
    "capacity": _l("Capacity (places)"),
    "bin": _l("BIN / IIN"),
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "head_position": _l("Head's position"),
    "head_name": _l("Head's name"),
    "institution_id": _l("Institution"),
    "investor_id": _l("Investor"),
    "land_area_ha": _l("Land area, ha"),
    "estimated_cost": _l("Estimated cost, ₸"),
    "term_years": _l("Term, years"),
    "is_demo": _l("Demo data"),
    "project_id": _l("Project"),
    "position": _l("Order"),
    "planned_on": _l("Planned on"),
    "actual_on": _l("Actual date"),
    "arrangement": _l("Arrangement"),
    "operator_id": _l("Operator"),
    "activity": _l("Activity"),
    "area_m2": _l("Area, m²"),
    "employed": _l("Convicts employed"),
    "signed_on": _l("Signed on"),
    "customer_id": _l("Customer"),
    "contractor_id": _l("Contractor"),
    "site_id": _l("Production site"),
    "subject": _l("Subject"),
    "total_amount": _l("Total amount, ₸"),
    "currency": _l("Currency"),
    "starts_on": _l("Starts on"),
    "ends_on": _l("Ends on"),
    "penalty_rate_percent": _l("Penalty, % per day"),
    "penalty_base": _l("Penalty base"),
    "penalty_cap_percent": _l("Penalty cap, %"),
    "penalty_clause": _l("Penalty clause"),
    "response_days": _l("Response period, days"),
    "response_working": _l("Working days"),
    "grace_working_days": _l("Grace period, working days"),
    "officer_id": _l("Responsible officer"),
    "contract_id": _l("Contract"),
    "due_on": _l("Due on"),
    "amount": _l("Amount, ₸"),
    "paid_on": _l("Paid on"),
    "paid_amount": _l("Paid, ₸"),
    "type": _l("Type (OCDS)"),
    "obligor": _l("Obligor"),
    "code": _l("Code (OCDS, optional)"),
    "responsible_id": _l("Responsible officer"),
    "value": _l("Value at stake, ₸"),
    "effective_due_on": _l("Effective due date"),
    "relative_to_id": _l("…or counted from a milestone"),
    "relative_to_claim_id": _l("…or counted from the sending of claim"),
    "relative_amount": _l("Count"),
    "relative_unit": _l("Unit"),
    "met_on": _l("Met on"),
    "status_note": _l("Note on the status"),
    "milestone_id": _l("Milestone"),
    "old_due_on": _l("Old due date"),
    "new_due_on": _l("New due date"),
    "reason": _l("Reason"),
    "changed_by_id": _l("Changed by"),
    "changed_at": _l("Changed at"),
    "document_type": _l("Document type"),
    "filename": _l("File"),
    "content_type": _l("File type"),
    "size": _l("Size, bytes"),
    "uploaded_by_id": _l("Uploaded by"),
    "uploaded_at": _l("Uploaded"),
}


def register() -> None:
    VALUE_TEXTS[("milestones", "code")] = ocds_code_label
    ENTITY_LABELS.update(ENTITIES)
    FIELD_LABELS.update(FIELDS)
