"""Users, roles, region scope, API tokens and the audit log."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, g

from ppp_tracker.core import web
from ppp_tracker.db import db
from ppp_tracker.extensions import login_manager


def init_app(app: Flask) -> None:
    from ppp_tracker.auth.models import User
    from ppp_tracker.auth.views import bp

    @login_manager.user_loader
    def load_user(user_id: str):
        if not user_id.isdigit():
            return None
        # The user with their region (every page names it) and what every page needs
        # (core.web.WITH_USER), in one round trip.
        extras = web.WITH_USER
        row = db.session.execute(
            sa.select(User, *[fn().scalar_subquery() for fn in extras.values()])
            .options(sa.orm.joinedload(User.region))
            .where(User.id == int(user_id))
        ).first()
        user = row[0] if row is not None else None
        if row is not None:
            g._with_user = dict(zip(extras, row[1:], strict=True))
        return user if user is not None and user.active else None

    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"
    app.register_blueprint(bp)

    from ppp_tracker.auth.cli import users_cli

    app.cli.add_command(users_cli)
