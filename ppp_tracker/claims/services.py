"""The claim rules: drafting (by people and by the scan), edits kept as versions, four-eyes
approval, sending with an outgoing number, replies, escalation to the next claim or to court,
withdrawal; the facts a letter speaks of; letter templates; lawsuits and their hearings.

Plain functions of the acting user and parsed values, under the names the API uses. They check
state and consistency, collect every error before raising `Invalid` (422) or `Conflict` (409),
flush and never commit; pages, the API, the workers and the CLI commit once at their edge.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from ppp_tracker import clock
from ppp_tracker.auth.access import SYSTEM_USER, Permission, has_permission
from ppp_tracker.auth.models import Role, User
from ppp_tracker.claims import cases, letters, numbering
from ppp_tracker.claims.codes import (
    CLAIMS_BEFORE_LAWSUIT,
    EDITABLE,
    LETTER_LANGUAGES,
    SENT_STATUSES,
    ClaimStatus,
    DeliveryMethod,
    Demand,
    Escalation,
    FlagReason,
    NoticeStatus,
    ReplyKind,
)
from ppp_tracker.claims.departments import department_for
from ppp_tracker.claims.models import (
    DEFAULT_LEGAL_BASIS,
    Claim,
    ClaimFile,
    ClaimMilestone,
    ClaimNotice,
    ClaimReply,
    ClaimVersion,
    LawsuitFlag,
    LetterTemplate,
)
from ppp_tracker.core import outbox
from ppp_tracker.core.audit import current_actor
from ppp_tracker.core.errors import Conflict, Invalid
from ppp_tracker.core.mail import Email, MailError, send_email
from ppp_tracker.core.penalty import PenaltyWarning
from ppp_tracker.core.validation import Errors, check_date_range, check_text, normalise_dashes
from ppp_tracker.db import db
from ppp_tracker.deadlines.calendar import WorkingCalendar, get_calendar
from ppp_tracker.deadlines.penalty import contract_penalty
from ppp_tracker.deadlines.rules import OPEN_STATUSES, days_late_phrase, effective_due, fmt
from ppp_tracker.money import format_money
from ppp_tracker.registry import services as registry_services
from ppp_tracker.registry.codes import ContractStatus, MilestoneStatus, Obligor, PenaltyBase
from ppp_tracker.registry.models import Contract, Document, Milestone
from ppp_tracker.registry.services import _money

MAX_TEXT = 20_000
LOCALES = ("ru", "kk", "en")
#: The largest id of an integer column.
MAX_ID = 2**31 - 1


# --- dates of the ladder -------------------------------------------------------------------------


def response_due(
    contract: Contract, sent_on: date, calendar: WorkingCalendar | None = None
) -> date:
    """The reply deadline: the sending date plus the contract's response period.

    Working days are counted from the day after sending (a claim sent 30.06.2014 with 10 working
    days is due 15.07.2014, because 07.07.2014 was a day off); a period in calendar days that
    ends on a day off ends on the next working day (Civil Code, computation of terms).
    """
    calendar = calendar or get_calendar()
    if contract.response_working:
        return calendar.add_working_days(sent_on, contract.response_days)
    return calendar.next_working_day(sent_on + timedelta(days=contract.response_days))


def grace_ends(contract: Contract, effective_due_on: date, calendar: WorkingCalendar) -> date:
    """The last day of the grace period; a claim is drafted on any later day."""
    return calendar.add_working_days(effective_due_on, contract.grace_working_days)


# --- who -----------------------------------------------------------------------------------------


def _user_id(user) -> int | None:
    return getattr(user, "id", None)


def approvers(region_code: str) -> list[User]:
    """Everyone who may approve the region's claims: active legal staff and admins in scope."""
    return db.session.scalars(
        sa.select(User)
        .where(
            User.active.is_(True),
            User.role.in_([Role.LEGAL, Role.ADMIN]),
            sa.or_(User.region_code.is_(None), User.region_code == region_code),
        )
        .order_by(User.id)
    ).all()


def legal_recipients(region_code: str) -> list[User]:
    """Who hears of a drafted claim: the region's legal staff (admins when it has none)."""
    people = approvers(region_code)
    legal = [u for u in people if u.role == Role.LEGAL]
    return legal or [u for u in people if u.role == Role.ADMIN]


# --- computing a claim's penalty -----------------------------------------------------------------


def _milestones(errors: Errors, contract: Contract, ids) -> list[Milestone]:
    if not isinstance(ids, list | tuple) or not ids:
        errors.add("milestone_ids", _("Choose at least one late obligation."))
        return []
    if any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
        errors.add("milestone_ids", _("Must be a list of milestone ids."))
        return []
    # Ids beyond the column's range exist nowhere (and PostgreSQL would refuse the query).
    valid = [i for i in ids if 0 < i <= MAX_ID]
    found = {
        m.id: m for m in db.session.scalars(sa.select(Milestone).where(Milestone.id.in_(valid)))
    }
    out = []
    for ident in dict.fromkeys(ids):
        milestone = found.get(ident)
        if milestone is None or milestone.contract_id != contract.id:
            errors.add(
                "milestone_ids",
                _(
                    "No milestone with id %(id)s in contract No. %(n)s.",
                    id=ident,
                    n=contract.number,
                ),
            )
            continue
        out.append(milestone)
    return out


def _as_of(errors: Errors, contract: Contract, value) -> date | None:
    if value is None:
        errors.add("as_of", _("This field is required."))
        return None
    if not isinstance(value, date):
        errors.add("as_of", _("Must be a date (YYYY-MM-DD)."))
        return None
    check_date_range(errors, "as_of", value)
    if value > clock.today():
        errors.add("as_of", _("The penalty cannot be computed for a day after today."))
    elif value < contract.signed_on:
        errors.add("as_of", _("The date is before the contract was signed."))
    return value


