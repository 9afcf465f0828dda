"""The working-day calendar, effective due dates, milestone states and deadline queries."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from ppp_tracker.core.web import NavItem, add_nav
    from ppp_tracker.deadlines import tracking  # noqa: F401 - the stored effective due dates
    from ppp_tracker.deadlines.cli import calendar_cli
    from ppp_tracker.deadlines.views import bp

    app.cli.add_command(calendar_cli)
    app.register_blueprint(bp)
    add_nav(NavItem("deadlines.deadlines", _l("Deadlines"), order=15))
    add_nav(
        NavItem("deadlines.calendar", _l("Working-day calendar"), permission="admin", order=20),
        user_menu=True,
    )
