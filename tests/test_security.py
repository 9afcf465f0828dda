"""Security basics that every page shares: headers, cookies, CSRF, password and token storage,
escaping of hostile text, and an audit log that nobody can edit."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import sqlalchemy as sa

from ppp_tracker import create_app
from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.auth.models import ApiToken, User
from ppp_tracker.core.web import local_path
from ppp_tracker.db import db
from ppp_tracker.registry import services
from tests import factories
from tests.conftest import PASSWORD, base_config, csrf_token, login

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_security_headers_on_every_page(client, make_user):
    for response in (client.get("/login"), client.get("/api/v1/openapi.json")):
        csp = response.headers["Content-Security-Policy"]
        assert (
            "script-src 'self'" in csp
            and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
        )
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_pages_have_no_inline_scripts(client, make_user):
    login(client, make_user("admin", None))
    c = factories.contract("KZ-35")
    for url in ("/", "/contracts", f"/contracts/{c.id}", "/profile", "/admin/users"):
        html = client.get(url).get_data(as_text=True)
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
        assert scripts, url
        for attrs, body in scripts:
            assert "src=" in attrs and not body.strip(), (url, attrs, body[:80])
        assert not re.search(r"\son[a-z]+=", html), url  # no inline event handlers


def test_session_cookie_is_httponly_and_samesite(client, make_user):
    user = make_user("officer")
    response = login(client, user)
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure(pg_database, monkeypatch):
    monkeypatch.setenv("PPP_ENV", "production")
    app = create_app(
        {**base_config(pg_database, None), "SECRET_KEY": "prod-secret-value-1234567890"}
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    response = app.test_client().get("/login")
    assert "Strict-Transport-Security" in response.headers


def test_passwords_are_hashed_with_scrypt_and_tokens_only_as_sha256(app, make_user, api_token):
    user = make_user("officer")
    headers = api_token(user)
    stored = db.session.scalar(sa.select(User.password_hash).where(User.id == user.id))
    assert stored.startswith("scrypt:") and PASSWORD not in stored
    token = headers["Authorization"].split()[1]
    row = db.session.scalar(sa.select(ApiToken))
    assert row.token_hash != token and len(row.token_hash) == 64 and token not in row.token_hash


def test_hostile_text_is_shown_escaped(client, make_user):
    login(client, make_user("officer", "KZ-35"))
    party = factories.party(name=XSS, address=XSS)
    c = factories.contract("KZ-35", contractor_id=party.id, subject=XSS)
    factories.milestone(c, title=XSS)
    for url in (f"/parties/{party.id}", f"/contracts/{c.id}", "/contracts", "/parties", "/audit"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;" in html, url


def test_the_audit_log_has_no_way_to_change_it(app):
    audit_rules = [r for r in app.url_map.iter_rules() if "audit" in r.rule]
    assert audit_rules and all(r.methods <= {"GET", "HEAD", "OPTIONS"} for r in audit_rules)


# --- open redirects ----------------------------------------------------------------------------

HOSTILE_NEXT = [
    "//evil.com",
    "/\\evil.com",
    "\\/\\/evil.com",
    "/%5Cevil.com",
    "/%2F/evil.com",
    "https://evil.com",
    "http:evil.com",
    "/\t/evil.com",
    "/\n/evil.com",
    "\t//evil.com",
    "/\r\n/evil.com",
    " //evil.com",
]


def _stays_here(location: str) -> bool:
    parts = urlsplit(location)
    return parts.netloc in ("", "localhost") and location.endswith("/") and "evil" not in location


def test_login_next_never_leaves_the_site(client, make_user):
    user = make_user("officer")
    for target in HOSTILE_NEXT:
        token = csrf_token(client, "/login")
        response = client.post(
            "/login",
            query_string={"next": target},
            data={"email": user.email, "password": PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 302 and _stays_here(response.headers["Location"]), target
        # Logged in already: the login page sends the user on at once, through the same check.
        again = client.get("/login", query_string={"next": target})
        assert again.status_code == 302 and _stays_here(again.headers["Location"]), target
        client.post("/logout", data={"csrf_token": csrf_token(client, "/profile")})
    # The raw, undecoded form of the query string too.
    token = csrf_token(client, "/login")
    response = client.post(
        "/login?next=/%5Cevil.com",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
    )
    assert _stays_here(response.headers["Location"])
    # A path of this site is kept.
    assert (
        client.get("/login?next=/contracts%3Fpage%3D2")
        .headers["Location"]
        .endswith("/contracts?page=2")
    )


def test_the_locale_switch_never_leaves_the_site(client):
    for target in HOSTILE_NEXT:
        token = csrf_token(client, "/login")
        response = client.post(
            "/locale", data={"locale": "kk", "next": target, "csrf_token": token}
        )
        assert response.status_code == 302 and _stays_here(response.headers["Location"]), target
    token = csrf_token(client, "/login")
    response = client.post("/locale", data={"locale": "ru", "next": "/login", "csrf_token": token})
    assert response.headers["Location"].endswith("/login")


def test_local_path_refuses_what_browsers_would_read_as_another_host(app):
    with app.test_request_context():
        for target in HOSTILE_NEXT:
            assert local_path(target, "/home") == "/home", target
        assert local_path("/contracts?q=a%20b#x", "/home") == "/contracts?q=a%20b#x"
        assert local_path(None, "/home") == local_path("", "/home") == "/home"


# --- headers on every kind of response ---------------------------------------------------------


def _assert_security_headers(response, what):
    csp = response.headers.get("Content-Security-Policy", "")
    script_src = csp.split("script-src", 1)[1].split(";")[0] if "script-src" in csp else ""
    assert "'self'" in script_src and "unsafe-inline" not in script_src, what
    assert "unsafe-eval" not in csp, what
    assert "frame-ancestors 'none'" in csp and response.headers["X-Frame-Options"] == "DENY", what
    assert response.headers["X-Content-Type-Options"] == "nosniff", what
    assert response.headers["Referrer-Policy"], what


def test_security_headers_on_every_kind_of_response(client, make_user, api_token):
    viewer = make_user("viewer", "KZ-35")
    officer = make_user("officer", "KZ-35")
    contract = factories.contract("KZ-35")
    document = services.add_document(
        SYSTEM_USER,
        owner=contract,
        document_type="other",
        title=None,
        filename="a.txt",
        content=b"a",
    )
    db.session.commit()
    headers = api_token(officer)
    responses = {
        "api 200": (client.get("/api/v1/me", headers=headers), 200),
        "api 401": (client.get("/api/v1/me"), 401),
        "api 404": (client.get("/api/v1/contracts/999999", headers=headers), 404),
        "api 422": (client.post("/api/v1/parties", json={}, headers=headers), 422),
        "spec": (client.get("/api/v1/openapi.json"), 200),
        "static": (client.get("/static/js/app.js"), 200),
        "page 404": (client.get("/no-such-page"), 404),
        "csrf 400": (client.post("/logout"), 400),
        "login 302": (client.get("/contracts"), 302),
    }
    login(client, viewer)
    responses["page 403"] = (client.get("/admin/users"), 403)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/profile")})
    login(client, officer)
    responses["page 200"] = (client.get("/contracts"), 200)
    downloads = {
        "document": client.get(f"/documents/{document.id}"),
        "export": client.get("/export/contracts.csv"),
        "template": client.get("/imports/template/contracts.xlsx"),
    }
    for what, response in downloads.items():
        responses[what] = (response, 200)
        disposition = response.headers.get("Content-Disposition", "")
        assert disposition.startswith("attachment;"), (what, disposition)
    for what, (response, status) in responses.items():
        assert response.status_code == status, (what, response.status_code)
        _assert_security_headers(response, what)


def test_security_headers_on_a_500(pg_database):
    app = create_app({**base_config(pg_database, None), "TESTING": False})

    def boom():
        raise RuntimeError("boom")

    app.add_url_rule("/boom", "boom", boom)
    app.add_url_rule("/api/v1/boom", "api_boom", boom)
    for url in ("/boom", "/api/v1/boom"):
        response = app.test_client().get(url)
        assert response.status_code == 500, url
        assert "boom" not in response.get_data(as_text=True)  # no traceback shown
        _assert_security_headers(response, url)
    with app.app_context():
        db.engine.dispose()


def test_production_session_cookie_is_secure_httponly_and_samesite(pg_database, monkeypatch):
    monkeypatch.setenv("PPP_ENV", "production")
    app = create_app(
        {**base_config(pg_database, None), "SECRET_KEY": "prod-secret-value-1234567890"}
    )
    assert app.config["REMEMBER_COOKIE_HTTPONLY"] and app.config["REMEMBER_COOKIE_SAMESITE"]
    client = app.test_client()
    token = csrf_token(client, "/login")  # the CSRF token lives in the session: a cookie is set
    assert token
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None and cookie.secure and cookie.http_only
    assert cookie.same_site in ("Lax", "Strict")
    with app.app_context():
        db.engine.dispose()
