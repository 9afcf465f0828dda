"""Regions apart for shared counterparties (issue 15, item 1): who may change a party used by
contracts of several regions, on the page, in the API and in the service; and a party's
history as a reader of one region may see it. Also: the audit log keeps colleagues' logins
to themselves."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ppp_tracker.core.audit import Actor, AuditEvent, acting_as
from ppp_tracker.core.errors import Forbidden, Invalid
from ppp_tracker.db import db
from ppp_tracker.registry.models import Party
from ppp_tracker.registry.services.parties import save_party
from tests import factories
from tests.conftest import login, post_form


@pytest.fixture
def karaganda_241(app):
    """Contract No. 241 of Karaganda (KZ-35) and its contractor, used by no other region."""
    contractor = factories.party(name="АО «РЦГЧП Карагандинской области»")
    contract = factories.contract("KZ-35", number="241", contractor_id=contractor.id)
    return contract, contractor


def name_of(party_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Party, party_id).name


def test_an_officer_of_another_region_may_not_rename_karagandas_contractor(
    client, make_user, api_token, karaganda_241
):
    _contract, contractor = karaganda_241
    stranger = make_user("officer", "KZ-71")
    response = client.patch(
        f"/api/v1/parties/{contractor.id}",
        json={"name": "ТОО «Чужое имя»"},
        headers=api_token(stranger),
    )
    assert response.status_code == 403
    [reason] = response.get_json()["errors"]["_request"]
    assert "KZ-35" in reason  # says which other region uses it
    login(client, stranger)
    page = client.get(f"/parties/{contractor.id}/edit")
    assert page.status_code == 403
    assert "KZ-35" in page.get_data(as_text=True)
    response = post_form(
        client,
        f"/parties/{contractor.id}/edit",
        {"name": "ТОО «Чужое имя»", "kind": "contractor"},
        form_url="/profile",
    )
    assert response.status_code == 403
    assert name_of(contractor.id) == "АО «РЦГЧП Карагандинской области»"
    # Nor is the button offered.
    assert f"/parties/{contractor.id}/edit" not in client.get(f"/parties/{contractor.id}").text


def test_the_own_regions_officer_may_change_a_party_their_region_alone_uses(
    client, make_user, api_token, karaganda_241
):
    _contract, contractor = karaganda_241
    officer = make_user("officer", "KZ-35")
    response = client.patch(
        f"/api/v1/parties/{contractor.id}",
        json={"phone": "+7 721 200 00 00"},
        headers=api_token(officer),
    )
    assert response.status_code == 200, response.get_json()
    login(client, officer)
    assert client.get(f"/parties/{contractor.id}/edit").status_code == 200


def test_a_party_shared_by_two_regions_is_changed_by_an_admin_or_a_manager_of_all(
    client, make_user, api_token, karaganda_241
):
    _contract, contractor = karaganda_241
    factories.contract("KZ-71", contractor_id=contractor.id)  # Astana uses it too
    refused = {
        (role, region): client.patch(
            f"/api/v1/parties/{contractor.id}",
            json={"phone": f"+7 700 {n:03d} 00 00"},
            headers=api_token(make_user(role, region)),
        ).status_code
        for n, (role, region) in enumerate(
            [
                ("officer", "KZ-35"),
                ("officer", "KZ-71"),
                ("legal", "KZ-35"),
                ("manager", "KZ-35"),
                ("manager", None),
                ("admin", None),
            ]
        )
    }
    assert refused == {
        ("officer", "KZ-35"): 403,
        ("officer", "KZ-71"): 403,
        ("legal", "KZ-35"): 403,
        ("manager", "KZ-35"): 403,
        ("manager", None): 200,
        ("admin", None): 200,
    }


def test_an_unused_party_may_be_changed_by_its_creator_only(any_app, make_user):
    creator = make_user("officer", "KZ-35")
    colleague = make_user("officer", "KZ-35")
    with acting_as(Actor(creator.email, creator.id)):
        party = save_party(creator, {"name": "ТОО «Новый»", "kind": "contractor"})
        db.session.commit()
    save_party(creator, {"phone": "+7 701 111 11 11"}, party)
    db.session.commit()
    with pytest.raises(Forbidden):
        save_party(colleague, {"phone": "+7 701 222 22 22"}, party)
    db.session.rollback()
    assert db.session.get(Party, party.id).phone == "+7 701 111 11 11"


def test_a_regional_user_may_not_home_a_party_in_another_region(app, make_user):
    officer = make_user("officer", "KZ-35")
    with pytest.raises(Invalid) as refused:
        save_party(officer, {"name": "ТОО «Х»", "kind": "contractor", "region": "KZ-71"})
    assert "region" in refused.value.errors


def test_a_partys_history_names_only_the_readers_own_region(client, make_user, api_token):
    astana = make_user("officer", "KZ-71", email="officer@astana.kz")
    karaganda = make_user("officer", "KZ-35", email="officer@karaganda.kz")
    manager = make_user("manager", None, email="manager@kuis.kz")
    created = client.post(
        "/api/v1/parties",
        json={"name": "ТОО «Общий подрядчик»", "kind": "contractor"},
        headers=api_token(astana),
    )
    assert created.status_code == 201, created.get_json()
    party_id = created.get_json()["id"]
    factories.contract("KZ-35", contractor_id=party_id)
    assert (
        db.session.scalar(
            sa.select(AuditEvent.actor).where(
                AuditEvent.entity_type == "parties", AuditEvent.entity_id == str(party_id)
            )
        )
        == "officer@astana.kz"
    )
    login(client, karaganda)
    page = client.get(f"/parties/{party_id}").text
    assert "officer@astana.kz" not in page
    assert "пользователь другого региона" in page
    post_form(client, "/logout", {}, form_url="/profile")
    login(client, manager)
    assert "officer@astana.kz" in client.get(f"/parties/{party_id}").text


def test_the_audit_log_does_not_show_a_colleagues_last_login(client, make_user):
    colleague = make_user("officer", "KZ-35", email="colleague@karaganda.kz")
    reader = make_user("officer", "KZ-35", email="reader@karaganda.kz")
    login(client, colleague)
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                AuditEvent.entity_type == "users",
                AuditEvent.entity_id == str(colleague.id),
                AuditEvent.changes.cast(sa.Text).like("%last_login_at%"),
            )
        )
        == 0
    )
    other = client.application.test_client()
    login(other, reader)
    assert "last_login_at" not in other.get("/audit?entity_type=users").text
