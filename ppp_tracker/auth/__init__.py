"""Users, roles, region scope, API tokens and the audit log."""

from __future__ import annotations

import hmac

import sqlalchemy as sa
from flask import Flask, g

from ppp_tracker.core import web
from ppp_tracker.db import db
from ppp_tracker.extensions import login_manager


def init_app(app: Flask) -> None:
    from ppp_tracker.auth.access import menu_context
    from ppp_tracker.auth.models import User
    from ppp_tracker.auth.views import bp

    @login_manager.user_loader
    def load_user(session_id: str):
        # "<id>:<session key>"; the key changes with the password, ending older sessions.
        ident, _sep, key = session_id.partition(":")
        if not (ident.isascii() and ident.isdigit() and len(ident) < 10):
            return None
        # The user with their region (every page names it) and what every page needs
        # (core.web.WITH_USER), in one round trip.
        extras = web.WITH_USER
        row = db.session.execute(
            sa.select(User, *[fn().scalar_subquery() for fn in extras.values()])
            .options(sa.orm.joinedload(User.region))
            .where(User.id == int(ident))
        ).first()
        user = row[0] if row is not None else None
        if user is None or not user.active:
            return None
        if not hmac.compare_digest(key, user.session_key):
            return None
        g._with_user = dict(zip(extras, row[1:], strict=True))
        return user

    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"
    app.register_blueprint(bp)
    app.context_processor(menu_context)

    from ppp_tracker.auth.cli import users_cli
    from ppp_tracker.core.audit_chain import audit_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(audit_cli)
