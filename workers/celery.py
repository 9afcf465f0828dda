"""Worker and beat entry point: `celery -A workers worker`, `celery -A workers beat`."""

from __future__ import annotations

from ppp_tracker import create_app

flask_app = create_app()
app = flask_app.extensions["celery"]
