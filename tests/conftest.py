"""Fixtures: a fresh PostgreSQL database (and a SQLite file) per test session, migrated with
Alembic; tables emptied after each test (DELETE, ids restarted); a test client with real CSRF;
a user factory."""

from __future__ import annotations

import os
import re
import uuid
from datetime import date

import psycopg
import pytest
from flask.testing import FlaskClient

from ppp_tracker import create_app
from ppp_tracker.db import db
from ppp_tracker.extensions import upgrade
from tests import factories

pytest_plugins = ["tests.browser", "tests.services"]

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
PG_HOST = os.environ.get("TEST_PG_HOST", "postgresql+psycopg://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
#: Tables that keep their rows between tests (reference data the migration inserts; the data
#: version only ever moves forward, so that no app's cached page body outlives its data).
KEEP_TABLES = {"regions", "alembic_version", "data_versions"}


#: Kinds of test that take seconds to a minute each (a browser, real Celery workers, a drill,
#: schemathesis over the whole API…).
LONG_KINDS = ("browser", "worker", "slow")


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected
def pytest_collection_modifyitems(config, items):
    """`make test` runs the suite on several processes (pytest-xdist, `--dist worksteal`); each has
    its own databases, Celery queue, private servers and browser, so any test may run beside any
    other. worksteal hands each process an equal share of the collected order (the first
    share to the first process, …) and lets a process that has run out take the last tests of
    another's queue. So the long tests are dealt out in turn to the start of every share: every
    process begins with its own, what is taken over at the end is short, and all end nearly
    together (a minute-long test left for last keeps one process busy while the others wait).
    Under xdist only, where every process collects the same order; one process keeps the
    files' order."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    if workers < 2:
        return
    is_long = [any(item.get_closest_marker(kind) for kind in LONG_KINDS) for item in items]
    long = [item for item, flag in zip(items, is_long, strict=True) if flag]
    short = [item for item, flag in zip(items, is_long, strict=True) if not flag]
    dealt, left = [], len(items)
    for n in range(workers):
        size = left // (workers - n)  # worksteal's share: what is left over the processes left
        mine = long[n::workers]
        take = max(0, size - len(mine))
        dealt += mine + short[:take]
        short = short[take:]
        left -= size
    items[:] = dealt + short


def _create_pg_database() -> str:
    name = f"ppp_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def _drop_pg_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def base_config(database_url: str, tmp_path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SERVER_NAME": None,
        "BASE_URL": "http://localhost",
        "CELERY": {
            "broker_url": REDIS_URL,
            "result_backend": None,
            "task_ignore_result": True,
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            # A queue of this session's own, so parallel test runs never take each other's tasks.
            "task_default_queue": f"ppp-test-{uuid.uuid4().hex[:8]}",
            "broker_connection_retry_on_startup": True,
            "broker_transport_options": {"visibility_timeout": 3600},
        },
        "MAIL_SERVER": None,
        "LOGIN_MAX_FAILURES": 5,
        # scrypt at 1/32 of the production cost (1 MiB rather than 32): a password is hashed
        # and checked in milliseconds rather than ~0.5 s each (every user made and every login
        # of the suite; 35 s of a 300 s sample). The same code and format ("scrypt:…"); each
        # hash carries its parameters, so a check works whatever the cost it was made with.
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
    }


@pytest.fixture(scope="session")
def pg_database():
    name = _create_pg_database()
    yield f"{PG_HOST}/{name}"
    _drop_pg_database(name)


class FreshContextClient(FlaskClient):
    """Each request gets its own app context, as in production; otherwise `g` (and with it the
    CSRF token and the database session) would be shared by the test and all its requests."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def _make_app(url: str, tmp_path):
    app = create_app(base_config(url, tmp_path))
    app.test_client_class = FreshContextClient
    with app.app_context():
        upgrade()
    return app


@pytest.fixture(scope="session")
def pg_app(pg_database, tmp_path_factory):
    app = _make_app(pg_database, tmp_path_factory.mktemp("pg"))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_app(tmp_path_factory):
    path = tmp_path_factory.mktemp("sqlite") / "ppp.db"
    app = _make_app(f"sqlite:///{path}", path.parent)
    yield app
    with app.app_context():
        db.engine.dispose()


def _empty_tables(app) -> None:
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                with conn.connection.cursor() as cursor:  # psycopg's own: several statements
                    cursor.execute(_pg_emptying(app, conn))
            else:
                for table in _tables():
                    conn.exec_driver_sql(f"DELETE FROM {table}")


def _tables() -> list[str]:
    """The tables a test may fill, children first."""
    return [t.name for t in reversed(db.metadata.sorted_tables) if t.name not in KEEP_TABLES]


def _pg_emptying(app, conn) -> str:
    """One round trip that empties PostgreSQL's tables and restarts their ids, built once per
    app. DELETE rather than TRUNCATE: a test leaves a few rows in a few tables, and TRUNCATE's
    cost is per table (new files for each of ~40). `session_replication_role = replica` lifts,
    for this transaction only, the triggers that make the audit log refuse deletion (migration
    security_01) — a superuser's explicit action, taken here only — and the foreign keys'
    checks, which emptying everything does not need."""
    sql = app.extensions.get("tests.emptying")
    if sql is None:
        tables = _tables()
        sequences = conn.exec_driver_sql(
            "SELECT seq.relname FROM pg_class seq"
            " JOIN pg_depend dep ON dep.objid = seq.oid AND dep.deptype IN ('a', 'i')"
            " JOIN pg_class tab ON tab.oid = dep.refobjid"
            " WHERE seq.relkind = 'S' AND tab.relname = ANY(%(tables)s)",
            {"tables": tables},
        ).scalars()
        restarts = ", ".join(f"setval('{name}', 1, false)" for name in sequences)
        sql = app.extensions["tests.emptying"] = "; ".join(
            [
                "SET LOCAL session_replication_role = replica",
                *(f"DELETE FROM {table}" for table in tables),
                f"SELECT {restarts}",  # what TRUNCATE … RESTART IDENTITY did: ids start at 1
            ]
        )
    return sql


def _fresh(app):
    factories.restart_numbering()
    saved = dict(app.config)
    app.extensions["celery"].set_current()  # tasks go to this app's queue, not the last one made
    ctx = app.app_context()
    ctx.push()
    try:
        yield app
    finally:
        db.session.remove()
        ctx.pop()
        app.config.clear()
        app.config.update(saved)
        _empty_tables(app)


@pytest.fixture
def app(pg_app):
    """The app on PostgreSQL, inside an app context; every table emptied afterwards."""
    yield from _fresh(pg_app)


@pytest.fixture(params=["postgresql", "sqlite"])
def any_app(request):
    """The same test on PostgreSQL and on the embedded SQLite default."""
    yield from _fresh(
        request.getfixturevalue(f"{'pg' if request.param == 'postgresql' else 'sqlite'}_app")
    )


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def set_today(app):
    """Move the app's "today" (and so every rule that depends on it)."""

    def _set(day: date | str) -> None:
        app.config["FAKE_TODAY"] = day if isinstance(day, date) else date.fromisoformat(day)

    return _set


# --- users and logins -------------------------------------------------------------------------

PASSWORD = "correct-horse-battery"


@pytest.fixture
def make_user(app):
    from ppp_tracker.auth.services import create_user

    counter = {"n": 0}

    def _make(role: str = "officer", region: str | None = "KZ-35", email: str | None = None):
        counter["n"] += 1
        email = email or f"{role}{counter['n']}-{(region or 'all').lower()}@example.kz"
        user, _ = create_user(email, role=role, region_code=region, password=PASSWORD)
        db.session.commit()
        return user

    return _make


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, url: str = "/login") -> str:
    html = client.get(url).get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def login(client, user_or_email, password: str = PASSWORD):
    email = getattr(user_or_email, "email", user_or_email)
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response


def post_form(client, url: str, data: dict, *, form_url: str | None = None, **kwargs):
    """POST a form the way a browser does: with the CSRF token of the page that shows it."""
    token = csrf_token(client, form_url or url)
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


@pytest.fixture
def api_token(app):
    from ppp_tracker.auth.services import issue_token

    def _token(user) -> dict:
        token = issue_token(user, "test")
        db.session.commit()
        return {"Authorization": f"Bearer {token}"}

    return _token
