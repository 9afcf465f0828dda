"""The deadline scan as a service on PostgreSQL (and SQLite): the right reminder, once, to the
right people; caught up after an outage; re-planned when a date or the calendar changes."""

from __future__ import annotations

import threading
from datetime import date

import pytest
import sqlalchemy as sa

from ppp_tracker import clock
from ppp_tracker.alerts import jobs
from ppp_tracker.alerts.models import Alert, AlertDelivery, AlertPlan, ScanRun
from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.core.mail import OutboxMessage
from ppp_tracker.db import db
from ppp_tracker.deadlines import services as deadline_services
from ppp_tracker.registry.models import Milestone
from ppp_tracker.registry.services.milestones import mark_met, save_milestone
from tests import factories
from tests.alerting import (  # noqa: F401 - purge_alert_queue is a fixture
    alerts_of,
    deliveries,
    karaganda,
    purge_alert_queue,
    scan,
    user,
)

pytestmark = pytest.mark.usefixtures("purge_alert_queue")

E = date(2014, 5, 4)  # due 01.05.2014, moved over 1–3 May (days off) to Sunday 04.05 (worked)


def outbox():
    db.session.expire_all()
    return db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_a_milestone_stores_its_effective_due_date_and_plans_its_first_reminder(any_app):
    w = karaganda()
    assert w.milestone.effective_due_on == E
    plan = db.session.get(AlertPlan, w.milestone.id)
    assert (plan.effective_due_on, plan.next_alert_on) == (E, date(2014, 4, 4))


def test_the_scan_sends_the_due_reminder_once_to_the_officer(any_app, set_today):
    set_today("2014-04-27")
    w = karaganda()
    run = scan("2014-04-27", send_now=True)
    assert (run.alerts, run.deliveries) == (1, 1)
    assert alerts_of(w.milestone) == [("before_7", E)]
    [d] = deliveries()
    assert (d.user_id, d.reason, d.status, d.attempts) == (w.officer.id, "responsible", "sent", 1)
    [mail] = outbox()
    assert mail.recipients == "officer@karaganda.kz"
    assert "Срок через 7 дней" in mail.subject and "№ 241" in mail.subject
    assert "04.05.2014" in mail.text and "01.05.2014" in mail.text  # the date and why
    # A second scan the same day finds nothing to do: the plan moved on to 01.05.
    again = scan("2014-04-27", send_now=True)
    assert (again.alerts, again.deliveries) == (0, 0)
    assert len(outbox()) == 1
    assert db.session.get(AlertPlan, w.milestone.id).next_alert_on == date(2014, 5, 1)


def test_a_stale_scan_sends_only_the_latest_reminder(app, set_today):
    set_today("2014-03-01")
    w = karaganda()
    scan("2014-03-01")
    assert alerts_of(w.milestone) == []
    # Beat was dead from 01.03 to 02.05: 30, 14 and 7 days before were missed.
    scan("2014-05-02")
    assert alerts_of(w.milestone) == [("before_3", E)]
    [alert] = db.session.scalars(sa.select(Alert)).all()
    assert (alert.fire_on, alert.as_of, alert.days_left) == (date(2014, 5, 1), date(2014, 5, 2), 2)
    # Dead again until 15.05: the reminder of that day (overdue, day 8), not 1, 3, 4 and 5 May's.
    scan("2014-05-15")
    assert alerts_of(w.milestone) == [("before_3", E), ("overdue_8", E)]
    overdue = db.session.scalars(sa.select(Alert).where(Alert.rule == "overdue_8")).one()
    assert overdue.days_late == 11


def test_managers_of_the_region_join_from_the_first_overdue_reminder(app, set_today):
    set_today("2014-05-03")
    w = karaganda()
    other_region_manager = user("manager@vko.kz", "manager", "KZ-63")
    same_region_manager = user("manager@karaganda.kz", "manager", "KZ-35")
    scan("2014-05-03")
    assert [d.user_id for d in deliveries()] == [w.officer.id]
    scan("2014-05-05")
    overdue = [d for d in deliveries() if d.alert.rule == "overdue_1"]
    assert {(d.user_id, d.reason) for d in overdue} == {
        (w.officer.id, "responsible"),
        (w.manager.id, "manager"),
        (same_region_manager.id, "manager"),
    }
    assert other_region_manager.id not in {d.user_id for d in deliveries()}


