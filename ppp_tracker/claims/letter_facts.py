"""What a claim's letter speaks of, as plain data for the sandboxed template: the parties, the
obligations and why their due dates moved, earlier claims, a pending case, the penalty; and where
the Kazakh letter has to quote Russian."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from ppp_tracker import clock
from ppp_tracker.claims import cases
from ppp_tracker.claims.codes import LETTER_LANGUAGES, SENT_STATUSES
from ppp_tracker.claims.departments import department_for
from ppp_tracker.claims.ladder import response_due
from ppp_tracker.claims.letters import frozen, language, style
from ppp_tracker.claims.models import DEFAULT_LEGAL_BASIS, Claim, ClaimMilestone, Department
from ppp_tracker.core.calendar import WorkingCalendar, get_calendar
from ppp_tracker.core.dates import fmt
from ppp_tracker.db import db
from ppp_tracker.registry.models import Contract, Party


def _person(user) -> dict | None:
    if user is None:
        return None
    return {"name": user.name, "position": user.position, "phone": user.phone, "email": user.email}


#: Why the day a due date moved to is a working day although it is a Saturday or a Sunday.
_DECREE_WORKING_DAY = {
    "ru": "рабочий день по постановлению Правительства Республики Казахстан о переносе выходных"
    " дней",
    "kk": "демалыс күндерін ауыстыру туралы Қазақстан Республикасы Үкіметінің қаулысы бойынша"
    " жұмыс күні",
}


def _off_reason(calendar: WorkingCalendar, day: date, lang: str) -> str:
    override = calendar.overrides.get(day)
    if override is not None and override.reason:
        return override.reason
    return calendar.holiday_name(day, lang) or style.weekday(day, lang)


def due_reasons(calendar: WorkingCalendar, due_on: date, effective_due_on: date, lang: str):
    """Why a due date moved, in the letter's language (never the request's): the days off
    skipped ("01.05.2014 — Праздник единства народа Казахстана, 03.05.2014 — суббота") and, when
    the day it moved to is a Saturday or a Sunday, why that day is a working one."""
    skipped = []
    day = due_on
    while day < effective_due_on:
        if not calendar.is_working_day(day):
            skipped.append(f"{fmt(day)} — {_off_reason(calendar, day, lang)}")
        day += timedelta(days=1)
    working = None
    if effective_due_on.weekday() >= 5 and calendar.is_working_day(effective_due_on):
        override = calendar.overrides.get(effective_due_on)
        reason = override.reason if override is not None and override.reason else None
        working = f"{style.weekday(effective_due_on, lang)}, {reason or _DECREE_WORKING_DAY[lang]}"
    return ", ".join(skipped), working


def _earlier_state(earlier: Claim, letter_date: date) -> tuple[str, date | None]:
    """What an earlier claim's fate was on the letter's date: answered (and when), its reply
    period still running, or left unanswered after its period ran out."""
    replies = [r.received_on for r in earlier.replies if r.received_on <= letter_date]
    if replies:
        return "answered", min(replies)
    # A period that runs from receipt has no deadline until the receipt is recorded: it runs.
    if earlier.response_due_on is None or earlier.response_due_on >= letter_date:
        return "running", None
    return "unanswered", None


def claim_facts(claim: Claim) -> dict:
    """Everything the letter speaks of, as plain data (no ORM objects reach the sandbox), with
    the Kazakh versions beside the Russian ones (`language.in_language` picks)."""
    contract = claim.contract
    department = department_for(contract.region_code)
    letter_date = claim.sent_on or clock.today()
    calendar = get_calendar()
    sender = _sender(department, contract.customer)
    region = contract.region
    return {
        "letter": _letter(claim),
        "sender": sender,
        "addressee": _addressee(contract.contractor),
        "contract": _contract(contract),
        "milestones": [_milestone(line, calendar) for line in claim.lines],
        "penalty": {
            "as_of": claim.as_of,
            "rate": claim.penalty_rate_percent,
            "base": str(claim.penalty_base),
            "cap": claim.penalty_cap_percent,
            "total": claim.penalty_total,
            "capped": any(line.capped for line in claim.lines),
        },
        "payments": _payments(contract),
        "unperformed_total": sum(
            (line.milestone.value or Decimal(0) for line in claim.lines if line.met_on is None),
            Decimal("0.00"),
        ),
        "earlier": _earlier_claims(claim, letter_date),
        "court": region.court_name,
        "court_kk": region.court_name_kk,
        "case": _pending_case(contract, letter_date),
        "legal_basis": department.legal_basis if department is not None else DEFAULT_LEGAL_BASIS,
        "signatory": {
            "position": sender["head_position"],
            "position_kk": sender["head_position_kk"],
            "name": sender["head_name"],
        },
        "prepared_by": _executor(claim, department),
        "facts_note": _paragraphs(claim.facts_note),
        "attachments": _paragraphs(claim.attachments),
    }


def _letter(claim: Claim) -> dict:
    """The letter's own number, date and reply period."""
    contract = claim.contract
    from_receipt = (
        claim.response_from_receipt if claim.sent_on is not None else contract.response_from_receipt
    )
    return {
        "number": claim.outgoing_number,
        "date": claim.sent_on,
        "sequence": claim.sequence,
        # A period from receipt has no date in the letter: it names the period instead.
        "response_from_receipt": from_receipt,
        "response_due_on": None
        if from_receipt
        else claim.response_due_on or response_due(contract, clock.today()),
        "response_days": contract.response_days,
        "response_working": contract.response_working,
        "demand": str(claim.demand),
        "is_draft": claim.sent_on is None,
    }


