"""A claim's delivery and receipt (issue 13, item 6): how it was delivered, the day the
contractor received it and the proof (a scan, through the registry's one upload path); where
the contract counts the reply period from receipt, the deadline follows the receipt and the
escalation scan waits for it. On PostgreSQL and SQLite, through the pages and the API.

The calendar, worked by hand (Kazakhstan, July 2014): Capital Day, Sunday 06.07.2014, moved to
Monday 07.07.2014, a day off. Ten working days:
- from sending on Monday 30.06.2014: 01, 02, 03, 04, 08, 09, 10, 11, 14, 15.07 → 15.07.2014;
- from receipt on Wednesday 02.07.2014: 03, 04, 08, 09, 10, 11, 14, 15, 16, 17.07 → 17.07.2014.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.auth.services import issue_token
from ppp_tracker.claims import composing, drafting, scanning, sending
from ppp_tracker.claims.codes import ClaimStatus
from ppp_tracker.claims.models import Claim
from ppp_tracker.core.audit import Actor, AuditEvent, acting_as
from ppp_tracker.core.errors import Conflict
from ppp_tracker.db import db
from ppp_tracker.registry.models import Contract, Document
from tests import factories
from tests.conftest import login, post_form
from tests.pages import move_today as _today
from tests.pages import text_of
from tests.pages import user as _user

NBSP = "\u00a0"
PDF = b"%PDF-1.4\n% a scan of the postal notice of delivery\n%%EOF\n"


def _sent_claim(app, *, from_receipt: bool, region: str = "KZ-35") -> Claim:
    """A first claim on a contract with 10 working days to reply, sent Monday 30.06.2014."""
    _today(app, "2014-06-30")
    contract = factories.contract(
        region,
        penalty={"rate_percent_per_day": Decimal("0.1"), "base": "total", "cap_percent": None},
        response_period={"days": 10, "working": True, "from_receipt": from_receipt},
    )
    m = factories.milestone(contract, due_on=date(2014, 5, 1))
    claim = drafting.create_claim(
        SYSTEM_USER, contract, {"milestone_ids": [m.id], "as_of": date(2014, 6, 30)}
    )
    sending.approve_claim(SYSTEM_USER, claim)
    sending.send_claim(SYSTEM_USER, claim, date(2014, 6, 30))
    db.session.commit()
    return claim


def _scan(day: str):
    with acting_as(Actor("worker:claims.scan")):
        result = scanning.scan(date.fromisoformat(day))
        db.session.commit()
    return result


def test_the_contract_says_whether_the_reply_period_runs_from_receipt(any_app):
    by_receipt = factories.contract(
        response_period={"days": 10, "working": True, "from_receipt": True}
    )
    by_sending = factories.contract()
    assert by_receipt.response_from_receipt is True
    assert by_sending.response_from_receipt is False  # the default: from sending
    client = any_app.test_client()
    admin = _user("admin", None)
    headers = {"Authorization": f"Bearer {issue_token(admin, 'test')}"}
    db.session.commit()
    body = client.get(f"/api/v1/contracts/{by_receipt.id}", headers=headers).get_json()
    assert body["response_period"] == {"days": 10, "working": True, "from_receipt": True}
    r = client.patch(
        f"/api/v1/contracts/{by_sending.id}",
        json={"response_period": {"days": 10, "working": True, "from_receipt": "maybe"}},
        headers=headers,
    )
    assert r.status_code == 422
    assert "from_receipt" in str(r.get_json()["errors"])


def test_a_receipt_period_waits_for_the_receipt_and_then_runs_from_it(any_app):
    """Sent 30.06.2014: from sending the reply would be due 15.07.2014; from receipt on
    02.07.2014 it is due 17.07.2014 (the module's docstring counts the days)."""
    control = _sent_claim(any_app, from_receipt=False)
    claim = _sent_claim(any_app, from_receipt=True)
    assert control.response_due_on == date(2014, 7, 15)
    assert claim.response_due_on is None and claim.awaiting_receipt
    lawyer = _user("legal")
    client = any_app.test_client()
    _today(any_app, "2014-07-03")
    login(client, lawyer)
    page = text_of(client.get(f"/claims/{claim.id}"))
    assert "Ответ до не течёт" in page
    assert "срок ответа по договору считается со дня получения претензии подрядчиком" in page

    # The lawyer records the registered letter's receipt with the postal notice, scanned.
    r = post_form(
        client,
        f"/claims/{claim.id}/delivery",
        {
            "method": "registered_mail",
            "delivered_on": "2014-07-02",
            "proof_file": (io.BytesIO(PDF), "уведомление о вручении.pdf"),
        },
        form_url=f"/claims/{claim.id}",
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert r.status_code == 200, text_of(r)[:2000]
    page = text_of(r)
    assert "Доставка записана." in page
    assert "17.07.2014" in page and "10 рабочих дней после получения 02.07.2014" in page
    assert "Заказным письмом с уведомлением о вручении" in page
    db.session.expire_all()
    claim = db.session.get(Claim, claim.id)
    assert (claim.received_on, claim.response_due_on) == (date(2014, 7, 2), date(2014, 7, 17))
    proof = claim.delivery_document
    assert (proof.contract_id, str(proof.document_type)) == (
        claim.contract_id,
        "claimDeliveryProof",
    )
    assert proof.content == PDF and proof.filename == "уведомление о вручении.pdf"
    download = client.get(f"/documents/{proof.id}")
    assert download.status_code == 200 and download.data == PDF
    change = db.session.scalars(
        sa.select(AuditEvent)
        .where(
            AuditEvent.entity_type == "claims",
            AuditEvent.entity_id == str(claim.id),
            AuditEvent.action == "update",
        )
        .order_by(AuditEvent.id)
    ).all()[-1]
    assert change.actor == lawyer.email
    assert change.changes["received_on"] == [None, "2014-07-02"]
    assert change.changes["response_due_on"] == [None, "2014-07-17"]

    # The scan: on 16.07 the claim counted from sending escalates, the other one waits.
    _today(any_app, "2014-07-18")
    result = _scan("2014-07-16")
    assert result.escalated == [control.id]
    assert _scan("2014-07-17").escalated == []  # 17.07 is the receipt claim's last day
    assert _scan("2014-07-18").escalated == [claim.id]
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).status == ClaimStatus.ESCALATED


def test_without_a_receipt_the_scan_never_escalates_a_receipt_claim(any_app):
    claim = _sent_claim(any_app, from_receipt=True)
    _today(any_app, "2014-12-31")
    assert _scan("2014-12-31").escalated == []
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).status == ClaimStatus.SENT


