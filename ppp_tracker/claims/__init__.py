"""Claims: penalty, claim letters and their escalation, outgoing numbering, letters, cases."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from ppp_tracker.claims import labels, tasks
    from ppp_tracker.claims.cli import claims_cli
    from ppp_tracker.claims.demo import load_demo
    from ppp_tracker.claims.views import (  # noqa: F401 - each module adds its pages to bp
        admin,
        case_pages,
        claim_actions,
        claim_form,
        claim_page,
        claim_queue,
        panels,
    )
    from ppp_tracker.claims.views.common import bp
    from ppp_tracker.core.web import NavItem, add_nav
    from ppp_tracker.registry.cli import DEMO_EXTENSIONS
    from ppp_tracker.registry.views.contracts import CONTRACT_PANELS
    from workers import register_tasks

    labels.register()
    app.register_blueprint(bp)
    add_nav(
        NavItem("claims.queue", _l("Claims"), order=45),
        NavItem("claims.cases", _l("Lawsuits"), order=46),
    )
    add_nav(
        NavItem("claims.letter_templates", _l("Letter templates"), "admin", order=40),
        NavItem("claims.numbering_page", _l("Outgoing numbers"), "admin", order=41),
        NavItem("claims.departments", _l("Departments"), "admin", order=42),
        user_menu=True,
    )
    CONTRACT_PANELS["penalty"] = panels.penalty_panel
    CONTRACT_PANELS["claims"] = panels.claims_panel
    DEMO_EXTENSIONS["claims"] = load_demo
    register_tasks("ppp_tracker.claims.tasks", {"claims-scan": tasks.beat_entry})
    app.cli.add_command(claims_cli)