def _sender(department: Department | None, customer: Party) -> dict:
    """Who writes: the region's department when it has one (its bank details, its head), else
    the customer of the contract."""
    if department is None:
        return {
            "name": customer.name,
            "name_kk": customer.name_kk,
            "address": customer.address,
            "address_kk": customer.address_kk,
            "bin": customer.bin,
            "phone": customer.phone,
            "bank": None,
            "bank_kk": None,
            "iik": None,
            "bik": None,
            "kbk": None,
            "knp": None,
            "head_position": customer.head_position,
            "head_position_kk": customer.head_position_kk,
            "head_name": customer.head_name,
        }
    return {
        "name": department.name_ru,
        "name_kk": department.name_kk,
        "address": department.address_ru,
        "address_kk": department.address_kk,
        "bin": department.bin,
        "phone": department.phone,
        "bank": department.bank_ru,
        "bank_kk": department.bank_kk,
        "iik": department.iik,
        "bik": department.bik,
        "kbk": department.kbk,
        "knp": department.knp,
        "head_position": department.head_position_ru or customer.head_position,
        "head_position_kk": department.head_position_kk
        if department.head_position_ru
        else customer.head_position_kk,
        "head_name": department.head_name or customer.head_name,
    }


def _addressee(contractor: Party) -> dict:
    return {
        "name": contractor.name,
        "name_kk": contractor.name_kk,
        "address": contractor.address,
        "address_kk": contractor.address_kk,
        "bin": contractor.bin,
        "head_position": contractor.head_position,
        "head_position_kk": contractor.head_position_kk,
        "head_name": contractor.head_name,
        "email": contractor.email,
    }


def _contract(contract: Contract) -> dict:
    return {
        "number": contract.number,
        "signed_on": contract.signed_on,
        "subject": contract.subject,
        "subject_kk": contract.subject_kk,
        "total": contract.total_amount,
        "penalty_clause_no": contract.penalty_clause_no,
        "penalty_clause": contract.penalty_clause,
        "penalty_clause_kk": contract.penalty_clause_kk,
        "starts_on": contract.starts_on,
        "ends_on": contract.ends_on,
    }


def _milestone(line: ClaimMilestone, calendar: WorkingCalendar) -> dict:
    """One late obligation of the claim: its dates (and why its due date moved, in both
    languages), the days charged and its penalty."""
    moved = line.effective_due_on != line.due_on
    reasons = {
        lang: due_reasons(calendar, line.due_on, line.effective_due_on, lang)
        if moved
        else ("", None)
        for lang in LETTER_LANGUAGES
    }
    return {
        "title": line.title,
        "title_kk": line.milestone.title_kk,
        "due_on": line.due_on,
        "effective_due_on": line.effective_due_on,
        "moved": moved,
        "due_explanation": line.due_explanation,
        "off_reasons": reasons["ru"][0],
        "off_reasons_kk": reasons["kk"][0],
        "effective_reason": reasons["ru"][1],
        "effective_reason_kk": reasons["kk"][1],
        "late_from": line.effective_due_on + timedelta(days=1),
        "counted_until": line.counted_until,
        "met_on": line.met_on,
        "days_late": line.days_late,
        # The days charged to it: a day of the contract's delay counts once (§4).
        "counted_from": line.counted_from,
        "counted_to": line.counted_to,
        "days_counted": line.days_counted,
        "value": line.milestone.value,
        "base": line.base,
        "daily": line.daily_amount,
        "accrued": line.accrued,
        "capped": line.capped,
        "cap_amount": line.cap_amount,
        "missing_value": line.missing_value,
    }


