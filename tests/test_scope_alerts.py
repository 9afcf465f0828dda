"""Alerts follow scope: a reminder goes to people as they are now — checked when the scan plans
it, again when it is sent, and re-planned when a user is moved, given another role or
deactivated (issue 15, item 2)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ppp_tracker.alerts import jobs
from ppp_tracker.auth.models import User
from ppp_tracker.core.mail import OutboxMessage
from ppp_tracker.db import db
from tests.alerting import (  # noqa: F401 - purge_alert_queue is a fixture
    deliveries,
    karaganda,
    purge_alert_queue,
    scan,
)
from tests.conftest import login, post_form

pytestmark = pytest.mark.usefixtures("purge_alert_queue")


def outbox_recipients() -> list[str]:
    db.session.expire_all()
    return [m.recipients for m in db.session.scalars(sa.select(OutboxMessage))]


def test_an_officer_moved_to_another_region_is_not_reminded_of_the_old_one(any_app, set_today):
    set_today("2014-04-27")
    w = karaganda()  # KZ-35; the officer is responsible for the milestone
    w.officer.region_code = "KZ-71"
    db.session.commit()
    scan("2014-04-27", send_now=True)
    # Nobody of KZ-35 is responsible any more: the managers are told instead, not the officer.
    assert [(d.user_id, d.reason) for d in deliveries()] == [(w.manager.id, "manager")]
    assert outbox_recipients() == ["manager@kuis.kz"]


def test_a_viewer_is_not_reminded_to_act(any_app, set_today):
    set_today("2014-04-27")
    w = karaganda()
    w.officer.role = "viewer"
    db.session.commit()
    scan("2014-04-27", send_now=True)
    assert [(d.user_id, d.reason) for d in deliveries()] == [(w.manager.id, "manager")]


def test_the_sender_checks_the_recipient_again(any_app, set_today):
    set_today("2014-04-27")
    w = karaganda()
    scan("2014-04-27")  # planned for the officer, not sent yet
    [planned] = deliveries()
    assert (planned.user_id, planned.status) == (w.officer.id, "pending")
    # Moved behind the ORM's back (another process, an old release): the sender still asks.
    db.session.execute(
        sa.update(User.__table__).where(User.id == w.officer.id).values(region_code="KZ-71")
    )
    db.session.commit()
    outcome = jobs.deliver(planned.id)
    assert outcome.status == "cancelled"
    [after] = deliveries()
    assert (after.status, after.cancel_reason) == ("cancelled", "out_of_scope")
    assert outbox_recipients() == []


def test_moving_a_user_on_the_admin_page_replans_their_waiting_reminders(app, client, set_today):
    set_today("2014-04-27")
    w = karaganda()
    admin = User(email="admin@kuis.kz", name="Админ", role="admin", password_hash="x")
    admin.set_password("correct-horse-battery")
    db.session.add(admin)
    db.session.commit()
    scan("2014-04-27")
    [planned] = deliveries()
    assert planned.user_id == w.officer.id
    login(client, admin)
    response = post_form(
        client,
        f"/admin/users/{w.officer.id}/edit",
        {
            "email": w.officer.email,
            "name": w.officer.name,
            "role": "officer",
            "region": "KZ-71",
            "active": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    rows = {d.user_id: d for d in deliveries()}
    assert (rows[w.officer.id].status, rows[w.officer.id].cancel_reason) == (
        "cancelled",
        "out_of_scope",
    )
    assert (rows[w.manager.id].status, rows[w.manager.id].reason) == ("pending", "manager")
    jobs.deliver(rows[w.manager.id].id)
    assert outbox_recipients() == ["manager@kuis.kz"]


def test_deactivating_a_user_replans_their_waiting_reminders(any_app, set_today):
    set_today("2014-04-27")
    w = karaganda()
    scan("2014-04-27")
    w.officer.active = False
    db.session.commit()
    rows = {d.user_id: d for d in deliveries()}
    assert rows[w.officer.id].cancel_reason == "inactive_user"
    assert rows[w.manager.id].status == "pending"


def test_the_scan_and_the_sender_ask_who_may_receive_the_same_question(any_app):
    """The scan chooses recipients in SQL (`audience.receivable`), the sender and the re-planning
    in Python (`audience.may_receive`): for every role, region and active flag both answer alike."""
    from ppp_tracker.alerts.audience import may_receive, receivable
    from ppp_tracker.alerts.models import RecipientReason
    from ppp_tracker.auth.models import Role

    people = []
    for role in Role:
        for region in (None, "KZ-35", "KZ-63"):
            for active in (True, False):
                email = f"{role.value}-{region or 'all'}-{int(active)}@scope.kz"
                people.append(
                    User(
                        email=email,
                        name=email,
                        password_hash="-",
                        role=role,
                        region_code=region,
                        active=active,
                    )
                )
    db.session.add_all(people)
    db.session.commit()
    users = User.__table__
    for reason in RecipientReason:
        for region in ("KZ-35", "KZ-63"):
            in_sql = set(
                db.session.scalars(
                    sa.select(users.c.id).where(receivable(users, sa.literal(region), reason))
                )
            )
            in_python = {u.id for u in people if may_receive(u, region, reason)}
            assert in_sql == in_python, (reason, region)
            assert in_python  # each question has someone who may
