"""The claims feature's panels on the contract page: the penalty explained the way a lawyer
checks it, and the contract's claims and lawsuits."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import render_template, request
from markupsafe import Markup
from sqlalchemy.orm import selectinload

from ppp_tracker import clock
from ppp_tracker.claims.models import Case, Claim, LawsuitFlag
from ppp_tracker.claims.views.common import parse_day
from ppp_tracker.core.calendar import get_calendar
from ppp_tracker.core.dates import effective_due
from ppp_tracker.core.web import locale_code
from ppp_tracker.db import db, round_tiyn
from ppp_tracker.deadlines.penalty import contract_penalty
from ppp_tracker.registry.codes import PenaltyBase
from ppp_tracker.registry.models import Contract


def penalty_panel(contract: Contract) -> Markup:
    """The penalty of the contract on a day, explained the way a lawyer checks it."""
    as_of = parse_day(request.args.get("penalty_as_of")) or clock.today()
    result = contract_penalty(contract, as_of)
    calendar = get_calendar()
    explained = [
        {
            "line": line,
            "why": effective_due(calendar, line.due_on, locale_code()).explanation(),
            "late_from": line.effective_due_on + timedelta(days=1),
            # Before the cap, rounded as the rule rounds: once, half up.
            "uncapped": round_tiyn(line.daily_exact * line.days_counted),
        }
        for line in result.lines
    ]
    # The template escapes every value (autoescape), so its output is safe HTML.
    return Markup(  # noqa: S704
        render_template(
            "claims/_contract_penalty.html",
            contract=contract,
            result=result,
            base_label=PenaltyBase(result.terms.base).label,
            explained=explained,
            as_of=as_of,
        )
    )


def claims_panel(contract: Contract) -> Markup:
    claims = db.session.scalars(
        sa.select(Claim)
        .where(Claim.contract_id == contract.id)
        .options(selectinload(Claim.lines), selectinload(Claim.replies))
        .order_by(Claim.sequence, Claim.id)
    ).all()
    cases = db.session.scalars(
        sa.select(Case).where(Case.contract_id == contract.id).order_by(Case.filed_on)
    ).all()
    flags = db.session.scalars(
        sa.select(LawsuitFlag)
        .where(LawsuitFlag.contract_id == contract.id, LawsuitFlag.case_id.is_(None))
        .order_by(LawsuitFlag.id)
    ).all()
    # The template escapes every value (autoescape), so its output is safe HTML.
    return Markup(  # noqa: S704
        render_template(
            "claims/_contract_claims.html",
            contract=contract,
            claims=claims,
            cases=cases,
            flags=flags,
        )
    )
