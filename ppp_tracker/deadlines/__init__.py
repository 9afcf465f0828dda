"""The working-day calendar, effective due dates, milestone states and deadline queries."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from ppp_tracker.core import web
    from ppp_tracker.core.web import NavItem, add_nav
    from ppp_tracker.deadlines import tracking  # noqa: F401 - the stored effective due dates
    from ppp_tracker.deadlines.cli import calendar_cli
    from ppp_tracker.deadlines.penalty import contract_penalties
    from ppp_tracker.deadlines.views import bp
    from ppp_tracker.deadlines.years import unconfirmed_banner, wanted_years_select

    web.WITH_USER["deadlines.confirmed_years"] = wanted_years_select
    web.BANNER_PROVIDERS["deadlines.calendar_years"] = unconfirmed_banner
    from ppp_tracker.registry import lists

    lists.CONTRACT_PENALTY["deadlines"] = lambda ids, day: {
        contract_id: penalty.total for contract_id, penalty in contract_penalties(ids, day).items()
    }
    app.cli.add_command(calendar_cli)
    app.register_blueprint(bp)
    add_nav(
        NavItem("deadlines.calendar", _l("Working-day calendar"), permission="admin", order=20),
        user_menu=True,
    )
