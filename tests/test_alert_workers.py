"""The alerts through real parts: a Celery worker on Redis, an SMTP server (aiosmtpd), worker
processes killed with SIGKILL. Each reminder arrives, and arrives once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from datetime import date
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
import sqlalchemy as sa

from ppp_tracker.alerts.models import AlertDelivery
from ppp_tracker.db import db
from tests import factories
from tests.alerting import (  # noqa: F401 - purge_alert_queue is a fixture
    deliveries,
    karaganda,
    purge_alert_queue,
    scan,
    wait_for,
)
from tests.conftest import REDIS_URL
from tests.faults import forget_unacked, stop
from tests.services import free_port

pytestmark = [pytest.mark.worker, pytest.mark.usefixtures("purge_alert_queue")]

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _no_scan_when_the_worker_starts(app):
    """A worker's start-up scan would run on the real date, not on the day these tests pin."""
    app.config["ALERT_SCAN_ON_WORKER_START"] = False


def test_a_real_worker_delivers_the_reminder_by_smtp(app, celery_worker, smtp_server, set_today):
    set_today("2014-04-27")
    w = karaganda()
    run = scan("2014-04-27")
    assert run.deliveries == 1
    wait_for(lambda: smtp_server.messages, message="the reminder at the SMTP server")
    [got] = smtp_server.messages
    assert got["to"] == ["officer@karaganda.kz"]
    message = got["message"]
    [d] = deliveries()
    assert message["Message-ID"] == f"<alert-{d.id}@ppp-tracker>"
    assert message["Subject"].startswith("Срок через 7 дней: Представление ТЭО")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Договор № 241 от 21.11.2013" in text and "04.05.2014" in text
    assert f"http://localhost/milestones/{w.milestone.id}" in text
    assert f'href="http://localhost/milestones/{w.milestone.id}"' in html
    wait_for(lambda: deliveries()[0].status == "sent", message="the outcome recorded")
    d = deliveries()[0]
    assert (d.attempts, d.sent_to, d.last_error) == (1, "officer@karaganda.kz", None)


def test_smtp_down_then_back_delivers_each_reminder_once(
    app, celery_worker, smtp_server, set_today
):
    app.config.update(ALERT_RETRY_BASE_SECONDS=1)
    set_today("2014-05-05")
    w = karaganda()
    for n in range(4):
        factories.milestone(w.contract, title=f"Отчёт № {n + 1}", due_on=date(2014, 4, 20 + n))
    smtp_server.refuse = True
    run = scan("2014-05-05")
    assert run.deliveries == 10  # five overdue milestones: the officer and the manager
    wait_for(
        lambda: all(d.status == "retry" and d.attempts >= 1 for d in deliveries()),
        message="every delivery refused once and waiting to retry",
    )
    assert all("451" in d.last_error for d in deliveries())
    assert smtp_server.messages == []
    smtp_server.refuse = False
    wait_for(
        lambda: all(d.status == "sent" for d in deliveries()),
        timeout=60,
        message="every delivery sent after the server came back",
    )
    ids = [m["message"]["Message-ID"] for m in smtp_server.messages]
    assert len(ids) == 10 and len(set(ids)) == 10
    assert sorted(ids) == sorted(f"<alert-{d.id}@ppp-tracker>" for d in deliveries())


class FirstMessageHangs:
    """An SMTP server that holds the first message forever (and never accepts it), then accepts
    the rest: a worker killed while it waits leaves a send that must be finished by another."""

    def __init__(self):
        self.arrived = threading.Event()
        self.released = False
        self.accepted = []
        self.first = True

    async def handle_DATA(self, server, session, envelope):
        if self.first:
            self.first = False
            self.arrived.set()
            while not self.released:
                await asyncio.sleep(0.05)
            return "451 4.3.0 the sender went away"
        self.accepted.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"


@pytest.fixture
def hanging_smtp(app):
    from aiosmtpd.controller import Controller

    handler = FirstMessageHangs()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.port = port
    yield handler
    handler.released = True
    controller.stop()


