"""The claims scan: drafting by the workers (first claims past the grace period, the next claim
after an unanswered one) and lawsuit recommendations after the last claim of the ladder."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.claims import cases
from ppp_tracker.claims.codes import CLAIMS_BEFORE_LAWSUIT, EDITABLE, ClaimStatus, FlagReason
from ppp_tracker.claims.drafting import create_claim
from ppp_tracker.claims.ladder import grace_ends
from ppp_tracker.claims.models import Claim, ClaimMilestone
from ppp_tracker.claims.staff_notices import queue_notices
from ppp_tracker.core.calendar import get_calendar
from ppp_tracker.core.dates import OPEN_STATUSES
from ppp_tracker.core.errors import Invalid
from ppp_tracker.db import db
from ppp_tracker.registry.codes import ContractStatus, MilestoneStatus, Obligor
from ppp_tracker.registry.models import Contract, Milestone


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
    for milestones in _late_past_grace(as_of).values():
        _draft_first_claim(milestones, as_of, result)
    unanswered = db.session.scalars(
        sa.select(Claim)
        .options(selectinload(Claim.lines).selectinload(ClaimMilestone.milestone))
        .where(Claim.status == ClaimStatus.SENT, Claim.response_due_on < as_of)
        .order_by(Claim.response_due_on, Claim.id)
    ).all()
    for claim in unanswered:
        _escalate_unanswered(claim, as_of, result)
    db.session.flush()
    return result


def _late_past_grace(as_of: date) -> dict[int, list[Milestone]]:
    """The contractors' open obligations with no claim yet whose grace period ended before
    `as_of`, by contract (of contracts in force or suspended)."""
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
    return by_contract


def _draft_first_claim(milestones: list[Milestone], as_of: date, result: ScanResult) -> None:
    """The first claim about a contract's obligations late past their grace period."""
    contract = milestones[0].contract
    if cases.open_case_of(contract.id) is not None:
        return  # a court has the dispute: no new letter is drafted by itself (DESIGN §4)
    try:
        with db.session.begin_nested():
            claim = create_claim(
                SYSTEM_USER,
                contract,
                {"milestone_ids": [m.id for m in milestones], "as_of": as_of},
            )
    except Invalid:
        return  # drafted by another worker a moment ago (or no longer late)
    result.drafted.append(claim.id)
    result.notices.extend(queue_notices(claim, "drafted"))


def _escalate_unanswered(claim: Claim, as_of: date, result: ScanResult) -> None:
    """A claim unanswered past its deadline escalates: to the next claim about its obligations
    not waived, or, after the last claim of the ladder, to a lawsuit recommendation."""
    remaining = [
        line.milestone.id for line in claim.lines if line.milestone.status != MilestoneStatus.WAIVED
    ]
    if not remaining:
        return
    taken = db.session.execute(
        sa.update(Claim)
        .where(Claim.id == claim.id, Claim.status == ClaimStatus.SENT)
        .values(status=ClaimStatus.ESCALATED),
        execution_options={"synchronize_session": False},
    ).rowcount
    if taken != 1:
        return
    claim.status = ClaimStatus.ESCALATED
    result.escalated.append(claim.id)
    if cases.open_case_of(claim.contract_id) is not None:
        return  # a pending case: no next letter drafted by itself, no lawsuit flag either
    if claim.sequence < CLAIMS_BEFORE_LAWSUIT:
        _draft_next_claim(claim, remaining, as_of, result)
    else:
        flag = cases.flag_lawsuit(claim, FlagReason.UNANSWERED)
        result.flagged.append(flag.id)
        result.notices.extend(queue_notices(claim, "lawsuit"))


def _draft_next_claim(claim: Claim, remaining: list[int], as_of: date, result: ScanResult) -> None:
    # Not about obligations already in another open claim (a draft or approved letter).
    busy = _in_open_claims(remaining, claim.id)
    remaining = [m for m in remaining if m not in busy]
    if not remaining:
        return
    try:
        with db.session.begin_nested():
            follower = create_claim(
                SYSTEM_USER,
                claim.contract,
                {"milestone_ids": remaining, "as_of": as_of},
                previous=claim,
            )
    except Invalid:
        return
    result.drafted.append(follower.id)
    result.notices.extend(queue_notices(follower, "drafted"))


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
