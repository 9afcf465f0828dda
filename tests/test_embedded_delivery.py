"""The embedded default (SQLite database, Celery on the SQLite transport, worker and beat in one
process) sends reminders through the same outbox and batches as production: each once."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from ppp_tracker.alerts.models import AlertDelivery
from ppp_tracker.db import db
from tests import factories
from tests.alerting import karaganda, user, wait_for
from tests.conftest import _fresh
from tests.faults import stop
from tests.services import SmtpSink, free_port

pytestmark = pytest.mark.worker

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def embedded(sqlite_app):
    yield from _fresh(sqlite_app)


@pytest.fixture
def sink():
    from aiosmtpd.controller import Controller

    sink = SmtpSink()
    sink.port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    controller.stop()


def test_the_embedded_default_sends_each_reminder_once_in_batches(embedded, sink, tmp_path):
    # 30 milestones of one contract due in seven days on 27.04.2014, a second officer's
    # contract with 5 more: 35 reminders, each to its officer only (nothing is overdue).
    w = karaganda()
    for n in range(29):
        factories.milestone(w.contract, title=f"Отчёт № {n}", due_on=date(2014, 5, 4))
    other = user("officer2@karaganda.kz", "officer", "KZ-35", locale="kk")
    second = factories.contract("KZ-35", number="242", officer=other.email)
    for n in range(5):
        factories.milestone(second, title=f"Есеп № {n}", due_on=date(2014, 5, 4))
    db.session.commit()
    broker = tmp_path / "broker.db"
    env = {
        **os.environ,
        "DATABASE_URL": embedded.config["SQLALCHEMY_DATABASE_URI"],
        "CELERY_BROKER_URL": f"sqla+sqlite:///{broker}",
        "CELERY_RESULT_BACKEND": f"db+sqlite:///{tmp_path / 'results.db'}",
        "CELERY_QUEUE": "celery",
        "PPP_INSTANCE_DIR": str(tmp_path),
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(sink.port),
        "BASE_URL": "http://localhost",
        "FAKE_TODAY": "2014-04-27",
        "ALERT_SCAN_ON_WORKER_START": "1",
    }
    log = (tmp_path / "embedded.log").open("w")
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "workers",
            "worker",
            "-B",
            "--pool=solo",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=INFO",
            "-s",
            str(tmp_path / "beat-schedule"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for(
            lambda: (
                db.session.scalar(sa.select(sa.func.count()).where(AlertDelivery.status == "sent"))
                == 35
            ),
            timeout=120,
            interval=0.5,
            message=f"35 sent\n{(tmp_path / 'embedded.log').read_text()[-3000:]}",
        )
    finally:
        stop(worker)
    deliveries = db.session.scalars(sa.select(AlertDelivery).order_by(AlertDelivery.id)).all()
    assert [(d.status, d.attempts) for d in deliveries] == [("sent", 1)] * 35
    ids = sorted(str(m["message"]["Message-ID"]) for m in sink.messages)
    assert ids == sorted(f"<alert-{d.id}@ppp-tracker>" for d in deliveries)
    # Whoever asked for Kazakh got Kazakh, the others Russian (one batch, two languages).
    kazakh = [m for m in sink.messages if m["to"] == ["officer2@karaganda.kz"]]
    assert len(kazakh) == 5 and all("Есеп №" in m["message"]["Subject"] for m in kazakh)
    log_text = (tmp_path / "embedded.log").read_text()
    assert "alerts.deliver_batch" in log_text
