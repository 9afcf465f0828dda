"""Who may open which page and call which API: every route × every method × every role × a
record in the user's own region and in another one, and anonymous callers.

The routes come from the app itself (`app.url_map` for pages, the OpenAPI document for the API);
each must be classified in ACCESS or API_ACCESS below, so a new route without an entry fails, and
nobody can add a page or an API call without deciding who may use it.

Expected: allowed → 2xx/3xx, 422 on the empty input sent here (409 when the record's state does
not allow the step: the role passed, the service answered); a role without the right → 403; a
record of another region for a user bound to a region → 404; anonymous → the login page (pages)
or 401 (API). A refused write changes nothing: row counts and the audit log stay as they were.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa
from werkzeug.routing import IntegerConverter

from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.auth.api_access import PATH_RECORDS
from ppp_tracker.auth.models import ApiToken
from ppp_tracker.core.limits import MAX_ID
from ppp_tracker.db import db
from ppp_tracker.registry.services.contracts import save_installment
from ppp_tracker.registry.services.documents import add_document
from tests import factories
from tests.claims_world import claims_world
from tests.conftest import csrf_token, login
from tests.reports_support import reports_world

#: endpoint -> what it needs: public | login | read | edit_registry | edit_parties | admin |
#: manage_claims | approve_claims
ACCESS: dict[str, str] = {
    "static": "public",
    "core.healthz": "public",
    "core.favicon": "public",
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
    "reports.home": "read",
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
    "registry.bulk_met": "edit_registry",
    "registry.contract": "read",
    "registry.edit_contract": "edit_registry",
    "registry.edit_installment": "edit_registry",
    "registry.milestone": "read",
    "registry.edit_milestone": "edit_registry",
    "registry.mark_met": "edit_registry",
    "registry.upload_document": "edit_registry",
    "registry.download_document": "read",
    "reports.timeline": "read",
    "reports.search_page": "read",
    "reports.export_list": "read",
    "reports.overdue_report": "read",
    "reports.refresh_dashboard": "edit_registry",
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
    "claims.delivery": "manage_claims",
    "claims.escalate": "manage_claims",
    "claims.withdraw": "manage_claims",
    "claims.restore": "manage_claims",
    "claims.approve": "approve_claims",
    "claims.bulk_approve": "approve_claims",
    "claims.send": "approve_claims",
    "claims.cases": "read",
    "claims.case": "read",
    "claims.edit_case": "manage_claims",
    "claims.add_hearing": "manage_claims",
    "claims.hearing_held": "manage_claims",
    "claims.letter_templates": "admin",
    "claims.letter_template": "admin",
    "claims.numbering_page": "admin",
    "claims.departments": "admin",
    "claims.department": "admin",
    "reports.deadlines": "read",
    "deadlines.calendar": "admin",
    "deadlines.add_override": "admin",
    "deadlines.remove_override": "admin",
    "deadlines.confirm_year": "admin",
    "alerts.outbox": "read",
    "alerts.contract_rules": "edit_registry",
    "alerts.preferences": "login",
}


#: API operations ("METHOD /path" as the OpenAPI document names them) -> what they need.
API_ACCESS: dict[str, str] = {
    "POST /api/v1/tokens": "public",
    "GET /api/v1/openapi.json": "public",
    "GET /api/v1/me": "login",
    "GET /api/v1/regions": "read",
    "GET /api/v1/institutions": "read",
    "POST /api/v1/institutions": "edit_registry",
    "GET /api/v1/parties": "read",
    "POST /api/v1/parties": "edit_parties",
    "GET /api/v1/parties/{party_id}": "read",
    "PATCH /api/v1/parties/{party_id}": "edit_parties",
    "GET /api/v1/projects": "read",
    "POST /api/v1/projects": "edit_registry",
    "GET /api/v1/projects/{project_id}": "read",
    "PATCH /api/v1/projects/{project_id}": "edit_registry",
    "GET /api/v1/sites": "read",
    "POST /api/v1/sites": "edit_registry",
    "GET /api/v1/sites/{site_id}": "read",
    "PATCH /api/v1/sites/{site_id}": "edit_registry",
    "GET /api/v1/contracts": "read",
    "POST /api/v1/contracts": "edit_registry",
    "GET /api/v1/contracts/{contract_id}": "read",
    "PATCH /api/v1/contracts/{contract_id}": "edit_registry",
    "GET /api/v1/contracts/{contract_id}/milestones": "read",
    "POST /api/v1/contracts/{contract_id}/milestones": "edit_registry",
    "GET /api/v1/milestones/{milestone_id}": "read",
    "PATCH /api/v1/milestones/{milestone_id}": "edit_registry",
    "GET /api/v1/deadlines": "read",
    "GET /api/v1/milestones/{milestone_id}/alerts": "read",
    "GET /api/v1/contracts/{contract_id}/alert-rules": "read",
    "PATCH /api/v1/contracts/{contract_id}/alert-rules": "edit_registry",
    "GET /api/v1/contracts/{contract_id}/penalty": "read",
    "GET /api/v1/claims": "read",
    "POST /api/v1/claims": "manage_claims",
    "GET /api/v1/claims/{claim_id}": "read",
    "PATCH /api/v1/claims/{claim_id}": "manage_claims",
    "POST /api/v1/claims/{claim_id}/approve": "approve_claims",
    "POST /api/v1/claims/{claim_id}/send": "approve_claims",
    "POST /api/v1/claims/{claim_id}/replies": "manage_claims",
    "POST /api/v1/claims/{claim_id}/delivery": "manage_claims",
    "POST /api/v1/claims/{claim_id}/escalate": "manage_claims",
    "POST /api/v1/claims/{claim_id}/withdraw": "manage_claims",
    "GET /api/v1/claims/{claim_id}/letter.docx": "read",
    "GET /api/v1/claims/{claim_id}/letter.pdf": "read",
    "GET /api/v1/cases": "read",
    "POST /api/v1/cases": "manage_claims",
    "GET /api/v1/cases/{case_id}": "read",
    "PATCH /api/v1/cases/{case_id}": "manage_claims",
    "POST /api/v1/cases/{case_id}/hearings": "manage_claims",
    "GET /api/v1/lawsuit-recommendations": "read",
    "GET /api/v1/me/calendar": "read",
    "DELETE /api/v1/me/calendar": "read",
    "POST /api/v1/me/calendar/renew": "read",
    "GET /api/v1/ocds/contracts/{contract_id}": "read",
    "GET /api/v1/ocds/contracts": "read",
}

ROLE_PERMISSIONS = {
    "admin": {"read", "edit_registry", "edit_parties", "admin", "manage_claims", "approve_claims"},
    "manager": {"read", "edit_registry", "edit_parties"},
    "officer": {"read", "edit_registry", "edit_parties"},
    "legal": {"read", "edit_parties", "manage_claims", "approve_claims"},
    "viewer": {"read"},
}

ROLES = [
    ("admin", None),
    ("manager", None),
    ("officer", "KZ-35"),
    ("legal", "KZ-35"),
    ("viewer", "KZ-35"),
]

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
#: Ids that name a record of a region (the others: counterparties, users, one's own tokens).
NOT_REGIONAL = {"party_id", "user_id", "token_id"}
ALLOWED = {200, 201, 204, 302, 303, 409, 422}


def web_routes(app) -> list[tuple[str, str, object]]:
    """(endpoint, method, rule) of every page route; logging out comes last."""
    out = [
        (rule.endpoint, method, rule)
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith("/api/")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]
    return sorted(out, key=lambda r: (r[0] == "auth.logout", r[0], r[1], r[2].rule))


def web_endpoints(app) -> dict:
    """Endpoint → one of its rules, for the pages (used by other tests, e.g. the languages)."""
    return {r.endpoint: r for r in app.url_map.iter_rules() if not r.rule.startswith("/api/")}


def api_operations(app) -> list[tuple[str, str]]:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    operations = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    # The document does not describe itself.
    return sorted(operations | {("GET", "/api/v1/openapi.json")})


def test_every_route_is_classified(app):
    unclassified = sorted({e for e, _m, _r in web_routes(app)} - set(ACCESS))
    assert unclassified == [], f"classify these endpoints in ACCESS: {unclassified}"
    operations = {f"{m} {p}" for m, p in api_operations(app)}
    assert sorted(operations - set(API_ACCESS)) == [], "classify these API calls in API_ACCESS"
    assert sorted(set(API_ACCESS) - operations) == [], "API_ACCESS names calls that do not exist"
    # Every API rule of the app is in the OpenAPI document (none hides from the matrix).
    documented = {re.sub(r"\{(\w+)\}", r"\1", p) for _m, p in api_operations(app)}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            assert re.sub(r"<(?:[^:<>]+:)?(\w+)>", r"\1", rule.rule) in documented, rule.rule


def test_every_api_call_declares_its_permission(app):
    """`@requires` is the one check of an API method's permission, made before the body is
    parsed; it must say what API_ACCESS says (calls open to anyone, or to any caller with a
    token, declare none), and every regional id in an API path is checked for scope before the
    method runs."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.endpoint == "api-docs.openapi_json":
            continue
        path = re.sub(r"<(?:[^:<>]+:)?(\w+)>", r"{\1}", rule.rule)
        view_class = app.view_functions[rule.endpoint].view_class
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            need = API_ACCESS[f"{method} {path}"]
            declared = getattr(getattr(view_class, method.lower()), "api_permission", None)
            expected = None if need in ("public", "login") else need
            assert declared == expected, (method, path, declared)
        for name in rule.arguments:
            assert name in PATH_RECORDS or name in NOT_REGIONAL, (path, name)