def _lines(errors: Errors, contract: Contract, milestones: list[Milestone], as_of: date):
    """The penalty of each chosen milestone on `as_of`; an error for any that is not late."""
    result = contract_penalty(contract, as_of, milestones)
    by_id = {line.milestone_id: line for line in result.lines}
    for milestone in milestones:
        if milestone.id in by_id:
            continue
        if milestone.obligor != Obligor.CONTRACTOR:
            why = _("«%(t)s» is the customer's own obligation.", t=milestone.title)
        elif milestone.status == MilestoneStatus.WAIVED:
            why = _("«%(t)s» is waived.", t=milestone.title)
        elif milestone.due_on is None:
            why = _("«%(t)s» has no due date yet.", t=milestone.title)
        else:
            why = _("«%(t)s» is not late on %(d)s.", t=milestone.title, d=fmt(as_of))
        errors.add("milestone_ids", why)
    return result


def _check_free_stage(errors: Errors, milestones: list[Milestone], sequence: int, claim=None):
    """No milestone may have two claims at the same stage (the unique key says so too)."""
    taken = db.session.execute(
        sa.select(ClaimMilestone.milestone_id, Claim)
        .join(Claim, Claim.id == ClaimMilestone.claim_id)
        .where(
            ClaimMilestone.milestone_id.in_([m.id for m in milestones]),
            ClaimMilestone.sequence == sequence,
        )
    ).all()
    titles = {m.id: m.title for m in milestones}
    conflicts = {}
    for milestone_id, other in taken:
        if claim is not None and other.id == claim.id:
            continue
        conflicts.setdefault("milestone_ids", []).append(
            _(
                "«%(t)s» already has claim No. %(seq)s (id %(id)s, %(status)s).",
                t=titles[milestone_id],
                seq=sequence,
                id=other.id,
                status=other.status.label,
            )
        )
    if conflicts:
        raise Conflict(conflicts)


def _apply_penalty(claim: Claim, contract: Contract, result) -> None:
    terms = result.terms
    calendar = get_calendar()
    claim.penalty_rate_percent = terms.rate_percent_per_day
    claim.penalty_base = PenaltyBase(terms.base)
    claim.penalty_cap_percent = terms.cap_percent
    claim.penalty_total = result.total
    claim.lines.clear()
    # The old rows go first: the same (milestone, sequence) may come straight back.
    db.session.flush()
    for line in result.lines:
        eff = effective_due(calendar, line.due_on)
        claim.lines.append(
            ClaimMilestone(
                milestone_id=line.milestone_id,
                sequence=claim.sequence,
                title=line.title,
                due_on=line.due_on,
                effective_due_on=line.effective_due_on,
                due_explanation=eff.explanation() if eff.moved else None,
                counted_until=line.counted_until,
                met_on=db.session.get(Milestone, line.milestone_id).met_on,
                days_late=line.days_late,
                counted_from=line.counted_from,
                counted_to=line.counted_to,
                days_counted=line.days_counted,
                base=line.base,
                daily_amount=line.daily_amount,
                accrued=line.accrued,
                capped=line.capped,
                cap_amount=line.cap_amount,
                missing_value=line.missing_value,
            )
        )
    claim.penalty_warnings = letters.freeze([w.as_dict() for w in result.warnings])
    claim.warnings_acknowledged = False
    claim.facts_snapshot = claim_facts_now(claim, result)


# --- the facts a claim stands on -----------------------------------------------------------------

#: What an approval covers besides the claim's own text: the contract, its parties, the claim's
#: obligations and the penalty as the rule gives it today on the claim's date.
_CONTRACT_FACTS = (
    "number",
    "signed_on",
    "subject",
    "total_amount",
    "penalty_rate_percent",
    "penalty_base",
    "penalty_cap_percent",
    "penalty_clause",
    "response_days",
    "response_working",
)
_PARTY_FACTS = ("name", "bin", "address", "head_position", "head_name")
_MILESTONE_FACTS = ("title", "due_on", "met_on", "status", "value", "obligor")


def _plain(value):
    if isinstance(value, Decimal | date):
        return str(value)
    if hasattr(value, "value"):  # an enum
        return str(value.value)
    return value


def claim_facts_now(claim: Claim, result=None) -> dict:
    """Today's facts of the claim (JSON-ready): compared with `facts_snapshot` to tell what changed
    since its penalty was computed. `result` saves recomputing the penalty just computed."""
    contract = claim.contract
    ids = [line.milestone_id for line in claim.lines]
    if result is None:
        milestones = [db.session.get(Milestone, i) for i in ids]
        result = contract_penalty(contract, claim.as_of, [m for m in milestones if m])
    obligations = {}
    for milestone_id in ids:
        m = db.session.get(Milestone, milestone_id)
        obligations[str(milestone_id)] = (
            None if m is None else {k: _plain(getattr(m, k)) for k in _MILESTONE_FACTS}
        )
    return {
        "contract": {k: _plain(getattr(contract, k, None)) for k in _CONTRACT_FACTS},
        "customer": {k: _plain(getattr(contract.customer, k, None)) for k in _PARTY_FACTS},
        "contractor": {k: _plain(getattr(contract.contractor, k, None)) for k in _PARTY_FACTS},
        "obligations": obligations,
        "penalty": {
            "total": str(result.total),
            "rows": [[r.milestone_id, r.days_counted, str(r.accrued)] for r in result.rows],
        },
    }