def test_without_a_responsible_officer_the_managers_are_told(app, set_today):
    set_today("2014-04-27")
    manager = user("manager@kuis.kz", "manager", None)
    contract = factories.contract("KZ-35")
    factories.milestone(contract, due_on=date(2014, 5, 1))
    scan("2014-04-27")
    assert [(d.user_id, d.reason) for d in deliveries()] == [(manager.id, "manager")]


def test_the_responsible_of_the_milestone_comes_before_the_contract_officer(app, set_today):
    set_today("2014-04-27")
    w = karaganda()
    colleague = user("colleague@karaganda.kz", "officer", "KZ-35")
    save_milestone(SYSTEM_USER, w.contract, {"responsible": colleague.email}, w.milestone)
    db.session.commit()
    scan("2014-04-27")
    assert [(d.user_id, d.reason) for d in deliveries()] == [(colleague.id, "responsible")]


def test_a_due_date_change_replans_the_reminders(any_app, set_today):
    set_today("2014-04-27")
    w = karaganda()
    scan("2014-04-27")
    assert alerts_of(w.milestone) == [("before_7", E)]
    save_milestone(
        SYSTEM_USER,
        w.contract,
        {"due_on": date(2014, 6, 2), "reason": "Дополнительное соглашение № 1"},
        w.milestone,
    )
    db.session.commit()
    assert w.milestone.effective_due_on == date(2014, 6, 2)
    assert db.session.get(AlertPlan, w.milestone.id).next_alert_on == date(2014, 5, 3)
    scan("2014-04-27")
    assert alerts_of(w.milestone) == [("before_7", E)]
    scan("2014-05-03")
    assert alerts_of(w.milestone) == [("before_7", E), ("before_30", date(2014, 6, 2))]


def test_a_reminder_that_is_no_longer_true_is_not_sent(app, set_today):
    set_today("2014-04-27")
    w = karaganda()
    scan("2014-04-27")  # queued for the workers, not sent yet
    mark_met(SYSTEM_USER, w.milestone, date(2014, 4, 27))
    db.session.commit()
    assert db.session.get(AlertPlan, w.milestone.id).next_alert_on is None
    [d] = deliveries()
    assert jobs.deliver(d.id).status == "cancelled"
    [d] = deliveries()
    assert (d.status, d.cancel_reason) == ("cancelled", "closed")
    assert outbox() == []
    scan("2014-05-05")
    assert alerts_of(w.milestone) == [("before_7", E)]


def test_a_calendar_override_moves_the_effective_date_and_its_reminders(any_app, set_today):
    set_today("2026-03-01")
    w = karaganda(due_on=date(2026, 3, 20))  # a Friday the holidays package calls working
    assert w.milestone.effective_due_on == date(2026, 3, 20)
    moved = []
    deadline_services.set_override(
        date(2026, 3, 20), False, "Постановление Правительства № 1", moved=moved
    )
    db.session.commit()
    assert moved == [w.milestone]
    db.session.expire_all()
    milestone = db.session.get(Milestone, w.milestone.id)
    # 21–23 March 2026 are Nauryz (a Saturday, a Sunday, a Monday), so the package moves two of
    # them to Tuesday 24th and Wednesday 25th: the next working day is Thursday 26th.
    assert milestone.effective_due_on == date(2026, 3, 26)
    assert db.session.get(AlertPlan, milestone.id).effective_due_on == date(2026, 3, 26)
    deadline_services.remove_override(date(2026, 3, 20))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Milestone, w.milestone.id).effective_due_on == date(2026, 3, 20)


