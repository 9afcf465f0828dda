"""Real services for the tests: a Celery worker on Redis inside pytest, an SMTP server."""

from __future__ import annotations

import socket
import threading
from email import message_from_bytes
from email.policy import default as default_policy

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def celery_worker(app):
    """A real Celery worker (solo pool, in a thread of pytest) consuming this session's queue."""
    from celery.contrib.testing.worker import start_worker

    celery_app = app.extensions["celery"]
    celery_app.conf.task_always_eager = False
    # Nor anything of an earlier test: a worker of its own (a subprocess) may have queued work
    # on this queue before it was stopped (a dashboard refresh of another data set).
    _purge(celery_app)
    with start_worker(
        celery_app,
        pool="solo",
        perform_ping_check=False,
        shutdown_timeout=30,
        loglevel="WARNING",
    ) as worker:
        yield worker
    # Nothing of this test may be left for the next one.
    _purge(celery_app)


def _purge(celery_app) -> None:
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge(celery_app.conf.task_default_queue)


class SmtpSink:
    """Collects the messages an aiosmtpd server receives; can refuse them to simulate an outage."""

    def __init__(self):
        self.messages = []
        self.refuse = False
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 4.3.0 Try again later"
        with self.lock:
            self.messages.append(
                {
                    "from": envelope.mail_from,
                    "to": list(envelope.rcpt_tos),
                    "message": message_from_bytes(envelope.content, policy=default_policy),
                }
            )
        return "250 OK"


@pytest.fixture
def smtp_server(app):
    """A real SMTP server on a free port; the app is configured to send through it."""
    from aiosmtpd.controller import Controller

    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=False, MAIL_USE_SSL=False
    )
    sink.controller = controller
    sink.port = port
    yield sink
    controller.stop()
