"""Alerts: reminder rules, the deadline scan, exactly-once e-mail delivery, digests, the outbox."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    # user_scope: its flush listener re-plans the reminders of a user whose scope changed.
    from ppp_tracker.alerts import services, user_scope, views  # noqa: F401
    from ppp_tracker.alerts.cli import deadlines_cli
    from ppp_tracker.alerts.planning import plan_milestone
    from ppp_tracker.alerts.rules import rule_label
    from ppp_tracker.alerts.tasks import beat_entry
    from ppp_tracker.core import web
    from ppp_tracker.deadlines.tracking import MILESTONE_HOOKS
    from ppp_tracker.registry.views.contracts import CONTRACT_PANELS
    from ppp_tracker.registry.views.milestones import MILESTONE_PANELS
    from workers import register_tasks

    app.register_blueprint(views.bp)
    app.jinja_env.filters["alert_rule"] = rule_label
    app.cli.add_command(deadlines_cli)
    register_tasks("ppp_tracker.alerts.tasks", {"alerts-scan": beat_entry})
    MILESTONE_HOOKS["alerts"] = plan_milestone
    MILESTONE_PANELS["alerts"] = views.milestone_panel
    CONTRACT_PANELS["alerts"] = views.contract_panel
    web.PROFILE_PANELS["alerts"] = views.profile_panel
    web.BANNER_PROVIDERS["alerts.scan"] = views.scan_banner
    # The banner's one figure comes with the page's user (no round trip of its own).
    web.WITH_USER["alerts.last_scan"] = services.last_completed_scan_select
    web.add_nav(web.NavItem("alerts.outbox", _l("Outbox"), order=50), user_menu=True)

    from ppp_tracker.alerts.demo import demo_alert_settings
    from ppp_tracker.registry.cli import DEMO_EXTENSIONS

    DEMO_EXTENSIONS["alerts"] = demo_alert_settings