def test_the_contract_rules_decide_which_reminders_fire(app, set_today):
    from ppp_tracker.alerts.services import save_contract_rules

    set_today("2014-04-01")
    w = karaganda()
    save_contract_rules(
        w.contract,
        {"days_before": "10", "on_due_day": False, "overdue": True, "overdue_every_days": 0},
    )
    db.session.commit()
    assert db.session.get(AlertPlan, w.milestone.id).next_alert_on == date(2014, 4, 24)
    for day in ("2014-04-04", "2014-04-24", "2014-05-04", "2014-05-05", "2014-05-12"):
        scan(day)
    assert alerts_of(w.milestone) == [("before_10", E), ("overdue_1", E)]


def test_two_scans_at_once_never_duplicate(app, set_today):
    set_today("2014-05-05")
    w = karaganda()
    for n in range(40):
        factories.milestone(w.contract, title=f"Этап {n}", due_on=date(2014, 4, 1 + n % 20))
    app_obj = app
    barrier = threading.Barrier(3)
    errors = []

    def run():
        try:
            with app_obj.app_context():
                barrier.wait()
                jobs.run_scan(date(2014, 5, 5), trigger="cli", batch_size=7)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db.session.expire_all()
    keys = db.session.execute(sa.select(Alert.milestone_id, Alert.rule)).all()
    assert len(keys) == 41 == len(set(keys))
    pairs = db.session.execute(sa.select(AlertDelivery.alert_id, AlertDelivery.user_id)).all()
    assert len(pairs) == len(set(pairs)) == 41 * 2  # the officer and the manager, once each
    runs = db.session.scalars(sa.select(ScanRun)).all()
    assert len(runs) == 3 and all(r.finished_at for r in runs)
    assert sum(r.alerts for r in runs) == 41


def test_the_digest_gathers_a_users_reminders_into_one_email(any_app, set_today):
    set_today("2014-05-05")
    w = karaganda(officer_mode="digest", manager_mode="digest")
    factories.milestone(w.contract, title="Отчёт за I квартал", due_on=date(2014, 5, 20))
    scan("2014-05-05", send_now=True)
    mails = outbox()
    assert sorted(m.recipients for m in mails) == ["manager@kuis.kz", "officer@karaganda.kz"]
    officer_mail = next(m for m in mails if m.recipients == "officer@karaganda.kz")
    assert "2 напоминания" in officer_mail.subject and "1 просрочено" in officer_mail.subject
    assert "Отчёт за I квартал" in officer_mail.text
    assert "Представление ТЭО" in officer_mail.text
    manager_mail = next(m for m in mails if m.recipients == "manager@kuis.kz")
    assert "Отчёт за I квартал" not in manager_mail.text  # not overdue: not the manager's
    assert {d.status for d in deliveries()} == {"sent"}
    scan("2014-05-05", send_now=True)
    assert len(outbox()) == 2


@pytest.mark.parametrize(
    ("locale", "subject", "body"),
    [
        ("kk", "Мерзіміне 7 күн қалды", "№ 241 шарт"),
        ("en", "Due in 7 days", "Contract No. 241"),
        ("ru", "Срок через 7 дней", "Договор № 241"),
    ],
)
def test_the_email_speaks_the_recipients_language(app, set_today, locale, subject, body):
    set_today("2014-04-27")
    karaganda(officer_locale=locale)
    scan("2014-04-27", send_now=True)
    [mail] = outbox()
    assert subject in mail.subject
    assert body in mail.text and body in mail.html


def test_the_scan_fills_in_dates_missing_after_an_upgrade(app, set_today):
    set_today("2014-04-27")
    w = karaganda()
    db.session.execute(sa.update(Milestone).values(effective_due_on=None))
    db.session.execute(sa.delete(AlertPlan))
    db.session.commit()
    run = scan("2014-04-27")
    assert run.planned == 1
    assert alerts_of(w.milestone) == [("before_7", E)]