def _payments(contract: Contract) -> dict:
    paid = [i for i in contract.installments if i.paid_amount]
    return {
        "paid_total": sum((i.paid_amount for i in paid), Decimal("0.00")),
        "items": [
            {
                "due_on": i.due_on,
                "amount": i.amount,
                "description": i.description,
                "paid_on": i.paid_on,
                "paid_amount": i.paid_amount,
            }
            for i in contract.installments
        ],
    }


def _earlier_claims(claim: Claim, letter_date: date) -> list[dict]:
    """The claims sent before this one about the same obligations, each with its fate on the
    letter's date."""
    earlier = db.session.scalars(
        sa.select(Claim)
        .join(ClaimMilestone, ClaimMilestone.claim_id == Claim.id)
        .where(
            Claim.contract_id == claim.contract_id,
            Claim.id != claim.id,
            Claim.status.in_(list(SENT_STATUSES)),
            Claim.sequence < claim.sequence,
            ClaimMilestone.milestone_id.in_(claim.milestone_ids),
        )
        .distinct()
        .order_by(Claim.sent_on, Claim.id)
    ).all()
    out = []
    for e in earlier:
        if e.sent_on is not None and e.sent_on > letter_date:
            continue
        state, replied_on = _earlier_state(e, letter_date)
        out.append(
            {
                "number": e.outgoing_number,
                "date": e.sent_on,
                "response_due_on": e.response_due_on,
                "state": state,
                "replied_on": replied_on,
            }
        )
    return out


def _pending_case(contract: Contract, letter_date: date) -> dict | None:
    """The lawsuit pending on the letter's date, if any."""
    case = cases.open_case_of(contract.id)
    if case is None or case.filed_on > letter_date:
        return None
    region = contract.region
    return {
        "court": case.court_name,
        "court_kk": case.court_name_kk
        or (region.court_name_kk if case.court_name == region.court_name else None),
        "number": case.case_number,
        "filed_on": case.filed_on,
        "claims_penalty": case.claims_penalty,
        "claims_register": case.claims_register,
    }


def _executor(claim: Claim, department: Department | None) -> dict | None:
    """Who the letter names as its executor: the department's, or whoever prepared the claim."""
    if department is not None and department.executor_name:
        return {
            "name": department.executor_name,
            "position": None,
            "phone": department.executor_phone,
            "email": None,
        }
    return _person(claim.prepared_by or claim.last_editor or claim.created_by)


def _paragraphs(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").splitlines() if x.strip()]


def gap_labels(gaps: Iterable[str]) -> list[str]:
    """The places of `language.kazakh_gaps` in words of the reader's language."""
    names = {
        "sender.name": _("the department's name"),
        "sender.address": _("the department's address"),
        "sender.bank": _("the department's bank"),
        "sender.head_position": _("the position of the department's head"),
        "addressee.name": _("the contractor's name"),
        "addressee.address": _("the contractor's address"),
        "addressee.head_position": _("the position of the contractor's head"),
        "contract.subject": _("the contract's subject"),
        "contract.penalty_clause": _("the penalty clause"),
        "signatory.position": _("the signatory's position"),
        "case.court": _("the court of the pending case"),
        "court": _("the region's court"),
        "facts_note": _("the further facts (one text for both letters)"),
        "attachments": _("the attachments (one text for both letters)"),
    }
    out = []
    for gap in gaps:
        if gap.startswith("milestones."):
            out.append(_("the title of obligation %(n)s", n=gap.split(".")[1]))
        else:
            out.append(names.get(gap, gap))
    return out


def kazakh_gaps(claim: Claim) -> list[str]:
    """Where the claim's Kazakh letter (as sent, or as it reads today) quotes Russian."""
    snapshot = claim.letter_snapshot
    facts = frozen.thaw(snapshot["facts"]) if snapshot else claim_facts(claim)
    return language.kazakh_gaps(facts)