def _worker(
    app, tmp_path, smtp_port: int, *, pool: str, name: str, env: dict | None = None
) -> subprocess.Popen:
    """`celery -A workers worker` in its own process group, on this session's queue."""
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_QUEUE": app.config["CELERY"]["task_default_queue"],
        "PPP_INSTANCE_DIR": str(tmp_path),
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port),
        "BASE_URL": "http://localhost",
        "ALERT_SEND_LEASE_SECONDS": "2",
        "ALERT_RETRY_BASE_SECONDS": "1",
        "ALERT_SCAN_ON_WORKER_START": "0",
        **(env or {}),
    }
    queue = app.config["CELERY"]["task_default_queue"]
    command = [
        str(Path(sys.executable).parent / "celery"),
        "-A",
        "workers",
        "worker",
        "-Q",
        queue,
        "-n",
        f"{name}@%h",
        f"--pool={pool}",
        "--concurrency=1",
        "--without-mingle",
        "--without-gossip",
        "--loglevel=WARNING",
    ]
    log = (tmp_path / f"{name}.log").open("w")
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def test_a_worker_process_killed_mid_send_loses_nothing(app, hanging_smtp, set_today, tmp_path):
    """The pool process dies while the SMTP server holds the message: the worker requeues the
    task (acks_late, reject_on_worker_lost), which takes the send over when its claim expires."""
    set_today("2014-04-27")
    karaganda()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=hanging_smtp.port)
    scan("2014-04-27")
    worker = _worker(app, tmp_path, hanging_smtp.port, pool="prefork", name="prefork")
    try:
        assert hanging_smtp.arrived.wait(60), (tmp_path / "prefork.log").read_text()
        [d] = deliveries()
        assert (d.status, d.attempts) == ("sending", 1)
        [child] = _children(worker.pid)
        os.kill(child, signal.SIGKILL)
        hanging_smtp.released = True
        wait_for(
            lambda: deliveries()[0].status == "sent",
            timeout=60,
            message="the send taken over after the pool process died",
        )
    finally:
        stop(worker)
    [message] = hanging_smtp.accepted
    d = deliveries()[0]
    assert message["Message-ID"] == f"<alert-{d.id}@ppp-tracker>"
    assert d.attempts == 2


def test_a_whole_worker_killed_mid_send_is_caught_up_by_the_scan(
    app, hanging_smtp, set_today, tmp_path
):
    """The whole worker dies (its message stays unacknowledged in Redis for hours): the next
    scan finds the send whose claim ran out and queues it for another worker."""
    set_today("2014-04-27")
    karaganda()
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=hanging_smtp.port,
        ALERT_SEND_LEASE_SECONDS=1,
        ALERT_REQUEUE_AFTER_SECONDS=0,
    )
    scan("2014-04-27")
    first = _worker(app, tmp_path, hanging_smtp.port, pool="solo", name="first")
    second = None
    try:
        assert hanging_smtp.arrived.wait(60), (tmp_path / "first.log").read_text()
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        hanging_smtp.released = True
        assert deliveries()[0].status == "sending"
        second = _worker(app, tmp_path, hanging_smtp.port, pool="solo", name="second")

        def rescanned_and_sent():
            scan("2014-04-27")
            return deliveries()[0].status == "sent"

        wait_for(rescanned_and_sent, timeout=60, interval=1, message="the scan caught it up")
    finally:
        if second is not None:
            stop(second)
        forget_unacked(REDIS_URL, app.config["CELERY"]["task_default_queue"])
    [message] = hanging_smtp.accepted
    d = deliveries()[0]
    assert message["Message-ID"] == f"<alert-{d.id}@ppp-tracker>"
    assert d.attempts == 2
    runs = db.session.execute(sa.text("SELECT sum(requeued) FROM scan_runs")).scalar()
    assert runs >= 1


def test_the_digest_goes_through_the_worker_once(app, celery_worker, smtp_server, set_today):
    set_today("2014-05-05")
    karaganda(officer_mode="digest", manager_mode="digest")
    scan("2014-05-05")
    scan("2014-05-05")
    wait_for(lambda: len(smtp_server.messages) == 2, message="two digests")
    wait_for(lambda: {d.status for d in deliveries()} == {"sent"}, message="the digests recorded")
    subjects = sorted(m["message"]["Subject"] for m in smtp_server.messages)
    assert subjects == ["Сводка сроков на 05.05.2014: 1 напоминание · 1 просрочено"] * 2
    assert db.session.scalar(sa.select(sa.func.count(AlertDelivery.id))) == 2


@pytest.mark.parametrize(
    "subject",
    [
        "Сводка сроков на 05.05.2014: 1 напоминание · 1 просрочено",
        "Просрочено на 11 дней: Представление ТЭО на государственную экспертизу — договор № 241",
        "Мерзімі 11 күнге өтті: Представление ТЭО на государственную экспертизу — № 241 шарт",
    ],
)
def test_a_long_cyrillic_subject_arrives_with_every_space(app, smtp_server, subject):
    from ppp_tracker.core.mail import Email, send_email

    send_email(Email(to=("a@example.kz",), subject=subject, text="x", html="<p>x</p>"))
    [got] = smtp_server.messages
    assert got["message"]["Subject"] == subject


def test_a_starting_worker_scans_at_once(app, smtp_server, set_today, tmp_path):
    """Beat's first run comes an interval after it starts; a worker that starts scans at once
    (so `make run`, or a worker back after an outage, catches up without waiting)."""
    from ppp_tracker.alerts.models import ScanRun

    set_today("2014-04-27")
    w = karaganda()
    worker = _worker(
        app,
        tmp_path,
        smtp_server.port,
        pool="solo",
        name="starting",
        env={"ALERT_SCAN_ON_WORKER_START": "1", "FAKE_TODAY": "2014-04-27"},
    )
    try:
        wait_for(lambda: smtp_server.messages, timeout=60, message="the reminder of that scan")
    finally:
        stop(worker)
    run = db.session.scalar(sa.select(ScanRun))
    assert (run.trigger, run.as_of, run.alerts) == ("worker", date(2014, 4, 27), 1)
    assert [d.alert.milestone_id for d in deliveries()] == [w.milestone.id]