def test_digests_wait_for_the_morning_of_the_day(app, set_today):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from ppp_tracker.alerts.scan import queue_digests

    almaty = ZoneInfo("Asia/Almaty")
    set_today("2026-11-26")
    karaganda(due_on=date(2026, 12, 3), officer_mode="digest")
    scan("2026-11-26")
    early = datetime(2026, 11, 26, 7, 59, tzinfo=almaty)
    assert queue_digests(date(2026, 11, 26), early) == []
    later = datetime(2026, 11, 26, 8, 0, tzinfo=almaty)
    [digest_id] = queue_digests(date(2026, 11, 26), later)
    db.session.commit()
    # Asked again (a second scan, another beat): the same digest, not a second one.
    assert queue_digests(date(2026, 11, 26), later) == [digest_id]
    # A past day's digest (a scan catching up on it) goes at once, whatever the hour.
    [past] = queue_digests(date(2026, 11, 25), early)
    assert past != digest_id


def test_the_scan_from_the_command_line(app, set_today):
    set_today("2014-04-27")
    w = karaganda()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["deadlines", "scan", "--as-of", "2014-04-27", "--send-now"])
    assert result.exit_code == 0, result.output
    assert "scan as of 2014-04-27: 1 alerts, 1 deliveries" in result.output
    assert [m.subject[:17] for m in outbox()] == ["Срок через 7 дней"]
    bad = runner.invoke(args=["deadlines", "scan", "--as-of", "27.04.2014"])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output
    # The calendar override of the command line re-plans too.
    moved = runner.invoke(args=["calendar", "override", "2014-05-05", "off", "--reason", "Тест"])
    assert moved.exit_code == 0, moved.output
    db.session.expire_all()
    assert db.session.get(Milestone, w.milestone.id).effective_due_on == date(2014, 5, 4)
    moved = runner.invoke(args=["calendar", "override", "2014-05-04", "off", "--reason", "Тест"])
    assert moved.exit_code == 0, moved.output
    db.session.expire_all()
    assert db.session.get(Milestone, w.milestone.id).effective_due_on == date(2014, 5, 6)


def test_a_plan_whose_milestone_is_gone_is_dropped(any_app, set_today):
    set_today("2014-04-27")
    w = karaganda()
    db.session.execute(sa.delete(Alert))
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(sa.delete(Milestone).where(Milestone.id == w.milestone.id))
    else:
        # PostgreSQL enforces the foreign key; play the orphan on SQLite only.
        db.session.execute(sa.delete(Milestone).where(Milestone.id == w.milestone.id))
    db.session.commit()
    scan("2014-04-27")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AlertPlan)) == 0


def test_a_plan_is_claimed_once_even_by_two_scans_that_read_it_together(app, set_today):
    """Two scans read the same due plan; the first conditional UPDATE changes the row, the
    second (still holding the old reading, in its own session) changes nothing."""
    from ppp_tracker.alerts.scan import claim_plans, due_plans

    set_today("2014-04-27")
    w = karaganda()
    other = db.session.session_factory()  # a second session: another scan
    try:
        first_reading = due_plans(date(2014, 4, 27), 10)
        second_reading = other.execute(
            sa.select(AlertPlan.milestone_id, AlertPlan.next_alert_on).where(
                AlertPlan.milestone_id == w.milestone.id
            )
        ).all()
        [row] = first_reading
        assert second_reading == [(row.milestone_id, row.next_alert_on)]
        claim = {
            "milestone_id": row.milestone_id,
            "seen_next": row.next_alert_on,
            "seen_effective": row.effective_due_on,
            "next_alert_on": date(2014, 5, 1),
            "effective_due_on": row.effective_due_on,
        }
        assert claim_plans([claim]) == [row.milestone_id]
        db.session.commit()
        assert claim_plans([claim], session=other) == []
        other.commit()
    finally:
        other.close()


def test_an_alert_key_is_refused_a_second_time(app, set_today):
    from ppp_tracker.alerts.scan import insert_alerts

    set_today("2014-04-27")
    w = karaganda()

    def alert(as_of):
        row = [w.milestone.id, "before_7", E.isoformat(), "2014-04-27", (E - as_of).days, 0]
        return insert_alerts([row], as_of, clock.now())

    first = alert(date(2014, 4, 27))
    again = alert(date(2014, 4, 28))
    db.session.commit()
    assert len(first) == 1 and again == []
    assert alerts_of(w.milestone) == [("before_7", E)]
