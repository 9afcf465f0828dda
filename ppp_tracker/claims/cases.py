"""Lawsuits: opening a case in the region's economic court, its claims, hearings (milestones of
the contract, so the deadline alerts cover them), outcome and amounts; lawsuit recommendations.

Plain functions like the claim services: they flush, never commit.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from ppp_tracker import clock
from ppp_tracker.auth.access import SYSTEM_USER, in_scope
from ppp_tracker.auth.models import User
from ppp_tracker.claims.codes import SENT_STATUSES, CaseOutcome, ClaimStatus, FlagReason
from ppp_tracker.claims.models import Case, CaseHearing, Claim, LawsuitFlag
from ppp_tracker.core import limits
from ppp_tracker.core.audit import current_actor
from ppp_tracker.core.errors import Invalid
from ppp_tracker.core.validation import Errors, check_text, normalise_dashes
from ppp_tracker.db import db
from ppp_tracker.registry.models import Contract, Milestone
from ppp_tracker.registry.services.checks import check_date, check_money
from ppp_tracker.registry.services.milestones import mark_met, save_milestone

# The registry's field checks, so that a date or an amount is judged the same everywhere.


def flag_lawsuit(claim: Claim, reason: FlagReason, note: str | None = None) -> LawsuitFlag:
    existing = db.session.scalar(sa.select(LawsuitFlag).where(LawsuitFlag.claim_id == claim.id))
    if existing is not None:
        return existing
    flag = LawsuitFlag(
        contract_id=claim.contract_id,
        region_code=claim.region_code,
        claim=claim,
        reason=reason,
        raised_on=clock.today(),
        raised_by=current_actor().label,
        note=note,
    )
    db.session.add(flag)
    db.session.flush()
    return flag


def open_case_of(contract_id: int) -> Case | None:
    return db.session.scalar(
        sa.select(Case).where(Case.contract_id == contract_id, Case.outcome == CaseOutcome.PENDING)
    )


def save_case(user, contract: Contract, data: dict, case: Case | None = None) -> Case:
    """Open a lawsuit (or change one): court, filing date, what it claims, outcome, amounts."""
    errors = Errors()
    values: dict[str, Any] = {}
    _court(errors, values, contract, data, partial=case is not None)
    _filing(errors, values, contract, data, partial=case is not None)
    _what_it_claims(errors, values, data, case)
    _outcome(errors, values, data)
    _check_outcome(errors, values, case)
    claims = None
    if "claim_ids" in data:
        claims = _case_claims(errors, contract, data.get("claim_ids"))
    errors.raise_if_any()
    opened = case is None
    if opened:
        case = Case(
            contract=contract,
            region_code=contract.region_code,
            created_by_id=getattr(user, "id", None),
        )
        db.session.add(case)
    for key, value in values.items():
        setattr(case, key, value)
    if claims is not None:
        case.claims = claims
        for claim in claims:
            if claim.status in (ClaimStatus.SENT, ClaimStatus.ANSWERED):
                claim.status = ClaimStatus.ESCALATED
    db.session.flush()
    if opened:
        _answer_flags(contract, case)
    return case


# The form (claims/forms.py CaseForm) and the API schema (claims/api CaseSchema) check the
# same lengths with the same `core.limits`; these checks serve the demo data and any caller
# that comes without a form or a schema.


def _court(errors: Errors, values: dict, contract: Contract, data: dict, *, partial: bool) -> None:
    """The court, by default the region's economic court (with its Kazakh name)."""
    if not partial or "court_name" in data:
        values["court_name"] = check_text(
            errors,
            "court_name",
            data.get("court_name") or contract.region.court_name,
            required=True,
            max_length=limits.NAME,
        )
    if not partial or "court_name_kk" in data:
        court_kk = data.get("court_name_kk")
        if (
            court_kk is None
            and not partial
            and values.get("court_name") == contract.region.court_name
        ):
            court_kk = contract.region.court_name_kk
        values["court_name_kk"] = check_text(
            errors, "court_name_kk", court_kk, max_length=limits.NAME
        )


def _filing(errors: Errors, values: dict, contract: Contract, data: dict, *, partial: bool):
    """The case number and the filing date (not in the future, not before the contract)."""
    if "case_number" in data:
        number = check_text(errors, "case_number", data.get("case_number"), max_length=limits.CODE)
        values["case_number"] = normalise_dashes(number) if number else None
    if not partial or "filed_on" in data:
        filed = check_date(errors, "filed_on", data.get("filed_on"), required=True)
        if filed is not None and filed > clock.today():
            errors.add("filed_on", _("A lawsuit cannot be filed in the future."))
        elif filed is not None and filed < contract.signed_on:
            errors.add("filed_on", _("The date is before the contract was signed."))
        values["filed_on"] = filed


def _what_it_claims(errors: Errors, values: dict, data: dict, case: Case | None) -> None:
    """The penalty, the unscrupulous-participant register, or both: never neither."""
    for name in ("claims_penalty", "claims_register"):
        if name in data:
            if not isinstance(data[name], bool):
                errors.add(name, _("Must be true or false."))
            else:
                values[name] = data[name]
    penalty = values.get("claims_penalty", case.claims_penalty if case else True)
    register = values.get("claims_register", case.claims_register if case else False)
    if not penalty and not register:
        errors.add(
            "claims_penalty",
            _("A lawsuit claims the penalty, the unscrupulous-participant register, or both."),
        )


