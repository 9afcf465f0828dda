"""The penalty in claims (DESIGN §4, issue 13): the letter's table with periods and days counted
in the letter's language, warnings that need acknowledging, drafting guards, and approvals that
cover only what was approved."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.claims import services
from ppp_tracker.db import db
from tests import factories
from tests.test_claims_letters import docx_text

D = Decimal


@pytest.fixture
def case241(app, set_today):
    """Contract 241 (77,000,000.00, 0.1 % a day of the total, cap 10 %) with the state expertise
    due 01.05.2014 (effective 04.05.2014, a working Sunday) and the sectoral one due 01.07.2014."""
    set_today("2014-07-14")
    contract = factories.contract(
        number="241",
        total_amount=D("77000000.00"),
        penalty={"rate_percent_per_day": D("0.1"), "base": "total", "cap_percent": D("10")},
    )
    state = factories.milestone(
        contract, due_on=date(2014, 5, 1), title="Государственная экспертиза"
    )
    sector = factories.milestone(contract, due_on=date(2014, 7, 1), title="Отраслевая экспертиза")
    return contract, state, sector


def _draft(contract, milestones, as_of):
    claim = services.create_claim(
        SYSTEM_USER, contract, {"milestone_ids": [m.id for m in milestones], "as_of": as_of}
    )
    db.session.commit()
    return claim


def test_the_letter_table_shows_periods_and_days_counted_in_the_letters_language(
    client, make_user, api_token, case241
):
    contract, state, sector = case241
    claim = _draft(contract, [state, sector], date(2014, 7, 14))
    # 05.05–14.07.2014: 27 + 30 + 14 = 71 days × 77,000.00; the sectoral expertise's 13 days
    # (02.07–14.07) are days of the same delay, counted once.
    assert claim.penalty_total == D("77000.00") * 71 == D("5467000.00")
    reader = make_user("viewer")
    reader.locale = "en"
    db.session.commit()
    r = client.get(f"/api/v1/claims/{claim.id}/letter.docx?lang=ru", headers=api_token(reader))
    assert r.status_code == 200
    text = docx_text(r.data)
    assert "Total" not in text
    assert "Итого" in text
    assert "05.05.2014 – 14.07.2014" in text
    r = client.get(f"/api/v1/claims/{claim.id}/letter.docx?lang=kk", headers=api_token(reader))
    text = docx_text(r.data)
    assert "Total" not in text and "Итого" not in text


def test_a_sent_russian_letter_says_itogo_whoever_fetches_it(client, make_user, api_token, case241):
    contract, state, _sector = case241
    lawyer, other = make_user("legal"), make_user("legal")
    for u in (lawyer, other):
        u.locale = "en"
    db.session.commit()
    r = client.post(
        "/api/v1/claims",
        json={"contract_id": contract.id, "milestone_ids": [state.id], "as_of": "2014-06-12"},
        headers=api_token(lawyer),
    )
    assert r.status_code == 201, r.get_json()
    claim_id = r.get_json()["id"]
    r = client.post(f"/api/v1/claims/{claim_id}/approve", json={}, headers=api_token(other))
    assert r.status_code == 200, r.get_json()
    r = client.post(
        f"/api/v1/claims/{claim_id}/send", json={"sent_on": "2014-06-12"}, headers=api_token(other)
    )
    assert r.status_code == 200, r.get_json()
    r = client.get(f"/api/v1/claims/{claim_id}/letter.docx?lang=ru", headers=api_token(other))
    text = docx_text(r.data)
    assert "Итого" in text and "Total" not in text
