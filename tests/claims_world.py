"""A draft claim and a lawsuit for the access matrix (tests/test_access.py), made by services."""

from __future__ import annotations

from datetime import date

from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.claims import cases, drafting
from ppp_tracker.db import db
from tests import factories


def claims_world(contract) -> dict:
    late = factories.milestone(contract, due_on=date(2014, 5, 1))
    claim = drafting.create_claim(
        SYSTEM_USER, contract, {"milestone_ids": [late.id], "as_of": date(2014, 6, 12)}
    )
    case = cases.save_case(SYSTEM_USER, contract, {"filed_on": date(2014, 7, 3)})
    db.session.commit()
    return {"claim_id": claim.id, "case_id": case.id, "fmt": "pdf", "lang": "ru"}
