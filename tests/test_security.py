"""Security basics that every page shares: headers, cookies, CSRF, password and token storage,
escaping of hostile text, and an audit log that nobody can edit."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa

from ppp_tracker import create_app
from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.auth.models import ApiToken, LoginThrottle, User
from ppp_tracker.core.audit import AuditEvent
from ppp_tracker.core.web import local_path
from ppp_tracker.db import db
from ppp_tracker.registry.services.documents import add_document
from tests import factories
from tests.claims_world import claims_world
from tests.conftest import PASSWORD, FreshContextClient, base_config, csrf_token, login

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
        {**base_config(pg_database, None), "SECRET_KEY": "prod-secret-value-1234567890-abcdef"}
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
    document = add_document(
        SYSTEM_USER,
        owner=contract,
        document_type="other",
        title=None,
        filename="a.txt",
        content=b"a",
    )
    db.session.commit()
    claim_id = claims_world(contract)["claim_id"]
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
        "letter": client.get(f"/claims/{claim_id}/letter.docx"),
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
        {**base_config(pg_database, None), "SECRET_KEY": "prod-secret-value-1234567890-abcdef"}
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


# --- login throttling --------------------------------------------------------------------------


def _attempt(client, email, password, ip="10.0.0.1"):
    token = csrf_token(client, "/login")
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": ip},
    )


def _in_english(client):
    client.post("/locale", data={"locale": "en", "csrf_token": csrf_token(client, "/login")})


def _age_failures(app, seconds: int) -> None:
    """Move the recorded failures back in time (the same as waiting, without sleeping)."""
    for row in db.session.scalars(sa.select(LoginThrottle)):
        row.window_start -= timedelta(seconds=seconds)
    db.session.commit()


def test_failures_for_one_account_from_one_address_lock_that_address_until_the_window_passes(
    app, client, make_user
):
    _in_english(client)
    user = make_user("officer")
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _n in range(limit):
        assert _attempt(client, user.email, "wrong", ip="10.0.1.1").status_code == 401
    # The right password, from that address: locked.
    locked = _attempt(client, user.email, PASSWORD, ip="10.0.1.1")
    html = locked.get_data(as_text=True)
    assert locked.status_code == 429 and "Too many failed attempts" in html
    assert client.get("/profile").status_code == 302  # not logged in
    # The API's token request shares the lock.
    basic = base64.b64encode(f"{user.email}:{PASSWORD}".encode()).decode()
    api = client.post(
        "/api/v1/tokens",
        headers={"Authorization": f"Basic {basic}"},
        environ_base={"REMOTE_ADDR": "10.0.1.1"},
    )
    assert api.status_code == 429 and int(api.headers["Retry-After"]) > 0
    # After the window, the right password works there and that address's failures are gone.
    _age_failures(app, app.config["LOGIN_THROTTLE_SECONDS"] + 1)
    assert _attempt(client, user.email, PASSWORD, ip="10.0.1.1").status_code == 302
    # (Same address: the session is bound to it, session_protection="strong".)
    assert client.get("/profile", environ_base={"REMOTE_ADDR": "10.0.1.1"}).status_code == 200
    left = db.session.scalar(
        sa.select(sa.func.count()).where(LoginThrottle.key == f"pair:{user.email} 10.0.1.1")
    )
    assert left == 0


def test_failures_older_than_the_window_are_forgotten_by_the_next_failure(app, client):
    for n in range(3):
        assert _attempt(client, f"old{n}@example.kz", "wrong", ip="10.0.3.1").status_code == 401
    _age_failures(app, app.config["LOGIN_THROTTLE_SECONDS"] + 1)
    assert _attempt(client, "new@example.kz", "wrong", ip="10.0.3.2").status_code == 401
    db.session.expire_all()
    keys = set(db.session.scalars(sa.select(LoginThrottle.key)))
    # Only the new failure's account, account and address, and address are left.
    assert keys == {
        "account:new@example.kz",
        "pair:new@example.kz 10.0.3.2",
        "address:10.0.3.2",
    }


def test_many_failures_from_one_address_lock_that_address_only(app, client, make_user):
    user = make_user("officer")
    app.config["LOGIN_MAX_FAILURES"] = 2  # (restored after the test) fewer slow password checks
    limit = 2 * 4
    for n in range(limit):  # a different e-mail each time: no single e-mail reaches its limit
        assert _attempt(client, f"guess{n}@example.kz", "wrong", ip="10.0.2.1").status_code == 401
    assert _attempt(client, user.email, PASSWORD, ip="10.0.2.1").status_code == 429
    basic = base64.b64encode(f"{user.email}:{PASSWORD}".encode()).decode()
    api = client.post(
        "/api/v1/tokens",
        headers={"Authorization": f"Basic {basic}"},
        environ_base={"REMOTE_ADDR": "10.0.2.1"},
    )
    assert api.status_code == 429
    assert _attempt(client, user.email, PASSWORD, ip="10.0.2.2").status_code == 302


def test_a_lock_does_not_tell_whether_the_email_has_an_account(app, client, make_user):
    _in_english(client)
    user = make_user("officer")
    answers = {}
    for email in (user.email, "nobody@example.kz"):
        wrong = _attempt(client, email, "wrong-password")
        for _ in range(app.config["LOGIN_MAX_FAILURES"]):
            locked = _attempt(client, email, "wrong-password")
        answers[email] = [
            (r.status_code, re.sub(r'value="[^"]*"', "", r.get_data(as_text=True)))
            for r in (wrong, locked)
        ]
        for r, (status, _html) in zip((wrong, locked), answers[email], strict=True):
            assert r.status_code == status
    mine, nobodys = answers[user.email], answers["nobody@example.kz"]
    assert [s for s, _ in mine] == [s for s, _ in nobodys] == [401, 429]

    # The same page apart from the e-mail typed in (and the seconds left of the lock, which
    # moved on while the second e-mail was tried: on a loaded machine, past a whole second).
    def page(html: str, email: str) -> str:
        return re.sub(r"\b\d+ seconds\b", "N seconds", html.replace(email, ""))

    assert page(mine[0][1], user.email) == page(nobodys[0][1], "nobody@example.kz")
    assert page(mine[1][1], user.email) == page(nobodys[1][1], "nobody@example.kz")
    assert "N seconds" in page(mine[1][1], user.email)  # the lock's message was compared


# --- passwords, sessions, tokens ----------------------------------------------------------------


def test_changing_the_password_ends_the_other_sessions(app, make_user):
    user = make_user("officer")
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, user)
    login(phone, user)
    assert phone.get("/profile").status_code == 200
    response = laptop.post(
        "/profile/password",
        data={
            "current": PASSWORD,
            "new": "another-long-password",
            "csrf_token": csrf_token(laptop, "/profile"),
        },
    )
    assert response.status_code == 302
    stored = db.session.scalar(sa.select(User.password_hash).where(User.id == user.id))
    assert stored.startswith("scrypt:")
    assert laptop.get("/profile").status_code == 200  # the session that changed it goes on
    assert phone.get("/profile").status_code == 302  # the other one is logged out
    login(phone, user, "another-long-password")
    assert phone.get("/profile").status_code == 200


def test_an_administrator_resetting_a_password_ends_the_users_sessions(app, make_user):
    user = make_user("officer")
    admin = make_user("admin", None)
    session_of_user, session_of_admin = app.test_client(), app.test_client()
    login(session_of_user, user)
    login(session_of_admin, admin)
    response = session_of_admin.post(
        f"/admin/users/{user.id}/edit",
        data={
            "email": user.email,
            "name": "Исполнитель",
            "role": "officer",
            "region": "KZ-35",
            "active": "y",
            "password": "reset-by-admin-1",
            "csrf_token": csrf_token(session_of_admin, f"/admin/users/{user.id}/edit"),
        },
    )
    assert response.status_code == 302
    assert session_of_user.get("/profile").status_code == 302
    assert session_of_admin.get("/profile").status_code == 200


def test_tokens_revoked_on_the_profile_or_by_the_cli_expired_or_of_an_inactive_user_are_401(
    app, client, make_user, api_token
):
    user = make_user("officer")
    names = ("web", "cli_one", "cli_all", "expiring", "inactive")
    tokens = {name: api_token(user) for name in names}
    web, cli_one, cli_all, expiring, inactive = (tokens[name] for name in names)
    for headers in tokens.values():
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    rows = {
        row.prefix: row
        for row in db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id))
    }
    prefix = {name: h["Authorization"].split()[1][:10] for name, h in tokens.items()}
    assert all(row.expires_at is not None for row in rows.values())  # new tokens expire

    login(client, user)
    response = client.post(
        f"/profile/tokens/{rows[prefix['web']].id}/revoke",
        data={"csrf_token": csrf_token(client, "/profile")},
    )
    assert response.status_code == 302
    assert client.get("/api/v1/me", headers=web).status_code == 401
    assert client.get("/api/v1/me", headers=cli_one).status_code == 200

    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "revoke-tokens", user.email, "--prefix", prefix["cli_one"]]
    )
    assert result.exit_code == 0 and "revoked 1" in result.output, result.output
    assert client.get("/api/v1/me", headers=cli_one).status_code == 401
    assert client.get("/api/v1/me", headers=cli_all).status_code == 200

    db.session.execute(
        sa.update(ApiToken)
        .where(ApiToken.prefix == prefix["expiring"])
        .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
    )
    db.session.commit()
    assert client.get("/api/v1/me", headers=expiring).status_code == 401

    db.session.get(User, user.id).active = False
    db.session.commit()
    assert client.get("/api/v1/me", headers=inactive).status_code == 401
    db.session.get(User, user.id).active = True
    db.session.commit()
    assert client.get("/api/v1/me", headers=cli_all).status_code == 200
    result = runner.invoke(args=["users", "revoke-tokens", user.email])
    # cli_all, expiring and inactive: an expired token is refused but still counts as live here.
    assert result.exit_code == 0 and "revoked 3" in result.output, result.output
    assert client.get("/api/v1/me", headers=cli_all).status_code == 401
    revoked = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "api_tokens", AuditEvent.action == "update"
        )
    ).all()
    assert {e.actor for e in revoked} >= {user.email, "cli:users revoke-tokens"}


def test_the_client_address_comes_from_a_trusted_proxy_only(app, client, pg_database, make_user):
    user = make_user("officer")
    app.config["LOGIN_MAX_FAILURES"] = 2  # (restored after the test) fewer slow password checks
    limit = 2 * 4

    def attempt(c, email, password, forwarded):
        token = csrf_token(c, "/login")
        return c.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": token},
            headers={"X-Forwarded-For": forwarded},
        )

    # No proxy configured: a forged X-Forwarded-For does not get a guesser round the lock.
    for n in range(limit):
        attempt(client, f"guess{n}@example.kz", "wrong", f"10.0.4.{n}")
    assert attempt(client, user.email, PASSWORD, "10.0.5.1").status_code == 429

    # Behind one trusted proxy: the lock is on the client's address, not on the proxy's.
    behind_proxy = create_app(
        {**base_config(pg_database, None), "TRUSTED_PROXIES": 1, "LOGIN_MAX_FAILURES": 2}
    )
    behind_proxy.test_client_class = FreshContextClient
    guesser, colleague = behind_proxy.test_client(), behind_proxy.test_client()
    for n in range(limit):
        attempt(guesser, f"other{n}@example.kz", "wrong", "10.0.6.1")
    assert attempt(guesser, user.email, PASSWORD, "10.0.6.1").status_code == 429
    assert attempt(colleague, user.email, PASSWORD, "10.0.6.2").status_code == 302
    with behind_proxy.app_context():
        db.engine.dispose()