def test_every_number_in_a_path_fits_an_integer(app, client):
    """A record's id in a URL is `<id:…>`: 0, -1 or 2**31 is a 404, never an overflow (500)."""
    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            if isinstance(converter, IntegerConverter):
                assert converter.max is not None and converter.max <= MAX_ID, (rule.rule, name)
    for odd in ("0", "-1", "2147483648", "99999999999999999999"):
        assert client.get(f"/claims/{odd}").status_code == 404, odd


@pytest.fixture
def world(app):
    """One of everything in Karaganda (KZ-35, "own") and in East Kazakhstan (KZ-63, "other")."""
    out = {}
    # The counterparty of the matrix is the contractor of Karaganda's contract alone, so that the
    # regional roles of Karaganda may change it (test_scope_parties covers shared ones).
    out["party_id"] = factories.party().id
    for key, region in (("own", "KZ-35"), ("other", "KZ-63")):
        inst = factories.institution(region)
        project = factories.project(region)
        site = factories.site(region, institution_obj=inst)
        own_party = {"contractor_id": out["party_id"]} if key == "own" else {}
        contract = factories.contract(region, project_id=project.id, **own_party)
        milestone = factories.milestone(contract, due_on=date(2030, 1, 10))
        installment = save_installment(
            SYSTEM_USER, contract, {"due_on": date(2030, 1, 1), "amount": contract.total_amount}
        )
        document = add_document(
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
            "region_code": region,
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
    out["shared"] = {
        "party_id": out["party_id"],
        "filename": "css/app.css",
        "token": "no-such-feed",
        "year": 2031,
    }
    return out


def fingerprint() -> tuple[int, int]:
    """Rows in every table, and the last audit event: a refused request changes neither."""
    db.session.remove()
    tables = [t.name for t in db.metadata.sorted_tables]
    total = " + ".join(f"(SELECT count(*) FROM {name})" for name in tables)
    rows = db.session.execute(sa.text(f"SELECT {total}")).scalar()
    audit = db.session.execute(sa.text("SELECT coalesce(max(id), 0) FROM audit_events")).scalar()
    db.session.remove()
    return rows, audit


def _url(app, rule, values):
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **{name: values[name] for name in rule.arguments})


