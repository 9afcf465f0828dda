"""Command-line groups that belong to no single feature, and the registration of all of them."""

from __future__ import annotations

from flask import Flask


def register_cli(app: Flask) -> None:
    from ppp_tracker.auth.cli import users_cli
    from ppp_tracker.deadlines.cli import calendar_cli
    from ppp_tracker.registry.cli import demo_cli

    for group in (users_cli, demo_cli, calendar_cli):
        app.cli.add_command(group)
