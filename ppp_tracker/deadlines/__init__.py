"""The working-day calendar, effective due dates, milestone states and deadline queries."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from ppp_tracker.deadlines.cli import calendar_cli

    app.cli.add_command(calendar_cli)
