"""Drafting claims, by people and by the scan, and changing drafts: the late obligations chosen,
their penalty on the claim's date, the stage of the ladder; every edit kept as a version.

Like every claim service: plain functions of the acting user and parsed values, under the names
the API uses. They check state and consistency, collect every error before raising `Invalid`
(422) or `Conflict` (409), flush and never commit; pages, the API, the workers and the CLI commit
once at their edge.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from ppp_tracker import clock
from ppp_tracker.claims.codes import SENT_STATUSES, ClaimStatus, Demand
from ppp_tracker.claims.ladder import id_of
from ppp_tracker.claims.letters import frozen
from ppp_tracker.claims.models import Claim, ClaimMilestone
from ppp_tracker.claims.staleness import claim_facts_now, stale_reasons
from ppp_tracker.claims.versions import TEXT_FIELDS, add_version, data_of, data_of_claim
from ppp_tracker.core import limits
from ppp_tracker.core.audit import current_actor
from ppp_tracker.core.calendar import get_calendar
from ppp_tracker.core.dates import effective_due, fmt
from ppp_tracker.core.errors import Conflict
from ppp_tracker.core.validation import Errors, check_date_range, check_text
from ppp_tracker.db import db
from ppp_tracker.deadlines.penalty import contract_penalty
from ppp_tracker.registry.codes import MilestoneStatus, Obligor, PenaltyBase
from ppp_tracker.registry.models import Contract, Milestone
from ppp_tracker.registry.services.checks import check_enum

#: The largest id of an integer column.


def _milestones(errors: Errors, contract: Contract, ids) -> list[Milestone]:
    if not isinstance(ids, list | tuple) or not ids:
        errors.add("milestone_ids", _("Choose at least one late obligation."))
        return []
    if any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
        errors.add("milestone_ids", _("Must be a list of milestone ids."))
        return []
    # Ids beyond the column's range exist nowhere (and PostgreSQL would refuse the query).
    valid = [i for i in ids if 0 < i <= limits.MAX_ID]
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
    claim.penalty_warnings = frozen.freeze([w.as_dict() for w in result.warnings])
    claim.warnings_acknowledged = False
    claim.facts_snapshot = claim_facts_now(claim, result)


def optional_text(errors: Errors, data: dict, name: str) -> str | None:
    """A free text field, None when empty. ClaimForm, ClaimSchema and ClaimPatchSchema
    (claims/forms.py, claims/api) check the same limit."""
    value = check_text(errors, name, data.get(name), max_length=limits.TEXT)
    return value or None


def _demand(errors: Errors, value, milestones: list[Milestone]) -> Demand | None:
    if value in (None, ""):
        unperformed = any(m.met_on is None for m in milestones)
        return Demand.PERFORM_AND_PAY if unperformed else Demand.PAY
    return check_enum(errors, "demand", value, Demand)


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
    facts_note = optional_text(errors, data, "facts_note")
    attachments = optional_text(errors, data, "attachments")
    result = _lines(errors, contract, milestones, as_of) if milestones and as_of else None
    errors.raise_if_any()

    if previous is None:
        previous = _latest_sent(m.id for m in milestones)
    sequence = _stage(milestones, previous)
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
        created_by_id=id_of(user),
        last_editor_id=id_of(user),
        penalty_total=Decimal("0.00"),
        penalty_rate_percent=Decimal(0),
        penalty_base=contract.penalty_base,
    )
    _insert_draft(claim, contract, result)
    add_version(claim, user)
    if previous is not None and previous.status in (ClaimStatus.SENT, ClaimStatus.ANSWERED):
        previous.status = ClaimStatus.ESCALATED
    db.session.flush()
    return claim


def _stage(milestones: list[Milestone], previous: Claim | None) -> int:
    """The claim's place in the ladder: after `previous`, and after every claim already sent
    about these obligations."""
    sequence = previous.sequence + 1 if previous is not None else 1
    return max(sequence, _next_sequence(m.id for m in milestones))


def _insert_draft(claim: Claim, contract: Contract, result) -> None:
    """Add the new draft with its penalty lines; a lost race for the same (milestone, stage)
    is a 409."""
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


def require_editable(claim: Claim) -> None:
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
    require_editable(claim)
    contract = claim.contract
    errors = Errors()
    if "milestone_ids" in data:
        milestones = _milestones(errors, contract, data.get("milestone_ids"))
    else:
        milestones = [line.milestone for line in claim.lines]
    as_of = _as_of(errors, contract, data.get("as_of")) if "as_of" in data else claim.as_of
    values = _texts(errors, claim, data, milestones)
    result = _lines(errors, contract, milestones, as_of) if milestones and as_of else None
    errors.raise_if_any()
    proposed = data_of(as_of, values, result.total, result.lines)
    stale = bool(data.get("recompute")) and bool(stale_reasons(claim))
    if proposed == data_of_claim(claim) and not stale:
        return claim
    current = data_of_claim(claim)
    penalty_keys = ("as_of", "milestone_ids", "lines")
    if any(current[k] != proposed[k] for k in penalty_keys) or data.get("recompute") or stale:
        _check_free_stage(errors, milestones, claim.sequence, claim)
        claim.as_of = as_of
        _apply_penalty(claim, contract, result)
    for key, value in values.items():
        setattr(claim, key, value)
    claim.last_editor_id = id_of(user)
    if claim.status == ClaimStatus.APPROVED:
        # What was approved is not what will be sent any more.
        claim.status = ClaimStatus.DRAFT
        claim.approved_by_id = None
        claim.approved_at = None
        claim.self_approved = False
    db.session.flush()
    add_version(claim, user)
    db.session.flush()
    return claim


def _texts(errors: Errors, claim: Claim, data: dict, milestones: list[Milestone]) -> dict[str, Any]:
    """The demand and the free texts after the edit: those given in `data`, the rest as were."""
    values: dict[str, Any] = {name: getattr(claim, name) for name in TEXT_FIELDS}
    if "demand" in data:
        values["demand"] = _demand(errors, data.get("demand"), milestones)
    for name in ("facts_note", "attachments"):
        if name in data:
            values[name] = optional_text(errors, data, name)
    return values
