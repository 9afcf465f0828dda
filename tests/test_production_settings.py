"""Production is explicit (issue 15, item 4): PPP_ENV names one of three environments exactly,
production refuses a short secret key and the demo users; logged-in pages are kept by no
cache; no server announces itself."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from werkzeug.serving import make_server

from config import load_config
from ppp_tracker import create_app
from ppp_tracker.auth.models import User
from ppp_tracker.db import db
from tests.conftest import base_config, login
from tests.services import free_port

ROOT = Path(__file__).resolve().parent.parent
LONG_KEY = "k" * 32


@pytest.mark.parametrize("name", ["prod", "Production", "PRODUCTION", "production ", "staging"])
def test_an_unknown_environment_name_stops_the_start(monkeypatch, name):
    monkeypatch.setenv("PPP_ENV", name)
    monkeypatch.setenv("SECRET_KEY", LONG_KEY)
    with pytest.raises(RuntimeError, match="PPP_ENV must be one of development, test, production"):
        load_config()


@pytest.mark.parametrize("name", ["development", "test", "production"])
def test_the_three_environments_start(monkeypatch, name):
    monkeypatch.setenv("PPP_ENV", name)
    monkeypatch.setenv("SECRET_KEY", LONG_KEY)
    settings = load_config()
    assert settings["ENV_NAME"] == name
    # Production gets Secure cookies whatever was imported before.
    assert settings["SESSION_COOKIE_SECURE"] is (name == "production")


def test_the_app_process_refuses_to_start_with_ppp_env_prod(tmp_path):
    env = {**os.environ, "PPP_ENV": "prod", "SECRET_KEY": LONG_KEY}
    env["PPP_INSTANCE_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "PPP_ENV must be one of" in done.stderr


@pytest.mark.parametrize("key", ["x", "k" * 31])
def test_production_refuses_a_short_secret_key(monkeypatch, key):
    monkeypatch.setenv("PPP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(RuntimeError, match="SECRET_KEY is too short"):
        load_config()
    monkeypatch.setenv("SECRET_KEY", "k" * 32)
    assert load_config()["SECRET_KEY"] == "k" * 32


def test_production_refuses_the_demo_users(pg_database, tmp_path, app):
    production = create_app(
        {**base_config(pg_database, tmp_path), "ENV_NAME": "production", "SECRET_KEY": LONG_KEY}
    )
    with production.app_context():
        result = production.test_cli_runner().invoke(args=["users", "demo"])
        db.session.remove()
    assert result.exit_code != 0
    assert "refused in production" in result.output
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0
    # Elsewhere it still works (make run).
    result = app.test_cli_runner().invoke(args=["users", "demo"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert db.session.scalar(sa.select(User.id).where(User.email == "admin@demo.kz")) is not None


def test_logged_in_pages_and_api_answers_are_not_stored(client, make_user, api_token):
    user = make_user("officer", "KZ-35")
    headers = api_token(user)
    assert client.get("/api/v1/contracts", headers=headers).headers["Cache-Control"] == "no-store"
    login(client, user)
    for url in ("/", "/contracts", "/profile", "/audit"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url


def test_static_files_are_named_by_version_and_kept_by_browsers(client, make_user):
    """Stylesheets and scripts are no user's data: a logged-in user's pages name them with
    their version (`?v=`), and browsers may keep them for a year instead of fetching all of
    them again with every page; the page itself is still never stored."""
    login(client, make_user("officer", "KZ-35"))
    page = client.get("/contracts")
    assert page.headers["Cache-Control"] == "no-store"
    links = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.get_data(as_text=True))
    assert {"/static/css/app.css", "/static/js/app.js"} <= {u.split("?")[0] for u in links}
    for url in links:
        assert re.search(r"\?v=\d+$", url), url
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable", url
    # Without its version (an old page, a typed address) a file is checked again each time…
    bare = client.get("/static/css/app.css")
    assert "max-age=31536000" not in bare.headers.get("Cache-Control", "")
    # …and a file that does not exist is no file to keep.
    missing = client.get("/static/css/no-such.css?v=1")
    assert missing.status_code == 404 and "max-age" not in missing.headers.get("Cache-Control", "")


def test_the_development_server_does_not_name_itself(app):
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        response = requests.get(f"http://127.0.0.1:{server.port}/healthz", timeout=10)
    finally:
        server.shutdown()
    assert response.status_code == 200
    assert "Server" not in response.headers, response.headers.get("Server")


def test_gunicorn_does_not_name_itself(pg_database, app):
    port = free_port()
    env = {
        **os.environ,
        "PPP_ENV": "test",
        "DATABASE_URL": pg_database,
        "SECRET_KEY": LONG_KEY,
        "CELERY_QUEUE": f"ppp-test-{uuid.uuid4().hex[:8]}",
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "gunicorn exited"
            try:
                response = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=30)
                break
            except (requests.ConnectionError, requests.Timeout):
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)
    assert response.status_code == 200
    assert "Server" not in response.headers, response.headers.get("Server")
