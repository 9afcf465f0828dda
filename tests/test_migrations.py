"""Migrations: upgrade from nothing and downgrade to nothing on both databases; no drift."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ppp_tracker import create_app
from ppp_tracker.db import db
from ppp_tracker.extensions import downgrade, upgrade
from tests.conftest import PG_HOST, _create_pg_database, _drop_pg_database, base_config

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    name = _create_pg_database()
    yield f"{PG_HOST}/{name}"
    _drop_pg_database(name)


def _drift(app) -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={"compare_type": True, "include_object": partial(_include, conn.dialect.name)},
        )
        return compare_metadata(context, db.metadata)


def _include(dialect, obj, name, type_, reflected, compare_to):
    # The same filter as migrations/env.py: Celery's embedded transport owns these tables, and
    # an index of one database only is compared on that database only.
    if type_ == "index" and not reflected and obj.info.get("dialect") not in (None, dialect):
        return False
    return not (type_ == "table" and name and name.startswith(("kombu_", "celery_")))


def test_upgrade_from_empty_then_downgrade_to_base(empty_database):
    app = create_app(base_config(empty_database, None))
    with app.app_context():
        upgrade()
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {"contracts", "milestones", "audit_events", "regions"} <= tables
        assert db.session.execute(sa.text("SELECT count(*) FROM regions")).scalar() == 20
        assert _drift(app) == [], "models and migrations have drifted apart: run flask db migrate"
        db.session.remove()
        downgrade(revision="base")
        left = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert left == set()
        db.engine.dispose()


def test_the_drift_check_notices_a_missing_migration(empty_database):
    app = create_app(base_config(empty_database, None))
    with app.app_context():
        upgrade()
        extra = sa.Table(
            f"unmigrated_{uuid.uuid4().hex[:6]}",
            db.metadata,
            sa.Column("id", sa.Integer, primary_key=True),
        )
        try:
            assert any(diff[0] == "add_table" for diff in _drift(app))
        finally:
            db.metadata.remove(extra)
            db.engine.dispose()


def test_search_01_folds_the_rows_already_there(empty_database):
    """A registry made before search_01 is found after it: the migration backfills
    `search_text` of the existing rows as the app's flush would write it."""
    import re
    from pathlib import Path

    from ppp_tracker.core.folding import SEPARATOR, fold

    script = Path(__file__).parent.parent / "migrations/versions/search_01_folded_search_text.py"
    before = re.search(r'^down_revision = "(.+)"$', script.read_text(), re.M).group(1)
    app = create_app(base_config(empty_database, None))
    with app.app_context():
        upgrade(revision=before)
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO parties (name, kind, bin, email, is_demo, created_at, updated_at)"
                    " VALUES ('ТОО «ҚЫЗМЕТ Ёлка»', 'contractor', '123456789012', NULL, false,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
        upgrade()
        stored = db.session.execute(sa.text("SELECT search_text FROM parties")).scalar_one()
        assert stored == SEPARATOR.join([fold("ТОО «ҚЫЗМЕТ Ёлка»"), "123456789012", ""])
        assert stored == 'тоо "қызмет елка"\n123456789012\n'
        db.session.remove()
        db.engine.dispose()


def _embedded_env(tmp_path) -> dict[str, str]:
    """A fresh embedded installation: SQLite database and broker in a folder of their own."""
    return {
        **os.environ,
        "PPP_INSTANCE_DIR": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}",
        "CELERY_BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.db'}",
    }


def _flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_flask_db_commands_migrate_a_fresh_sqlite_file(tmp_path):
    """`flask --app wsgi db …` (Makefile's migrate, docs/deploy.md) still has Flask-Migrate's
    commands, though the app no longer imports it when it is built."""
    env = _embedded_env(tmp_path)
    listed = _flask(env, "db", "--help")
    assert listed.returncode == 0, listed.stderr
    for command in ("upgrade", "downgrade", "migrate", "revision", "history", "current"):
        assert re.search(rf"^\s+{command}\s", listed.stdout, re.M), (command, listed.stdout)

    done = _flask(env, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    head = _flask(env, "db", "heads")
    current = _flask(env, "db", "current")
    assert head.returncode == 0 and current.returncode == 0, head.stderr + current.stderr
    revision = head.stdout.split()[0]
    assert revision in current.stdout
    engine = sa.create_engine(env["DATABASE_URL"])
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == revision
        assert conn.execute(sa.text("SELECT count(*) FROM regions")).scalar() == 20
    engine.dispose()


WEB_PROCESS = """
import sys
from ppp_tracker import create_app
app = create_app()
# What a process pays for only when it needs it (a worker, beat and `flask` commands start
# the same app): the letters' files, the imports, the working-day calendar, e-mail syntax.
LAZY = ("weasyprint", "docxtpl", "openpyxl", "num2words", "holidays", "email_validator")
print(sorted({m.split(".")[0] for m in sys.modules} & set(LAZY)))
page = app.test_client().get("/login")
assert page.status_code == 200, page.status_code
print(sorted(m for m in sys.modules if m.split(".")[0] in ("alembic", "flask_migrate")))
"""


def test_a_web_process_imports_neither_alembic_nor_what_only_some_requests_need(tmp_path):
    """A web worker serves pages without Flask-Migrate and Alembic (about 11 MiB a process,
    docs/performance.md): they are imported by `flask db …` and the tests only. Nor does
    building the app import what only some requests or tasks need (every worker, beat and
    `flask` command builds it: about 0.15 s of each one's start)."""
    env = _embedded_env(tmp_path)
    assert _flask(env, "db", "upgrade").returncode == 0
    served = subprocess.run(
        [sys.executable, "-c", WEB_PROCESS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert served.returncode == 0, served.stderr
    assert served.stdout.split("\n")[:2] == ["[]", "[]"], served.stdout