def _regional(names) -> bool:
    return any(a.endswith("_id") and a not in NOT_REGIONAL for a in names)


def _expected(need: str, role: str, region: str | None, where: str, regional: bool) -> set[int]:
    if need == "public":
        return ALLOWED | {400, 404}
    if need == "login":
        return ALLOWED
    if need not in ROLE_PERMISSIONS[role]:
        return {403}
    if where == "other" and regional and region is not None:
        return {404}
    return ALLOWED


def _check(method: str, url: str, expected: set[int], send, what, failures: list) -> None:
    """Send a request; a refused one (4xx other than 409/422) must have changed nothing."""
    before = fingerprint() if method in WRITE_METHODS else None
    response = send()
    status = response.status_code
    if status not in expected or (method == "GET" and expected == ALLOWED and status != 200):
        failures.append((*what, method, url, status, response.get_data(as_text=True)[:200]))
    if before is not None and status in (400, 401, 403, 404, 405) and fingerprint() != before:
        failures.append(("a refused write changed something", *what, method, url, status))


def _report(failures: list) -> str:
    return "\n".join(str(f[:6]) for f in failures)


@pytest.mark.slow
@pytest.mark.parametrize(("role", "region"), ROLES)
def test_every_page_and_form_by_role_and_region(
    app, client, make_user, api_token, world, role, region
):
    user = make_user(role, region)
    api_token(user)  # a token of one's own, for the revoke route
    own_token = db.session.scalar(sa.select(ApiToken.id).where(ApiToken.user_id == user.id))
    login(client, user)
    token = csrf_token(client, "/profile")
    failures: list = []
    for endpoint, method, rule in web_routes(app):
        need = ACCESS[endpoint]
        for where in ("own", "other"):
            if where == "other" and not _regional(rule.arguments):
                continue
            values = {**world["shared"], **world[where], "user_id": user.id, "token_id": own_token}
            url = _url(app, rule, values)
            expected = _expected(need, role, region, where, _regional(rule.arguments))
            if endpoint == "auth.logout":
                expected = {302}
            if method == "GET":
                send = lambda url=url: client.get(url)  # noqa: E731
            else:
                send = lambda url=url, m=method: client.open(  # noqa: E731
                    url, method=m, data={"csrf_token": token}
                )
            _check(method, url, expected, send, (role, where, endpoint), failures)
    assert not failures, _report(failures)


