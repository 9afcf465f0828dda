"""The contract's penalty (core.penalty) read from the database: which obligations are late and
from when, by the working-day calendar. Claims, letters, alerts, reports and the API all ask here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app, has_app_context

from ppp_tracker.core.calendar import WorkingCalendar, get_calendar
from ppp_tracker.core.dates import MilestoneState, milestone_state
from ppp_tracker.core.penalty import (
    DEFAULT_LIMITATION_YEARS,
    Obligation,
    Penalty,
    Row,
    Terms,
    compute,
)
from ppp_tracker.db import db
from ppp_tracker.registry.codes import MilestoneStatus, Obligor, PenaltyBase
from ppp_tracker.registry.models import Contract, Milestone

__all__ = [
    "Penalty",
    "Row",
    "contract_penalties",
    "contract_penalty",
    "limitation_years",
    "milestone_penalty",
    "terms_of",
]


def limitation_years() -> int:
    """Civil Code Art. 178 (3 years) unless the PENALTY_LIMITATION_YEARS setting says otherwise."""
    if has_app_context():
        return int(current_app.config.get("PENALTY_LIMITATION_YEARS", DEFAULT_LIMITATION_YEARS))
    return DEFAULT_LIMITATION_YEARS


def terms_of(contract) -> Terms:
    """The penalty terms of a contract (or of a row carrying its columns under the same names)."""
    return Terms(
        rate_percent_per_day=Decimal(contract.penalty_rate_percent),
        base=PenaltyBase(contract.penalty_base).value,
        cap_percent=None
        if contract.penalty_cap_percent is None
        else Decimal(contract.penalty_cap_percent),
        contract_amount=Decimal(contract.total_amount),
    )


def obligation_of(milestone, as_of: date, calendar: WorkingCalendar) -> Obligation | None:
    """The milestone as a late obligation on `as_of`, or None when it accrues no penalty (the
    customer's own, waived, without a due date, not late, or performed on time)."""
    if milestone.obligor != Obligor.CONTRACTOR or milestone.status == MilestoneStatus.WAIVED:
        return None
    if milestone.due_on is None:
        return None
    effective_due_on = calendar.next_working_day(milestone.due_on)
    state = milestone_state(milestone.status, effective_due_on, milestone.met_on, as_of)
    if state not in (MilestoneState.OVERDUE, MilestoneState.MET_LATE):
        return None
    return Obligation(
        id=milestone.id,
        title=milestone.title,
        due_on=milestone.due_on,
        effective_due_on=effective_due_on,
        met_on=milestone.met_on,
        value=None if milestone.value is None else Decimal(milestone.value),
    )


def penalty_of(
    terms: Terms,
    milestones: Iterable,
    as_of: date,
    calendar: WorkingCalendar | None = None,
) -> Penalty:
    """The penalty from terms and milestone-like rows (all of one contract)."""
    calendar = calendar or get_calendar()
    obligations = [o for m in milestones if (o := obligation_of(m, as_of, calendar)) is not None]
    return compute(terms, obligations, as_of, limitation_years())


def contract_penalty(
    contract: Contract,
    as_of: date,
    milestones: Iterable[Milestone] | None = None,
    calendar: WorkingCalendar | None = None,
) -> Penalty:
    """The contract's penalty on `as_of`; with `milestones`, the rows of those obligations only.

    The days are always attributed among ALL the contract's late obligations: a claim about
    some of them charges the days on which they were the earliest-due late obligation, never a
    day already charged to another, and the contract's one cap bounds every part.
    """
    result = penalty_of(terms_of(contract), contract.milestones, as_of, calendar)
    if milestones is None:
        return result
    return result.only((m.id for m in milestones), limitation_years())


def milestone_penalty(
    milestone: Milestone, as_of: date, calendar: WorkingCalendar | None = None
) -> Row | None:
    """One obligation's row of its contract's penalty (None when it accrues none)."""
    return contract_penalty(milestone.contract, as_of, calendar=calendar).row(milestone.id)


#: The columns of a milestone the rule reads, with its contract's terms.
_COLUMNS = (
    Milestone.id,
    Milestone.title,
    Milestone.obligor,
    Milestone.status,
    Milestone.due_on,
    Milestone.met_on,
    Milestone.value,
    Milestone.contract_id,
    Contract.total_amount,
    Contract.penalty_rate_percent,
    Contract.penalty_base,
    Contract.penalty_cap_percent,
)


def contract_penalties(
    contract_ids: Iterable[int], as_of: date, calendar: WorkingCalendar | None = None
) -> dict[int, Penalty]:
    """The penalty of each of these contracts on `as_of`, in one query (lists, exports, pages).

    A contract without a late obligation is absent from the answer.
    """
    ids = sorted(set(contract_ids))
    if not ids:
        return {}
    calendar = calendar or get_calendar()
    rows = db.session.execute(
        sa.select(*_COLUMNS)
        .join(Contract, Milestone.contract_id == Contract.id)
        .where(
            Milestone.contract_id.in_(ids),
            Milestone.obligor == Obligor.CONTRACTOR,
            Milestone.due_on.is_not(None),
            Milestone.due_on < as_of,
            Milestone.status != MilestoneStatus.WAIVED,
        )
    ).all()
    by_contract = defaultdict(list)
    for row in rows:
        by_contract[row.contract_id].append(row)
    out = {}
    for contract_id, members in by_contract.items():
        result = penalty_of(terms_of(members[0]), members, as_of, calendar)
        if result.rows:
            out[contract_id] = result
    return out
