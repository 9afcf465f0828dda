"""Who may open which page and call which API: every route × every role × own/other region.

Every endpoint of the app must be classified in ACCESS below; a new route that is not fails the
first test, so nobody can add a page without deciding who may use it.
"""

from __future__ import annotations

from datetime import date

import pytest

from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.db import db
from ppp_tracker.registry import services
from tests import factories
from tests.claims_world import claims_world
from tests.conftest import csrf_token, login
from tests.reports_support import reports_world

#: endpoint -> what it needs: public | login | read | edit_registry | edit_parties | admin |
#: manage_claims | approve_claims
ACCESS: dict[str, str] = {
    "static": "public",
    "core.healthz": "public",
    "core.set_locale": "public",
    "auth.login": "public",
    "auth.logout": "public",
    "auth.profile": "login",
    "auth.change_password": "login",
    "auth.create_token": "login",
    "auth.revoke_token": "login",
    "auth.users": "admin",
    "auth.edit_user": "admin",
    "auth.audit_log": "read",
    "registry.home": "read",
    "registry.institutions": "read",
    "registry.edit_institution": "edit_registry",
    "registry.parties": "read",
    "registry.party": "read",
    "registry.edit_party": "edit_parties",
    "registry.projects": "read",
    "registry.project": "read",
    "registry.edit_project": "edit_registry",
    "registry.edit_stage": "edit_registry",
    "registry.sites": "read",
    "registry.site": "read",
    "registry.edit_site": "edit_registry",
    "registry.contracts": "read",
    "registry.contract": "read",
    "registry.edit_contract": "edit_registry",
    "registry.edit_installment": "edit_registry",
    "registry.milestone": "read",
    "registry.edit_milestone": "edit_registry",
    "registry.mark_met": "edit_registry",
    "registry.upload_document": "edit_registry",
    "registry.download_document": "read",
    "api-docs.openapi_json": "public",
    "reports.timeline": "read",
    "reports.search_page": "read",
    "reports.export_list": "read",
    "reports.overdue_report": "read",
    "reports.imports_page": "edit_registry",
    "reports.import_template": "edit_registry",
    "reports.import_batch": "edit_registry",
    "reports.import_progress": "edit_registry",
    "reports.commit_import": "edit_registry",
    "reports.renew_calendar": "login",
    "reports.revoke_calendar": "login",
    "feeds.calendar": "public",
    "feeds.open_data": "public",
    "claims.queue": "read",
    "claims.claim": "read",
    "claims.letter": "read",
    "claims.new_claim": "manage_claims",
    "claims.edit_claim": "manage_claims",
    "claims.reply": "manage_claims",
    "claims.escalate": "manage_claims",
    "claims.withdraw": "manage_claims",
    "claims.restore": "manage_claims",
    "claims.approve": "approve_claims",
    "claims.send": "approve_claims",
    "claims.cases": "read",
    "claims.case": "read",
    "claims.edit_case": "manage_claims",
    "claims.add_hearing": "manage_claims",
    "claims.hearing_held": "manage_claims",
    "claims.letter_templates": "admin",
    "claims.letter_template": "admin",
    "claims.numbering_page": "admin",
    "deadlines.deadlines": "read",
    "deadlines.calendar": "admin",
    "deadlines.add_override": "admin",
    "deadlines.remove_override": "admin",
    "alerts.outbox": "read",
    "alerts.contract_rules": "edit_registry",
    "alerts.preferences": "login",
}

ROLE_PERMISSIONS = {
    "admin": {"read", "edit_registry", "edit_parties", "admin", "manage_claims", "approve_claims"},
    "manager": {"read", "edit_registry", "edit_parties"},
    "officer": {"read", "edit_registry", "edit_parties"},
    "legal": {"read", "edit_parties", "manage_claims", "approve_claims"},
    "viewer": {"read"},
}


def web_endpoints(app):
    return {
        rule.endpoint: rule
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith("/api/") or rule.endpoint == "api-docs.openapi_json"
    }


def test_every_page_is_classified(app):
    unclassified = sorted(set(web_endpoints(app)) - set(ACCESS))
    assert unclassified == [], f"classify these endpoints in ACCESS: {unclassified}"


@pytest.fixture
def world(app):
    """One of everything in Karaganda (KZ-35, "own") and in East Kazakhstan (KZ-63, "other")."""
    out = {}
    for key, region in (("own", "KZ-35"), ("other", "KZ-63")):
        inst = factories.institution(region)
        project = factories.project(region)
        site = factories.site(region, institution_obj=inst)
        contract = factories.contract(region, project_id=project.id)
        milestone = factories.milestone(contract, due_on=date(2030, 1, 10))
        installment = services.save_installment(
            SYSTEM_USER, contract, {"due_on": date(2030, 1, 1), "amount": contract.total_amount}
        )
        document = services.add_document(
            SYSTEM_USER,
            owner=contract,
            document_type="other",
            title=None,
            filename="a.txt",
            content=b"a",
        )
        db.session.commit()
        out[key] = {
            **claims_world(contract),
            "institution_id": inst.id,
            "project_id": project.id,
            "site_id": site.id,
            "contract_id": contract.id,
            "milestone_id": milestone.id,
            "installment_id": installment.id,
            "document_id": document.id,
            "owner_kind": "contracts",
            "owner_id": contract.id,
            "kind": "tender",
            **reports_world(region),
        }
    out["party_id"] = factories.party().id
    return out


