"""Security basics that every page shares: headers, cookies, CSRF, password and token storage,
escaping of hostile text, and an audit log that nobody can edit."""

from __future__ import annotations

import re

import sqlalchemy as sa

from ppp_tracker import create_app
from ppp_tracker.auth.models import ApiToken, User
from ppp_tracker.db import db
from tests import factories
from tests.conftest import PASSWORD, base_config, login

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