def test_the_receipt_letter_names_the_period_instead_of_a_date(any_app):
    claim = _sent_claim(any_app, from_receipt=True)
    ru = " ".join(" ".join(v) for v in composing.letter_for(claim, "ru").blocks.values())
    kk = " ".join(" ".join(v) for v in composing.letter_for(claim, "kk").blocks.values())
    assert "в течение 10 рабочих дней со дня получения настоящей претензии" in ru
    assert "осы талапты алған күннен бастап 10 жұмыс күні ішінде" in kk
    control = _sent_claim(any_app, from_receipt=False)
    ru = " ".join(" ".join(v) for v in composing.letter_for(control, "ru").blocks.values())
    assert "до «15» июля 2014 г." in ru


def test_bad_delivery_input_is_a_field_error_through_the_api(any_app):
    claim = _sent_claim(any_app, from_receipt=True)
    other = _sent_claim(any_app, from_receipt=False)
    foreign = Document(
        contract_id=other.contract_id,
        region_code="KZ-35",
        document_type="claimDeliveryProof",
        title="чужой скан",
        filename="x.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256="0" * 64,
        content=PDF,
    )
    db.session.add(foreign)
    db.session.commit()
    _today(any_app, "2014-07-03")
    lawyer = _user("legal")
    headers = {"Authorization": f"Bearer {issue_token(lawyer, 'test')}"}
    db.session.commit()
    client = any_app.test_client()
    url = f"/api/v1/claims/{claim.id}/delivery"
    cases = [
        ({"method": "courier", "received_on": "2014-06-29"}, "received_on", "до её отправки"),
        ({"method": "courier", "received_on": "2014-07-04"}, "received_on", "будущим днём"),
        ({"method": "pigeon"}, "method", None),
        ({"received_on": "2014-07-02"}, "method", None),
        ({"method": "courier", "received_on": "02.07.2014"}, "received_on", None),
        ({"method": "courier", "document_id": foreign.id}, "document_id", "не документ"),
    ]
    for body, field, words in cases:
        r = client.post(url, json=body, headers=headers)
        assert r.status_code == 422, (body, r.get_json())
        errors = r.get_json()["errors"]
        assert field in str(errors), (body, errors)
        if words:
            assert words in str(errors), (body, errors)
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).received_on is None

    r = client.post(url, json={"method": "edocument", "received_on": "2014-07-02"}, headers=headers)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["response_due_on"] == "2014-07-17"
    assert body["reply_period_running"] is True and body["response_from_receipt"] is True
    assert body["delivery"] == {
        "method": "edocument",
        "received_on": "2014-07-02",
        "document_id": None,
    }
    # The receipt taken back (it was entered on the wrong claim): the deadline stops again.
    r = client.post(url, json={"method": "edocument", "received_on": None}, headers=headers)
    assert r.status_code == 200
    assert r.get_json()["response_due_on"] is None
    assert r.get_json()["reply_period_running"] is False


def test_a_sending_period_keeps_its_deadline_whatever_the_receipt(any_app):
    claim = _sent_claim(any_app, from_receipt=False)
    _today(any_app, "2014-07-03")
    sending.record_delivery(
        SYSTEM_USER, claim, {"method": "courier", "received_on": date(2014, 7, 2)}
    )
    db.session.commit()
    assert claim.response_due_on == date(2014, 7, 15)


