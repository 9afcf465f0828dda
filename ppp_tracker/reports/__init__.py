"""Oversight: dashboard and charts, deadlines, search, exports, imports, calendar feed, OCDS."""

from __future__ import annotations

from flask import Flask

from config import env_bool, env_int, env_str

#: Settings of this feature, read from the environment (tests and callers may override them).
SETTINGS = {
    #: The OCDS ocid prefix registered for the publisher ("ocds-" and six characters).
    "OCDS_OCID_PREFIX": lambda: env_str("OCDS_OCID_PREFIX", "ocds-kzuis0"),
    "OCDS_PUBLISHER_NAME": lambda: env_str(
        "OCDS_PUBLISHER_NAME", "Комитет уголовно-исполнительной системы МВД Республики Казахстан"
    ),
    "OCDS_PUBLISHER_URI": lambda: env_str("OCDS_PUBLISHER_URI"),
    "OCDS_LICENSE": lambda: env_str("OCDS_LICENSE"),
    "OCDS_PUBLICATION_POLICY": lambda: env_str("OCDS_PUBLICATION_POLICY"),
    #: Serve /open-data/ocds/contracts.json to anyone (the department decides to publish).
    "OCDS_PUBLIC": lambda: env_bool("OCDS_PUBLIC", False),
    "IMPORT_MAX_BYTES": lambda: env_int("IMPORT_MAX_MB", 10) * 1024 * 1024,
}


def init_app(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from ppp_tracker.core import web
    from ppp_tracker.reports import views, widgets
    from ppp_tracker.reports.cli import dashboard_cli, ocds_cli
    from ppp_tracker.reports.dashboard import DASHBOARD_WIDGETS
    from workers import register_tasks

    for key, read in SETTINGS.items():
        if key not in app.config:
            app.config[key] = read()
    app.register_blueprint(views.bp)
    app.register_blueprint(views.feeds)
    web.add_nav(
        web.NavItem("reports.home", _l("Overview"), order=10),
        web.NavItem("reports.deadlines", _l("Deadlines"), order=15),
    )
    web.add_nav(
        web.NavItem("reports.timeline", _l("Timeline of projects"), order=5),
        web.NavItem("reports.imports_page", _l("Import from Excel or CSV"), "edit_registry", 6),
        user_menu=True,
    )
    web.PROFILE_PANELS["calendar"] = views.calendar_panel
    DASHBOARD_WIDGETS["claims_waiting"] = widgets.claims_waiting
    DASHBOARD_WIDGETS["cases_open"] = widgets.cases_open
    app.jinja_env.filters["money_compact"] = views.money_compact
    app.context_processor(
        lambda: {"export_url": views.export_url, "export_buttons": views.export_buttons}
    )
    register_tasks("ppp_tracker.reports.tasks")
    app.cli.add_command(ocds_cli)
    app.cli.add_command(dashboard_cli)
    # After each deadline scan the workers store the dashboard's figures of every scope.
    from ppp_tracker.alerts import jobs

    jobs.SCAN_HOOKS["dashboard"] = queue_dashboard_refresh


def queue_dashboard_refresh(as_of) -> None:
    """Queue `reports.refresh_dashboard` (after the scan's commit); a broker that is down costs
    only freshness: the page computes its figures itself when they are stale."""
    import logging

    from flask import current_app

    from ppp_tracker.alerts.jobs import scan_interval

    try:
        task = current_app.extensions["celery"].tasks["reports.refresh_dashboard"]
        # Worthless once the next scan has queued its own: it expires after the scans' interval
        # (SCAN_INTERVAL_SECONDS included, or refreshes queued every second would wait their
        # turn for minutes).
        expires = scan_interval(current_app).total_seconds()
        task.apply_async(args=[as_of.isoformat()], expires=expires)
    except Exception:
        logging.getLogger(__name__).exception("could not queue the dashboard refresh")
