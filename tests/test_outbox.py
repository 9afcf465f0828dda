"""The outbox (core.outbox) sends a batch of deliveries over one SMTP connection, each once; a
batch's e-mails are composed from templates rendered once per language and shape, and read
exactly as the e-mail rendered on its own."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from ppp_tracker import clock
from ppp_tracker.alerts import compose, jobs
from ppp_tracker.alerts.delivery import DELIVERIES, deliver_batch
from ppp_tracker.alerts.models import Alert, AlertDelivery
from ppp_tracker.core import outbox
from ppp_tracker.db import db
from tests import factories
from tests.alerting import (  # noqa: F401 - purge_alert_queue is a fixture
    karaganda,
    purge_alert_queue,
    scan,
    user,
)
from tests.services import SmtpSink

pytestmark = pytest.mark.usefixtures("purge_alert_queue")


class CountingSink(SmtpSink):
    """Also counts the SMTP sessions (one EHLO each) and can refuse the message containing a
    text (a Message-ID)."""

    def __init__(self):
        super().__init__()
        self.sessions = 0
        self.refuse_if: str | None = None

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_if and self.refuse_if.encode() in envelope.content:
            return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def sink(app):
    from aiosmtpd.controller import Controller

    from tests.services import free_port

    sink = CountingSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    yield sink
    controller.stop()


def _twelve_due(set_today):
    """12 milestones of contract 241 due in 7 days (04.05.2014) on 27.04.2014: 12 reminders to
    the officer, none to the manager (not overdue)."""
    set_today("2014-04-27")
    w = karaganda()
    for n in range(11):
        factories.milestone(w.contract, title=f"Отчёт № {n + 1}", due_on=date(2014, 5, 4))
    db.session.commit()
    scan("2014-04-27")
    ids = db.session.scalars(sa.select(AlertDelivery.id).order_by(AlertDelivery.id)).all()
    assert len(ids) == 12
    return w, ids


def test_a_batch_goes_over_one_connection_each_once(app, sink, set_today):
    _, ids = _twelve_due(set_today)
    result = deliver_batch(ids)
    assert sorted(result.sent) == ids
    assert sink.sessions == 1
    got = sorted(str(m["message"]["Message-ID"]) for m in sink.messages)
    assert got == sorted(f"<alert-{i}@ppp-tracker>" for i in ids)
    # Sent rows are done: the same batch again sends nothing.
    assert deliver_batch(ids).sent == []
    assert len(sink.messages) == 12
    rows = db.session.scalars(sa.select(AlertDelivery)).all()
    assert {(r.status, r.attempts, r.sent_to) for r in rows} == {
        ("sent", 1, "officer@karaganda.kz")
    }


def test_a_refused_message_waits_while_the_rest_of_the_batch_goes(app, sink, set_today):
    _, ids = _twelve_due(set_today)
    third = db.session.get(AlertDelivery, ids[2])
    sink.refuse_if = "alert-" + str(third.id) + "@"
    result = deliver_batch(ids)
    assert sorted(result.sent) == ids[:2] + ids[3:]
    base = app.config["ALERT_RETRY_BASE_SECONDS"]
    assert result.retry == {base: [third.id]}
    assert sink.sessions == 1  # a 4xx leaves the connection usable
    db.session.expire_all()
    assert (third.status, third.attempts) == ("retry", 1)
    assert "451" in third.last_error
    sink.refuse_if = None
    assert deliver_batch([third.id]).sent == [third.id]
    assert len(sink.messages) == 12


def test_rows_another_sender_holds_are_left_to_it(app, sink, set_today):
    _, ids = _twelve_due(set_today)
    now = clock.now()
    # Another sender claimed the first four a moment ago.
    assert outbox.lease(DELIVERIES, ids[:4], now) == ids[:4]
    db.session.commit()
    result = deliver_batch(ids)
    assert sorted(result.sent) == ids[4:]
    lease = app.config["ALERT_SEND_LEASE_SECONDS"]
    assert result.busy == ids[:4] and lease - 2 <= result.busy_in <= lease + 1
    # That sender took them and can still send them; nobody else did.
    assert all(outbox.mark_attempt(DELIVERIES, i, now, clock.now()) for i in ids[:4])
    db.session.commit()
    assert len(sink.messages) == 8
    # A sender whose lease ran out is overtaken: once more only after the lease.
    later = clock.now() + timedelta(seconds=app.config["ALERT_SEND_LEASE_SECONDS"] + 1)
    assert outbox.lease(DELIVERIES, ids[:4], later) == ids[:4]


def test_a_server_that_cannot_be_reached_fails_the_batch_at_once(app, set_today):
    from tests.services import free_port

    _, ids = _twelve_due(set_today)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_TIMEOUT=5)
    result = deliver_batch(ids)
    assert result.sent == [] and sorted(i for part in result.retry.values() for i in part) == ids
    rows = db.session.scalars(sa.select(AlertDelivery)).all()
    assert all(r.status == "retry" and r.attempts == 1 for r in rows)
    assert all("Connection refused" in r.last_error for r in rows)


@pytest.mark.parametrize("locale", ["ru", "kk", "en"])
def test_a_batch_composes_what_each_e_mail_composed_alone_says(app, set_today, locale):
    """Due in 7 days, due today, overdue with a penalty, overdue of the customer (no penalty),
    no one responsible (managers), a date moved by days off, a title with markup."""
    set_today("2014-05-12")
    w = karaganda(officer_locale=locale)
    user("manager2@kuis.kz", "manager", "KZ-35", locale="kk")
    unassigned = factories.contract("KZ-35", number="242")  # no officer: the managers are told
    factories.milestone(w.contract, title="<b>Сдача</b> & «объекта»", due_on=date(2014, 5, 19))
    factories.milestone(unassigned, title="Отчёт за апрель", due_on=date(2014, 5, 12))
    factories.milestone(w.contract, title="Оплата", due_on=date(2014, 4, 1), obligor="customer")
    scan("2014-05-12")
    deliveries = db.session.scalars(sa.select(AlertDelivery).order_by(AlertDelivery.id)).all()
    rules = {d.alert.rule for d in deliveries}
    assert {"before_7", "due_day"} <= rules and any(r.startswith("overdue") for r in rules)
    batch = compose.BatchComposer()
    composed = batch.compose(deliveries)
    for delivery in deliveries:
        alone = compose.alert_email(delivery)
        assert composed[delivery.id] == alone, delivery.alert.rule
    assert db.session.scalar(sa.select(sa.func.count(Alert.id))) >= 4


def test_twelve_reminders_alike_are_rendered_once(app, set_today):
    _twelve_due(set_today)
    batch = compose.BatchComposer()
    composed = batch.compose(db.session.scalars(sa.select(AlertDelivery)).all())
    # Two shapes: the first milestone's date was moved by the May days off (the e-mail says
    # so), the eleven others fall due on their own date.
    assert len(composed) == 12 and len(batch.skeletons) == 2
    titles = sorted(email.subject.split(": ")[1].split(" —")[0] for email in composed.values())
    assert titles == sorted(
        ["Представление ТЭО на государственную экспертизу"] + [f"Отчёт № {n}" for n in range(1, 12)]
    )


def test_lost_work_is_found_by_the_scan_and_sent_once(app, sink, set_today):
    """A batch claimed by a sender that died before trying it: after the lease the scan queues
    it again and it is sent once."""
    _, ids = _twelve_due(set_today)
    app.config.update(ALERT_SEND_LEASE_SECONDS=1, ALERT_REQUEUE_AFTER_SECONDS=0)
    assert outbox.lease(DELIVERIES, ids, clock.now() - timedelta(seconds=5)) == ids
    db.session.commit()
    deliveries, _ = jobs.scan.stale_work(clock.now())
    assert deliveries == ids
    assert sorted(jobs.deliver_batch(deliveries).sent) == ids
    assert len(sink.messages) == 12
