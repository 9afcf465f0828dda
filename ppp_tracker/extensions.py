"""Flask extensions, created unbound and initialised by the app factory.

Flask-Migrate is the exception: it imports Alembic (about 11 MiB a process), which only the
`flask db …` commands, the tests and the benchmarks use — so it is initialised on first use
(`migrating`), never in a web or Celery process.
"""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf import CSRFProtect

from config import BASE_DIR

csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()


def migrating(app: Flask):
    """Flask-Migrate for `app` (initialised the first time): what `flask db …`, `upgrade()` and
    `downgrade()` need, and `migrations/env.py` reads from `app.extensions["migrate"]`."""
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        # Flask-SQLAlchemy keeps its `db` in app.extensions: this module imports none of ours.
        Migrate(
            app,
            app.extensions["sqlalchemy"],
            directory=str(BASE_DIR / "migrations"),
            compare_type=True,
            render_as_batch=True,
        )
    return app.extensions["migrate"]


def upgrade(revision: str = "head") -> None:
    """Migrate the current app's database up to `revision` (flask_migrate.upgrade)."""
    migrating(current_app)
    from flask_migrate import upgrade as flask_migrate_upgrade

    flask_migrate_upgrade(revision=revision)


def downgrade(revision: str = "-1") -> None:
    """Migrate the current app's database down to `revision` (flask_migrate.downgrade)."""
    migrating(current_app)
    from flask_migrate import downgrade as flask_migrate_downgrade

    flask_migrate_downgrade(revision=revision)


class MigrationCommands(click.Group):
    """`flask db …`: a stand-in that hands the command line to Flask-Migrate's own `db` group,
    importing it (and Alembic) only when a `db` command is run."""

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        app = parent.ensure_object(ScriptInfo).load_app()  # the flask command's app
        migrating(app)
        from flask_migrate.cli import db

        return db.make_context(info_name, args, parent=parent, **extra)


migration_commands = MigrationCommands("db", help="Database migrations (Flask-Migrate, Alembic).")
