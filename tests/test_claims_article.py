"""The article's case end to end through the API (article section 7, DESIGN.md sections 2 and 4):
contract No. 241, the feasibility study due 01.05.2014, claims No. 14-28-9-1987 of 12.06.2014,
No. 14-28-9-2245 of 30.06.2014 and No. 14-28-9-2462 of 14.07.2014, the lawsuit of 03.07.2014."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ppp_tracker.claims import composing, numbering, scanning
from ppp_tracker.claims.models import Claim
from ppp_tracker.core.audit import Actor, acting_as
from ppp_tracker.db import db
from tests import factories


@pytest.fixture
def article(app, make_user, api_token):
    contract = factories.contract(
        number="241",
        signed_on=date(2013, 11, 21),
        total_amount=Decimal("77000000.00"),
        penalty={"rate_percent_per_day": Decimal("0.1"), "base": "total", "cap_percent": None},
        response_period={"days": 10, "working": True},
        penalty_clause="раздел «Ответственность сторон» Договора",
    )
    study = factories.milestone(
        contract,
        title="Разработка ТЭО и представление его на экспертизу",
        due_on=date(2014, 5, 1),
        value=Decimal("77000000.00"),
    )
    lawyer, colleague = make_user("legal", "KZ-35"), make_user("legal", "KZ-35")
    admin = make_user("admin", None)
    return {
        "contract": contract,
        "study": study,
        "lawyer": api_token(lawyer),
        "colleague": api_token(colleague),
        "admin": admin,
    }


def _move_counter(admin, last: str) -> None:
    """The department's paper register moved on (other letters went out in between)."""
    with acting_as(Actor(admin.email, admin.id)):
        numbering.set_last_used(last)
        db.session.commit()


def _approve_and_send(client, claim_id: int, approver, sender, sent_on: str) -> dict:
    r = client.post(f"/api/v1/claims/{claim_id}/approve", headers=approver)
    assert r.status_code == 200, r.get_json()
    r = client.post(
        f"/api/v1/claims/{claim_id}/send",
        json={"acknowledge_kazakh_gaps": True, "sent_on": sent_on},
        headers=sender,
    )
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_the_karaganda_case_from_the_first_claim_to_court(client, article, set_today):
    contract, study = article["contract"], article["study"]
    lawyer, colleague = article["lawyer"], article["colleague"]

    # 12.06.2014: the first claim, 39 days after the effective due date 04.05.2014.
    set_today("2014-06-12")
    r = client.post(
        "/api/v1/claims",
        json={"contract_id": contract.id, "milestone_ids": [study.id], "as_of": "2014-06-12"},
        headers=lawyer,
    )
    assert r.status_code == 201, r.get_json()
    first = r.get_json()
    assert (first["status"], first["sequence"], first["penalty"]) == ("draft", 1, "3003000.00")
    [line] = first["lines"]
    assert (line["effective_due_on"], line["days_late"], line["daily_amount"]) == (
        "2014-05-04",
        39,
        "77000.00",
    )
    assert first["outgoing_number"] is None and first["response_due_on"] is None

    _move_counter(article["admin"], "14–28–9-1986")  # typed with Word's en-dashes
    sent = _approve_and_send(client, first["id"], colleague, colleague, "2014-06-12")
    assert sent["outgoing_number"] == "14-28-9-1987"
    # 10 working days after Thursday 12.06.2014.
    assert sent["response_due_on"] == "2014-06-26"
    assert sent["status"] == "sent"

    # No reply by 26.06: on 27.06 the workers' scan drafts the second claim.
    set_today("2014-06-27")
    with acting_as(Actor("worker:claims.scan")):
        result = scanning.scan(date(2014, 6, 27))
        db.session.commit()
    [second_id] = result.drafted
    first_now = client.get(f"/api/v1/claims/{first['id']}", headers=lawyer).get_json()
    assert first_now["status"] == "escalated"

    # The lawyer dates it as it went out, 30.06.2014: 57 days late.
    set_today("2014-06-30")
    r = client.patch(f"/api/v1/claims/{second_id}", json={"as_of": "2014-06-30"}, headers=lawyer)
    assert r.status_code == 200, r.get_json()
    second = r.get_json()
    assert (second["sequence"], second["penalty"], second["previous_id"]) == (
        2,
        "4389000.00",
        first["id"],
    )
    assert [v["number"] for v in second["versions"]] == [1, 2]
    _move_counter(article["admin"], "14-28-9-2244")
    sent = _approve_and_send(client, second_id, colleague, lawyer, "2014-06-30")
    assert sent["outgoing_number"] == "14-28-9-2245"
    # DESIGN.md: sent 30.06.2014 with 10 working days is due 15.07.2014 (07.07.2014 was off).
    assert sent["response_due_on"] == "2014-07-15"

    # 03.07.2014: the lawsuit in the region's economic court, on both claims.
    set_today("2014-07-03")
    r = client.post(
        "/api/v1/cases",
        json={
            "contract_id": contract.id,
            "filed_on": "2014-07-03",
            "claims_penalty": True,
            "claims_register": True,
            "amount_claimed": "4620000.00",
            "claim_ids": [first["id"], second_id],
        },
        headers=lawyer,
    )
    assert r.status_code == 201, r.get_json()
    case = r.get_json()
    assert case["court_name"] == contract.region.court_name
    assert "Карагандинской" in case["court_name"]
    assert case["claim_ids"] == [first["id"], second_id]
    assert client.get(f"/api/v1/claims/{second_id}", headers=lawyer).get_json()["status"] == (
        "escalated"
    )

    # 14.07.2014: a third claim nonetheless, on legal staff's decision.
    set_today("2014-07-14")
    r = client.post(
        "/api/v1/claims",
        json={"contract_id": contract.id, "milestone_ids": [study.id], "as_of": "2014-07-14"},
        headers=lawyer,
    )
    assert r.status_code == 201, r.get_json()
    third = r.get_json()
    assert (third["sequence"], third["penalty"]) == (3, "5467000.00")
    _move_counter(article["admin"], "14-28-9-2461")
    sent = _approve_and_send(client, third["id"], colleague, colleague, "2014-07-14")
    assert (sent["outgoing_number"], sent["response_due_on"]) == ("14-28-9-2462", "2014-07-28")

    # The third letter names the first two.
    letter = composing.letter_for(db.session.get(Claim, third["id"]), "ru")
    body = " ".join(letter.blocks["body"])
    assert "№ 14-28-9-1987 от «12» июня 2014 г." in body
    assert "№ 14-28-9-2245 от «30» июня 2014 г." in body

    # After the third claim's deadline the scan recommends no second lawsuit: one is open.
    set_today("2014-07-29")
    with acting_as(Actor("worker:claims.scan")):
        result = scanning.scan(date(2014, 7, 29))
        db.session.commit()
    assert result.escalated == [third["id"]] and result.flagged == [] and result.drafted == []

    history = client.get(f"/api/v1/claims?contract_id={contract.id}", headers=lawyer).get_json()
    assert sorted((c["outgoing_number"], c["status"]) for c in history) == [
        ("14-28-9-1987", "escalated"),
        ("14-28-9-2245", "escalated"),
        ("14-28-9-2462", "escalated"),
    ]
    found = client.get("/api/v1/claims?number=14–28–9-2245", headers=lawyer).get_json()
    assert [c["id"] for c in found] == [second_id]