def stale_reasons(claim: Claim) -> list[str]:
    """What changed since the claim's penalty was computed (empty: nothing, or a sent letter)."""
    if claim.status not in EDITABLE or claim.facts_snapshot is None:
        return []
    then, now = claim.facts_snapshot, claim_facts_now(claim)
    if then == now:
        return []
    reasons = []
    contract = claim.contract
    if then.get("contract") != now["contract"]:
        changed = [k for k in _CONTRACT_FACTS if then["contract"].get(k) != now["contract"][k]]
        reasons.append(
            _(
                "Contract No. %(n)s changed: %(fields)s.",
                n=contract.number,
                fields=", ".join(_fact_label(k) for k in changed),
            )
        )
    for role, party in (("customer", contract.customer), ("contractor", contract.contractor)):
        if then.get(role) != now[role]:
            changed = [k for k in _PARTY_FACTS if (then.get(role) or {}).get(k) != now[role][k]]
            reasons.append(
                _(
                    "The party «%(name)s» changed: %(fields)s.",
                    name=party.name,
                    fields=", ".join(_fact_label(k) for k in changed),
                )
            )
    titles = {str(line.milestone_id): line.title for line in claim.lines}
    for key, old in (then.get("obligations") or {}).items():
        new = now["obligations"].get(key)
        if old == new:
            continue
        if new is None:
            reasons.append(_("The obligation «%(t)s» was deleted.", t=titles.get(key, key)))
            continue
        changed = [k for k in _MILESTONE_FACTS if (old or {}).get(k) != new[k]]
        reasons.append(
            _(
                "The obligation «%(t)s» changed: %(fields)s.",
                t=new["title"],
                fields=", ".join(_fact_label(k) for k in changed),
            )
        )
    if then.get("penalty") != now["penalty"]:
        reasons.append(
            _(
                "The penalty on %(d)s is now %(new)s, not %(old)s.",
                d=fmt(claim.as_of),
                new=format_money(Decimal(now["penalty"]["total"])),
                old=format_money(Decimal((then.get("penalty") or {}).get("total", "0"))),
            )
        )
    return reasons


def _fact_label(key: str) -> str:
    return {
        "number": _("number"),
        "signed_on": _("date signed"),
        "subject": _("subject"),
        "total_amount": _("amount"),
        "penalty_rate_percent": _("penalty rate"),
        "penalty_base": _("penalty base"),
        "penalty_cap_percent": _("penalty cap"),
        "penalty_clause": _("penalty clause"),
        "response_days": _("reply period"),
        "response_working": _("reply period"),
        "name": _("name"),
        "bin": _("BIN"),
        "address": _("address"),
        "head_position": _("head's position"),
        "head_name": _("head's name"),
        "title": _("title"),
        "due_on": _("due date"),
        "met_on": _("performed on"),
        "status": _("status"),
        "value": _("value"),
        "obligor": _("obligor"),
    }.get(key, key)


def claim_warnings(claim: Claim) -> list[PenaltyWarning]:
    """The warnings that came with the claim's penalty (cap reached, above the contract sum,
    time-barred days), in the reader's language through `.text`."""
    out = []
    for w in letters.thaw(claim.penalty_warnings or []):
        out.append(
            PenaltyWarning(
                code=w["code"],
                amount=Decimal(w.get("amount") or 0),
                days=w.get("days") or 0,
                since=w.get("since"),
                years=w.get("years") or 0,
            )
        )
    return out


def approval_refusal(user, claim: Claim) -> list[str]:
    """Why `user` may not approve this draft now (empty: they may), for the page to say so
    instead of offering a button that refuses."""
    reasons = []
    stale = stale_reasons(claim)
    if stale:
        reasons.append(_("The facts changed since the penalty was computed; recompute it first."))
        reasons.extend(stale)
    if claim.last_editor_id is not None and claim.last_editor_id == _user_id(user):
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


# --- versions ------------------------------------------------------------------------------------


def _version_data(claim: Claim) -> dict:
    return _data_of(
        as_of=claim.as_of,
        milestone_ids=claim.milestone_ids,
        demand=claim.demand,
        facts_note=claim.facts_note,
        attachments=claim.attachments,
        total=claim.penalty_total,
        lines=[(line.milestone_id, line.days_late, line.accrued) for line in claim.lines],
    )


def _data_of(*, as_of, milestone_ids, demand, facts_note, attachments, total, lines) -> dict:
    """What a version records: the editable fields and the penalty they give."""
    return letters.freeze(
        {
            "as_of": as_of,
            "milestone_ids": list(milestone_ids),
            "demand": str(demand),
            "facts_note": facts_note,
            "attachments": attachments,
            "penalty_total": total,
            "lines": [
                {"milestone_id": mid, "days_late": days, "accrued": accrued}
                for mid, days, accrued in lines
            ],
        }
    )


#: The fields whose changes a version shows, in order.
VERSION_FIELDS = (
    "as_of",
    "milestone_ids",
    "demand",
    "facts_note",
    "attachments",
    "penalty_total",
)


def _add_version(claim: Claim, user) -> ClaimVersion:
    previous = claim.versions[-1] if claim.versions else None
    version = ClaimVersion(
        number=(previous.number + 1) if previous else 1,
        actor=current_actor().label,
        user_id=_user_id(user),
        data=_version_data(claim),
    )
    claim.versions.append(version)
    return version


def version_changes(claim: Claim) -> list[tuple[ClaimVersion, dict[str, tuple[str, str]]]]:
    """Each version with what it changed against the one before: field -> (old, new)."""
    out = []
    previous = None
    for version in claim.versions:
        changes = {}
        if previous is not None:
            old, new = letters.thaw(previous.data), letters.thaw(version.data)
            changes = {
                key: (_shown(old.get(key)), _shown(new.get(key)))
                for key in VERSION_FIELDS
                if old.get(key) != new.get(key)
            }
        out.append((version, changes))
        previous = version
    return out