def _outcome(errors: Errors, values: dict, data: dict) -> None:
    """The amounts, the outcome, the decision's date and notes, each as given."""
    for name in ("amount_claimed", "amount_awarded", "amount_paid"):
        if name in data:
            values[name] = check_money(errors, name, data.get(name))
    if "outcome" in data:
        try:
            values["outcome"] = CaseOutcome(data.get("outcome"))
        except ValueError:
            errors.add(
                "outcome",
                _(
                    "Unknown value %(value)s; allowed: %(allowed)s.",
                    value=repr(data.get("outcome")),
                    allowed=", ".join(o.value for o in CaseOutcome),
                ),
            )
    if "decided_on" in data:
        values["decided_on"] = check_date(errors, "decided_on", data.get("decided_on"))
    if "notes" in data:
        values["notes"] = (
            check_text(errors, "notes", data.get("notes"), max_length=limits.TEXT) or None
        )


def _check_outcome(errors: Errors, values: dict, case: Case | None) -> None:
    """A decided case has a decision date, not before the filing; no more paid than awarded."""
    outcome = values.get("outcome", case.outcome if case else CaseOutcome.PENDING)
    decided = values.get("decided_on", case.decided_on if case else None)
    filed = values.get("filed_on", case.filed_on if case else None)
    if outcome != CaseOutcome.PENDING and decided is None and "decided_on" not in errors:
        errors.add("decided_on", _("Give the date of the decision."))
    if decided is not None and filed is not None and decided < filed:
        errors.add("decided_on", _("The decision cannot come before the filing."))
    awarded = values.get("amount_awarded", case.amount_awarded if case else None)
    paid = values.get("amount_paid", case.amount_paid if case else None)
    if paid is not None and awarded is not None and paid > awarded:
        errors.add("amount_paid", _("More than was awarded."))


def _answer_flags(contract: Contract, case: Case) -> None:
    """A new case answers the contract's lawsuit recommendations still open."""
    for flag in db.session.scalars(
        sa.select(LawsuitFlag).where(
            LawsuitFlag.contract_id == contract.id, LawsuitFlag.case_id.is_(None)
        )
    ):
        flag.case_id = case.id
    db.session.flush()


def _case_claims(errors: Errors, contract: Contract, ids) -> list[Claim]:
    if ids is None:
        return []
    if not isinstance(ids, list | tuple) or any(
        isinstance(i, bool) or not isinstance(i, int) for i in ids
    ):
        errors.add("claim_ids", _("Must be a list of claim ids."))
        return []
    claims = []
    for ident in dict.fromkeys(ids):
        # Ids beyond the column's range exist nowhere (and PostgreSQL would refuse the query).
        claim = db.session.get(Claim, ident) if 0 < ident <= limits.MAX_ID else None
        if claim is None or claim.contract_id != contract.id:
            errors.add("claim_ids", _("No claim with id %(id)s in this contract.", id=ident))
        elif claim.status not in SENT_STATUSES:
            errors.add("claim_ids", _("Claim %(id)s was never sent.", id=ident))
        else:
            claims.append(claim)
    return claims


def add_hearing(user, case: Case, data: dict) -> CaseHearing:
    """A hearing date; it becomes a milestone of the contract (the customer's own obligation to
    appear), so the deadline alerts remind the responsible lawyer of it."""
    errors = Errors()
    hearing_on = check_date(errors, "hearing_on", data.get("hearing_on"), required=True)
    if hearing_on is not None and hearing_on < case.filed_on:
        errors.add("hearing_on", _("A hearing cannot come before the filing."))
    # HearingForm and HearingSchema (claims/forms.py, claims/api) check the same limit.
    note = check_text(errors, "note", data.get("note"), max_length=limits.LINE)
    errors.raise_if_any()
    in_region = isinstance(user, User) and in_scope(user, case.region_code)
    responsible = user.email if in_region else None
    title = _(
        "Court hearing: %(court)s, case %(number)s",
        court=case.court_name,
        number=case.case_number or _("(no number yet)"),
    )
    milestone = save_milestone(
        SYSTEM_USER,
        case.contract,
        {
            "title": title[: limits.LINE],  # cut to a title's limit, not refused
            "type": "engagement",
            "code": "courtHearing",
            "obligor": "customer",
            "due_on": hearing_on,
            "description": note,
            "responsible": responsible,
        },
    )
    hearing = CaseHearing(case=case, milestone=milestone)
    db.session.add(hearing)
    db.session.flush()
    return hearing


def hearing_held(user, case: Case, milestone: Milestone, held_on) -> Milestone:
    if not any(h.milestone_id == milestone.id for h in case.hearings):
        raise Invalid.one("milestone_id", _("This is not a hearing of the case."))
    errors = Errors()
    held_on = check_date(errors, "held_on", held_on, required=True)
    errors.raise_if_any()
    return mark_met(user, milestone, held_on)


def open_flags(region_scope_user) -> list[LawsuitFlag]:
    stmt = sa.select(LawsuitFlag).where(LawsuitFlag.case_id.is_(None)).order_by(LawsuitFlag.id)
    if region_scope_user.region_code is not None:
        stmt = stmt.where(LawsuitFlag.region_code == region_scope_user.region_code)
    return db.session.scalars(stmt).all()
