"""The JSON API v1 of the registry through the Flask test client, including the error paths."""

import base64
from datetime import date

import pytest

from tests import factories
from tests.conftest import PASSWORD


@pytest.fixture
def officer(make_user):
    return make_user("officer", "KZ-35")


@pytest.fixture
def headers(officer, api_token):
    return api_token(officer)


def _basic(email, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()}


def test_a_token_for_email_and_password(client, officer):
    r = client.post("/api/v1/tokens", headers=_basic(officer.email, PASSWORD))
    assert r.status_code == 201
    token = r.get_json()["token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.get_json()["email"] == officer.email


def test_wrong_password_is_401_and_repeated_failures_are_throttled(client, officer):
    for _ in range(5):
        r = client.post("/api/v1/tokens", headers=_basic(officer.email, "wrong"))
        assert r.status_code == 401
        assert "errors" in r.get_json()
    r = client.post("/api/v1/tokens", headers=_basic(officer.email, PASSWORD))
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0
    assert r.get_json()["errors"]["_request"]


def test_every_call_needs_a_token(client):
    r = client.get("/api/v1/contracts")
    assert r.status_code == 401
    assert r.get_json()["errors"]["_request"]
    r = client.get("/api/v1/contracts", headers={"Authorization": "Bearer nonsense"})
    assert r.status_code == 401


def test_a_revoked_token_stops_working(client, app, officer, api_token):
    from ppp_tracker.auth.models import ApiToken
    from ppp_tracker.auth.services import revoke_token
    from ppp_tracker.db import db

    h = api_token(officer)
    assert client.get("/api/v1/me", headers=h).status_code == 200
    revoke_token(db.session.query(ApiToken).one())
    db.session.commit()
    assert client.get("/api/v1/me", headers=h).status_code == 401


def test_regions_list_their_codes(client, headers):
    r = client.get("/api/v1/regions", headers=headers)
    codes = {row["code"] for row in r.get_json()}
    assert len(codes) == 20 and {"KZ-35", "KZ-71", "KZ-79", "KZ-59"} <= codes


def _contract_body(customer, contractor, project, **over):
    body = {
        "number": "241",
        "signed_on": "2013-11-21",
        "customer_id": customer.id,
        "contractor_id": contractor.id,
        "project_id": project.id,
        "subject": "Разработка ТЭО",
        "total_amount": "77000000.00",
        "penalty": {"rate_percent_per_day": "0.1", "base": "total", "cap_percent": None},
        "response_period": {"days": 10, "working": True},
        "installments": [
            {"due_on": "2013-12-31", "amount": "23100000.00", "description": "30 %"},
            {"due_on": "2014-12-31", "amount": "53900000.00", "description": "70 %"},
        ],
    }
    body.update(over)
    return body


def test_create_a_contract_with_a_milestone_and_read_its_timing(client, headers, set_today):
    set_today("2014-06-12")
    customer = factories.party(kind="government", bin=None)
    contractor = factories.party()
    project = factories.project("KZ-35")
    r = client.post(
        "/api/v1/contracts", json=_contract_body(customer, contractor, project), headers=headers
    )
    assert r.status_code == 201, r.get_json()
    contract = r.get_json()
    assert contract["total_amount"] == "77000000.00"
    assert contract["region"] == "KZ-35"
    assert contract["penalty"] == {
        "rate_percent_per_day": "0.1",
        "base": "total",
        "cap_percent": None,
    }
    assert [i["amount"] for i in contract["installments"]] == ["23100000.00", "53900000.00"]

    r = client.post(
        f"/api/v1/contracts/{contract['id']}/milestones",
        json={
            "title": "Представление ТЭО на экспертизу",
            "type": "delivery",
            "due_on": "2014-05-01",
            "value": "77000000.00",
        },
        headers=headers,
    )
    assert r.status_code == 201, r.get_json()
    m = r.get_json()
    assert m["effective_due_on"] == "2014-05-04"
    assert m["state"] == "overdue"
    assert m["days_late"] == 39

    listed = client.get("/api/v1/contracts?q=241", headers=headers).get_json()
    assert [c["number"] for c in listed] == ["241"]


def test_contract_errors_name_the_field_and_the_reason(client, headers):
    customer = factories.party(kind="government", bin=None)
    contractor = factories.party()
    project = factories.project("KZ-35")
    cases = [
        ({"total_amount": 77000000.5}, "total_amount"),  # a float: refused, never rounded
        ({"total_amount": 77000000}, "total_amount"),  # any JSON number: money is text
        ({"total_amount": "12.345"}, "total_amount"),
        ({"total_amount": "-5.00"}, "total_amount"),
        ({"signed_on": "21.11.2013"}, "signed_on"),
        ({"signed_on": "2013-02-30"}, "signed_on"),
        (
            {"penalty": {"rate_percent_per_day": "abc", "base": "total"}},
            "penalty.rate_percent_per_day",
        ),
        ({"penalty": {"rate_percent_per_day": "0.1", "base": "everything"}}, "penalty.base"),
        ({"customer_id": 999999}, "customer_id"),
        ({"project_id": None}, "project_id"),
        ({"unexpected": 1}, "unexpected"),
        ({"response_period": {"days": 0, "working": True}}, "response_period.days"),
    ]
    for change, field in cases:
        r = client.post(
            "/api/v1/contracts",
            json=_contract_body(customer, contractor, project, **change),
            headers=headers,
        )
        assert r.status_code in (400, 422), (change, r.status_code)
        errors = r.get_json()["errors"]
        assert field in errors, (change, errors)
        assert all(isinstance(m, str) and m for m in errors[field])


def test_not_json_is_a_clear_400_or_422(client, headers):
    r = client.post(
        "/api/v1/contracts",
        data="{not json",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert r.status_code in (400, 422)
    assert "errors" in r.get_json()


def test_patch_due_on_needs_a_reason(client, headers):
    c = factories.contract("KZ-35")
    m = factories.milestone(c, due_on=date(2014, 5, 1))
    r = client.patch(f"/api/v1/milestones/{m.id}", json={"due_on": "2014-06-01"}, headers=headers)
    assert r.status_code == 422 and "reason" in r.get_json()["errors"]
    r = client.patch(
        f"/api/v1/milestones/{m.id}",
        json={"due_on": "2014-06-01", "reason": "ДС № 2"},
        headers=headers,
    )
    assert r.status_code == 200
    body = r.get_json()
    assert body["due_on"] == "2014-06-01"
    assert body["due_date_changes"][0]["old_due_on"] == "2014-05-01"


def test_responsible_is_an_email(client, headers, officer):
    c = factories.contract("KZ-35")
    r = client.post(
        f"/api/v1/contracts/{c.id}/milestones",
        json={
            "title": "Отчёт",
            "type": "reporting",
            "due_on": "2030-01-10",
            "responsible": "nobody@example.kz",
        },
        headers=headers,
    )
    assert r.status_code == 422 and "responsible" in r.get_json()["errors"]
    r = client.post(
        f"/api/v1/contracts/{c.id}/milestones",
        json={
            "title": "Отчёт",
            "type": "reporting",
            "due_on": "2030-01-10",
            "responsible": officer.email,
        },
        headers=headers,
    )
    assert r.status_code == 201 and r.get_json()["responsible"] == officer.email


def test_other_regions_records_are_not_found(client, headers):
    theirs = factories.contract("KZ-63")
    assert client.get(f"/api/v1/contracts/{theirs.id}", headers=headers).status_code == 404
    assert (
        client.patch(
            f"/api/v1/contracts/{theirs.id}", json={"subject": "x"}, headers=headers
        ).status_code
        == 404
    )
    listed = client.get("/api/v1/contracts", headers=headers).get_json()
    assert theirs.id not in [c["id"] for c in listed]
    project = factories.project("KZ-63")
    r = client.post(
        "/api/v1/contracts",
        json=_contract_body(
            factories.party(kind="government", bin=None), factories.party(), project
        ),
        headers=headers,
    )
    assert r.status_code == 422 and "project_id" in r.get_json()["errors"]


def test_a_viewer_reads_but_changes_nothing(client, make_user, api_token):
    viewer = make_user("viewer", None)
    h = api_token(viewer)
    c = factories.contract("KZ-35")
    assert client.get(f"/api/v1/contracts/{c.id}", headers=h).status_code == 200
    assert (
        client.patch(f"/api/v1/contracts/{c.id}", json={"subject": "x"}, headers=h).status_code
        == 403
    )
    assert (
        client.post("/api/v1/parties", json={"name": "X", "kind": "other"}, headers=h).status_code
        == 403
    )


def test_parties_projects_sites_round_trip(client, headers):
    bin_ = factories.valid_bin(99)
    r = client.post(
        "/api/v1/parties",
        json={"name": "ТОО «Альфа»", "kind": "tenant", "bin": bin_},
        headers=headers,
    )
    assert r.status_code == 201
    party = r.get_json()
    bad = client.post(
        "/api/v1/parties",
        json={"name": "ТОО «Бета»", "kind": "tenant", "bin": "123456789012"},
        headers=headers,
    )
    assert bad.status_code == 422 and "bin" in bad.get_json()["errors"]
    r = client.patch(
        f"/api/v1/parties/{party['id']}", json={"email": "alfa@example.kz"}, headers=headers
    )
    assert r.get_json()["email"] == "alfa@example.kz"

    r = client.post(
        "/api/v1/projects",
        json={
            "title": "ИУ на 1500 мест",
            "kind": "concession",
            "region": "KZ-35",
            "capacity": 1500,
            "land_area_ha": "37",
            "term_years": 30,
            "stages": [{"kind": "economic_conclusion", "actual_on": "2013-01-15"}],
        },
        headers=headers,
    )
    assert r.status_code == 201, r.get_json()
    project = r.get_json()
    assert project["stages"][0]["actual_on"] == "2013-01-15" and project["land_area_ha"] == "37"
    r = client.post(
        "/api/v1/projects",
        json={"title": "X", "kind": "concession", "region": "KZ-63"},
        headers=headers,
    )
    assert r.status_code == 422 and "region" in r.get_json()["errors"]

    inst = factories.institution("KZ-35")
    r = client.post(
        "/api/v1/sites",
        json={
            "name": "Швейный цех",
            "arrangement": "lease",
            "institution": inst.id,
            "operator_id": party["id"],
            "employed": 25,
        },
        headers=headers,
    )
    assert r.status_code == 201, r.get_json()
    site = r.get_json()
    assert site["region"] == "KZ-35" and site["employed"] == 25
    r = client.post(
        "/api/v1/sites",
        json={"name": "X", "arrangement": "rent", "institution": inst.id},
        headers=headers,
    )
    assert r.status_code == 422 and "arrangement" in r.get_json()["errors"]


def test_deadlines_overdue_and_upcoming(client, headers, set_today):
    set_today("2014-06-12")
    c = factories.contract("KZ-35")
    late = factories.milestone(c, due_on=date(2014, 5, 1))
    soon = factories.milestone(c, due_on=date(2014, 6, 14))  # a Saturday → Monday 16.06
    factories.milestone(c, due_on=date(2014, 9, 1))
    overdue = client.get("/api/v1/deadlines?state=overdue", headers=headers).get_json()
    assert [(d["id"], d["days_late"]) for d in overdue] == [(late.id, 39)]
    upcoming = client.get(
        "/api/v1/deadlines?state=upcoming&within_days=7", headers=headers
    ).get_json()
    assert [(d["id"], d["effective_due_on"]) for d in upcoming] == [(soon.id, "2014-06-16")]
    as_of = client.get(
        "/api/v1/deadlines?state=overdue&as_of=2014-05-04", headers=headers
    ).get_json()
    assert as_of == []
    bad = client.get("/api/v1/deadlines?as_of=yesterday", headers=headers)
    assert bad.status_code == 422 and "as_of" in bad.get_json()["errors"]


def test_the_openapi_document_is_served(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    spec = r.get_json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/api/v1/contracts",
        "/api/v1/milestones/{milestone_id}",
        "/api/v1/tokens",
        "/api/v1/deadlines",
    ):
        assert path in spec["paths"], path
    money = spec["components"]["schemas"]["Contract"]["properties"]["total_amount"]
    assert money["type"] == "string"


def test_hostile_values_get_clear_errors_not_500(client, headers):
    r = client.get("/api/v1/parties?q=%00", headers=headers)
    assert r.status_code == 400 and "q" in r.get_json()["errors"]
    assert client.get("/api/v1/parties/2147483648", headers=headers).status_code == 404
    assert client.get("/api/v1/parties/0", headers=headers).status_code == 404
    r = client.get("/api/v1/parties?page=922337203685477582", headers=headers)
    assert r.status_code == 422 and "page" in r.get_json()["errors"]
    r = client.post("/api/v1/parties", json={"name": "A\x00B", "kind": "tenant"}, headers=headers)
    assert r.status_code == 400 and "name" in r.get_json()["errors"]
    r = client.post(
        "/api/v1/projects",
        json={"title": "X", "kind": "lease", "region": "KZ-35", "estimated_cost": "8" * 30},
        headers=headers,
    )
    assert r.status_code == 422 and "estimated_cost" in r.get_json()["errors"]
    r = client.post(
        "/api/v1/sites",
        json={"name": "X", "arrangement": "lease", "institution": 2**40},
        headers=headers,
    )
    assert r.status_code == 422 and "institution" in r.get_json()["errors"]


def test_lists_are_paged_with_a_total(client, headers):
    for i in range(3):
        factories.party(name=f"ТОО «Страница {i}»")
    r = client.get("/api/v1/parties?per_page=2&page=2&q=Страница", headers=headers)
    assert r.headers["X-Total-Count"] == "3"
    assert [p["name"] for p in r.get_json()] == ["ТОО «Страница 2»"]