def test_delivery_refusals_roles_and_regions(any_app):
    draft_contract = factories.contract()
    m = factories.milestone(draft_contract, due_on=date(2014, 5, 1))
    _today(any_app, "2014-07-03")
    draft = drafting.create_claim(
        SYSTEM_USER, draft_contract, {"milestone_ids": [m.id], "as_of": date(2014, 6, 30)}
    )
    db.session.commit()
    claim = _sent_claim(any_app, from_receipt=True)
    _today(any_app, "2014-07-03")
    client = any_app.test_client()

    def post(user, claim_id, body):
        headers = {"Authorization": f"Bearer {issue_token(user, 'test')}"}
        db.session.commit()
        return client.post(f"/api/v1/claims/{claim_id}/delivery", json=body, headers=headers)

    body = {"method": "courier", "received_on": "2014-07-02"}
    assert post(_user("legal"), draft.id, body).status_code == 409  # not sent yet
    assert post(_user("officer"), claim.id, body).status_code == 403
    assert post(_user("legal", "KZ-11"), claim.id, body).status_code == 404
    # The page's form too: another region sees nothing, an officer may not.
    login(client, _user("officer"))
    r = post_form(
        client,
        f"/claims/{claim.id}/delivery",
        body | {"delivered_on": "2014-07-02"},
        form_url=f"/claims/{claim.id}",
    )
    assert r.status_code == 403
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).received_on is None


def test_the_page_refuses_a_bad_scan_and_a_date_before_sending_and_saves_nothing(any_app):
    claim = _sent_claim(any_app, from_receipt=True)
    _today(any_app, "2014-07-03")
    client = any_app.test_client()
    login(client, _user("legal"))
    r = post_form(
        client,
        f"/claims/{claim.id}/delivery",
        {
            "method": "courier",
            "delivered_on": "2014-07-02",
            "proof_file": (io.BytesIO(b"MZ\x90\x00 not a scan"), "scan.exe"),
        },
        form_url=f"/claims/{claim.id}",
        content_type="multipart/form-data",
    )
    assert r.status_code == 422
    assert "Файлы этого типа не принимаются" in text_of(r)
    r = post_form(
        client,
        f"/claims/{claim.id}/delivery",
        {"method": "courier", "delivered_on": "2014-06-29"},
        form_url=f"/claims/{claim.id}",
    )
    assert r.status_code == 422
    assert "Подрядчик не может получить претензию до её отправки (30.06.2014)." in text_of(r)
    # Without the CSRF token the form is refused.
    r = client.post(
        f"/claims/{claim.id}/delivery", data={"method": "courier", "delivered_on": "2014-07-02"}
    )
    assert r.status_code in (400, 422)
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).received_on is None
    assert db.session.scalar(sa.select(sa.func.count(Document.id))) == 0


def test_an_escalated_claims_receipt_date_is_fixed_but_its_method_may_be_corrected(any_app):
    claim = _sent_claim(any_app, from_receipt=True)
    _today(any_app, "2014-07-18")
    sending.record_delivery(
        SYSTEM_USER, claim, {"method": "courier", "received_on": date(2014, 7, 2)}
    )
    db.session.commit()
    assert _scan("2014-07-18").escalated == [claim.id]
    db.session.expire_all()
    claim = db.session.get(Claim, claim.id)
    with pytest.raises(Conflict):
        sending.record_delivery(
            SYSTEM_USER, claim, {"method": "courier", "received_on": date(2014, 7, 3)}
        )
    db.session.rollback()
    sending.record_delivery(
        SYSTEM_USER, claim, {"method": "registered_mail", "received_on": date(2014, 7, 2)}
    )
    db.session.commit()
    assert claim.response_due_on == date(2014, 7, 17)


def test_an_officer_sets_the_receipt_term_on_the_contract_form(any_app):
    customer = factories.party(kind="government", bin=None)
    contractor = factories.party()
    project = factories.project("KZ-35")
    officer = _user("officer")
    client = any_app.test_client()
    login(client, officer)
    fields = {
        "number": "241-П",
        "signed_on": "2013-11-21",
        "customer_id": customer.id,
        "contractor_id": contractor.id,
        "project_id": project.id,
        "site_id": "",
        "subject": "Разработка ТЭО",
        "total_amount": "77 000 000,00",
        "status": "active",
        "officer": officer.email,
        "penalty_rate": "0,1",
        "penalty_base": "total",
        "penalty_cap": "",
        "response_days": "10",
        "response_working": "y",
        "response_from_receipt": "y",
        "grace_working_days": "1",
    }
    r = post_form(client, "/contracts/new", fields)
    assert r.status_code == 302, text_of(r)[-2000:]
    contract = db.session.scalar(sa.select(Contract).where(Contract.number == "241-П"))
    assert contract.response_from_receipt is True
    page = text_of(client.get(f"/contracts/{contract.id}"))
    assert "10 рабочих дней со дня получения" in page
    # Unticked, it runs from sending again.
    fields.pop("response_from_receipt")
    r = post_form(client, f"/contracts/{contract.id}/edit", fields)
    assert r.status_code == 302, text_of(r)[-2000:]
    db.session.expire_all()
    assert db.session.get(Contract, contract.id).response_from_receipt is False
    assert "10 рабочих дней со дня отправки" in text_of(client.get(f"/contracts/{contract.id}"))
