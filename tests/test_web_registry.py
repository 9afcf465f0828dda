"""Registry pages through the test client, with real CSRF tokens, as users see them."""

import io
import re
from datetime import date

import sqlalchemy as sa

from ppp_tracker.db import db
from ppp_tracker.registry.models import Contract, Document, Milestone
from tests import factories
from tests.conftest import login, post_form


def test_login_page_is_russian_by_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'lang="ru"' in html


def test_wrong_password_shows_a_message_next_to_the_field(client, make_user):
    user = make_user("officer")
    r = post_form(client, "/login", {"email": user.email, "password": "nope"})
    assert r.status_code == 401
    assert 'data-field-error="password"' in r.get_data(as_text=True)


def test_login_is_throttled_after_repeated_failures(client, make_user):
    user = make_user("officer")
    for _ in range(5):
        post_form(client, "/login", {"email": user.email, "password": "nope"})
    r = post_form(client, "/login", {"email": user.email, "password": "correct-horse-battery"})
    assert r.status_code == 429


def test_a_form_without_csrf_token_is_refused(client, make_user):
    user = make_user("officer")
    login(client, user)
    r = client.post("/parties/new", data={"name": "ТОО «Без токена»", "kind": "tenant"})
    assert r.status_code == 400
    assert db.session.execute(sa.text("SELECT count(*) FROM parties")).scalar() == 0


def test_an_officer_creates_a_contract_and_a_milestone_and_finds_it(client, make_user, set_today):
    set_today("2014-06-12")
    officer = make_user("officer", "KZ-35")
    login(client, officer)
    customer = factories.party(kind="government", bin=None, name="ДУИС по Карагандинской области")
    contractor = factories.party(name="АО «РЦГЧП»")
    project = factories.project("KZ-35")
    r = post_form(
        client,
        "/contracts/new",
        {
            "number": "241",
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
            "grace_working_days": "1",
        },
    )
    assert r.status_code == 302, r.get_data(as_text=True)[-3000:]
    contract = db.session.scalar(sa.select(Contract))
    assert contract.total_amount == 77000000 and contract.number == "241"
    r = post_form(
        client,
        f"/contracts/{contract.id}/milestones/new",
        {
            "title": "Представление ТЭО",
            "type": "delivery",
            "obligor": "contractor",
            "responsible": officer.email,
            "value": "77000000",
            "due_on": "2014-05-01",
            "relative_to": "",
            "relative_amount": "",
            "relative_unit": "",
            "status": "scheduled",
        },
    )
    assert r.status_code == 302, r.get_data(as_text=True)[-3000:]
    page = client.get(f"/contracts/{contract.id}").get_data(as_text=True)
    assert "Представление ТЭО" in page and "04.05.2014" in page
    found = client.get("/contracts?q=241").get_data(as_text=True)
    assert f"/contracts/{contract.id}" in found


def test_bad_contract_input_is_shown_next_to_each_field_and_nothing_is_saved(client, make_user):
    login(client, make_user("officer", "KZ-35"))
    r = post_form(
        client,
        "/contracts/new",
        {
            "number": "1",
            "signed_on": "2013-11-21",
            "customer_id": "",
            "contractor_id": "",
            "project_id": "",
            "site_id": "",
            "subject": "x",
            "total_amount": "12,345",
            "status": "active",
            "penalty_rate": "abc",
            "penalty_base": "total",
            "response_days": "10",
        },
    )
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    for field in ("total_amount", "penalty_rate"):
        assert f'data-field-error="{field}"' in html, field
    assert db.session.scalar(sa.select(sa.func.count(Contract.id))) == 0


def test_service_errors_land_next_to_the_field(client, make_user):
    login(client, make_user("officer", "KZ-35"))
    customer = factories.party(kind="government", bin=None)
    r = post_form(
        client,
        "/contracts/new",
        {
            "number": "1",
            "signed_on": "2013-11-21",
            "customer_id": customer.id,
            "contractor_id": customer.id,
            "project_id": "",
            "site_id": "",
            "subject": "x",
            "total_amount": "100",
            "status": "active",
            "officer": "",
            "penalty_rate": "0.1",
            "penalty_base": "total",
            "response_days": "10",
        },
    )
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'data-field-error="contractor_id"' in html
    assert 'data-field-error="project_id"' in html


