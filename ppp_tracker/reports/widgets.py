"""The dashboard's cards of the claims feature: letters waiting for legal staff, open lawsuits."""

from __future__ import annotations

import sqlalchemy as sa
from flask import has_request_context, url_for
from flask_babel import gettext as _

from ppp_tracker.auth.access import scope
from ppp_tracker.auth.models import User
from ppp_tracker.claims.codes import CaseOutcome, ClaimStatus
from ppp_tracker.claims.models import Case, Claim, LawsuitFlag
from ppp_tracker.db import db
from ppp_tracker.reports.dashboard import Widget


def claims_waiting(user: User) -> Widget:
    """Drafts and approved letters: work for legal staff before anything is sent."""
    # Both counts in one query (the dashboard's round trips add up under load).
    count, sent = db.session.execute(
        scope(
            sa.select(
                sa.func.count(Claim.id).filter(
                    Claim.status.in_([ClaimStatus.DRAFT, ClaimStatus.APPROVED])
                ),
                sa.func.count(Claim.id).filter(Claim.status == ClaimStatus.SENT),
            ),
            user,
            Claim.region_code,
        )
    ).one()
    count = count or 0
    return Widget(
        title=_("Claims waiting for legal staff"),
        value=count,
        url=url_for("claims.queue", tab="todo") if has_request_context() else None,
        level="warning" if count else "success",
        note=_("%(n)s sent, awaiting a reply", n=sent or 0),
    )


def cases_open(user: User) -> Widget:
    # Both counts in one round trip.
    count, flags = db.session.execute(
        sa.select(
            scope(
                sa.select(sa.func.count(Case.id)).where(Case.outcome == CaseOutcome.PENDING),
                user,
                Case.region_code,
            ).scalar_subquery(),
            scope(
                sa.select(sa.func.count(LawsuitFlag.id)).where(LawsuitFlag.case_id.is_(None)),
                user,
                LawsuitFlag.region_code,
            ).scalar_subquery(),
        )
    ).one()
    return Widget(
        title=_("Lawsuits open"),
        value=count or 0,
        url=url_for("claims.cases") if has_request_context() else None,
        level="danger" if flags else "secondary",
        note=_("%(n)s recommended, not yet filed", n=flags or 0) if flags else None,
    )
