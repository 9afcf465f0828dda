"""The penalty (неустойка, Civil Code Art. 293) per the contract's terms, in exact decimals.

    accrued = base × rate % × days late, limited to cap % × base when the contract sets a cap,

where `base` is the contract total or the milestone's value (`outstanding`), days late are counted
from the effective due date (deadlines.rules), and the amount is rounded half up to a whole tiyn
once, at the end. Example: 77,000,000.00 × 0.1 % × 39 days = 3,003,000.00 KZT.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ppp_tracker.db import round_tiyn
from ppp_tracker.deadlines.calendar import WorkingCalendar, get_calendar
from ppp_tracker.deadlines.rules import MilestoneState, days_late, milestone_state
from ppp_tracker.registry.codes import MilestoneStatus, Obligor, PenaltyBase
from ppp_tracker.registry.models import Contract, Milestone

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class PenaltyTerms:
    rate_percent_per_day: Decimal
    base: PenaltyBase
    cap_percent: Decimal | None

    @classmethod
    def of(cls, contract: Contract) -> PenaltyTerms:
        return cls(
            Decimal(contract.penalty_rate_percent),
            PenaltyBase(contract.penalty_base),
            None if contract.penalty_cap_percent is None else Decimal(contract.penalty_cap_percent),
        )


@dataclass(frozen=True)
class PenaltyLine:
    """The penalty of one late obligation on `as_of`."""

    milestone_id: int
    title: str
    due_on: date
    effective_due_on: date
    #: The day the count stops: performance, or `as_of` while unperformed.
    counted_until: date
    days_late: int
    base: Decimal
    #: base × rate, exact (may hold fractions of a tiyn; shown rounded).
    daily_exact: Decimal
    accrued: Decimal
    capped: bool
    cap_amount: Decimal | None
    #: The base was `outstanding` but the milestone has no value: nothing can accrue.
    missing_value: bool = False

    @property
    def daily_amount(self) -> Decimal:
        return round_tiyn(self.daily_exact)


def penalty_amount(
    base: Decimal, rate_percent_per_day: Decimal, days: int, cap_percent: Decimal | None
) -> tuple[Decimal, bool]:
    """(accrued, capped): exact arithmetic, one rounding half up to a whole tiyn at the end."""
    if days <= 0 or base <= 0:
        return Decimal("0.00"), False
    exact = base * rate_percent_per_day / HUNDRED * days
    capped = False
    if cap_percent is not None:
        cap = base * cap_percent / HUNDRED
        if exact > cap:
            exact, capped = cap, True
    return round_tiyn(exact), capped


def penalty_line(
    contract: Contract,
    milestone: Milestone,
    as_of: date,
    calendar: WorkingCalendar | None = None,
    terms: PenaltyTerms | None = None,
) -> PenaltyLine | None:
    """The penalty of one milestone, or None when it accrues none (not late, waived, customer's)."""
    if milestone.obligor != Obligor.CONTRACTOR or milestone.status == MilestoneStatus.WAIVED:
        return None
    if milestone.due_on is None:
        return None
    terms = terms or PenaltyTerms.of(contract)
    # The state and the days late as `deadlines.rules.timing` has them, without composing the
    # date's explanation (a dashboard asks for hundreds of thousands of lines).
    effective_due_on = (calendar or get_calendar()).next_working_day(milestone.due_on)
    state = milestone_state(milestone.status, effective_due_on, milestone.met_on, as_of)
    if state not in (MilestoneState.OVERDUE, MilestoneState.MET_LATE):
        return None
    late = days_late(effective_due_on, as_of, milestone.met_on)
    if late <= 0:
        return None
    missing_value = False
    if terms.base == PenaltyBase.TOTAL:
        base = Decimal(contract.total_amount)
    elif milestone.value is None:
        base, missing_value = Decimal("0.00"), True
    else:
        base = Decimal(milestone.value)
    accrued, capped = penalty_amount(base, terms.rate_percent_per_day, late, terms.cap_percent)
    counted_until = min(as_of, milestone.met_on) if milestone.met_on else as_of
    return PenaltyLine(
        milestone_id=milestone.id,
        title=milestone.title,
        due_on=milestone.due_on,
        effective_due_on=effective_due_on,
        counted_until=counted_until,
        days_late=late,
        base=base,
        daily_exact=base * terms.rate_percent_per_day / HUNDRED,
        accrued=accrued,
        capped=capped,
        cap_amount=None
        if terms.cap_percent is None
        else round_tiyn(base * terms.cap_percent / HUNDRED),
        missing_value=missing_value,
    )


@dataclass(frozen=True)
class ContractPenalty:
    as_of: date
    terms: PenaltyTerms
    lines: tuple[PenaltyLine, ...]

    @property
    def total(self) -> Decimal:
        return sum((line.accrued for line in self.lines), Decimal("0.00"))


def contract_penalty(
    contract: Contract,
    as_of: date,
    milestones: Iterable[Milestone] | None = None,
    calendar: WorkingCalendar | None = None,
) -> ContractPenalty:
    """The penalty of the contract's late milestones (or of the given ones) on `as_of`."""
    calendar = calendar or get_calendar()
    terms = PenaltyTerms.of(contract)
    lines = []
    for milestone in milestones if milestones is not None else contract.milestones:
        line = penalty_line(contract, milestone, as_of, calendar, terms)
        if line is not None:
            lines.append(line)
    return ContractPenalty(as_of, terms, tuple(lines))