def test_anonymous_callers_are_sent_to_login_or_refused(app, client, world):
    token = csrf_token(client, "/login")
    failures: list = []
    for endpoint, method, rule in web_routes(app):
        url = _url(app, rule, {**world["shared"], **world["own"], "user_id": 1, "token_id": 1})
        if method == "GET":
            send = lambda url=url: client.get(url)  # noqa: E731
        else:
            send = lambda url=url, m=method: client.open(  # noqa: E731
                url, method=m, data={"csrf_token": token}
            )
        if ACCESS[endpoint] == "public":
            response = send()
            location = response.headers.get("Location", "")
            if response.status_code in (401, 403, 500) or (
                "/login" in location and endpoint != "auth.logout"
            ):
                failures.append(("public", endpoint, method, url, response.status_code))
            continue
        before = fingerprint() if method in WRITE_METHODS else None
        response = send()
        if response.status_code != 302 or "/login" not in response.headers.get("Location", ""):
            failures.append(("not sent to login", endpoint, method, url, response.status_code))
        if before is not None and fingerprint() != before:
            failures.append(("a refused write changed something", endpoint, method, url))
    for method, path in api_operations(app):
        url = path.format(**{**world["shared"], **world["own"]})
        need = API_ACCESS[f"{method} {path}"]
        send = lambda url=url, m=method: client.open(  # noqa: E731
            url, method=m, json={} if m in WRITE_METHODS else None
        )
        _check(method, url, {200, 401} if need == "public" else {401}, send, ("anon",), failures)
    assert not failures, _report(failures)


