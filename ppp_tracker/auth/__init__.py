"""Users, roles, region scope, API tokens and the audit log."""

from __future__ import annotations

from flask import Flask

from ppp_tracker.db import db
from ppp_tracker.extensions import login_manager


def init_app(app: Flask) -> None:
    from ppp_tracker.auth.models import User
    from ppp_tracker.auth.views import bp

    @login_manager.user_loader
    def load_user(user_id: str):
        user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
        return user if user is not None and user.active else None

    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"
    app.register_blueprint(bp)

    from ppp_tracker.auth.cli import users_cli

    app.cli.add_command(users_cli)
