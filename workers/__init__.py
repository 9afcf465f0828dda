"""The Celery app: every task runs inside the Flask app context (the Flask docs' pattern).

Importing this package builds nothing; `workers/celery.py` is the worker's entry point
(`celery -A workers worker`), and it is the one place besides `wsgi.py` that builds the app.
"""

from __future__ import annotations

import importlib

from celery import Celery, Task
from flask import Flask
from sqlalchemy import exc as sa_exc

#: Modules whose tasks the worker registers; features add theirs with `register_tasks`.
TASK_MODULES: list[str] = []

#: Periodic tasks: name -> function(app) -> beat entry ({"task": …, "schedule": …}).
BEAT_ENTRIES: dict = {}


def register_tasks(module: str, beat: dict | None = None) -> None:
    """Called by a feature's init_app: its task module, and its periodic tasks if any."""
    if module not in TASK_MODULES:
        TASK_MODULES.append(module)
    BEAT_ENTRIES.update(beat or {})


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        # The database went away (a restart, a fail-over): the task tries again 1, 2, 4 … 60 s
        # later instead of failing, which would drop its message (acks_late acks a failure) and
        # leave the row to the scan's requeue minutes later. Rows are claimed atomically, so a
        # retry never sends twice.
        autoretry_for = (sa_exc.OperationalError, sa_exc.InterfaceError)
        retry_backoff = 1
        retry_backoff_max = 60
        retry_jitter = False

        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.conf.imports = tuple(TASK_MODULES)
    celery_app.conf.beat_schedule = {name: make(app) for name, make in BEAT_ENTRIES.items()}
    celery_app.set_default()
    for module in TASK_MODULES:
        importlib.import_module(module)
    app.extensions["celery"] = celery_app
    broker = str(app.config["CELERY"].get("broker_url", ""))
    if broker.startswith("sqla+"):
        # The SQLAlchemy transport passes broker_transport_options to create_engine(), so its
        # poll interval must be set on the class (see PITFALLS.md).
        from kombu.transport import sqlalchemy as kombu_sqla

        kombu_sqla.Transport.polling_interval = 1
        celery_app.conf.broker_transport_options = {}
    return celery_app
