"""ppp-tracker: deadlines, penalties and claim letters of the penal system's PPP contracts."""

from __future__ import annotations

import importlib

from flask import Flask

from config import BASE_DIR, INSTANCE_DIR, load_config

#: Feature packages; each has `init_app(app)` that registers its blueprints, CLI commands, menu
#: entries, API modules, Celery task modules and beat entries.
FEATURES = (
    "ppp_tracker.auth",
    "ppp_tracker.registry",
    "ppp_tracker.deadlines",
    "ppp_tracker.alerts",
    "ppp_tracker.claims",
    "ppp_tracker.reports",
)


def create_app(config: dict | None = None) -> Flask:
    """Build the application; `config` overrides settings read from the environment."""
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=str(BASE_DIR / "templates"),
        static_folder="static",
    )
    app.config.update(load_config(config))
    from ppp_tracker.core.web import IdConverter

    # A database id in a URL is written <id:…>: bounded so that no query overflows an INTEGER.
    app.url_map.converters["id"] = IdConverter
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)

    from ppp_tracker import i18n
    from ppp_tracker.db import db
    from ppp_tracker.extensions import babel, csrf, login_manager, migration_commands

    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", ";".join(i18n.TRANSLATION_DIRECTORIES))
    db.init_app(app)
    # `flask db …`; Flask-Migrate and Alembic are imported only when one is run (extensions).
    app.cli.add_command(migration_commands)
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)

    from ppp_tracker.core import web

    web.init_app(app)

    from ppp_tracker import models  # noqa: F401 - every model registered before first use
    from ppp_tracker.api import init_api

    for name in FEATURES:
        importlib.import_module(name).init_app(app)
    init_api(app)
    from ppp_tracker.core.backup import backup_cli

    app.cli.add_command(backup_cli)

    from ppp_tracker.core.serving import hide_server_header

    hide_server_header()

    from workers import celery_init_app

    celery_init_app(app)
    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    return app
