"""Celery tasks of the alert engine: thin, they take ids and are safe to run twice."""

from __future__ import annotations

from datetime import date, timedelta

from celery import shared_task
from celery.signals import beat_init
from flask import Flask

from ppp_tracker.core.audit import Actor, acting_as


@shared_task(name="alerts.scan", ignore_result=True)
def scan_deadlines(as_of: str | None = None, trigger: str = "beat") -> int:
    """The periodic deadline scan (beat, every SCAN_INTERVAL_MINUTES)."""
    from ppp_tracker.alerts import jobs

    with acting_as(Actor("worker:alerts.scan")):
        run = jobs.run_scan(date.fromisoformat(as_of) if as_of else None, trigger=trigger)
    return run.id


@shared_task(bind=True, name="alerts.deliver", ignore_result=True, max_retries=None)
def deliver_alert(self, delivery_id: int) -> str:
    """Send one alert to one person; retried with backoff while the SMTP server fails."""
    from ppp_tracker.alerts import jobs

    with acting_as(Actor("worker:alerts.deliver")):
        outcome = jobs.deliver(delivery_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(bind=True, name="alerts.digest", ignore_result=True, max_retries=None)
def send_digest(self, digest_id: int) -> str:
    """Send one user's daily digest; retried with backoff while the SMTP server fails."""
    from ppp_tracker.alerts import jobs

    with acting_as(Actor("worker:alerts.digest")):
        outcome = jobs.deliver_digest(digest_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


def beat_entry(app: Flask) -> dict:
    minutes = app.config["SCAN_INTERVAL_MINUTES"]
    return {
        "task": "alerts.scan",
        "schedule": timedelta(minutes=minutes),
        # A scan queued while no worker ran is worthless once the next one is due.
        "options": {"expires": minutes * 60},
    }


@beat_init.connect
def _scan_when_beat_starts(sender=None, **kwargs) -> None:
    """Beat's first interval would otherwise pass before the first scan: scan at once, so a
    restarted beat (or `make run`) catches up immediately."""
    sender.app.send_task("alerts.scan", kwargs={"trigger": "beat"})