def _shown(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, date):
        return fmt(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


# --- drafting ------------------------------------------------------------------------------------


def _text_field(errors: Errors, data: dict, name: str) -> str | None:
    value = check_text(errors, name, data.get(name), max_length=MAX_TEXT)
    return value or None


def _demand(errors: Errors, value, milestones: list[Milestone]) -> Demand | None:
    if value in (None, ""):
        unperformed = any(m.met_on is None for m in milestones)
        return Demand.PERFORM_AND_PAY if unperformed else Demand.PAY
    try:
        return Demand(value)
    except ValueError:
        errors.add(
            "demand",
            _(
                "Unknown value %(value)s; allowed: %(allowed)s.",
                value=repr(value),
                allowed=", ".join(d.value for d in Demand),
            ),
        )
        return None


def _latest_sent(milestone_ids: Iterable[int]) -> Claim | None:
    """The last sent claim about any of these milestones that is still waiting or answered."""
    return db.session.scalar(
        sa.select(Claim)
        .join(ClaimMilestone, ClaimMilestone.claim_id == Claim.id)
        .where(
            ClaimMilestone.milestone_id.in_(list(milestone_ids)),
            Claim.status.in_([ClaimStatus.SENT, ClaimStatus.ANSWERED]),
        )
        .order_by(Claim.sequence.desc(), Claim.id.desc())
        .limit(1)
    )


def _next_sequence(milestone_ids: Iterable[int]) -> int:
    highest = db.session.scalar(
        sa.select(sa.func.max(ClaimMilestone.sequence))
        .join(Claim, Claim.id == ClaimMilestone.claim_id)
        .where(
            ClaimMilestone.milestone_id.in_(list(milestone_ids)),
            Claim.status.in_(list(SENT_STATUSES)),
        )
    )
    return (highest or 0) + 1


def create_claim(
    user,
    contract: Contract,
    data: dict,
    *,
    previous: Claim | None = None,
) -> Claim:
    """A draft claim about late milestones of the contract, with its penalty on `as_of`.

    `data`: milestone_ids, as_of, and optionally demand, facts_note, attachments. The claim
    follows `previous` (or the last sent claim about the same milestones) in the ladder.
    """
    errors = Errors()
    as_of = _as_of(errors, contract, data.get("as_of"))
    milestones = _milestones(errors, contract, data.get("milestone_ids"))
    demand = _demand(errors, data.get("demand"), milestones)
    facts_note = _text_field(errors, data, "facts_note")
    attachments = _text_field(errors, data, "attachments")
    result = _lines(errors, contract, milestones, as_of) if milestones and as_of else None
    errors.raise_if_any()

    if previous is None:
        previous = _latest_sent(m.id for m in milestones)
    sequence = previous.sequence + 1 if previous is not None else 1
    sequence = max(sequence, _next_sequence(m.id for m in milestones))
    _check_free_stage(errors, milestones, sequence)

    actor = current_actor().label
    claim = Claim(
        contract=contract,
        region_code=contract.region_code,
        sequence=sequence,
        status=ClaimStatus.DRAFT,
        previous=previous,
        as_of=as_of,
        demand=demand,
        facts_note=facts_note,
        attachments=attachments,
        drafted_by=actor,
        created_by_id=_user_id(user),
        last_editor_id=_user_id(user),
        penalty_total=Decimal("0.00"),
        penalty_rate_percent=Decimal(0),
        penalty_base=contract.penalty_base,
    )
    try:
        # A savepoint, so that a lost race for the same (milestone, stage) leaves the caller's
        # transaction usable and becomes a 409 rather than a 500.
        with db.session.begin_nested():
            db.session.add(claim)
            _apply_penalty(claim, contract, result)
            db.session.flush()
    except sa.exc.IntegrityError as exc:
        raise Conflict(
            {"milestone_ids": [_("Another claim for these obligations was just drafted.")]}
        ) from exc
    _add_version(claim, user)
    if previous is not None and previous.status in (ClaimStatus.SENT, ClaimStatus.ANSWERED):
        previous.status = ClaimStatus.ESCALATED
    db.session.flush()
    return claim


def _require_editable(claim: Claim) -> None:
    if claim.status in SENT_STATUSES:
        raise Conflict(
            {
                "_request": [
                    _(
                        "Claim No. %(n)s was sent on %(d)s; a sent letter never changes.",
                        n=claim.outgoing_number,
                        d=fmt(claim.sent_on),
                    )
                ]
            }
        )
    if claim.status == ClaimStatus.WITHDRAWN:
        raise Conflict({"_request": [_("The claim is withdrawn; restore it to change it.")]})


def update_claim(user, claim: Claim, data: dict) -> Claim:
    """Change a draft (or an approved claim, which then needs approval again); kept as a version.

    `data`: any of milestone_ids, as_of, demand, facts_note, attachments, and `recompute`
    (the penalty again on the same date, e.g. after a milestone was met). An edit that changes
    nothing leaves the claim, its approval and its versions as they were.
    """
    _require_editable(claim)
    contract = claim.contract
    errors = Errors()
    if "milestone_ids" in data:
        milestones = _milestones(errors, contract, data.get("milestone_ids"))
    else:
        milestones = [line.milestone for line in claim.lines]
    as_of = _as_of(errors, contract, data.get("as_of")) if "as_of" in data else claim.as_of
    values: dict[str, Any] = {
        "demand": claim.demand,
        "facts_note": claim.facts_note,
        "attachments": claim.attachments,
    }
    if "demand" in data:
        values["demand"] = _demand(errors, data.get("demand"), milestones)
    for name in ("facts_note", "attachments"):
        if name in data:
            values[name] = _text_field(errors, data, name)
    result = _lines(errors, contract, milestones, as_of) if milestones and as_of else None
    errors.raise_if_any()
    proposed = _data_of(
        as_of=as_of,
        milestone_ids=[line.milestone_id for line in result.lines],
        demand=values["demand"],
        facts_note=values["facts_note"],
        attachments=values["attachments"],
        total=result.total,
        lines=[(line.milestone_id, line.days_late, line.accrued) for line in result.lines],
    )
    stale = bool(data.get("recompute")) and bool(stale_reasons(claim))
    if proposed == _version_data(claim) and not stale:
        return claim
    current = _version_data(claim)
    penalty_keys = ("as_of", "milestone_ids", "lines")
    if any(current[k] != proposed[k] for k in penalty_keys) or data.get("recompute") or stale:
        _check_free_stage(errors, milestones, claim.sequence, claim)
        claim.as_of = as_of
        _apply_penalty(claim, contract, result)
    for key, value in values.items():
        setattr(claim, key, value)
    claim.last_editor_id = _user_id(user)
    if claim.status == ClaimStatus.APPROVED:
        # What was approved is not what will be sent any more.
        claim.status = ClaimStatus.DRAFT
        claim.approved_by_id = None
        claim.approved_at = None
        claim.self_approved = False
    db.session.flush()
    _add_version(claim, user)
    db.session.flush()
    return claim


# --- approval and sending ------------------------------------------------------------------------


def approve_claim(user, claim: Claim, acknowledge_warnings: bool = False) -> Claim:
    """Approve a draft for sending. Four eyes: whoever last changed the text may not approve it,
    unless nobody else in the region could (then the approval is marked as self-approved).

    A draft whose facts changed since its penalty was computed is refused until recomputed
    (409, saying what changed); a penalty with warnings needs `acknowledge_warnings` (422)."""
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
    _require_editable(claim)
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
    self_approved = False
    if claim.last_editor_id is not None and claim.last_editor_id == _user_id(user):
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
        self_approved = True
    claim.status = ClaimStatus.APPROVED
    claim.approved_by_id = _user_id(user)
    claim.approved_at = clock.now()
    claim.self_approved = self_approved
    claim.warnings_acknowledged = bool(warnings)
    if claim.prepared_by_id is None:
        claim.prepared_by_id = claim.last_editor_id or _user_id(user)
    db.session.flush()
    return claim


def current_texts() -> dict[str, dict]:
    """The letter text in use per language: the newest admin version, or the default."""
    out = {}
    for lang in LETTER_LANGUAGES:
        row = current_template(lang)
        out[lang] = {
            "version": row.version if row else 0,
            "body": row.body if row else letters.default_text(lang),
        }
    return out


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
    number = None
    if outgoing_number not in (None, "") and not has_permission(user, Permission.ADMIN):
        errors.add(
            "outgoing_number",
            _("Only administrators register a number given by hand; leave it empty."),
        )
    elif outgoing_number not in (None, ""):
        try:
            number = numbering.parse_number(outgoing_number)
        except Invalid as exc:
            for message in exc.errors["outgoing_number"]:
                errors.add("outgoing_number", message)
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
    _require_editable(claim)
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
    errors.raise_if_any()
    gaps = letters.kazakh_gaps(claim_facts(claim))
    if gaps and not acknowledge_kazakh_gaps:
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
    if number is not None:
        if numbering.is_used(number, sent_on):
            raise Conflict({"outgoing_number": [_("No. %(n)s is already used.", n=str(number))]})
        numbering.register_used(number, sent_on)
    else:
        number = numbering.take_next(on=sent_on)
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
    claim.sent_by_id = _user_id(user)
    claim.sent_at = clock.now()
    if claim.prepared_by_id is None:
        claim.prepared_by_id = claim.last_editor_id or _user_id(user)
    db.session.flush()
    claim.letter_snapshot = {
        "facts": letters.freeze(claim_facts(claim)),
        "texts": current_texts(),
        "kazakh_gaps_acknowledged": gaps,
    }
    db.session.flush()
    registry_services.recompute_claim_dependents(user, claim)
    return claim


# --- delivery -----------------------------------------------------------------------------------


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
    method = None
    try:
        method = DeliveryMethod(data.get("method"))
    except ValueError:
        if data.get("method") in (None, ""):
            errors.add("method", _("This field is required."))
        else:
            errors.add(
                "method",
                _(
                    "Unknown value %(value)s; allowed: %(allowed)s.",
                    value=repr(data.get("method")),
                    allowed=", ".join(m.value for m in DeliveryMethod),
                ),
            )
    received = data.get("received_on")
    if received is not None:
        if not isinstance(received, date):
            errors.add("received_on", _("Must be a date (YYYY-MM-DD)."))
        else:
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
    document = proof
    if document is None and data.get("document_id") is not None:
        document = db.session.get(Document, data["document_id"])
        if document is None or document.contract_id != claim.contract_id:
            errors.add("document_id", _("Not a document of this claim's contract."))
            document = None
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


# --- replies, escalation, withdrawal -------------------------------------------------------------


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
    incoming = check_text(errors, "incoming_number", data.get("incoming_number"), max_length=64)
    summary = _text_field(errors, data, "summary")
    paid = _money(errors, "paid_amount", data.get("paid_amount"))
    errors.raise_if_any()
    reply = ClaimReply(
        received_on=received,
        kind=kind,
        incoming_number=normalise_dashes(incoming) if incoming else None,
        summary=summary,
        paid_amount=paid,
        recorded_by_id=_user_id(user),
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
    note = check_text(errors, "note", note, max_length=MAX_TEXT)
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
    _require_editable(claim)
    errors = Errors()
    reason = check_text(errors, "reason", reason, required=True, max_length=MAX_TEXT)
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
    claim.last_editor_id = _user_id(user)
    db.session.flush()
    return claim


# --- what the letter says ------------------------------------------------------------------------


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
    return calendar.holiday_name(day, lang) or letters.weekday(day, lang)


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
        working = (
            f"{letters.weekday(effective_due_on, lang)}, {reason or _DECREE_WORKING_DAY[lang]}"
        )
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
    the Kazakh versions beside the Russian ones (`letters.in_language` picks)."""
    contract = claim.contract
    customer, contractor = contract.customer, contract.contractor
    department = department_for(contract.region_code)
    letter_date = claim.sent_on or clock.today()
    calendar = get_calendar()
    milestones = []
    for line in claim.lines:
        moved = line.effective_due_on != line.due_on
        reasons = {
            lang: due_reasons(calendar, line.due_on, line.effective_due_on, lang)
            if moved
            else ("", None)
            for lang in LETTER_LANGUAGES
        }
        milestones.append(
            {
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
        )
    earlier = db.session.scalars(
        sa.select(Claim)
        .join(ClaimMilestone, ClaimMilestone.claim_id == Claim.id)
        .where(
            Claim.contract_id == contract.id,
            Claim.id != claim.id,
            Claim.status.in_(list(SENT_STATUSES)),
            Claim.sequence < claim.sequence,
            ClaimMilestone.milestone_id.in_(claim.milestone_ids),
        )
        .distinct()
        .order_by(Claim.sent_on, Claim.id)
    ).all()
    earlier_facts = []
    for e in earlier:
        if e.sent_on is not None and e.sent_on > letter_date:
            continue
        state, replied_on = _earlier_state(e, letter_date)
        earlier_facts.append(
            {
                "number": e.outgoing_number,
                "date": e.sent_on,
                "response_due_on": e.response_due_on,
                "state": state,
                "replied_on": replied_on,
            }
        )
    case = cases.open_case_of(contract.id)
    if case is not None and case.filed_on > letter_date:
        case = None
    region = contract.region
    prepared = claim.prepared_by or claim.last_editor or claim.created_by
    from_receipt = (
        claim.response_from_receipt if claim.sent_on is not None else contract.response_from_receipt
    )
    executor = _person(prepared)
    if department is not None and department.executor_name:
        executor = {
            "name": department.executor_name,
            "position": None,
            "phone": department.executor_phone,
            "email": None,
        }
    paid = [i for i in contract.installments if i.paid_amount]
    if department is not None:
        sender = {
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
    else:
        sender = {
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
        "letter": {
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
        },
        "sender": sender,
        "addressee": {
            "name": contractor.name,
            "name_kk": contractor.name_kk,
            "address": contractor.address,
            "address_kk": contractor.address_kk,
            "bin": contractor.bin,
            "head_position": contractor.head_position,
            "head_position_kk": contractor.head_position_kk,
            "head_name": contractor.head_name,
            "email": contractor.email,
        },
        "contract": {
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
        },
        "milestones": milestones,
        "penalty": {
            "as_of": claim.as_of,
            "rate": claim.penalty_rate_percent,
            "base": str(claim.penalty_base),
            "cap": claim.penalty_cap_percent,
            "total": claim.penalty_total,
            "capped": any(line.capped for line in claim.lines),
        },
        "payments": {
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
        },
        "unperformed_total": sum(
            (line.milestone.value or Decimal(0) for line in claim.lines if line.met_on is None),
            Decimal("0.00"),
        ),
        "earlier": earlier_facts,
        "court": region.court_name,
        "court_kk": region.court_name_kk,
        "case": None
        if case is None
        else {
            "court": case.court_name,
            "court_kk": case.court_name_kk
            or (region.court_name_kk if case.court_name == region.court_name else None),
            "number": case.case_number,
            "filed_on": case.filed_on,
            "claims_penalty": case.claims_penalty,
            "claims_register": case.claims_register,
        },
        "legal_basis": department.legal_basis if department is not None else DEFAULT_LEGAL_BASIS,
        "signatory": {
            "position": sender["head_position"],
            "position_kk": sender["head_position_kk"],
            "name": sender["head_name"],
        },
        "prepared_by": executor,
        "facts_note": [x.strip() for x in (claim.facts_note or "").splitlines() if x.strip()],
        "attachments": [x.strip() for x in (claim.attachments or "").splitlines() if x.strip()],
    }


def gap_labels(gaps: Iterable[str]) -> list[str]:
    """The places of `letters.kazakh_gaps` in words of the reader's language."""
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
    facts = letters.thaw(snapshot["facts"]) if snapshot else claim_facts(claim)
    return letters.kazakh_gaps(facts)


def letter_for(claim: Claim, lang: str) -> letters.RenderedLetter:
    """The claim's letter: as frozen when sent, or as the draft reads today."""
    if lang not in LETTER_LANGUAGES:
        raise Invalid.one("lang", _("Letters exist in: %(l)s.", l=", ".join(LETTER_LANGUAGES)))
    snapshot = claim.letter_snapshot
    if snapshot:
        return letters.compose(
            snapshot["texts"][lang]["body"], letters.thaw(snapshot["facts"]), lang
        )
    return letters.compose(current_texts()[lang]["body"], claim_facts(claim), lang)


def letter_file(claim: Claim, lang: str, fmt_: str) -> bytes:
    """The bytes to download: the stored file of a sent letter, else rendered now."""
    if fmt_ not in ("docx", "pdf"):
        raise Invalid.one("format", _("Letters are DOCX or PDF."))
    if claim.letter_snapshot:
        stored = db.session.scalar(
            sa.select(ClaimFile).where(
                ClaimFile.claim_id == claim.id,
                ClaimFile.language == lang,
                ClaimFile.format == fmt_,
            )
        )
        if stored is not None:
            return stored.content
    letter = letter_for(claim, lang)
    return letter.docx() if fmt_ == "docx" else letter.pdf()


def store_letter_files(claim: Claim) -> list[ClaimFile]:
    """Render and keep the DOCX and PDF (ru, kk) of a sent claim; safe to run twice."""
    if not claim.letter_snapshot:
        return []
    have = {
        (f.language, f.format)
        for f in db.session.scalars(sa.select(ClaimFile).where(ClaimFile.claim_id == claim.id))
    }
    made = []
    for lang in LETTER_LANGUAGES:
        letter = None
        for fmt_ in ("docx", "pdf"):
            if (lang, fmt_) in have:
                continue
            letter = letter or letter_for(claim, lang)
            content = letter.docx() if fmt_ == "docx" else letter.pdf()
            row = ClaimFile(
                claim_id=claim.id,
                language=lang,
                format=fmt_,
                content=content,
                size=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
            )
            try:
                with db.session.begin_nested():
                    db.session.add(row)
            except sa.exc.IntegrityError:
                continue  # another worker stored the same file first
            made.append(row)
    return made


# --- letter templates ----------------------------------------------------------------------------


def current_template(lang: str) -> LetterTemplate | None:
    return db.session.scalar(
        sa.select(LetterTemplate)
        .where(LetterTemplate.language == lang)
        .order_by(LetterTemplate.version.desc())
        .limit(1)
    )


def save_template(user, lang: str, body, note=None) -> LetterTemplate:
    """A new version of the letter text, refused with line and reason if it would not render."""
    if lang not in LETTER_LANGUAGES:
        raise Invalid.one("language", _("Letters exist in: %(l)s.", l=", ".join(LETTER_LANGUAGES)))
    errors = Errors()
    body = check_text(errors, "body", body, required=True, max_length=letters.MAX_TEMPLATE_CHARS)
    note = check_text(errors, "note", note, max_length=500)
    errors.raise_if_any()
    problems = letters.check_text(body, lang)
    if problems:
        raise Invalid({"body": [str(p) for p in problems]})
    latest = current_template(lang)
    row = LetterTemplate(
        language=lang,
        version=(latest.version + 1) if latest else 1,
        body=body,
        note=note,
        created_by_id=_user_id(user),
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except sa.exc.IntegrityError as exc:
        raise Conflict({"body": [_("Someone saved a new version meanwhile; reload it.")]}) from exc
    return row


# --- the scan: drafting by the workers -----------------------------------------------------------


@dataclass
class ScanResult:
    drafted: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    flagged: list[int] = field(default_factory=list)
    notices: list[int] = field(default_factory=list)


def scan(as_of: date) -> ScanResult:
    """Draft first claims for obligations late past their grace period, the next claim for
    claims left unanswered past their deadline, and lawsuit recommendations after the last one.

    Safe to run twice or in two workers at once: a milestone's claim at a stage is unique, and an
    unanswered claim is taken with a conditional UPDATE (sent → escalated) that only one wins.
    """
    result = ScanResult()
    calendar = get_calendar()
    with_claim = sa.select(ClaimMilestone.id).where(ClaimMilestone.milestone_id == Milestone.id)
    candidates = db.session.scalars(
        sa.select(Milestone)
        .join(Contract, Contract.id == Milestone.contract_id)
        .where(
            Milestone.status.in_(list(OPEN_STATUSES)),
            Milestone.obligor == Obligor.CONTRACTOR,
            Milestone.due_on.is_not(None),
            Milestone.due_on < as_of,
            Contract.status.in_([ContractStatus.ACTIVE, ContractStatus.SUSPENDED]),
            ~sa.exists(with_claim),
        )
        .order_by(Milestone.contract_id, Milestone.due_on, Milestone.id)
    ).all()
    by_contract: dict[int, list[Milestone]] = {}
    for milestone in candidates:
        eff = calendar.next_working_day(milestone.due_on)
        if as_of > grace_ends(milestone.contract, eff, calendar):
            by_contract.setdefault(milestone.contract_id, []).append(milestone)
    for milestones in by_contract.values():
        contract = milestones[0].contract
        if cases.open_case_of(contract.id) is not None:
            continue  # a court has the dispute: no new letter is drafted by itself (DESIGN §4)
        try:
            with db.session.begin_nested():
                claim = create_claim(
                    SYSTEM_USER,
                    contract,
                    {"milestone_ids": [m.id for m in milestones], "as_of": as_of},
                )
        except Invalid:
            continue  # drafted by another worker a moment ago (or no longer late)
        result.drafted.append(claim.id)
        result.notices.extend(queue_notices(claim, "drafted"))

    unanswered = db.session.scalars(
        sa.select(Claim)
        .options(selectinload(Claim.lines).selectinload(ClaimMilestone.milestone))
        .where(Claim.status == ClaimStatus.SENT, Claim.response_due_on < as_of)
        .order_by(Claim.response_due_on, Claim.id)
    ).all()
    for claim in unanswered:
        remaining = [
            line.milestone.id
            for line in claim.lines
            if line.milestone.status != MilestoneStatus.WAIVED
        ]
        if not remaining:
            continue
        taken = db.session.execute(
            sa.update(Claim)
            .where(Claim.id == claim.id, Claim.status == ClaimStatus.SENT)
            .values(status=ClaimStatus.ESCALATED),
            execution_options={"synchronize_session": False},
        ).rowcount
        if taken != 1:
            continue
        claim.status = ClaimStatus.ESCALATED
        result.escalated.append(claim.id)
        if cases.open_case_of(claim.contract_id) is not None:
            continue  # a pending case: no next letter drafted by itself, no lawsuit flag either
        if claim.sequence < CLAIMS_BEFORE_LAWSUIT:
            # Not about obligations already in another open claim (a draft or approved letter).
            busy = _in_open_claims(remaining, claim.id)
            remaining = [m for m in remaining if m not in busy]
            if not remaining:
                continue
            try:
                with db.session.begin_nested():
                    follower = create_claim(
                        SYSTEM_USER,
                        claim.contract,
                        {"milestone_ids": remaining, "as_of": as_of},
                        previous=claim,
                    )
            except Invalid:
                continue
            result.drafted.append(follower.id)
            result.notices.extend(queue_notices(follower, "drafted"))
        else:
            flag = cases.flag_lawsuit(claim, FlagReason.UNANSWERED)
            result.flagged.append(flag.id)
            result.notices.extend(queue_notices(claim, "lawsuit"))
    db.session.flush()
    return result


def _in_open_claims(milestone_ids: list[int], but: int) -> set[int]:
    """Which of these obligations another draft or approved claim is already about."""
    return set(
        db.session.scalars(
            sa.select(ClaimMilestone.milestone_id)
            .join(Claim, Claim.id == ClaimMilestone.claim_id)
            .where(
                ClaimMilestone.milestone_id.in_(milestone_ids),
                Claim.id != but,
                Claim.status.in_(list(EDITABLE)),
            )
        )
    )


# --- e-mails to legal staff, exactly once --------------------------------------------------------


def queue_notices(claim: Claim, kind: str) -> list[int]:
    """One notice row per recipient, in the same transaction as the draft it is about."""
    ids = []
    for person in legal_recipients(claim.region_code):
        exists = db.session.scalar(
            sa.select(ClaimNotice.id).where(
                ClaimNotice.claim_id == claim.id,
                ClaimNotice.kind == kind,
                ClaimNotice.user_id == person.id,
            )
        )
        if exists is not None:
            continue
        notice = ClaimNotice(claim=claim, kind=kind, user_id=person.id, email=person.email)
        db.session.add(notice)
        db.session.flush()
        ids.append(notice.id)
    return ids


#: The notices' table in the outbox (`core.outbox`): "failed" is refused for now (tried again),
#: "refused" given up.
NOTICES = outbox.Queue(
    ClaimNotice,
    pending=NoticeStatus.PENDING,
    sending=NoticeStatus.SENDING,
    retry=NoticeStatus.FAILED,
    sent=NoticeStatus.SENT,
    failed=NoticeStatus.REFUSED,
    error_column="error",
    channel_column="channel",
)


def take_notice(notice_id: int) -> bool:
    """Claim a notice and mark its attempt (pending or refused for now, or a send whose worker
    died and whose lease ran out); False when someone has it or it is done."""
    return outbox.take(NOTICES, notice_id)


def notice_email(notice: ClaimNotice) -> Email:
    claim = notice.claim
    contract = claim.contract
    locale = notice.user.locale if notice.user and notice.user.locale in LOCALES else "ru"
    link = f"{current_app.config['BASE_URL'].rstrip('/')}/claims/{claim.id}"
    with force_locale(locale):
        amount = format_money(claim.penalty_total, locale)
        if notice.kind == "lawsuit":
            subject = _(
                "Lawsuit recommended: contract No. %(n)s, claim No. %(num)s unanswered",
                n=contract.number,
                num=claim.outgoing_number,
            )
            lead = _(
                "Claim No. %(num)s of %(d)s was the last of the ladder and was not answered by "
                "%(due)s. The contract is recommended for a lawsuit.",
                num=claim.outgoing_number,
                d=fmt(claim.sent_on),
                due=fmt(claim.response_due_on),
            )
        else:
            subject = _(
                "Claim draft (letter %(seq)s) on contract No. %(n)s: %(amount)s",
                seq=claim.sequence,
                n=contract.number,
                amount=amount,
            )
            lead = _(
                "A draft claim was prepared for review: letter %(seq)s to %(who)s, penalty "
                "%(amount)s as of %(d)s.",
                seq=claim.sequence,
                who=contract.contractor.name,
                amount=amount,
                d=fmt(claim.as_of),
            )
        lines = [lead, ""]
        for line in claim.lines:
            lines.append(
                _(
                    "— %(title)s: due %(due)s, %(late)s, %(amount)s",
                    title=line.title,
                    due=fmt(line.effective_due_on),
                    late=days_late_phrase(line.days_late),
                    amount=format_money(line.accrued, locale),
                )
            )
        lines += ["", _("Open it: %(link)s", link=link)]
    return Email(
        to=(notice.email,),
        subject=subject,
        text="\n".join(lines),
        message_id=f"claim-{claim.id}-{notice.kind}-{notice.user_id}@ppp-tracker",
    )


def deliver_notice(notice_id: int) -> str:
    """Send a notice already taken by `take_notice`; returns sent | retry | refused."""
    notice = db.session.get(ClaimNotice, notice_id)
    token = notice.claimed_at
    try:
        channel = send_email(notice_email(notice))
    except MailError as exc:
        delay = outbox.record_failure(NOTICES, notice_id, token, exc, clock.now())
        db.session.expire(notice)
        return "refused" if delay is None else "retry"
    outbox.record_sent(NOTICES, notice_id, token, clock.now(), channel=channel)
    db.session.expire(notice)
    return "sent"


def send_notices(ids: list[int]) -> outbox.Result:
    """Send these notices through the outbox: one claim, one SMTP connection."""
    return outbox.deliver(NOTICES, ids, _compose_notices)


def _compose_notices(ids: list[int]):
    notices = {
        n.id: n
        for n in db.session.scalars(
            sa.select(ClaimNotice)
            .where(ClaimNotice.id.in_(ids))
            .options(
                selectinload(ClaimNotice.user),
                selectinload(ClaimNotice.claim).selectinload(Claim.lines),
            )
        )
    }

    def make(notice_id: int) -> outbox.Letter:
        return outbox.Letter(notice_email(notices[notice_id]))

    return make


def stale_notices(now=None, limit: int = 1000) -> list[int]:
    """Notices whose task was lost or whose worker died mid-send (`core.outbox.stale`): queued
    again by the scan, like the alerts' `stale_work`."""
    return outbox.stale(NOTICES, now or clock.now(), limit)