def test_party_with_a_wrong_bin_is_refused_with_the_reason(client, make_user):
    login(client, make_user("officer", "KZ-35"))
    r = post_form(
        client,
        "/parties/new",
        {"name": "ТОО «Альфа»", "kind": "tenant", "bin": "123456789012", "region": ""},
    )
    assert r.status_code == 422
    assert 'data-field-error="bin"' in r.get_data(as_text=True)


def test_due_date_change_without_reason_is_refused_in_the_form(client, make_user):
    officer = make_user("officer", "KZ-35")
    login(client, officer)
    c = factories.contract("KZ-35")
    m = factories.milestone(c, due_on=date(2014, 5, 1))
    data = {
        "title": m.title,
        "type": "delivery",
        "obligor": "contractor",
        "responsible": "",
        "value": "",
        "due_on": "2014-06-01",
        "relative_to": "",
        "relative_unit": "",
        "status": "scheduled",
    }
    r = post_form(client, f"/milestones/{m.id}/edit", data)
    assert r.status_code == 422 and 'data-field-error="reason"' in r.get_data(as_text=True)
    r = post_form(client, f"/milestones/{m.id}/edit", {**data, "reason": "ДС № 1"})
    assert r.status_code == 302
    page = client.get(f"/milestones/{m.id}").get_data(as_text=True)
    assert "ДС № 1" in page and "01.05.2014" in page


def test_mark_a_milestone_met(client, make_user, set_today):
    set_today("2014-06-12")
    login(client, make_user("officer", "KZ-35"))
    c = factories.contract("KZ-35")
    m = factories.milestone(c, due_on=date(2014, 5, 1))
    r = post_form(
        client, f"/milestones/{m.id}/met", {"met_on": "2014-05-10"}, form_url=f"/milestones/{m.id}"
    )
    assert r.status_code == 302
    db.session.expire_all()
    m = db.session.get(Milestone, m.id)
    assert str(m.status) == "met" and m.met_on == date(2014, 5, 10)


def test_upload_and_download_a_document(client, make_user):
    login(client, make_user("officer", "KZ-35"))
    c = factories.contract("KZ-35")
    token = re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"',
        client.get(f"/contracts/{c.id}").get_data(as_text=True),
    ).group(1)
    r = client.post(
        f"/contracts/{c.id}/documents",
        data={
            "csrf_token": token,
            "document_type": "contractSigned",
            "title": "Договор № 241",
            "file": (io.BytesIO(b"%PDF-1.4 x"), "dogovor.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    doc = db.session.scalar(sa.select(Document))
    assert doc.title == "Договор № 241"
    r = client.get(f"/documents/{doc.id}")
    assert r.status_code == 200 and r.data == b"%PDF-1.4 x"
    r = client.post(
        f"/contracts/{c.id}/documents",
        data={
            "csrf_token": token,
            "document_type": "other",
            "file": (io.BytesIO(b"MZ\x90"), "tool.exe"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "не принимаются" in r.get_data(as_text=True) or "not accepted" in r.get_data(
        as_text=True
    )
    assert db.session.scalar(sa.select(sa.func.count(Document.id))) == 1


def test_lists_search_filter_sort_and_paginate(client, make_user):
    login(client, make_user("manager", None))
    for i in range(30):
        factories.party(name=f"ТОО «Компания {i:02d}»")
    page1 = client.get("/parties?sort=-name").get_data(as_text=True)
    assert "Компания 29" in page1 and "Компания 00" not in page1
    page2 = client.get("/parties?sort=-name&page=2").get_data(as_text=True)
    assert "Компания 00" in page2
    found = client.get("/parties?q=компания 1").get_data(as_text=True)
    assert "Компания 12" in found and "Компания 22" not in found


def test_switching_the_language_to_english(client, make_user):
    login(client, make_user("officer"))
    r = post_form(client, "/locale", {"locale": "en", "next": "/contracts"}, form_url="/contracts")
    assert r.status_code == 302
    assert 'lang="en"' in client.get("/contracts").get_data(as_text=True)


def test_the_contract_page_shows_history(client, make_user):
    login(client, make_user("officer", "KZ-35"))
    c = factories.contract("KZ-35", number="77-А")
    html = client.get(f"/contracts/{c.id}").get_data(as_text=True)
    assert 'id="history"' in html and "77-А" in html
