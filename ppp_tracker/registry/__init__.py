"""Regions, institutions, parties, projects, production sites, contracts and milestones."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from ppp_tracker.core.web import NavItem, add_nav
    from ppp_tracker.registry import labels
    from ppp_tracker.registry.views import (  # noqa: F401 (each module adds its pages to bp)
        contracts,
        documents,
        milestones,
        parties,
        projects,
    )
    from ppp_tracker.registry.views.common import bp

    labels.register()
    app.jinja_env.globals["ocds_code_label"] = labels.ocds_code_label

    app.register_blueprint(bp)
    add_nav(
        NavItem("registry.projects", _l("Projects"), order=20),
        NavItem("registry.sites", _l("Production sites"), order=30),
        NavItem("registry.contracts", _l("Contracts"), order=40),
        NavItem("registry.parties", _l("Counterparties"), order=50),
    )
    add_nav(NavItem("registry.institutions", _l("Institutions"), order=10), user_menu=True)

    from ppp_tracker.registry.cli import demo_cli

    app.cli.add_command(demo_cli)
