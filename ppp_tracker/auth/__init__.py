"""Users, roles, region scope, API tokens and the audit log."""

from __future__ import annotations

import hmac

from flask import Flask

from ppp_tracker.db import db
from ppp_tracker.extensions import login_manager


def init_app(app: Flask) -> None:
    from ppp_tracker.auth.models import User
    from ppp_tracker.auth.views import bp

    @login_manager.user_loader
    def load_user(session_id: str):
        # "<id>:<session key>"; the key changes with the password, ending older sessions.
        ident, _sep, key = session_id.partition(":")
        user = db.session.get(User, int(ident)) if ident.isdigit() and len(ident) < 10 else None
        if user is None or not user.active:
            return None
        return user if hmac.compare_digest(key, user.session_key) else None

    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"
    app.register_blueprint(bp)

    from ppp_tracker.auth.cli import users_cli

    app.cli.add_command(users_cli)
