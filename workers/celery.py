"""Worker and beat entry point: `celery -A workers worker`, `celery -A workers beat`."""

from __future__ import annotations

import importlib

from ppp_tracker import create_app
from workers import TASK_MODULES

flask_app = create_app()
app = flask_app.extensions["celery"]
for _name in TASK_MODULES:
    importlib.import_module(_name)