def _url(app, rule, values):
    with app.test_request_context():
        from flask import url_for

        args = {name: values[name] for name in rule.arguments}
        return url_for(rule.endpoint, **args)


def _regional(rule) -> bool:
    return any(
        a.endswith("_id") and a not in ("party_id", "user_id", "token_id") for a in rule.arguments
    )


ROLES = [
    ("admin", None),
    ("manager", None),
    ("officer", "KZ-35"),
    ("legal", "KZ-35"),
    ("viewer", "KZ-35"),
]


@pytest.mark.parametrize(("role", "region"), ROLES)
def test_pages_by_role_and_region(app, client, make_user, world, role, region):
    user = make_user(role, region)
    login(client, user)
    allowed = ROLE_PERMISSIONS[role]
    for endpoint, rule in sorted(web_endpoints(app).items()):
        need = ACCESS[endpoint]
        if need in ("public", "login") or "GET" not in rule.methods or endpoint == "static":
            continue
        values = {**world["own"], "party_id": world["party_id"], "user_id": user.id}
        for where in ("own", "other"):
            if where == "other" and not _regional(rule):
                continue
            values.update(world[where])
            url = _url(app, rule, values)
            status = client.get(url).status_code
            if need not in allowed:
                expected = {403}
            elif where == "other" and region is not None:
                expected = {404}
            else:
                expected = {200}
            assert status in expected, (role, where, url, status)


@pytest.mark.parametrize(("role", "region"), [("viewer", "KZ-35"), ("legal", "KZ-35")])
def test_no_change_by_roles_without_the_right(app, client, make_user, world, role, region):
    """Every POST route that changes the registry refuses a viewer (and legal staff) outright."""
    login(client, make_user(role, region))
    token = csrf_token(client, "/profile")
    values = {**world["own"], "party_id": world["party_id"]}
    for endpoint, rule in sorted(web_endpoints(app).items()):
        if "POST" not in rule.methods or ACCESS[endpoint] in ("public", "login", "read"):
            continue
        if ACCESS[endpoint] in ROLE_PERMISSIONS[role]:
            continue
        url = _url(app, rule, values)
        status = client.post(url, data={"csrf_token": token}).status_code
        assert status == 403, (endpoint, url, status)


def test_anonymous_users_are_sent_to_login(app, client, world):
    values = {**world["own"], "party_id": world["party_id"], "user_id": 1}
    for endpoint, rule in sorted(web_endpoints(app).items()):
        if ACCESS[endpoint] == "public" or "GET" not in rule.methods:
            continue
        response = client.get(_url(app, rule, values))
        assert response.status_code == 302 and "/login" in response.headers["Location"], endpoint


def test_an_inactive_user_loses_access(app, client, make_user):
    user = make_user("officer")
    login(client, user)
    assert client.get("/contracts").status_code == 200
    user.active = False
    db.session.commit()
    assert client.get("/contracts").status_code == 302


API_READS = [
    "/api/v1/contracts/{contract_id}",
    "/api/v1/projects/{project_id}",
    "/api/v1/sites/{site_id}",
    "/api/v1/milestones/{milestone_id}",
    "/api/v1/contracts/{contract_id}/milestones",
    "/api/v1/milestones/{milestone_id}/alerts",
    "/api/v1/contracts/{contract_id}/alert-rules",
]


@pytest.mark.parametrize(("role", "region"), ROLES)
def test_api_reads_by_role_and_region(client, make_user, api_token, world, role, region):
    headers = api_token(make_user(role, region))
    for template in API_READS:
        for where in ("own", "other"):
            url = template.format(**world[where])
            status = client.get(url, headers=headers).status_code
            expected = 404 if (where == "other" and region is not None) else 200
            assert status == expected, (role, url, status)


@pytest.mark.parametrize(("role", "region"), ROLES)
def test_api_writes_by_role(client, make_user, api_token, world, role, region):
    headers = api_token(make_user(role, region))
    own = world["own"]
    status = client.patch(
        f"/api/v1/contracts/{own['contract_id']}",
        json={"subject": "Новый предмет"},
        headers=headers,
    ).status_code
    expected = 200 if "edit_registry" in ROLE_PERMISSIONS[role] else 403
    assert status == expected, (role, status)
    status = client.patch(
        f"/api/v1/milestones/{own['milestone_id']}", json={"title": "Новое"}, headers=headers
    ).status_code
    assert status == expected, (role, status)
    status = client.patch(
        f"/api/v1/parties/{world['party_id']}", json={"phone": "+7 701 000 00 00"}, headers=headers
    ).status_code
    assert status == (200 if "edit_parties" in ROLE_PERMISSIONS[role] else 403), (role, status)
