"""Sessions and tokens (issue 15, item 3): logout and a password change end sessions on the
server; a password change revokes the API tokens and says so; the login throttle cannot be
raced, and a stranger's failures do not lock the owner out."""

from __future__ import annotations

import base64
import threading
from collections import Counter

import pytest
import requests
from werkzeug.serving import make_server

from ppp_tracker.auth.services import create_user
from ppp_tracker.db import db
from tests.conftest import PASSWORD, csrf_token, login, post_form
from tests.services import free_port


def _attempt(client, email, password, ip):
    token = csrf_token(client, "/login")
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_a_cookie_saved_before_logout_no_longer_opens_a_page(app, client, make_user):
    user = make_user("officer", "KZ-35")
    login(client, user)
    assert client.get("/profile").status_code == 200
    saved = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert post_form(client, "/logout", {}, form_url="/profile").status_code == 302
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], saved)
    response = thief.get("/profile")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    # Logging in again works, with a new session.
    login(client, user)
    assert client.get("/profile").status_code == 200


def test_a_cookie_saved_before_a_password_change_no_longer_opens_a_page(app, client, make_user):
    user = make_user("officer", "KZ-35")
    login(client, user)
    saved = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    response = post_form(
        client, "/profile/password", {"current": PASSWORD, "new": "another-long-password"},
        form_url="/profile",
    )  # fmt: skip
    assert response.status_code == 302
    assert client.get("/profile").status_code == 200  # the session that changed it goes on
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], saved)
    assert thief.get("/profile").status_code == 302


def test_a_password_change_revokes_the_api_tokens_and_says_so(app, client, make_user, api_token):
    user = make_user("officer", "KZ-35")
    first, second = api_token(user), api_token(user)
    assert client.get("/api/v1/contracts", headers=first).status_code == 200
    login(client, user)
    post_form(client, "/locale", {"locale": "en"}, form_url="/profile")
    response = post_form(
        client, "/profile/password", {"current": PASSWORD, "new": "another-long-password"},
        form_url="/profile", follow_redirects=True,
    )  # fmt: skip
    assert response.status_code == 200
    assert "your 2 API tokens have been revoked" in response.get_data(as_text=True)
    for headers in (first, second):
        assert client.get("/api/v1/contracts", headers=headers).status_code == 401


def test_an_administrators_password_reset_revokes_the_api_tokens(app, client, make_user, api_token):
    user = make_user("officer", "KZ-35")
    headers = api_token(user)
    login(client, make_user("admin", None))
    response = post_form(
        client,
        f"/admin/users/{user.id}/edit",
        {"email": user.email, "name": "Исполнитель", "role": "officer", "region": "KZ-35",
         "active": "y", "password": "reset-by-admin-1"},
    )  # fmt: skip
    assert response.status_code == 302
    assert client.get("/api/v1/contracts", headers=headers).status_code == 401


def test_a_strangers_failures_do_not_lock_the_owner_out(any_app):
    app, client = any_app, any_app.test_client()
    user, _ = create_user(
        "owner@example.kz", role="officer", region_code="KZ-35", password=PASSWORD
    )
    db.session.commit()
    limit = app.config["LOGIN_MAX_FAILURES"]
    # A stranger guesses from one address until it is locked, then from other addresses.
    for _ in range(limit):
        assert _attempt(client, user.email, "wrong", "10.7.0.1").status_code == 401
    assert _attempt(client, user.email, "wrong", "10.7.0.1").status_code == 429
    assert _attempt(client, user.email, PASSWORD, "10.7.0.1").status_code == 429
    # The account is under attack: each new address gets one try, no more (slowed down).
    assert _attempt(client, user.email, "wrong", "10.7.0.2").status_code == 401
    assert _attempt(client, user.email, "wrong", "10.7.0.2").status_code == 429
    # The owner, from an address without failures, gets in.
    owner = app.test_client()
    assert _attempt(owner, user.email, PASSWORD, "10.8.0.1").status_code == 302
    assert owner.get("/profile", environ_base={"REMOTE_ADDR": "10.8.0.1"}).status_code == 200


@pytest.fixture
def served(app):
    """The app behind a real threaded HTTP server (parallel requests, as in production)."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    db.session.remove()


def test_thirty_parallel_wrong_passwords_check_no_more_than_the_limit(app, make_user, served):
    user = make_user("officer", "KZ-35")
    limit = app.config["LOGIN_MAX_FAILURES"]
    wrong = base64.b64encode(f"{user.email}:wrong-password".encode()).decode()
    start = threading.Barrier(30)
    statuses: list[int] = []

    def guess():
        start.wait()
        response = requests.post(
            f"{served}/api/v1/tokens", headers={"Authorization": f"Basic {wrong}"}, timeout=120
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=guess) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counted = Counter(statuses)
    # Exactly `limit` guesses were checked (401); every other one was refused unchecked.
    assert counted == {401: limit, 429: 30 - limit}, counted
    # And the right password from that address is refused too; not from another.
    right = base64.b64encode(f"{user.email}:{PASSWORD}".encode()).decode()
    response = requests.post(
        f"{served}/api/v1/tokens", headers={"Authorization": f"Basic {right}"}, timeout=60
    )
    assert response.status_code == 429
