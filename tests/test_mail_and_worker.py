"""The mail helper against a real SMTP server and the outbox; a real worker on Redis."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from celery import shared_task

from ppp_tracker.core.mail import Email, MailError, OutboxMessage, send_email
from ppp_tracker.db import db
from tests.services import free_port


def test_without_a_server_mail_goes_to_the_outbox_once(app):
    email = Email(
        to=("officer@example.kz",),
        subject="Срок через 7 дней",
        text="Договор № 241",
        message_id="t-1@ppp",
    )
    assert send_email(email) == "outbox"
    assert send_email(email) == "outbox"
    db.session.commit()
    rows = db.session.scalars(sa.select(OutboxMessage)).all()
    assert [(r.subject, r.recipients) for r in rows] == [
        ("Срок через 7 дней", "officer@example.kz")
    ]


def test_smtp_delivers_text_and_html(app, smtp_server):
    send_email(
        Email(
            to=("a@example.kz",),
            subject="Тема ₸",
            text="Текст",
            html="<p>Текст</p>",
            message_id="t-2@ppp",
        )
    )
    [got] = smtp_server.messages
    assert got["to"] == ["a@example.kz"]
    msg = got["message"]
    assert msg["Subject"] == "Тема ₸" and msg["Message-ID"] == "<t-2@ppp>"
    assert msg.get_body(("plain",)).get_content().strip() == "Текст"
    assert "<p>Текст</p>" in msg.get_body(("html",)).get_content()


def test_a_refusing_server_is_a_temporary_error(app, smtp_server):
    smtp_server.refuse = True
    with pytest.raises(MailError) as exc:
        send_email(Email(to=("a@example.kz",), subject="x", text="x"))
    assert exc.value.temporary


def test_no_server_at_all_is_a_temporary_error(app):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_TIMEOUT=2)
    with pytest.raises(MailError) as exc:
        send_email(Email(to=("a@example.kz",), subject="x", text="x"))
    assert exc.value.temporary


@shared_task(name="tests.record_app_name")
def record_app_name(marker: str) -> None:
    from flask import current_app

    from ppp_tracker.core.mail import Email, send_email

    # Runs inside the Flask app context: the outbox is written through the app's database.
    send_email(
        Email(
            to=("w@example.kz",),
            subject=f"{marker} {current_app.name}",
            text="x",
            message_id=marker,
        )
    )
    db.session.commit()


def test_a_real_worker_runs_tasks_in_the_app_context(app, celery_worker):
    record_app_name.delay("worker-marker@ppp")
    deadline = time.monotonic() + 20
    subject = None
    while time.monotonic() < deadline and subject is None:
        db.session.rollback()
        subject = db.session.scalar(
            sa.select(OutboxMessage.subject).where(OutboxMessage.message_id == "worker-marker@ppp")
        )
        time.sleep(0.1)
    assert subject == "worker-marker@ppp ppp_tracker"