@pytest.mark.parametrize(("role", "region"), ROLES)
def test_every_api_call_by_role_and_region(app, client, make_user, api_token, world, role, region):
    headers = api_token(make_user(role, region))
    failures: list = []
    for method, path in api_operations(app):
        need = API_ACCESS[f"{method} {path}"]
        if need == "public":
            continue
        names = re.findall(r"\{(\w+)\}", path)
        for where in ("own", "other"):
            if where == "other" and not _regional(names):
                continue
            url = path.format(**{**world["shared"], **world[where]})
            expected = _expected(need, role, region, where, _regional(names))
            send = lambda url=url, m=method: client.open(  # noqa: E731
                url, method=m, headers=headers, json={} if m in WRITE_METHODS else None
            )
            _check(method, url, expected, send, (role, where), failures)
    assert not failures, _report(failures)


def test_an_inactive_user_loses_access(app, client, make_user):
    user = make_user("officer")
    login(client, user)
    assert client.get("/contracts").status_code == 200
    user.active = False
    db.session.commit()
    assert client.get("/contracts").status_code == 302


def test_allowed_api_writes_really_change_the_record(client, make_user, api_token, world):
    """The matrix sends empty input; here a real change by each role goes through or not."""
    for role, region in ROLES:
        headers = api_token(make_user(role, region))
        status = client.patch(
            f"/api/v1/contracts/{world['own']['contract_id']}",
            json={"subject": f"Новый предмет {role}"},
            headers=headers,
        ).status_code
        assert status == (200 if "edit_registry" in ROLE_PERMISSIONS[role] else 403), (role, status)
        status = client.patch(
            f"/api/v1/parties/{world['party_id']}",
            json={"phone": "+7 701 000 00 00"},
            headers=headers,
        ).status_code
        assert status == (200 if "edit_parties" in ROLE_PERMISSIONS[role] else 403), (role, status)


# --- CSRF --------------------------------------------------------------------------------------


def test_every_form_refuses_a_post_without_its_csrf_token(app, client, make_user, world):
    """An administrator (every right) posts to every form without a token, and with the token of
    another session: refused with a message page, nothing changed."""
    admin = make_user("admin", None)
    admin.locale = "en"
    db.session.commit()
    other_session = app.test_client()
    login(other_session, make_user("admin", None))
    foreign_token = csrf_token(other_session, "/profile")
    login(client, admin)
    values = {**world["shared"], **world["own"], "user_id": admin.id, "token_id": 1}
    failures: list = []
    posts = [(e, m, r) for e, m, r in web_routes(app) if m in WRITE_METHODS]
    assert len(posts) > 40
    for endpoint, method, rule in posts:
        url = _url(app, rule, values)
        for data in ({}, {"csrf_token": foreign_token}, {"csrf_token": "forged"}):
            before = fingerprint()
            response = client.open(url, method=method, data=data)
            html = response.get_data(as_text=True)
            if response.status_code != 400 or "was not sent from this site" not in html:
                failures.append((endpoint, method, url, sorted(data), response.status_code))
            if fingerprint() != before:
                failures.append(("changed without a token", endpoint, url))
    assert not failures, _report(failures)
    assert client.get("/profile").status_code == 200  # still logged in: logout was refused too


def test_a_browser_session_cannot_write_through_the_api(app, client, make_user, world):
    """The API is exempt from CSRF because it ignores cookies: a logged-in browser session
    without a bearer token gets 401 on every API call that changes something."""
    login(client, make_user("admin", None))
    token = csrf_token(client, "/profile")
    failures: list = []
    writes = [(m, p) for m, p in api_operations(app) if m in WRITE_METHODS]
    for method, path in writes:
        if API_ACCESS[f"{method} {path}"] == "public":
            continue
        url = path.format(**{**world["shared"], **world["own"]})
        for headers in ({}, {"X-CSRFToken": token}):
            send = lambda url=url, m=method, h=headers: client.open(  # noqa: E731
                url, method=m, json={}, headers=h
            )
            _check(method, url, {401}, send, ("session", sorted(headers)), failures)
    assert not failures, _report(failures)
    # The token request takes HTTP Basic credentials only, never the session.
    assert client.post("/api/v1/tokens").status_code == 401
